"""The pacers on constructed floor states: limits, progressive floors, feedback, Erlang C."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.pacing import (
    AbandonLedger,
    BlastPacer,
    FloorState,
    IvrTransferPacer,
    PacingError,
    PacingMode,
    PacingSettings,
    PacingStats,
    PredictivePacer,
    ProgressivePacer,
    RatioPacer,
    erlang_c_max_arrivals,
    make_pacer,
)


def roomy(mode: PacingMode, **changes: object) -> PacingSettings:
    """Settings whose CPS and channel limits never bind, so a test sees the mode's own wish."""
    base = PacingSettings(mode=mode, cps=1000.0, burst=1000, max_channels=10_000)
    return base.with_changes(**changes)


def warmed(stats: PacingStats, *, live_rate: float = 0.2, answers: int = 400) -> PacingStats:
    """Feed a campaign's worth of resolved dials and finished agent calls."""
    rng = random.Random(5)
    t = 0.0
    for _ in range(int(answers / live_rate)):
        t += 0.5
        live = rng.random() < live_rate
        stats.resolved_dial(t, rng.uniform(8.0, 20.0), live=live)
    for _ in range(200):
        stats.handled(rng.lognormvariate(math.log(150.0), 0.7))
    stats.refresh(t, every=0.0)
    return stats


class TestSettings:
    def test_defaults_are_valid_and_blast(self) -> None:
        assert PacingSettings().mode is PacingMode.BLAST

    @pytest.mark.parametrize(
        ("field", "value", "words"),
        [
            ("abandon_target", 0.05, "3 %"),
            ("cps", 0.0, "cps"),
            ("max_channels", 0, "max_channels"),
            ("ratio", 0.5, "ratio"),
            ("service_level", 1.5, "service_level"),
        ],
    )
    def test_out_of_range_is_refused_by_name(self, field: str, value: float, words: str) -> None:
        with pytest.raises(PacingError, match=words):
            PacingSettings(**{field: value})  # type: ignore[arg-type]

    def test_unknown_mode_lists_the_modes(self) -> None:
        with pytest.raises(PacingError, match="predictive"):
            PacingSettings(mode="turbo")  # type: ignore[arg-type]

    def test_from_a_campaigns_options_and_back(self) -> None:
        settings = PacingSettings.from_options("predictive", {"cps": 12, "max_channels": 90.0})
        assert settings.mode is PacingMode.PREDICTIVE
        assert settings.cps == 12.0
        assert settings.max_channels == 90
        assert isinstance(settings.max_channels, int)
        assert settings.as_options() == {"cps": 12.0, "max_channels": 90}
        assert PacingSettings.from_options("predictive", settings.as_options()) == settings

    @pytest.mark.parametrize(
        ("mode", "options", "words"),
        [
            ("predictive", {"speed": 3}, "unknown pacing setting.*speed"),
            ("predictive", {"cps": "fast"}, "cps must be a number"),
            ("predictive", {"burst": 2.5}, "burst must be a whole number"),
            ("predictive", {"abandon_target": 0.04}, "3 %"),
            ("warp", {}, "mode 'warp' is unknown"),
        ],
    )
    def test_bad_campaign_options_say_which(
        self, mode: str, options: dict[str, object], words: str
    ) -> None:
        with pytest.raises(PacingError, match=words):
            PacingSettings.from_options(mode, options)

    def test_make_pacer_follows_the_mode_and_keeps_the_stats(self) -> None:
        stats = PacingStats()
        for mode, kind in [
            (PacingMode.BLAST, BlastPacer),
            (PacingMode.PROGRESSIVE, ProgressivePacer),
            (PacingMode.RATIO, RatioPacer),
            (PacingMode.PREDICTIVE, PredictivePacer),
            (PacingMode.IVR_TRANSFER, IvrTransferPacer),
        ]:
            pacer = make_pacer(PacingSettings(mode=mode), stats)
            assert isinstance(pacer, kind)
            assert pacer.stats is stats


class TestLimits:
    def test_blast_fills_channels_at_the_cps(self) -> None:
        pacer = BlastPacer(PacingSettings(cps=10.0, burst=10, max_channels=25))
        assert pacer.launches(FloorState(now=0.0)) == 10  # the burst
        assert pacer.launches(FloorState(now=0.0)) == 0  # bucket empty
        assert pacer.launches(FloorState(now=0.5, channels=20)) == 5  # 5 tokens, 5 channels

    def test_never_above_the_channel_limit(self) -> None:
        pacer = BlastPacer(PacingSettings(cps=100.0, burst=100, max_channels=30))
        assert pacer.launches(FloorState(now=0.0, channels=29)) == 1
        assert pacer.launches(FloorState(now=5.0, channels=30)) == 0
        assert pacer.launches(FloorState(now=6.0, channels=45)) == 0  # over: nothing, not < 0

    @settings(max_examples=60, deadline=None)
    @given(
        cps=st.floats(0.5, 50.0),
        burst=st.integers(1, 20),
        steps=st.lists(st.tuples(st.floats(0.0, 2.0), st.integers(0, 40)), min_size=5),
        mode=st.sampled_from(list(PacingMode)),
    )
    def test_no_window_sees_more_than_burst_plus_rate_times_t(
        self, cps: float, burst: int, steps: list[tuple[float, int]], mode: PacingMode
    ) -> None:
        pacer = make_pacer(PacingSettings(mode=mode, cps=cps, burst=burst, max_channels=500))
        warmed(pacer.stats)
        t = 0.0
        launched: list[tuple[float, int]] = []
        for gap, ready in steps:
            t += gap
            state = FloorState(now=t, ready=ready, busy_elapsed=(30.0,) * 5, agents=ready + 5)
            n = pacer.launches(state)
            assert n >= 0
            launched.append((t, n))
        for i, (start, _) in enumerate(launched):
            for end, _ in launched[i:]:
                total = sum(n for at, n in launched if start <= at <= end)
                assert total <= burst + cps * (end - start) + 1e-6


class TestProgressive:
    def test_no_agents_no_calls(self) -> None:
        pacer = ProgressivePacer(roomy(PacingMode.PROGRESSIVE))
        assert pacer.launches(FloorState(now=0.0)) == 0
        assert pacer.launches(FloorState(now=1.0, busy_elapsed=(10.0, 20.0), agents=2)) == 0

    def test_lines_per_ready_agent_minus_what_rings_and_waits(self) -> None:
        pacer = ProgressivePacer(roomy(PacingMode.PROGRESSIVE, lines_per_agent=2.0))
        assert pacer.launches(FloorState(now=0.0, ready=3, agents=3)) == 6
        state = FloorState(now=1.0, ready=3, ringing_ages=(1.0, 2.0), waiting=1, agents=3)
        assert pacer.launches(state) == 2  # (3 - 1 waiting) * 2 - 2 ringing


class TestRatio:
    def test_dial_level_counts_talking_agents_and_existing_calls(self) -> None:
        pacer = RatioPacer(roomy(PacingMode.RATIO, ratio=1.5))
        state = FloorState(now=0.0, ready=2, busy_elapsed=(5.0,) * 8, ringing_ages=(1.0,) * 3)
        # goal round(1.5 * 10) = 15; existing 3 ringing + 8 connected = 11
        assert pacer.launches(state) == 4


class TestPredictive:
    def pacer(self, **changes: object) -> PredictivePacer:
        return PredictivePacer(roomy(PacingMode.PREDICTIVE, **changes), warmed(PacingStats()))

    def test_progressive_while_warming_up(self) -> None:
        pacer = PredictivePacer(roomy(PacingMode.PREDICTIVE))
        state = FloorState(now=0.0, ready=4, busy_elapsed=(140.0,) * 16, agents=20)
        assert pacer.launches(state) == 4

    def test_overdials_when_agents_are_about_to_free(self) -> None:
        pacer = self.pacer()
        state = FloorState(now=0.0, ready=2, busy_elapsed=(100.0,) * 48, agents=50)
        assert pacer.launches(state) > 2

    def test_fresh_calls_free_no_one(self) -> None:
        pacer = self.pacer()
        long_tail = pacer.launches(FloorState(now=0.0, ready=0, busy_elapsed=(600.0,) * 20))
        fresh = self.pacer().launches(FloorState(now=0.0, ready=0, busy_elapsed=(1.0,) * 20))
        assert fresh <= long_tail

    def test_ringing_calls_count_against_the_free_agents(self) -> None:
        quiet = self.pacer().launches(FloorState(now=0.0, ready=5, busy_elapsed=(100.0,) * 15))
        busy = self.pacer().launches(
            FloorState(now=0.0, ready=5, busy_elapsed=(100.0,) * 15, ringing_ages=(3.0,) * 30)
        )
        assert busy < quiet

    @settings(max_examples=80, deadline=None)
    @given(
        ready=st.integers(0, 30),
        busy=st.lists(st.floats(0.0, 900.0), max_size=40),
        ringing=st.lists(st.floats(0.0, 30.0), max_size=40),
        waiting=st.integers(0, 5),
    )
    def test_never_below_progressive(
        self, ready: int, busy: list[float], ringing: list[float], waiting: int
    ) -> None:
        state = FloorState(
            now=0.0,
            ready=ready,
            busy_elapsed=tuple(busy),
            ringing_ages=tuple(ringing),
            waiting=waiting,
            agents=ready + len(busy),
        )
        settings_ = roomy(PacingMode.PREDICTIVE)
        floor = ProgressivePacer(settings_.with_changes(mode=PacingMode.PROGRESSIVE))
        assert self.pacer().launches(state) >= floor.launches(state)

    def test_slows_down_after_abandons(self) -> None:
        pacer = self.pacer()
        state = FloorState(now=0.0, ready=3, busy_elapsed=(100.0,) * 47, agents=50)
        before = pacer.launches(state)
        z = pacer.z
        t = 10.0
        for minute in range(10):  # ten minutes at 20 % abandons
            for i in range(20):
                at = t + minute * 60 + i
                pacer.stats.ledger.live_answer(at)
                if i % 5 == 0:
                    pacer.stats.abandoned(at)
            pacer.launches(FloorState(now=t + minute * 60 + 59, ready=0, agents=50))
        assert pacer.z > z
        assert pacer.braking  # the 5-minute rate is far over target: progressive until clear
        after = pacer.launches(FloorState(now=t + 700, ready=3, busy_elapsed=(100.0,) * 47))
        assert after < before
        assert after == 3  # progressive

    def test_narrows_the_margin_while_under_target(self) -> None:
        pacer = self.pacer()
        for i in range(100):
            pacer.stats.ledger.live_answer(float(i))
        z = pacer.z
        for minute in range(1, 6):
            pacer.launches(FloorState(now=minute * 60.0, ready=0, agents=20))
        assert pacer.z < z


class TestIvrTransfer:
    def test_erlang_c_matches_the_published_capacities(self) -> None:
        # pacing.md §1.7: AHT 170 s, 80 % within 20 s.
        for agents, per_hour in [(5, 65), (20, 348), (50, 952)]:
            capacity = erlang_c_max_arrivals(agents, 170.0, 20.0, 0.8) * 3600
            assert capacity == pytest.approx(per_hour, rel=0.03)

    def test_no_agents_no_capacity(self) -> None:
        assert erlang_c_max_arrivals(0, 170.0, 20.0, 0.8) == 0.0

    def test_dials_at_the_rate_the_agents_can_take(self) -> None:
        stats = warmed(PacingStats(), live_rate=0.2)
        for _ in range(40):
            stats.transfer_requested()  # 40 of 400 live answers: 10 %
        pacer = IvrTransferPacer(roomy(PacingMode.IVR_TRANSFER), stats)
        total = 0
        for second in range(600):
            total += pacer.launches(FloorState(now=float(second), ready=5, agents=20))
        capacity = erlang_c_max_arrivals(20, stats.handle.mean() or 0.0, 20.0, 0.8)
        expected = capacity / (stats.live_rate() * stats.transfer_rate()) * 600
        assert total == pytest.approx(expected, rel=0.05)

    def test_holds_off_while_transfers_queue(self) -> None:
        pacer = IvrTransferPacer(roomy(PacingMode.IVR_TRANSFER), warmed(PacingStats()))
        pacer.launches(FloorState(now=0.0, agents=20))
        assert pacer.launches(FloorState(now=10.0, agents=20, waiting=8)) == 0


class TestAbandonLedger:
    def test_rates_by_hour_recent_and_cumulative(self) -> None:
        ledger = AbandonLedger()
        for i in range(100):
            ledger.live_answer(3600.0 + i)
        for i in range(3):
            ledger.abandon(3600.0 + i)
        for i in range(50):
            ledger.live_answer(7200.0 + 60 * i)
        ledger.abandon(7200.0 + 3000)
        assert ledger.cumulative().rate == pytest.approx(4 / 150)
        hours = ledger.by_hour()
        assert hours[3600.0].rate == pytest.approx(0.03)
        assert hours[7200.0].rate == pytest.approx(1 / 50)
        assert ledger.worst_hour() == hours[3600.0]
        recent = ledger.recent(7200.0 + 3000, 600)
        assert recent.live_answers == 10  # answered in minutes 160..169; the 170th is now
        assert recent.abandons == 1

    def test_thirty_days_forgets_older_hours(self) -> None:
        ledger = AbandonLedger()
        ledger.live_answer(0.0)
        ledger.abandon(0.0)
        later = 31 * 86_400.0
        ledger.live_answer(later)
        assert ledger.thirty_days(later).abandons == 0
        assert ledger.cumulative().abandons == 1

    def test_no_answers_is_a_zero_rate_not_an_error(self) -> None:
        assert AbandonLedger().cumulative().rate == 0.0
        assert AbandonLedger().worst_hour() is None
