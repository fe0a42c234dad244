"""Caller-ID rotation, sans-I/O: placing numbers, local-presence tiers, rotation, daily caps at
local midnight (DST days too), cool-downs, health, rest, the policy packs' caller-ID rules."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from structlog.testing import capture_logs

from campaigns.compliance import Pack, load_policies
from campaigns.enums import AttemptOutcome
from dialer.callerid import (
    PRESENTED_RULE,
    CallerIdError,
    CallerIdPicker,
    CallerIdUnavailable,
    HealthConfig,
    HealthStats,
    PoolNumber,
    Target,
    Tier,
    local_day_start,
    number_place,
    validate_pool,
)
from dialer.callerid.health import Tally

# Wednesday 2026-11-25 16:00 UTC = 10:00 in Mexico City, 13:00 in Santiago, 11:00 in New York.
AT = datetime(2026, 11, 25, 16, tzinfo=UTC)
PACKS: tuple[Pack, ...] = tuple(p for p in load_policies().packs.values() if not p.abstract)
CDMX = "+525512345678"


def num(id: int, e164: str, **changes: object) -> PoolNumber:
    return dataclasses.replace(PoolNumber.placed(id, e164), **changes)  # type: ignore[arg-type]


def picker(*numbers: PoolNumber, config: HealthConfig | None = None) -> CallerIdPicker:
    return CallerIdPicker("test", numbers, packs=PACKS, config=config)


# --------------------------------------------------------------------------- placing numbers


@pytest.mark.parametrize(
    ("e164", "country", "area_code", "subdivision", "zone"),
    [
        ("+525555500101", "MX", "55", "MX-CMX", "America/Mexico_City"),
        ("+526645550101", "MX", "664", "MX-BCN", "America/Tijuana"),
        ("+528155500101", "MX", "81", "MX-NLE", "America/Monterrey"),
        ("+576045550101", "CO", "604", "CO-ANT", "America/Bogota"),
        ("+573155550101", "CO", "315", None, "America/Bogota"),  # mobile: no subdivision
        ("+5154550101", "PE", "54", "PE-ARE", "America/Lima"),
        ("+56600555101", "CL", "600", None, "America/Santiago"),
        ("+56225550101", "CL", "2", "CL-RM", "America/Santiago"),
        ("+12125550101", "US", "212", "US-NY", "America/New_York"),
    ],
)
def test_numbers_are_placed_by_phonenumbers_and_geography(
    e164: str, country: str, area_code: str, subdivision: str | None, zone: str
) -> None:
    place = number_place(e164)
    assert (place.country, place.area_code, place.subdivision, place.zone) == (
        country,
        area_code,
        subdivision,
        zone,
    )


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("5512345678", "not an E.164 number"),
        ("+52 55 1234 5678", "not an E.164 number"),
        ("+52123", "not an E.164 number"),
        ("+520000000000", "not a valid number"),
        ("+19005550101", "premium-rate"),
    ],
)
def test_unusable_numbers_are_refused_with_the_reason(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        number_place(text)


def test_a_target_takes_the_debtors_subdivision_and_zones_over_the_number() -> None:
    plain = Target.for_phone(CDMX)
    assert (plain.country, plain.area_code, plain.subdivision) == ("MX", "55", "MX-CMX")
    assert plain.zones == ("America/Mexico_City",)
    told = Target.for_phone("+573101234567", subdivision="Antioquia", zones=("America/Bogota",))
    assert (told.area_code, told.subdivision, told.zones) == ("310", "CO-ANT", ("America/Bogota",))
    assert Target.for_phone(CDMX, subdivision="Jalisco").subdivision == "MX-JAL"
    assert CDMX not in repr(plain)
    assert "5678" in repr(plain)


# --------------------------------------------------------------------------- tiers


MX_POOL = (
    num(1, "+525555500101"),  # 55 CDMX, America/Mexico_City
    num(2, "+527225550101"),  # 722 Toluca, Estado de México, America/Mexico_City
    num(3, "+523355500101"),  # 33 Guadalajara, Jalisco, America/Mexico_City
    num(4, "+526645550101"),  # 664 Tijuana, America/Tijuana
    num(5, "+528155500101"),  # 81 Monterrey, America/Monterrey
)


@pytest.mark.parametrize(
    ("target", "tier", "reason", "chosen"),
    [
        (Target.for_phone(CDMX), Tier.AREA_CODE, "local:area_code 55", 1),
        (Target.for_phone("+526641234567"), Tier.AREA_CODE, "local:area_code 664", 4),
        # 56 is CDMX too, and no pool number has it: same state.
        (Target.for_phone("+525612345678"), Tier.SUBDIVISION, "state:CMX", 1),
        (
            Target.for_phone("+527291234567", subdivision="MX-MEX"),
            Tier.SUBDIVISION,
            "state:MEX",
            2,
        ),
        # Querétaro (442): no number there, three in its zone; the first by id wins the tie.
        (Target.for_phone("+524421234567"), Tier.ZONE, "zone:America/Mexico_City", 1),
        # Hermosillo, Sonora: no pool number in its area, state or zone: any MX number.
        (
            Target.for_phone("+526621234567", zones=("America/Hermosillo",)),
            Tier.COUNTRY,
            "country:MX",
            1,
        ),
        (
            Target("+520000000000", "MX", zones=("America/Monterrey",)),
            Tier.ZONE,
            "zone:America/Monterrey",
            5,
        ),
    ],
)
def test_the_most_local_tier_wins(target: Target, tier: Tier, reason: str, chosen: int) -> None:
    choice = picker(*MX_POOL).pick(target, AT)
    assert (choice.tier, choice.reason, choice.number.id) == (tier, reason, chosen)
    assert choice.attempt_fields() == {
        "caller_id_number_id": chosen,
        "caller_id_e164": choice.number.e164,
        "caller_id_reason": reason,
    }


def test_a_tier_whose_numbers_are_all_unusable_falls_through_to_the_next() -> None:
    pool = (
        num(1, "+525555500101", cooldown_seconds=600),
        num(2, "+525555500102", active=False),
        num(3, "+525555500103", rest_until=AT + timedelta(hours=1)),
        num(6, "+525655500101"),  # 56: CDMX too
    )
    p = picker(*pool)
    assert p.pick(Target.for_phone(CDMX), AT).reason == "local:area_code 55"
    second = p.pick(Target.for_phone(CDMX), AT)
    assert (second.number.id, second.reason) == (6, "state:CMX")


# --------------------------------------------------------------------------- rotation


def test_numbers_of_a_tier_take_turns() -> None:
    p = picker(num(1, "+525555500101"), num(2, "+525555500102"), num(3, "+525555500103"))
    chosen = [p.pick(Target.for_phone(CDMX), AT + timedelta(seconds=i)).number.id for i in range(6)]
    assert chosen == [1, 2, 3, 1, 2, 3]


def test_use_follows_daily_cap_and_health() -> None:
    p = picker(
        num(1, "+525555500101", daily_cap=200),
        num(2, "+525555500102", daily_cap=100),
        num(3, "+525555500103", daily_cap=200, health_score=0.5),
    )
    used = {1: 0, 2: 0, 3: 0}
    for i in range(100):
        used[p.pick(Target.for_phone(CDMX), AT + timedelta(seconds=i)).number.id] += 1
    # Twice the cap, twice the calls; half the health, half the calls.
    assert used == {1: 50, 2: 25, 3: 25}


def test_ties_go_to_the_longest_unused_number() -> None:
    p = picker(
        num(1, "+525555500101", last_used_at=AT - timedelta(minutes=1)),
        num(2, "+525555500102", last_used_at=AT - timedelta(minutes=5)),
    )
    assert p.pick(Target.for_phone(CDMX), AT).number.id == 2


# --------------------------------------------------------------------------- daily cap


def test_the_daily_cap_resets_at_the_numbers_local_midnight() -> None:
    p = picker(num(1, "+525555500101", daily_cap=2))  # America/Mexico_City, UTC-6
    late = datetime(2026, 11, 25, 5, tzinfo=UTC)  # 23:00 on the 24th in Mexico City
    p.pick(Target.for_phone(CDMX), late)
    p.pick(Target.for_phone(CDMX), late + timedelta(minutes=1))
    with pytest.raises(CallerIdUnavailable, match="1 at their daily cap") as caught:
        p.pick(Target.for_phone(CDMX), late + timedelta(minutes=2))
    midnight = datetime(2026, 11, 25, 6, tzinfo=UTC)
    assert caught.value.retry_at == midnight
    assert "raise daily_cap or add numbers" in str(caught.value)
    with pytest.raises(CallerIdUnavailable):
        p.pick(Target.for_phone(CDMX), midnight - timedelta(microseconds=1))
    assert p.pick(Target.for_phone(CDMX), midnight).number.id == 1
    assert p.status(1, midnight).used_today == 1


def test_a_number_without_a_zone_counts_its_day_in_utc() -> None:
    p = picker(num(1, "+525555500101", daily_cap=1, zone=None))
    p.pick(Target.for_phone(CDMX), datetime(2026, 11, 25, 23, 59, tzinfo=UTC))
    with pytest.raises(CallerIdUnavailable) as caught:
        p.pick(Target.for_phone(CDMX), datetime(2026, 11, 25, 23, 59, 30, tzinfo=UTC))
    assert caught.value.retry_at == datetime(2026, 11, 26, tzinfo=UTC)


@pytest.mark.parametrize(
    ("e164", "used_at", "day_ends"),
    [
        # Chile springs forward at 24:00 on Saturday 5 September 2026: Sunday has no 00:00,
        # its day starts at the jump (23:59:59 -04 → 01:00 -03), 04:00 UTC.
        (
            "+56600555101",
            datetime(2026, 9, 6, 3, 30, tzinfo=UTC),  # 23:30 -04 on Saturday
            datetime(2026, 9, 6, 4, tzinfo=UTC),
        ),
        # Chile falls back at 24:00 on Saturday 4 April 2026 (23:00-24:00 happens twice):
        # Sunday starts after the second 23:59, at 04:00 UTC.
        (
            "+56600555101",
            datetime(2026, 4, 5, 2, 30, tzinfo=UTC),  # the first 23:30 (-03) on Saturday
            datetime(2026, 4, 5, 4, tzinfo=UTC),
        ),
        # New York's 8 March 2026 lasts 23 hours: the next midnight is 04:00 UTC, not 05:00.
        (
            "+12125550101",
            datetime(2026, 3, 8, 5, 30, tzinfo=UTC),  # 00:30 EST
            datetime(2026, 3, 9, 4, tzinfo=UTC),
        ),
    ],
)
def test_the_daily_cap_resets_at_local_midnight_on_dst_days(
    e164: str, used_at: datetime, day_ends: datetime
) -> None:
    number = num(1, e164, daily_cap=1)
    target = Target.for_phone(e164)
    p = picker(number)
    p.pick(target, used_at)
    with pytest.raises(CallerIdUnavailable) as caught:
        p.pick(target, day_ends - timedelta(seconds=1))
    assert caught.value.retry_at == day_ends
    assert p.pick(target, day_ends).number.id == 1
    assert local_day_start(number.zone, day_ends) == day_ends
    zone = ZoneInfo(number.zone or "UTC")
    assert (
        day_ends.astimezone(zone).date()
        != (day_ends - timedelta(seconds=1)).astimezone(zone).date()
    )


# --------------------------------------------------------------------------- cool-down, rest


def test_a_number_in_cool_down_is_skipped_until_it_is_over() -> None:
    p = picker(num(1, "+525555500101", cooldown_seconds=60))
    p.pick(Target.for_phone(CDMX), AT)
    with pytest.raises(CallerIdUnavailable, match="1 in cool-down") as caught:
        p.pick(Target.for_phone(CDMX), AT + timedelta(seconds=59))
    assert caught.value.retry_at == AT + timedelta(seconds=60)
    assert "lower cooldown_seconds" in str(caught.value)
    assert p.pick(Target.for_phone(CDMX), AT + timedelta(seconds=60)).number.id == 1


def test_a_resting_number_comes_back_by_itself() -> None:
    back = AT + timedelta(hours=3)
    p = picker(num(1, "+525555500101", rest_until=back, health_score=0.3))
    assert p.status(1, AT).resting
    with pytest.raises(CallerIdUnavailable, match="1 resting after low health") as caught:
        p.pick(Target.for_phone(CDMX), AT)
    assert caught.value.retry_at == back
    assert p.pick(Target.for_phone(CDMX), back).number.id == 1
    assert not p.status(1, back).resting
    # It returns with a fresh window, scored as the pool's average (no results yet).
    assert p.pending()[0].health_score == 1.0


# --------------------------------------------------------------------------- health


def feed(
    p: CallerIdPicker,
    number_id: int,
    results: list[tuple[AttemptOutcome, float]],
    start: datetime,
    cause: int | None = None,
) -> list[object]:
    alerts: list[object] = []
    for i, (outcome, talk) in enumerate(results):
        alert = p.record_result(number_id, outcome, talk, start + timedelta(minutes=i), cause=cause)
        if alert is not None:
            alerts.append(alert)
    return alerts


HEALTHY = [(AttemptOutcome.HUMAN, 90.0)] * 3 + [(AttemptOutcome.NO_ANSWER, 0.0)] * 7


def test_the_health_formula() -> None:
    config = HealthConfig()
    pool = Tally(n=1000, answered=250, short=40, rejected=30)
    good = HealthStats.of(Tally(n=100, answered=25, short=4, rejected=3), pool, config)
    # â = 27.5/110 = 0.25 (= pool's), ŝ = (4 + 10·0.16)/35, r̂ = (3 + 10·0.03)/110.
    assert good.score == pytest.approx(1.0 * (1 - 5.6 / 35) * (1 - 2 * 3.3 / 110))
    bad = HealthStats.of(Tally(n=100, answered=10, short=6, rejected=15), pool, config)
    assert bad.score == pytest.approx((12.5 / 110 / 0.25) * (1 - 7.6 / 20) * (1 - 2 * 15.3 / 110))
    assert bad.score < 0.25 < 0.75 < good.score
    fresh = HealthStats.of(Tally(), pool, config)  # a new number starts at the pool's rates
    assert fresh.score == pytest.approx((1 - 40 / 250) * (1 - 2 * 0.03))
    assert HealthStats.of(Tally(), Tally(), config).score == 1.0


def test_rejections_and_short_calls_rest_a_number_and_raise_an_alert() -> None:
    p = picker(num(1, "+525555500101"), num(2, "+525555500102"))
    feed(p, 2, HEALTHY * 10, AT - timedelta(hours=12))
    spam = [(AttemptOutcome.REJECTED, 0.0), (AttemptOutcome.HUMAN, 2.0)]
    scores: list[float] = [p.health(1).score]
    alerts: list[object] = []
    with capture_logs() as logs:
        for i in range(40):
            outcome, talk = spam[i % 2]
            alert = p.record_result(1, outcome, talk, AT + timedelta(minutes=i))
            if alert is not None:
                alerts.append(alert)
                break
            scores.append(p.health(1).score)
    assert scores[-1] < 0.5 < scores[0]
    assert len(alerts) == 1
    assert p.alerts == alerts
    alert = p.alerts[0]
    assert alert.stats.samples == 30  # not before min_samples
    assert alert.stats.score < 0.5
    assert (alert.stats.reject_share, alert.stats.short_share) == (0.5, 1.0)
    assert alert.rest_until == alert.at + timedelta(hours=24)
    assert "+525555500101" in alert.message
    assert "spam" in alert.message
    warnings = [e for e in logs if e["event"] == "caller_id.resting"]
    assert warnings
    assert warnings[0]["log_level"] == "warning"
    assert warnings[0]["number"] == "+525555500101"
    # While it rests the other number carries every call; afterwards it is back, afresh.
    later = alert.at + timedelta(hours=1)
    assert {
        p.pick(Target.for_phone(CDMX), later + timedelta(seconds=i)).number.id for i in range(5)
    } == {2}
    assert p.record_result(1, AttemptOutcome.REJECTED, 0.0, later) is None  # an old call's end
    back = alert.rest_until
    assert 1 in {
        p.pick(Target.for_phone(CDMX), back + timedelta(seconds=i)).number.id for i in range(2)
    }
    assert p.status(1, back).health.samples == 0


def test_rejections_count_by_q850_cause_and_network_failures_do_not_count() -> None:
    p = picker(num(1, "+525555500101"), num(2, "+525555500102"))
    feed(p, 2, HEALTHY * 5, AT - timedelta(hours=2))
    feed(p, 1, [(AttemptOutcome.FAILED, 0.0)] * 50, AT)
    feed(p, 1, [(AttemptOutcome.CONGESTION, 0.0), (AttemptOutcome.CANCELLED, 0.0)] * 20, AT)
    assert p.health(1).samples == 0
    alerts = feed(p, 1, [(AttemptOutcome.FAILED, 0.0)] * 40, AT, cause=21)
    assert len(alerts) == 1
    assert p.alerts[0].stats.reject_share == 1.0


def test_few_results_never_rest_a_number() -> None:
    p = picker(num(1, "+525555500101"), num(2, "+525555500102"))
    feed(p, 2, HEALTHY * 5, AT - timedelta(hours=2))
    assert feed(p, 1, [(AttemptOutcome.REJECTED, 0.0)] * 29, AT) == []
    assert p.health(1).score < 0.2
    # …but it is used far less than the healthy number meanwhile.
    chosen = [
        p.pick(Target.for_phone(CDMX), AT + timedelta(hours=1, seconds=i)).number.id
        for i in range(20)
    ]
    assert chosen.count(1) <= 2


def test_results_older_than_the_window_are_forgotten() -> None:
    config = HealthConfig(window_age=timedelta(hours=1))
    p = picker(num(1, "+525555500101"), num(2, "+525555500102"), config=config)
    feed(p, 1, [(AttemptOutcome.REJECTED, 0.0)] * 20, AT)
    feed(p, 2, HEALTHY, AT + timedelta(hours=3))
    p.record_result(1, AttemptOutcome.HUMAN, 60.0, AT + timedelta(hours=3))
    assert p.health(1).samples == 1


# --------------------------------------------------------------------------- never hidden


@pytest.mark.parametrize("shown", ["", "anonymous", "Restricted", "+52 55 5550 0101", "+5255"])
def test_hidden_or_malformed_numbers_are_never_presented(shown: str) -> None:
    hidden = PoolNumber(7, shown, "MX", "55", "MX-CMX", "America/Mexico_City")
    with capture_logs() as logs:
        p = picker(hidden, num(1, "+525555500101"))
    assert p.problems[7][0].rule == PRESENTED_RULE
    assert [e["event"] for e in logs] == ["caller_id.refused"]
    assert {
        p.pick(Target.for_phone(CDMX), AT + timedelta(seconds=i)).number.id for i in range(5)
    } == {1}
    with pytest.raises(CallerIdError, match="1 hidden or malformed"):
        picker(hidden).pick(Target.for_phone(CDMX), AT)


def test_a_number_of_another_country_than_its_row_says_is_refused() -> None:
    wrong = PoolNumber(1, "+12125550101", "MX", "55", "MX-CMX", "America/Mexico_City")
    assert "it is a number of US, not of MX" in picker(wrong).problems[1][0].detail


# --------------------------------------------------------------------------- compliance


CL_600 = num(1, "+56600555101")
CL_LOCAL = num(2, "+56225550101")  # Santiago, area code 2: looks local, breaks cl-l19496
SANTIAGO = Target.for_phone("+56223456789")


def test_chile_gets_only_600_numbers_even_when_a_local_one_matches() -> None:
    p = picker(CL_LOCAL, CL_600)
    choices = {p.pick(SANTIAGO, AT + timedelta(seconds=i)) for i in range(4)}
    assert {(c.number.e164, c.reason) for c in choices} == {
        ("+56600555101", "zone:America/Santiago")
    }


def test_validate_pool_reports_the_packs_caller_id_rules() -> None:
    problems = validate_pool([CL_600, CL_LOCAL, MX_POOL[0]], PACKS)
    assert list(problems) == [2]
    (problem,) = problems[2]
    assert (problem.pack, problem.rule, problem.country) == ("cl-l19496", "caller-id-600", "CL")
    assert problem.detail == "the calling number must start with 600 (it is +56225550101)"
    assert problem.blocks("CL", "CL-RM")
    assert not problem.blocks("MX", None)
    # Without the Chilean pack nothing forbids it: the rule comes from the pack, not from here.
    assert validate_pool([CL_LOCAL], [p for p in PACKS if p.id != "cl-l19496"]) == {}


def test_no_compliant_number_says_which_rule_to_meet() -> None:
    with pytest.raises(CallerIdUnavailable) as caught:
        picker(CL_LOCAL).pick(SANTIAGO, AT)
    message = str(caught.value)
    assert "1 not allowed for CL (CL-RM)" in message
    assert "add numbers that meet cl-l19496 rule caller-id-600" in message
    assert "must start with 600" in message
    assert caught.value.retry_at is None


def test_a_subdivision_pack_blocks_only_its_subdivision() -> None:
    (us_tcpa,) = [p for p in PACKS if p.id == "us-tcpa"]
    strict = dataclasses.replace(
        us_tcpa,
        id="us-ma-600",
        applies_when={"debtor_country": "US", "debtor_subdivision": "MA"},
        rules=tuple(r for p in PACKS if p.id == "cl-l19496" for r in p.rules),
    )
    p = CallerIdPicker("test", [num(1, "+16175550101")], packs=[strict])
    assert p.pick(Target.for_phone("+12125550199"), AT).number.id == 1
    with pytest.raises(CallerIdUnavailable, match="not allowed for US"):
        p.pick(Target.for_phone("+16175550199"), AT + timedelta(hours=1))


# --------------------------------------------------------------------------- errors


def test_an_empty_pool_says_to_import_numbers() -> None:
    with pytest.raises(CallerIdUnavailable, match="has no numbers: import its pool file") as caught:
        CallerIdPicker("empty", []).pick(Target.for_phone(CDMX), AT)
    assert isinstance(caught.value, CallerIdError)
    assert caught.value.retry_at is None


def test_a_pool_without_the_debtors_country_says_so() -> None:
    with pytest.raises(CallerIdUnavailable, match=r"has no number of PE \(it has 5 of MX\)"):
        picker(*MX_POOL).pick(Target.for_phone("+5114123456"), AT)


def test_inactive_numbers_only() -> None:
    with pytest.raises(CallerIdUnavailable, match="1 inactive; activate numbers"):
        picker(num(1, "+525555500101", active=False)).pick(Target.for_phone(CDMX), AT)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="given twice"):
        picker(num(1, "+525555500101"), num(2, "+525555500101"))
    with pytest.raises(ValueError, match="naive"):
        picker(*MX_POOL).pick(Target.for_phone(CDMX), datetime(2026, 11, 25, 16))
    with pytest.raises(ValueError, match="unknown time zone"):
        picker(num(1, "+525555500101", zone="Mars/Olympus"))
    with pytest.raises(ValueError, match="min_samples"):
        HealthConfig(min_samples=300)


# --------------------------------------------------------------------------- write-behind


def test_changes_are_pending_until_flushed_and_a_later_change_survives_a_flush() -> None:
    p = picker(*MX_POOL)
    assert p.pending() == []
    p.pick(Target.for_phone(CDMX), AT)
    (update,) = p.pending()
    assert (update.id, update.last_used_at) == (1, AT)
    assert p.pick(Target.for_phone("+524421234567"), AT + timedelta(seconds=1)).number.id == 2
    p.pick(Target.for_phone(CDMX), AT + timedelta(seconds=2))  # number 1 again, mid-flush
    p.mark_flushed([update])
    assert {u.id for u in p.pending()} == {1, 2}
    p.mark_flushed(p.pending())
    assert p.pending() == []


# --------------------------------------------------------------------------- property


# Rejections and short answers are over-represented so that numbers do get rested; waits are
# mostly shorter than the cool-downs, with jumps of hours that cross local midnights.
_OUTCOMES = st.sampled_from([*AttemptOutcome, AttemptOutcome.REJECTED, AttemptOutcome.REJECTED])
_WAITS = st.one_of(st.integers(0, 300), st.integers(0, 300), st.integers(3600, 30 * 3600))
_STEP = st.tuples(
    st.integers(0, 4),  # target
    _WAITS,  # seconds before this pick
    _OUTCOMES,
    st.floats(0, 30),  # talk seconds of its result
)
_PHONES = ("+525512345678", "+523312345678", "+526641234567", "+524421234567", "+528112345678")


@given(
    caps=st.lists(st.integers(1, 4), min_size=2, max_size=6),
    cooldowns=st.lists(st.integers(0, 1800), min_size=6, max_size=6),
    steps=st.lists(_STEP, min_size=10, max_size=120),
)
def test_no_pick_breaks_a_cap_a_cool_down_or_a_rest(
    caps: list[int], cooldowns: list[int], steps: list[tuple[int, int, AttemptOutcome, float]]
) -> None:
    e164s = (
        "+525555500101",
        "+525555500102",
        "+523355500101",
        "+526645550101",
        "+528155500101",
        "+526565550101",
    )
    numbers = [
        num(i + 1, e164s[i], daily_cap=cap, cooldown_seconds=cooldowns[i])
        for i, cap in enumerate(caps)
    ]
    config = HealthConfig(min_samples=3, window_size=10, rest=timedelta(hours=2), threshold=0.6)
    p = picker(*numbers, config=config)
    by_id = {n.id: n for n in numbers}
    per_day: dict[tuple[int, object], int] = {}
    last: dict[int, datetime] = {}
    resting: dict[int, datetime] = {}
    now = datetime(2026, 3, 7, 12, tzinfo=UTC)  # Tijuana and Juárez change clocks on 8 March
    for target_index, wait, outcome, talk in steps:
        now += timedelta(seconds=wait)
        target = Target.for_phone(_PHONES[target_index])
        try:
            choice = p.pick(target, now)
        except CallerIdUnavailable as exc:
            retry_at = exc.retry_at
            choice = None
        if choice is None:
            assert retry_at is None or retry_at > now
            continue
        n = by_id[choice.number.id]
        assert choice.number.e164
        assert choice.number.country == target.country
        day = (n.id, now.astimezone(ZoneInfo(n.zone or "UTC")).date())
        per_day[day] = per_day.get(day, 0) + 1
        assert per_day[day] <= n.daily_cap
        assert n.id not in last or now - last[n.id] >= timedelta(seconds=n.cooldown_seconds)
        assert n.id not in resting or now >= resting[n.id]
        last[n.id] = now
        alert = p.record_result(n.id, outcome, talk, now)
        if alert is not None:
            resting[n.id] = alert.rest_until
