"""Contacts and histories from JSON files (`main.py compliance check`): errors name the key, a
good file round-trips."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from campaigns.compliance import Contact, Event, EventKind, decide, load_policies
from campaigns.compliance.inputs import (
    InputError,
    contact_from_json,
    history_from_json,
    read_json,
)

GOOD_CONTACT: dict[str, Any] = {
    "country": "US",
    "subdivision": "MA",
    "phone": "+16175550123",
    "address_zone": "America/Chicago",
    "role": "debtor",
    "line_type": "mobile",
    "provenance": "provided",
    "consent": ["sms", "voice_prerecorded"],
    "authorized_channels": ["voice_live", "sms"],
    "debt": "D1",
    "caller_id": "+16175550100",
    "account_status": "active",
}
GOOD_HISTORY: list[dict[str, Any]] = [
    {"event": "conversation", "at": "2026-06-02T14:05:00Z", "channel": "voice_live", "debt": "D1"},
    {"event": "attempt", "at": "2026-06-02T14:00:00Z", "channel": "voice_live", "debt": "D1",
     "connected": True, "phone": "+16175550123"},
    {"event": "opt_out", "at": "2026-06-03T09:00:00-05:00", "channel": None},
    {"event": "message_sent", "at": "2026-06-01T15:00:00+00:00", "channel": "sms"},
]  # fmt: skip


def contact_to_json(contact: Contact) -> dict[str, Any]:
    """The README's JSON contact format for `contact` (address zone from its zone sources)."""
    address = [z for z, source in contact.zone_sources if source.startswith("address")]
    return {
        "country": contact.country,
        "subdivision": contact.subdivision,
        "phone": contact.phone,
        "address_zone": address[0] if address else None,
        "role": contact.role,
        "line_type": contact.line_type,
        "provenance": contact.provenance,
        "consent": sorted(contact.consent),
        "authorized_channels": None
        if contact.authorized_channels is None
        else sorted(contact.authorized_channels),
        "debt": contact.debt,
        "caller_id": contact.caller_id,
        "account_status": contact.account_status,
    }


def history_to_json(events: tuple[Event, ...]) -> list[dict[str, Any]]:
    return [
        {
            "event": e.kind.value,
            "at": e.at.isoformat(),
            "channel": e.channel,
            "debt": e.debt,
            "connected": e.connected,
            "phone": e.phone,
        }
        for e in events
    ]


def test_good_files_round_trip(tmp_path: Path) -> None:
    contact_file, history_file = tmp_path / "contact.json", tmp_path / "history.json"
    contact_file.write_text(json.dumps(GOOD_CONTACT, indent=2), encoding="utf-8")
    history_file.write_text(json.dumps(GOOD_HISTORY, indent=2), encoding="utf-8")

    contact = contact_from_json(read_json(contact_file), str(contact_file))
    assert contact == Contact(
        country="US",
        subdivision="MA",
        phone="+16175550123",
        zones=("America/New_York", "America/Chicago"),
        zone_sources=(("America/New_York", "phone_prefix"), ("America/Chicago", "address")),
        role="debtor",
        line_type="mobile",
        provenance="provided",
        consent=frozenset({"sms", "voice_prerecorded"}),
        authorized_channels=frozenset({"voice_live", "sms"}),
        debt="D1",
        caller_id="+16175550100",
        account_status="active",
    )
    assert contact_from_json(json.loads(json.dumps(contact_to_json(contact)))) == contact

    history = history_from_json(read_json(history_file), str(history_file))
    assert [e.at for e in history] == sorted(e.at for e in history)  # sorted by instant
    assert history == (
        Event(EventKind.MESSAGE_SENT, datetime(2026, 6, 1, 15, 0, tzinfo=UTC), "sms"),
        Event(
            EventKind.ATTEMPT, datetime(2026, 6, 2, 14, 0, tzinfo=UTC), "voice_live", "D1",
            "+16175550123", True,
        ),
        Event(EventKind.CONVERSATION, datetime(2026, 6, 2, 14, 5, tzinfo=UTC), "voice_live", "D1"),
        Event(EventKind.OPT_OUT, datetime(2026, 6, 3, 9, 0, tzinfo=timezone(timedelta(hours=-5)))),
    )  # fmt: skip
    assert history_from_json(json.loads(json.dumps(history_to_json(history)))) == history


def test_files_decide_like_values() -> None:
    # The JSON contact (Boston phone, Chicago address) decides as the same values would.
    contact = contact_from_json(GOOD_CONTACT)
    packs = load_policies().select(["us-fdcpa-regf", "us-ma", "us-tcpa"])
    at = datetime(2026, 6, 2, 12, 30, tzinfo=UTC)  # 08:30 EDT = 07:30 CDT
    d = decide(contact, "voice_live", at, history_from_json(GOOD_HISTORY[:1]), packs)
    assert [(r.rule, r.zone) for r in d.reasons] == [("hours", "America/Chicago")]


def test_empty_contact_is_all_unknown() -> None:
    assert contact_from_json({}) == Contact(country=None)


def test_lowercase_country_is_normalised() -> None:
    assert contact_from_json({"country": "mx"}).country == "MX"


# fmt: off
BAD_CONTACTS = [
    pytest.param({"phone": "+1617555"}, "contact.phone", "'+1617555' is not a valid E.164 number", id="short-phone"),
    pytest.param({"phone": "6175550123"}, "contact.phone", "not a valid E.164 number", id="phone-without-plus"),
    pytest.param({"phone": "+52 55 not a number"}, "contact.phone", "not a valid E.164 number", id="phone-letters"),
    pytest.param({"role": "neighbour"}, "contact.role", "'neighbour' is not one of debtor", id="unknown-role"),
    pytest.param({"line_type": "satellite"}, "contact.line_type", "'satellite' is not one of", id="unknown-line-type"),
    pytest.param({"provenance": "guessed"}, "contact.provenance", "'guessed' is not one of provided, skip_trace", id="unknown-provenance"),
    pytest.param({"consent": "sms"}, "contact.consent", "give a list of channels", id="consent-not-a-list"),
    pytest.param({"consent": ["fax"]}, "contact.consent", "'fax' is not one of", id="consent-unknown-channel"),
    pytest.param({"authorized_channels": ["pigeon"]}, "contact.authorized_channels", "'pigeon' is not one of", id="authorised-unknown-channel"),
    pytest.param({"address_zone": "America/Atlantis"}, "contact.address_zone", "unknown IANA zone 'America/Atlantis'", id="unknown-address-zone"),
    pytest.param({"caller_id": "hidden"}, "contact.caller_id", 'or "restricted"', id="caller-id-not-e164"),
    pytest.param({"country": "MEX"}, "contact.country", "ISO 3166", id="country-three-letters"),
    pytest.param({"phone_number": "+16175550123"}, "contact", "unknown key(s) phone_number; allowed:", id="unknown-key"),
    pytest.param(["not", "an", "object"], "contact", "one JSON object", id="not-an-object"),
]
BAD_HISTORIES = [
    pytest.param([{"event": "attempt", "at": "2026-06-02T14:00:00"}], "history[0].at", "has no offset", id="naive-instant"),
    pytest.param([{"event": "attempt", "at": "yesterday"}], "history[0].at", "'yesterday' is not an ISO 8601 instant", id="not-an-instant"),
    pytest.param([GOOD_HISTORY[0], {"event": "call", "at": "2026-06-02T14:00:00Z"}], "history[1].event", "'call' is not one of attempt", id="unknown-event"),
    pytest.param([{"event": "attempt", "at": "2026-06-02T14:00:00Z", "channel": "fax"}], "history[0].channel", "'fax' is not one of", id="unknown-channel"),
    pytest.param([{"event": "attempt", "at": "2026-06-02T14:00:00Z", "connected": "yes"}], "history[0].connected", "true or false", id="connected-not-bool"),
    pytest.param([{"event": "attempt", "at": "2026-06-02T14:00:00Z", "when": "now"}], "history[0]", "unknown key(s) ['when']", id="unknown-key"),
    pytest.param([{"event": "attempt"}], "history[0]", 'needs "event" and "at"', id="missing-at"),
    pytest.param([["attempt"]], "history[0]", "each event is an object", id="event-not-an-object"),
    pytest.param({"event": "attempt"}, "history", "a JSON list of events", id="not-a-list"),
]
# fmt: on


@pytest.mark.parametrize(("data", "key", "says"), BAD_CONTACTS)
def test_bad_contact_names_the_key(data: Any, key: str, says: str) -> None:
    with pytest.raises(InputError) as caught:
        contact_from_json(data, "contact")
    message = str(caught.value)
    assert message.startswith(f"{key}: "), message
    assert says in message


@pytest.mark.parametrize(("data", "key", "says"), BAD_HISTORIES)
def test_bad_history_names_the_key(data: Any, key: str, says: str) -> None:
    with pytest.raises(InputError) as caught:
        history_from_json(data, "history")
    message = str(caught.value)
    assert message.startswith(f"{key}: "), message
    assert says in message


def test_errors_carry_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "people" / "ana.json"
    path.parent.mkdir()
    path.write_text('{"role": "vecina"}', encoding="utf-8")
    with pytest.raises(InputError, match=rf"^{path}\.role: 'vecina'"):
        contact_from_json(read_json(path), str(path))


def test_read_json_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "contact.json"
    path.write_text('{\n  "role": "debtor",\n  "phone": +52\n}\n', encoding="utf-8")
    with pytest.raises(InputError, match=rf"^{path}:3: not valid JSON"):
        read_json(path)
    with pytest.raises(InputError, match="no such file"):
        read_json(tmp_path / "missing.json")


@pytest.mark.parametrize("status", ["Disputed", "dispute", "cerrada"])
def test_unknown_account_status_names_the_key(status: str) -> None:
    # A typo must not read as an open account. Was: account_status was not validated.
    with pytest.raises(
        InputError, match=rf"^contact\.account_status: '{status}' is not one of active"
    ):
        contact_from_json({"account_status": status}, "contact")


@pytest.mark.parametrize("status", ["active", "paid", "closed", "disputed"])
def test_known_account_statuses_are_accepted(status: str) -> None:
    assert contact_from_json({"account_status": status}).account_status == status
