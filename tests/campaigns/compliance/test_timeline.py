"""The shared calendar timeline answers exactly what the calendar rules answer themselves.

`Timeline` reuses one verdict per stretch of UTC time; these tests ask the rules directly
(`CalendarRule.check`) at generated instants — anywhere in 2026–2027, on DST-change days, on local
window edges — and compare every field, sentences included. `day_boundaries` is checked against
zoneinfo: between two of its instants the local date never changes.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.compliance import POLICY_DIR, Contact, decide, load_policies
from campaigns.compliance.clock import day_boundaries
from campaigns.compliance.plan import plan_for
from campaigns.compliance.rules import CalendarRule
from campaigns.compliance.rules.windows import CHUNK
from campaigns.compliance.timeline import Timeline

POLICIES = load_policies(extra=[POLICY_DIR / "examples" / "agency-stricter-mx.yaml"])
ZONES = {
    "MX": ("America/Mexico_City", "America/Tijuana", "America/Cancun", "America/Chihuahua"),
    "US": ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"),
    "CL": ("America/Santiago", "Pacific/Easter", "America/Punta_Arenas"),
    "CO": ("America/Bogota",),
    "PE": ("America/Lima",),
}
SUBDIVISION = {"US": "US-MA"}
CHANNELS = ("voice_live", "voice_prerecorded", "voicemail", "sms", "whatsapp", "email")
# Days on which a zone above changes its clock (US and the Mexican border, Chile, Easter Island).
DST_DAYS = (
    date(2026, 3, 8), date(2026, 11, 1), date(2027, 3, 14), date(2027, 11, 7),
    date(2026, 4, 4), date(2026, 4, 5), date(2026, 9, 5), date(2026, 9, 6),
)  # fmt: skip
# Odd offsets and DST rules: half-hour DST, +05:45, a zone changing at midnight.
ODD_ZONES = ("Australia/Lord_Howe", "Asia/Kathmandu", "America/Havana", "America/Asuncion")


def instants(zones: tuple[str, ...]) -> st.SearchStrategy[datetime]:
    anywhere = st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    )
    dst_day = st.builds(
        lambda day, seconds: (
            datetime.combine(day, time(0), tzinfo=UTC) + timedelta(seconds=seconds)
        ),
        st.sampled_from(DST_DAYS),
        st.integers(0, 2 * 86_400 - 1),
    )
    edge = st.builds(
        lambda day, name, hour, minute, second: datetime.combine(
            day, time(hour, minute, second), tzinfo=ZoneInfo(name)
        ),
        st.dates(date(2026, 1, 1), date(2027, 12, 31)) | st.sampled_from(DST_DAYS),
        st.sampled_from(zones),
        st.sampled_from((0, 6, 7, 8, 13, 14, 15, 18, 19, 20, 21, 22, 23)),
        st.sampled_from((0, 0, 59, 1)),
        st.sampled_from((0, 0, 59)),
    )
    return st.one_of(anywhere, dst_day, edge)


@st.composite
def questions(draw: st.DrawFn) -> tuple[Timeline, datetime, datetime]:
    """A plan's timeline, an instant to build its week from, and the instant asked about."""
    country = draw(st.sampled_from(sorted(ZONES)))
    zones = tuple(draw(st.lists(st.sampled_from(ZONES[country]), min_size=1, max_size=3)))
    contact = Contact(
        country=country,
        subdivision=SUBDIVISION.get(country),
        zones=tuple(dict.fromkeys(zones)),
    )
    packs = POLICIES.for_contact(
        country,
        contact.subdivision,
        draw(st.sampled_from(("financial", "commercial"))),
        draw(st.sampled_from(("third_party", "first_party"))),
    )
    margin = draw(st.sampled_from((timedelta(0), timedelta(minutes=5), timedelta(minutes=60))))
    plan = plan_for(packs, draw(st.sampled_from(CHANNELS)), margin, contact)
    if plan.timeline is None:  # no calendar rule for this channel: nothing to compare
        return Timeline(()), datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
    # A fresh timeline over the plan's rules, so that which weeks exist depends on this example.
    return Timeline(plan.timeline.entries), draw(instants(zones)), draw(instants(zones))


@settings(max_examples=300, deadline=None)
@given(questions())
def test_timeline_answers_as_the_rules_do(question: tuple[Timeline, datetime, datetime]) -> None:
    timeline, first, t = question
    timeline.failures(first)  # the week of another instant may be built first
    got = dict(timeline.failures(t))
    for place, rule, zones, margin in timeline.entries:
        assert isinstance(rule, CalendarRule)
        want = rule.check(zones, margin, t)
        have = got.get(place)
        if want is None:
            assert have is None, (rule.id, t)
            continue
        assert have is not None, (rule.id, t)
        assert (have.code, have.zone, have.earliest) == (want.code, want.zone, want.earliest)
        assert have.texts(t) == want.texts(t)
    if got:
        # The search from the stretch's start ends where the search from `t` itself ends.
        assert timeline.reopens(t) == timeline._search(t, timeline.failures(t))


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(tuple(z for zones in ZONES.values() for z in zones) + ODD_ZONES),
    st.integers(0, 200),
    st.integers(0, CHUNK - 1),
    st.integers(0, 999_999),
)
def test_local_date_is_constant_between_day_boundaries(
    name: str, week: int, offset: int, micro: int
) -> None:
    tz = ZoneInfo(name)
    chunk = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp() // CHUNK) + week
    low, high = chunk * CHUNK, (chunk + 1) * CHUNK
    cuts = [low, *day_boundaries(tz, low, high)]
    ts = low + offset
    start = cuts[bisect_right(cuts, ts) - 1]
    at = datetime.fromtimestamp(ts, UTC) + timedelta(microseconds=micro)
    if at.timestamp() >= high:
        return
    begun = datetime.fromtimestamp(start, UTC)
    assert at.astimezone(tz).date() == begun.astimezone(tz).date()
    assert at.astimezone(tz).utcoffset() == begun.astimezone(tz).utcoffset()


def test_decisions_share_plans_without_sharing_contacts_facts() -> None:
    # Two contacts with the same zones but different roles: one plan, two static verdicts.
    packs = POLICIES.select(["co-l2300"])
    at = datetime(2026, 6, 2, 15, 0, tzinfo=UTC)  # Tue 10:00 in Bogotá
    debtor = Contact(country="CO", zones=("America/Bogota",), role="debtor")
    reference = Contact(country="CO", zones=("America/Bogota",), role="reference")
    assert decide(debtor, "voice_live", at, (), packs).allowed
    refused = decide(reference, "voice_live", at, (), packs)
    assert [r.code.value for r in refused.reasons] == ["THIRD_PARTY_FORBIDDEN"]
    assert decide(debtor, "voice_live", at, (), packs).allowed
