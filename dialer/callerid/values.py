"""The values of caller-ID rotation: pool numbers, call targets, choices, and where a number is.

Where a number is (country, area code, subdivision, zone) comes from `phonenumbers` (country and
national destination code) and `campaigns.geography` (which subdivision and zone an area code
belongs to), so pool numbers and debtors' phones are placed by the same rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache, lru_cache
from typing import Final

import phonenumbers
from phonenumbers import PhoneNumberType
from phonenumbers import timezone as phone_timezones

from campaigns import geography
from config.logging import mask_phone

__all__ = [
    "HIDDEN_CALLER_IDS",
    "Choice",
    "NumberPlace",
    "PoolNumber",
    "Target",
    "Tier",
    "number_place",
]

#: What backends and carriers accept in place of a number to withhold it: never presented.
HIDDEN_CALLER_IDS: Final = frozenset(
    {"", "restricted", "anonymous", "private", "hidden", "unknown"}
)
_E164: Final = re.compile(r"\+[1-9]\d{6,14}")
_UNKNOWN_ZONE: Final = "Etc/Unknown"


class Tier(StrEnum):
    """How local the chosen number looks to the debtor, best first."""

    AREA_CODE = "area_code"
    SUBDIVISION = "subdivision"
    ZONE = "zone"
    COUNTRY = "country"


@dataclass(frozen=True, slots=True)
class NumberPlace:
    """Where a phone number is: `area_code` is the national destination code (for mobile ranges
    the operator block, e.g. CO 315); `subdivision` an ISO 3166-2 code such as "MX-CMX"."""

    country: str
    area_code: str | None
    subdivision: str | None
    zone: str | None


@cache
def _area_prefixes(country: str) -> dict[str, geography.AreaCode]:
    """`campaigns.geography`'s area codes of `country` by national-number prefix."""
    return {code.prefix: code for code in geography.area_codes(country)}


@lru_cache(maxsize=65536)
def number_place(e164: str) -> NumberPlace:
    """Place a number given in E.164, or ValueError saying why it cannot be a caller ID or a
    target (not E.164, not a valid number, premium rate)."""
    if not _E164.fullmatch(e164):
        raise ValueError(
            f"{e164!r} is not an E.164 number (+ and 7 to 15 digits, e.g. +525512345678)"
        )
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{e164} is not a phone number ({exc})") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{e164} is not a valid number in its country's numbering plan")
    if phonenumbers.number_type(number) == PhoneNumberType.PREMIUM_RATE:
        raise ValueError(f"{e164} is a premium-rate number: a debtor calling back would pay extra")
    country = phonenumbers.region_code_for_number(number)
    if not country:
        raise ValueError(f"{e164} belongs to no single country")
    national = phonenumbers.national_significant_number(number)
    ndc = national[: phonenumbers.length_of_national_destination_code(number)] or None
    subdivision: str | None = None
    zone: str | None = None
    if country in geography.SUPPORTED_COUNTRIES:
        prefixes = _area_prefixes(country)
        for length in range(min(len(national), 4), 0, -1):
            known = prefixes.get(national[:length])
            if known is not None:
                subdivision, zone = known.subdivision or None, known.zone
                break
    if zone is None:
        zones = [z for z in phone_timezones.time_zones_for_number(number) if z != _UNKNOWN_ZONE]
        if len(zones) == 1:
            zone = zones[0]
    return NumberPlace(country, ndc, subdivision, zone)


@dataclass(frozen=True, slots=True)
class PoolNumber:
    """A number of a caller-ID pool as loaded. `rest_until`, `last_used_at` and `health_score`
    are the values at load time; the picker keeps the live ones."""

    id: int
    e164: str
    country: str
    area_code: str | None = None
    subdivision: str | None = None
    zone: str | None = None
    daily_cap: int = 300
    cooldown_seconds: int = 0
    active: bool = True
    rest_until: datetime | None = None
    last_used_at: datetime | None = None
    health_score: float = 1.0

    @classmethod
    def placed(
        cls, id: int, e164: str, *, daily_cap: int = 300, cooldown_seconds: int = 0
    ) -> PoolNumber:
        """A pool number whose country, area code, subdivision and zone come from `e164`."""
        place = number_place(e164)
        return cls(
            id,
            e164,
            place.country,
            place.area_code,
            place.subdivision,
            place.zone,
            daily_cap=daily_cap,
            cooldown_seconds=cooldown_seconds,
        )


@dataclass(frozen=True, slots=True)
class Target:
    """The debtor's phone a number is chosen for. `subdivision` is an ISO 3166-2 code; `zones`
    the phone's candidate zones (as stored with the phone). Its repr masks the phone."""

    e164: str
    country: str
    area_code: str | None = None
    subdivision: str | None = None
    zones: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (
            f"Target({mask_phone(self.e164)}, {self.country}, area_code={self.area_code}, "
            f"subdivision={self.subdivision}, zones={self.zones})"
        )

    @classmethod
    def for_phone(
        cls, e164: str, *, subdivision: str | None = None, zones: tuple[str, ...] = ()
    ) -> Target:
        """A target placed from its number; `subdivision` (the debtor's address: a code, name
        or alias such as "CDMX") and `zones` (the phone's candidate zones), when known, win
        over what the number alone says."""
        place = number_place(e164)
        if subdivision:
            found = None
            if place.country in geography.SUPPORTED_COUNTRIES:
                found = geography.resolve_subdivision(place.country, subdivision)
            subdivision = found.code if found is not None else subdivision.upper()
        else:
            subdivision = place.subdivision
        if not zones and place.zone:
            zones = (place.zone,)
        return cls(e164, place.country, place.area_code, subdivision, zones)


@dataclass(frozen=True, slots=True)
class Choice:
    """The number to present and why: `reason` is a short stable code (`local:area_code 55`,
    `state:CMX`, `zone:America/Mexico_City`, `country:MX`) stored with the attempt."""

    number: PoolNumber
    reason: str
    tier: Tier

    def attempt_fields(self) -> dict[str, int | str]:
        """The `Attempt` columns that record this choice."""
        return {
            "caller_id_number_id": self.number.id,
            "caller_id_e164": self.number.e164,
            "caller_id_reason": self.reason[:120],
        }
