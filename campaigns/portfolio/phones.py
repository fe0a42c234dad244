"""Phone numbers from portfolio cells to E.164 with line type and candidate time zones.

Candidate zones are the union of the library's prefix zones, the override table in
`config/zone_overrides.yaml` (prefixes `phonenumbers` gets wrong) and the address zone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberType
from phonenumbers.phonemetadata import PhoneMetadata
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

from campaigns import geography
from campaigns.enums import LineType
from campaigns.portfolio.values import ValueProblem

__all__ = ["NormalisedPhone", "PhoneNormaliser", "candidate_zones", "json_list"]

_UNKNOWN_ZONE = "Etc/Unknown"
_LINE_TYPES = {
    PhoneNumberType.MOBILE: LineType.MOBILE,
    PhoneNumberType.FIXED_LINE: LineType.FIXED_LINE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE: LineType.UNKNOWN,
    PhoneNumberType.VOIP: LineType.VOIP,
}
_NOT_A_PERSON = {
    PhoneNumberType.TOLL_FREE: "a toll-free number",
    PhoneNumberType.PREMIUM_RATE: "a premium-rate number",
    PhoneNumberType.SHARED_COST: "a shared-cost number",
    PhoneNumberType.PAGER: "a pager number",
    PhoneNumberType.UAN: "a company's universal access number",
    PhoneNumberType.VOICEMAIL: "a voicemail access number",
    PhoneNumberType.PERSONAL_NUMBER: "a personal (forwarding) number",
}
_PUNCTUATION = str.maketrans("", "", " -().\u00a0/")


@dataclass(frozen=True, slots=True)
class NormalisedPhone:
    e164: str
    line_type: LineType
    zone_key: str  # the leading digits the zones depend on (cache key)

    @property
    def zone_sources(self) -> tuple[tuple[str, str], ...]:
        """(zone, source) pairs from the phone alone, in discovery order."""
        return _phone_zone_sources(self.zone_key)

    @property
    def zones(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(zone for zone, _ in self.zone_sources))


@lru_cache(maxsize=65536)
def _prefix_zones(digits: str) -> tuple[str, ...]:
    """Zones of the library's data for an E.164 number's digits (longest prefix wins)."""
    for length in range(min(TIMEZONE_LONGEST_PREFIX, len(digits)), 0, -1):
        zones = TIMEZONE_DATA.get(digits[:length])
        if zones:
            return tuple(z for z in zones if z != _UNKNOWN_ZONE)
    return ()


@lru_cache(maxsize=65536)
def _phone_zone_sources(digits_prefix: str) -> tuple[tuple[str, str], ...]:
    sources = [(zone, "phone_prefix") for zone in _prefix_zones(digits_prefix)]
    extra, matched = geography.prefix_override_zones("+" + digits_prefix)
    sources.extend((zone, f"prefix_override:{matched}") for zone in extra)
    return tuple(sources)


class PhoneNormaliser:
    """Normalises the phones of one portfolio country; cheap to call a million times."""

    def __init__(self, country: str) -> None:
        self.country = country
        metadata = PhoneMetadata.metadata_for_region(country)
        if metadata is None or metadata.general_desc is None or metadata.country_code is None:
            raise ValueError(f"no phone numbering data for country {country!r}")
        self._country_code = metadata.country_code
        self._lengths = frozenset(metadata.general_desc.possible_length)
        # Zones depend only on this many leading digits: cache on them, not on whole numbers.
        code = self._code = str(self._country_code)
        self._zone_key = max(
            max((len(k) for k in TIMEZONE_DATA if k.startswith(code)), default=len(code)),
            geography.override_prefix_digits(code),
        )

    def _parse(self, text: str) -> PhoneNumber:
        digits = text.translate(_PUNCTUATION)
        # Fast path for the common clean national number; anything that might carry a country
        # code or a national prefix goes through the library's full parser.
        if (
            digits.isdigit()
            and digits[0] != "0"
            and len(digits) in self._lengths
            and not digits.startswith(self._code)
        ):
            return PhoneNumber(country_code=self._country_code, national_number=int(digits))
        try:
            return phonenumbers.parse(text, self.country)
        except NumberParseException as exc:
            raise ValueProblem(f"{text!r} is not a phone number ({exc._msg})") from None

    def normalise(self, text: str, line_hint: LineType | None = None) -> NormalisedPhone:
        """E.164, line type and phone-derived zones of `text`, or ValueProblem saying why not."""
        number = self._parse(text)
        kind = phonenumbers.number_type(number)
        if kind == PhoneNumberType.UNKNOWN:
            if number.country_code != self._country_code:
                region = phonenumbers.region_code_for_country_code(number.country_code or 0)
                raise ValueProblem(f"{text!r} is not a valid phone number of {region}")
            raise ValueProblem(f"{text!r} is not a valid {self.country} phone number")
        owner = phonenumbers.region_code_for_number(number)
        if owner != self.country:
            raise ValueProblem(
                f"{text!r} is a phone number of {owner}, not of the portfolio's country "
                f"{self.country}"
            )
        if kind in _NOT_A_PERSON:
            raise ValueProblem(f"{text!r} is {_NOT_A_PERSON[kind]}, not a person's line")
        line = _LINE_TYPES.get(kind, LineType.UNKNOWN)
        if line is LineType.UNKNOWN and line_hint is not None:
            line = line_hint
        e164 = f"+{number.country_code}{number.national_number}"
        return NormalisedPhone(e164, line, e164[1 : 1 + self._zone_key])


@lru_cache(maxsize=65536)
def candidate_zones(
    zone_key: str, address_zones: tuple[str, ...], address_source: str
) -> tuple[tuple[str, ...], str, str]:
    """Union of a phone's zones (by its zone key) and the address zones: the zones, their JSON,
    and the JSON of {zone: [sources]} to store with them."""
    merged: dict[str, list[str]] = {}
    for zone, source in _phone_zone_sources(zone_key):
        merged.setdefault(zone, []).append(source)
    for zone in address_zones:
        merged.setdefault(zone, []).append(address_source)
    zones = tuple(merged)
    return zones, json_list(zones), json.dumps(merged, separators=(",", ":"))


@lru_cache(maxsize=4096)
def json_list(values: tuple[str, ...]) -> str:
    """A tuple of strings as a compact JSON array (memoised: the same few lists recur)."""
    return json.dumps(list(values), separators=(",", ":"))
