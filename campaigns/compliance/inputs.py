"""Contacts and histories from the JSON files of `main.py compliance check` (the format the
README documents), with errors that name the file, the key and what is allowed."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from campaigns.compliance.model import CHANNELS, Contact, Event, EventKind
from campaigns.compliance.packs import ROLES
from campaigns.portfolio.phones import PhoneNormaliser
from campaigns.portfolio.values import ValueProblem

__all__ = ["InputError", "contact_from_json", "history_from_json", "read_json", "zone_sources_for"]

_CONTACT_KEYS = {
    "country",
    "subdivision",
    "phone",
    "address_zone",
    "role",
    "line_type",
    "provenance",
    "consent",
    "authorized_channels",
    "debt",
    "caller_id",
    "account_status",
}
_EVENT_KEYS = {"event", "channel", "debt", "at", "connected", "phone"}


class InputError(Exception):
    """A contact or history file that cannot be used; the message says where and why."""


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None


def zone_sources_for(phone: str | None, address_zone: str | None) -> tuple[tuple[str, str], ...]:
    """(zone, source) pairs for a phone in E.164 and an address zone, as the importer makes them."""
    sources: list[tuple[str, str]] = []
    if phone:
        number = phonenumbers.parse(phone, None)
        region = phonenumbers.region_code_for_number(number)
        if region:
            sources.extend(PhoneNormaliser(region).normalise(phone).zone_sources)
    if address_zone:
        sources.append((address_zone, "address"))
    return tuple(sources)


def _choice(where: str, value: Any, allowed: tuple[str, ...] | list[str]) -> str:
    if value not in allowed:
        raise InputError(f"{where}: {value!r} is not one of {', '.join(allowed)}")
    return str(value)


def _channels(where: str, value: Any) -> frozenset[str]:
    if not isinstance(value, list):
        raise InputError(f"{where}: give a list of channels ({', '.join(CHANNELS)})")
    return frozenset(_choice(where, v, CHANNELS) for v in value)


def contact_from_json(data: Any, where: str = "contact") -> Contact:
    if not isinstance(data, dict):
        raise InputError(f"{where}: a contact is one JSON object")
    unknown = set(data) - _CONTACT_KEYS
    if unknown:
        raise InputError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; allowed: "
            f"{', '.join(sorted(_CONTACT_KEYS))}"
        )
    phone = data.get("phone")
    if phone is not None:
        try:
            parsed = phonenumbers.parse(str(phone), None)
            valid = phonenumbers.is_valid_number(parsed)
        except phonenumbers.NumberParseException:
            valid = False
        if not valid or not str(phone).startswith("+"):
            raise InputError(
                f"{where}.phone: {phone!r} is not a valid E.164 number (+521234567890)"
            )
    address_zone = data.get("address_zone")
    if address_zone is not None:
        try:
            ZoneInfo(str(address_zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise InputError(f"{where}.address_zone: unknown IANA zone {address_zone!r}") from None
    try:
        sources = zone_sources_for(phone, address_zone)
    except ValueProblem as exc:
        raise InputError(f"{where}.phone: {exc}") from None
    caller = data.get("caller_id")
    if caller is not None and caller != "restricted" and not str(caller).startswith("+"):
        raise InputError(f'{where}.caller_id: give E.164 (+5255…) or "restricted"')
    authorized = data.get("authorized_channels")
    country = data.get("country")
    if country is not None and (not isinstance(country, str) or len(country) != 2):
        raise InputError(f"{where}.country: an ISO 3166 code such as MX")
    return Contact(
        country=country.upper() if country else None,
        subdivision=data.get("subdivision"),
        phone=phone,
        zones=tuple(dict.fromkeys(z for z, _ in sources)),
        zone_sources=sources,
        role=None if data.get("role") is None else _choice(f"{where}.role", data["role"], ROLES),
        line_type=(
            None
            if data.get("line_type") is None
            else _choice(
                f"{where}.line_type", data["line_type"], ("mobile", "fixed_line", "unknown")
            )
        ),
        provenance=(
            None
            if data.get("provenance") is None
            else _choice(f"{where}.provenance", data["provenance"], ("provided", "skip_trace"))
        ),
        consent=_channels(f"{where}.consent", data.get("consent", [])),
        authorized_channels=None
        if authorized is None
        else _channels(f"{where}.authorized_channels", authorized),
        debt=None if data.get("debt") is None else str(data["debt"]),
        caller_id=caller,
        account_status=(
            None
            if data.get("account_status") is None
            else _choice(
                f"{where}.account_status",
                data["account_status"],
                ("active", "paid", "closed", "disputed"),
            )
        ),
    )


def _instant(where: str, value: Any) -> datetime:
    try:
        instant = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{where}: {value!r} is not an ISO 8601 instant") from None
    if instant.tzinfo is None:
        raise InputError(f"{where}: {value!r} has no offset; give UTC like 2026-11-25T15:00:00Z")
    return instant


def history_from_json(data: Any, where: str = "history") -> tuple[Event, ...]:
    if not isinstance(data, list):
        raise InputError(f"{where}: a history is a JSON list of events")
    events = []
    kinds = tuple(k.value for k in EventKind)
    for index, item in enumerate(data):
        at = f"{where}[{index}]"
        if not isinstance(item, dict):
            raise InputError(f"{at}: each event is an object")
        unknown = set(item) - _EVENT_KEYS
        if unknown:
            raise InputError(
                f"{at}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_EVENT_KEYS)}"
            )
        if "event" not in item or "at" not in item:
            raise InputError(f'{at}: needs "event" and "at"')
        channel = item.get("channel")
        connected = item.get("connected")
        if connected is not None and not isinstance(connected, bool):
            raise InputError(f"{at}.connected: true or false")
        events.append(
            Event(
                kind=EventKind(_choice(f"{at}.event", item["event"], kinds)),
                at=_instant(f"{at}.at", item["at"]),
                channel=None if channel is None else _choice(f"{at}.channel", channel, CHANNELS),
                debt=None if item.get("debt") is None else str(item["debt"]),
                phone=item.get("phone"),
                connected=connected,
            )
        )
    return tuple(sorted(events, key=lambda e: e.at))
