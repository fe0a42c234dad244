"""Properties of `decide()` over generated contacts, instants and histories.

Contacts get a random country among MX/CO/US/PE/CL with 1–3 real candidate zones of that country
(`campaigns.geography.country_zones`), a random role, line type, consent, provenance and caller ID;
instants fall anywhere in 2026–2027, on a DST-change day, or on a local window edge; histories hold
0–20 events around the instant. The window check in (a) is done here with zoneinfo and `holidays`
directly, from the packs' data — not with the engine's helpers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.compliance import (
    POLICY_DIR,
    Code,
    Contact,
    Decision,
    Event,
    EventKind,
    Pack,
    decide,
    load_policies,
)
from campaigns.compliance.rules import HolidayRule, WindowRule
from campaigns.geography import country_zones

# The shipped packs plus the example agency pack (extends mx-condusef, 60-minute end margin).
POLICIES = load_policies(extra=[POLICY_DIR / "examples" / "agency-stricter-mx.yaml"])
SELECTABLE = tuple(sorted(p.id for p in POLICIES.packs.values() if not p.abstract))
COUNTRIES = ("MX", "CO", "US", "PE", "CL")
SUBDIVISIONS = {
    "MX": (None,),
    "CO": (None,),
    "US": ("US-MA", "US-NY", "US-FL"),
    "PE": (None,),
    "CL": (None,),
}
PHONES = {
    "MX": "+525512345678",
    "CO": "+573001234567",
    "US": "+16175550123",
    "PE": "+51912345678",
    "CL": "+56221234567",
}
CHANNELS = ("voice_live", "voice_prerecorded", "voicemail", "sms", "whatsapp", "email")
SOURCES = ("phone_prefix", "address", "prefix_override:+52614")
ROLES = ("debtor",) * 6 + (
    "aval",
    "obligado_solidario",
    "codeudor",
    "spouse",
    "reference",
    "family",
    None,
)
CALLER_IDS = (None, "+566001234567", "+525511112222", "+12125550100", "restricted")
STATUSES = ("active",) * 8 + ("paid", "disputed", None)
KINDS = (
    (EventKind.ATTEMPT,) * 6
    + (EventKind.MESSAGE_SENT,) * 3
    + (EventKind.TWO_WAY_CONTACT, EventKind.CONVERSATION, EventKind.OPT_OUT)
)
# Days on which some candidate zone changes its clock (US and border strip, Chile).
DST_DAYS = (
    date(2026, 3, 8), date(2026, 11, 1), date(2027, 3, 14), date(2027, 11, 7),  # US / MX border
    date(2026, 4, 4), date(2026, 4, 5), date(2026, 9, 5), date(2026, 9, 6),  # America/Santiago
    date(2027, 4, 3), date(2027, 4, 4), date(2027, 9, 4), date(2027, 9, 5),
)  # fmt: skip
EDGE_HOURS = (6, 7, 8, 9, 13, 14, 15, 18, 19, 20, 21, 22)
EDGE_MINUTES = (0, 0, 1, 4, 5, 54, 55, 59, 59)
MARGINS = (timedelta(0), timedelta(0), timedelta(minutes=5), timedelta(minutes=60))


@dataclass(frozen=True)
class Scenario:
    contact: Contact
    channel: str
    at: datetime
    history: tuple[Event, ...]
    packs: tuple[Pack, ...]
    margin: timedelta

    def decide(self, at: datetime | None = None, history=None, packs=None) -> Decision:
        return decide(
            self.contact,
            self.channel,
            self.at if at is None else at,
            self.history if history is None else history,
            self.packs if packs is None else packs,
            end_margin=self.margin,
        )


@st.composite
def contacts(draw: st.DrawFn) -> Contact:
    """Three in four are "clean" (debtor, number provided, active account, consent, a valid caller
    ID) so that time rules decide; the rest draw every fact at random."""
    country = draw(st.sampled_from(COUNTRIES))
    zones = draw(
        st.lists(st.sampled_from(country_zones(country)), min_size=1, max_size=3, unique=True)
    )
    sources = tuple((z, draw(st.sampled_from(SOURCES))) for z in zones)
    shape = draw(st.sampled_from(("sources",) * 8 + ("zones only", "nothing")))
    if shape != "sources":  # zones without their sources, or nothing known but the country
        sources = ()
        zones = zones if shape == "zones only" else []
    common: dict[str, Any] = {
        "country": country,
        "subdivision": draw(st.sampled_from(SUBDIVISIONS[country])),
        "phone": PHONES[country],
        "zones": tuple(zones),
        "zone_sources": sources,
        "line_type": draw(st.sampled_from(("mobile", "fixed_line", "unknown", None))),
        "debt": draw(st.sampled_from(("D1", "D2", None))),
    }
    if draw(st.sampled_from((True, True, True, False))):
        return Contact(
            **common,
            role="debtor",
            provenance="provided",
            consent=frozenset(CHANNELS),
            authorized_channels=draw(st.sampled_from((None, frozenset(CHANNELS)))),
            caller_id="+566001234567" if country == "CL" else "+525511112222",
            account_status="active",
        )
    return Contact(
        **common,
        role=draw(st.sampled_from(ROLES)),
        provenance=draw(st.sampled_from(("provided", "provided", "provided", "skip_trace", None))),
        consent=draw(st.frozensets(st.sampled_from(CHANNELS))),
        authorized_channels=draw(st.none() | st.frozensets(st.sampled_from(CHANNELS))),
        caller_id=draw(st.sampled_from(CALLER_IDS)),
        account_status=draw(st.sampled_from(STATUSES)),
    )


def instants(zones: tuple[str, ...]) -> st.SearchStrategy[datetime]:
    anywhere = st.datetimes(
        min_value=datetime(2026, 1, 1),
        max_value=datetime(2027, 12, 31, 23, 59),
        timezones=st.just(UTC),
    )
    dst_day = st.builds(
        lambda day, minutes: (
            datetime.combine(day, time(0), tzinfo=UTC) + timedelta(minutes=minutes)
        ),
        st.sampled_from(DST_DAYS),
        st.integers(0, 48 * 60 - 1),
    )
    edge = st.builds(
        lambda day, zone, hour, minute: datetime.combine(
            day, time(hour, minute), tzinfo=ZoneInfo(zone)
        ).astimezone(UTC),
        st.dates(date(2026, 1, 1), date(2027, 12, 31)) | st.sampled_from(DST_DAYS),
        st.sampled_from(zones),
        st.sampled_from(EDGE_HOURS),
        st.sampled_from(EDGE_MINUTES),
    )
    return st.one_of(anywhere, dst_day, edge)


@st.composite
def histories(draw: st.DrawFn, at: datetime, phone: str) -> tuple[Event, ...]:
    events = []
    for _ in range(draw(st.integers(0, 3) | st.integers(0, 20))):
        kind = draw(st.sampled_from(KINDS))
        channel = draw(st.sampled_from(CHANNELS + ((None,) if kind is EventKind.OPT_OUT else ())))
        events.append(
            Event(
                kind,
                at - timedelta(minutes=draw(st.integers(-24 * 60, 35 * 24 * 60))),
                channel,
                draw(st.sampled_from(("D1", "D2", None))),
                draw(st.sampled_from((phone, "+19995550000", None))),
                draw(st.sampled_from((True, True, False, None)))
                if kind is EventKind.ATTEMPT
                else None,
            )
        )
    return tuple(events)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    contact = draw(contacts())
    at = draw(instants(contact.zones or country_zones(contact.country or "MX")))
    packs = POLICIES.for_contact(
        contact.country,
        contact.subdivision,
        draw(st.sampled_from(("financial", "commercial", None))),
        draw(st.sampled_from(("third_party", "first_party", None))),
    )
    return Scenario(
        contact=contact,
        channel=draw(st.sampled_from(CHANNELS)),
        at=at,
        history=draw(histories(at, contact.phone or "")),
        packs=packs,
        margin=draw(st.sampled_from(MARGINS)),
    )


# -- an independent reading of the packs' windows ------------------------------------------------


def zones_of(contact: Contact, pack: Pack) -> list[str]:
    """The candidate zones compliance.md §3.3 and config/policies/README.md give for a pack."""
    policy = pack.zones
    if "fixed" in policy.use and policy.fixed:
        return [policy.fixed]
    kind = {
        "phone_prefix": "phone_prefix",
        "address": "address",
        "prefix_override": "prefix_overrides",
    }
    if contact.zone_sources:
        names = [z for z, src in contact.zone_sources if kind[src.split(":")[0]] in policy.use]
    else:
        names = list(contact.zones)
    if not names and policy.unknown == "country_all_zones" and contact.country:
        names = list(country_zones(contact.country))
    return list(dict.fromkeys(names))


def applies(rule, channel: str) -> bool:
    return rule.channels is None or channel in rule.channels


def outside_windows(s: Scenario) -> list[str]:
    """Every (pack, rule, zone) whose local hours, days or holidays exclude `s.at`."""
    problems = []
    for pack in s.packs:
        margin = (pack.end_margin + s.margin).total_seconds()
        for zone_name in zones_of(s.contact, pack):
            wall = s.at.astimezone(ZoneInfo(zone_name))
            seconds = wall.hour * 3600 + wall.minute * 60 + wall.second + wall.microsecond / 1e6
            for rule in pack.rules:
                if isinstance(rule, WindowRule) and applies(rule, s.channel):
                    ranges = rule.days[wall.weekday()]
                    if not any(start <= seconds < end - margin for start, end in ranges):
                        problems.append(
                            f"{pack.id}/{rule.id} {zone_name} {wall.isoformat()} not in {ranges}"
                        )
                if isinstance(rule, HolidayRule) and applies(rule, s.channel):
                    day = wall.date()
                    calendar = holidays.country_holidays(
                        rule.country, subdiv=rule.subdiv, years=day.year
                    )
                    if day not in rule.removed and (day in calendar or day in rule.extra):
                        problems.append(f"{pack.id}/{rule.id} {zone_name} {day} is a holiday")
    return problems


def summary(d: Decision) -> dict[str, object]:
    """Everything a decision says, wording included."""
    return d.to_json()


PROPERTY = settings(max_examples=150, deadline=None)


@PROPERTY
@given(scenarios())
def test_allowed_is_inside_every_window_in_every_candidate_zone(s: Scenario) -> None:
    # (a)
    d = s.decide()
    if d.allowed:
        assert outside_windows(s) == [], d.to_json()


@PROPERTY
@given(scenarios())
def test_next_allowed_at_is_allowed_and_the_earliest(s: Scenario) -> None:
    # (b) — and nothing between `at` and `next_allowed_at` is allowed (checked one second before).
    d = s.decide()
    if d.next_allowed_at is None:
        assert not d.allowed
        return
    assert d.next_allowed_at >= s.at
    later = s.decide(at=d.next_allowed_at)
    assert later.allowed, (d.to_json(), later.to_json())
    assert outside_windows(replace(s, at=d.next_allowed_at)) == []
    before = d.next_allowed_at - timedelta(seconds=1)
    if before >= s.at:
        assert not s.decide(at=before).allowed, d.to_json()


@PROPERTY
@given(scenarios(), st.sampled_from(SELECTABLE))
def test_adding_a_pack_never_turns_a_deny_into_an_allow(s: Scenario, extra_id: str) -> None:
    # (c) — the extra pack after the others, and before them (see
    # test_packs.py::test_inherited_rule_keeps_the_childs_margin_whatever_the_order).
    alone = s.decide()
    extra = POLICIES.select([extra_id])
    after = s.decide(packs=(*s.packs, *extra))
    before = s.decide(packs=(*extra, *s.packs))
    if not alone.allowed:
        assert not after.allowed
        assert not before.allowed
        failing = {(r.code, r.rule) for r in alone.reasons}
        assert failing <= {(r.code, r.rule) for r in after.reasons}
        assert failing <= {(r.code, r.rule) for r in before.reasons}


@PROPERTY
@given(scenarios())
def test_next_allowed_at_never_before_at(s: Scenario) -> None:
    # (d)
    d = s.decide()
    assert d.next_allowed_at is None or d.next_allowed_at >= s.at
    if d.allowed:
        assert d.next_allowed_at == s.at
    else:
        assert d.reasons


@PROPERTY
@given(scenarios(), st.randoms(use_true_random=False))
def test_decision_does_not_depend_on_history_order(s: Scenario, rnd: random.Random) -> None:
    # (e)
    shuffled = list(s.history)
    rnd.shuffle(shuffled)
    assert summary(s.decide()) == summary(s.decide(history=tuple(shuffled)))
    assert summary(s.decide()) == summary(s.decide(history=tuple(reversed(s.history))))


# -- engine bugs the properties found (fixed; kept as regression tests) ----------------------------


def test_opt_out_after_at_blocks_next_allowed_at() -> None:
    # Found by property (b). Colombia, Sat 7 Mar 2026 19:00 COT (after the Saturday window); the
    # debtor opts out of calls on Sun 8 Mar 10:00 COT, so no later call is allowed. Was: opt-outs
    # were judged only at `at`, and next_allowed_at was Mon 07:00, which decide() refused.
    contact = Contact(country="CO", zones=("America/Bogota",), role="debtor", provenance="provided")
    opt_out = Event(EventKind.OPT_OUT, datetime(2026, 3, 8, 15, 0, tzinfo=UTC), "voice_live")
    packs = POLICIES.select(["co-l2300"])
    d = decide(contact, "voice_live", datetime(2026, 3, 8, 0, 0, tzinfo=UTC), (opt_out,), packs)
    assert [r.code for r in d.reasons] == [Code.WINDOW_CLOSED]
    assert d.next_allowed_at is None


def test_opt_out_reason_does_not_depend_on_history_order() -> None:
    # Property (e): with two opt-outs that both apply, the reason used to name whichever came
    # first in the list. Now the earliest one is named, whatever the order.
    a = Event(EventKind.OPT_OUT, datetime(2026, 5, 20, 12, 0, tzinfo=UTC), "sms")
    b = Event(EventKind.OPT_OUT, datetime(2026, 5, 1, 12, 0, tzinfo=UTC), None)
    contact = Contact(country="CO", zones=("America/Bogota",), role="debtor", provenance="provided")
    packs = POLICIES.select(["co-l2300"])
    at = datetime(2026, 6, 2, 15, 0, tzinfo=UTC)
    first = decide(contact, "sms", at, (a, b), packs)
    second = decide(contact, "sms", at, (b, a), packs)
    assert first.to_json() == second.to_json()
    assert [r.code for r in first.reasons] == [Code.OPTED_OUT]
    assert first.next_allowed_at is None


# -- on_holiday: {use_day: …}: a holiday keeps that weekday's hours --------------------------

# Different hours every weekday (Sunday closed), so that a holiday using the wrong day shows.
_HOURS = {
    "mon": ["07:00-12:00", "14:00-19:00"],
    "tue": ["08:00-18:00"],
    "wed": ["09:30-17:15"],
    "thu": ["06:00-10:00"],
    "fri": ["12:00-23:00"],
    "sat": ["08:00-15:00"],
}
_BOGOTA = ZoneInfo("America/Bogota")
_CO_HOLIDAYS = holidays.country_holidays("CO", years=(2026, 2027))


@pytest.fixture(scope="module")
def holiday_packs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Pack, ...]]:
    """One pack per weekday a holiday may keep (`use_day`), with `_HOURS` in Bogotá."""
    directory = tmp_path_factory.mktemp("holiday-packs")
    days = ", ".join(f"{d}: {r!r}".replace("'", '"') for d, r in _HOURS.items())
    for use_day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        pack_id = f"keeps-{use_day}"
        (directory / f"{pack_id}.yaml").write_text(
            "schema: recaudo.policy/v1\n"
            f"id: {pack_id}\n"
            'version: "1"\n'
            "applies_when: {debtor_country: CO}\n"
            "time:\n  zones: {use: [fixed], fixed: America/Bogota}\n  end_margin: PT0S\n"
            "rules:\n"
            f"  - {{id: hours, kind: window, channels: all, days: {{{days}}}, status: policy}}\n"
            "  - {id: festivos, kind: holiday_block, calendar: {country: CO}, channels: all,\n"
            f"     on_holiday: {{use_day: {use_day}}}, status: policy}}\n",
            encoding="utf-8",
        )
    policies = load_policies(directory)
    return {
        d: policies.select([f"keeps-{d}"])
        for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    }


def _open_in_bogota(at: datetime, use_day: str) -> bool:
    """The oracle: zoneinfo and `holidays` directly, from `_HOURS`."""
    local = at.astimezone(_BOGOTA)
    day = local.date()
    name = use_day if day in _CO_HOLIDAYS else WEEKDAY_KEYS[day.weekday()]
    seconds = local.hour * 3600 + local.minute * 60 + local.second
    for text in _HOURS.get(name, []):
        start, end = (int(x[:2]) * 3600 + int(x[3:]) * 60 for x in text.split("-"))
        if start <= seconds < end:
            return True
    return False


WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOLIDAY_DAYS = sorted(_CO_HOLIDAYS)


@PROPERTY
@given(
    use_day=st.sampled_from(WEEKDAY_KEYS),
    day=st.sampled_from(_HOLIDAY_DAYS) | st.dates(date(2026, 1, 1), date(2027, 12, 30)),
    minute=st.integers(0, 24 * 60 - 1),
)
def test_holidays_keep_the_named_days_hours(
    holiday_packs: dict[str, tuple[Pack, ...]], use_day: str, day: date, minute: int
) -> None:
    at = datetime.combine(day, time(minute // 60, minute % 60), _BOGOTA).astimezone(UTC)
    contact = Contact(country="CO", zones=("America/Bogota",), role="debtor")
    decision = decide(contact, "sms", at, (), holiday_packs[use_day])
    assert decision.allowed == _open_in_bogota(at, use_day), decision.reasons
    upcoming = decision.next_allowed_at
    assert upcoming is not None  # some day within 30 days is open
    assert _open_in_bogota(upcoming, use_day)
    # The earliest: the minute before it (if not before `at`) is closed.
    if upcoming > at:
        assert not _open_in_bogota(upcoming - timedelta(minutes=1), use_day)
