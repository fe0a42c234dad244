"""How many calls to launch now: blast, progressive, fixed-ratio, predictive and IVR-transfer
pacing, sans-I/O.

A pacer is asked once per tick with a `FloorState` (agents ready and busy, calls still ringing,
live answers waiting for an agent, channels in use) and answers a number of calls. What it learns
— how long agents stay busy, how long a call takes to become a live answer, how many dials turn
into live answers, how many live answers were abandoned — comes in as observations on a shared
`PacingStats`, so that a campaign can switch pacers without losing what it has learned.

Time is an input: seconds since the epoch (or any origin) as floats, so a pacer runs the same on
the virtual clock of a rehearsal and on the wall clock. The predictive pacer is the statistical
("EIS / Samuelson") algorithm of `../shared/pacing.md` §1.5: agents' conditional completion
probability, the chance that each ringing call becomes a live answer, a variance margin `z`, and
feedback on the measured abandon rate. Abandons are counted as the FTC counts them
(`AbandonLedger`): live answers not connected to an agent within 2 s, over live answers.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from bisect import bisect_right
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from statistics import NormalDist

from dialer.throttle import TokenBucket

__all__ = [
    "ABANDON_SECONDS",
    "AbandonLedger",
    "AbandonRate",
    "BlastPacer",
    "FloorState",
    "IvrTransferPacer",
    "Pacer",
    "PacingError",
    "PacingMode",
    "PacingSettings",
    "PacingStats",
    "PredictivePacer",
    "ProgressivePacer",
    "RatioPacer",
    "erlang_c_max_arrivals",
    "lognormal_params",
    "make_pacer",
]

#: A live answer not connected to an agent within this many seconds is abandoned (16 CFR 310.4).
ABANDON_SECONDS = 2.0
_HOUR = 3600.0
_MINUTE = 60.0


class PacingError(ValueError):
    """A pacing setting is out of range; the message names it and what is allowed."""


class PacingMode(StrEnum):
    BLAST = "blast"  # agentless IVR robocalls: CPS and channels only
    PROGRESSIVE = "progressive"  # N lines per ready agent: never abandons
    RATIO = "ratio"  # a fixed dial level per agent (as VICIdial's RATIO)
    PREDICTIVE = "predictive"  # statistical: abandon held under a target
    IVR_TRANSFER = "ivr_transfer"  # robocalls whose debtors press a key for an agent


@dataclass(frozen=True, slots=True)
class PacingSettings:
    """A campaign's pacing; every field has a safe default and is checked when built."""

    mode: PacingMode = PacingMode.BLAST
    cps: float = 5.0  # calls per second, per campaign
    burst: int = 1
    max_channels: int = 30  # concurrent channels of the campaign (its trunk share)
    lines_per_agent: float = 1.0  # progressive: lines per ready agent
    ratio: float = 1.2  # ratio: dial level per agent
    max_lines_per_agent: float = 4.0  # predictive: ceiling of lines in use per logged-in agent
    abandon_target: float = 0.025  # predictive: cumulative abandon rate to hold
    hourly_abandon_limit: float = 0.05  # predictive: never above this in a clock hour
    service_seconds: float = 20.0  # ivr_transfer: a transfer answered within this …
    service_level: float = 0.8  # … this share of the time
    warmup_live_answers: int = 30  # predictive: progressive until this many live answers …
    warmup_handles: int = 20  # … and this many finished agent calls (or priors)

    def __post_init__(self) -> None:
        checks: tuple[tuple[str, float, float, float], ...] = (
            ("cps", self.cps, 0.01, 1000.0),
            ("burst", self.burst, 1, 10_000),
            ("max_channels", self.max_channels, 1, 100_000),
            ("lines_per_agent", self.lines_per_agent, 1.0, 10.0),
            ("ratio", self.ratio, 1.0, 10.0),
            ("max_lines_per_agent", self.max_lines_per_agent, 1.0, 20.0),
            ("abandon_target", self.abandon_target, 0.0, 0.03),
            ("hourly_abandon_limit", self.hourly_abandon_limit, 0.0, 1.0),
            ("service_seconds", self.service_seconds, 1.0, 600.0),
            ("service_level", self.service_level, 0.05, 0.999),
            ("warmup_live_answers", self.warmup_live_answers, 0, 100_000),
            ("warmup_handles", self.warmup_handles, 0, 100_000),
        )
        for name, value, low, high in checks:
            if not (isinstance(value, int | float) and low <= value <= high):
                raise PacingError(
                    f"pacing setting {name} must be between {low:g} and {high:g}, not {value!r}"
                    + (" (the FTC safe harbour is 3 %)" if name == "abandon_target" else "")
                )
        try:
            PacingMode(self.mode)
        except ValueError:
            allowed = ", ".join(m.value for m in PacingMode)
            raise PacingError(
                f"pacing mode {self.mode!r} is unknown; use one of {allowed}"
            ) from None

    def with_changes(self, **changes: object) -> PacingSettings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_options(cls, mode: str, options: Mapping[str, object]) -> PacingSettings:
        """A campaign's pacing from its `pacing_mode` and the `pacing` mapping of its options
        (unknown keys and wrong types refused by name)."""
        known = {f.name for f in fields(cls)} - {"mode"}
        unknown = sorted(set(options) - known)
        if unknown:
            raise PacingError(
                f"unknown pacing setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        values: dict[str, object] = {}
        for name, value in options.items():
            expected = int if name in _INT_FIELDS else float
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise PacingError(f"pacing setting {name} must be a number, not {value!r}")
            if expected is int and value != int(value):
                raise PacingError(f"pacing setting {name} must be a whole number, not {value!r}")
            values[name] = expected(value)
        try:
            return cls(mode=PacingMode(mode), **values)  # type: ignore[arg-type]
        except ValueError as exc:
            if isinstance(exc, PacingError):
                raise
            allowed = ", ".join(m.value for m in PacingMode)
            raise PacingError(f"pacing mode {mode!r} is unknown; use one of {allowed}") from None

    def as_options(self) -> dict[str, float | int]:
        """The settings that differ from the defaults, as a campaign stores them."""
        default = PacingSettings()
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name != "mode" and getattr(self, f.name) != getattr(default, f.name)
        }


_INT_FIELDS = frozenset({"burst", "max_channels", "warmup_live_answers", "warmup_handles"})


@dataclass(frozen=True, slots=True)
class FloorState:
    """What the pacer sees at one tick.

    `busy_elapsed`: per agent in talk or wrap-up, seconds since the call reached the agent.
    `ringing_ages`: per call launched and not yet resolved (ringing, or answered and still in
    machine detection), seconds since it was launched. `waiting`: live answers (or IVR transfer
    requests) waiting for an agent. `channels`: channels of this campaign in use. `agents`:
    logged-in agents (ready + busy + paused); 0 for agentless blasts."""

    now: float
    ready: int = 0
    busy_elapsed: tuple[float, ...] = ()
    ringing_ages: tuple[float, ...] = ()
    waiting: int = 0
    channels: int = 0
    agents: int = 0

    @property
    def ringing(self) -> int:
        return len(self.ringing_ages)


@dataclass(frozen=True, slots=True)
class AbandonRate:
    abandons: int
    live_answers: int

    @property
    def rate(self) -> float:
        return self.abandons / self.live_answers if self.live_answers else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {"abandons": self.abandons, "live_answers": self.live_answers, "rate": self.rate}


class AbandonLedger:
    """Abandons over live answers, the FTC's way: per clock hour, over rolling windows, over the
    campaign and over each 30 days. Counts are kept per minute for two hours and per hour after,
    so a month-long campaign costs a few thousand integers."""

    __slots__ = ("_abandons", "_hours", "_live", "_minutes")

    def __init__(self) -> None:
        self._minutes: deque[list[int]] = deque()  # [minute index, live answers, abandons]
        self._hours: dict[int, list[int]] = {}  # hour index → [live answers, abandons]
        self._live = 0
        self._abandons = 0

    def _bump(self, at: float, live: int, abandons: int) -> None:
        minute = int(at // _MINUTE)
        if self._minutes and self._minutes[-1][0] == minute:
            self._minutes[-1][1] += live
            self._minutes[-1][2] += abandons
        else:
            self._minutes.append([minute, live, abandons])
            while self._minutes and self._minutes[0][0] < minute - 120:
                self._minutes.popleft()
        hour = self._hours.setdefault(int(at // _HOUR), [0, 0])
        hour[0] += live
        hour[1] += abandons
        self._live += live
        self._abandons += abandons

    def live_answer(self, at: float) -> None:
        """A live person answered (the denominator), whether or not an agent took the call."""
        self._bump(at, 1, 0)

    def abandon(self, at: float) -> None:
        """That live answer got no agent within `ABANDON_SECONDS` of its greeting."""
        self._bump(at, 0, 1)

    def cumulative(self) -> AbandonRate:
        return AbandonRate(self._abandons, self._live)

    def recent(self, at: float, seconds: float) -> AbandonRate:
        """Over the last `seconds` (at most two hours) before `at`."""
        since = int((at - seconds) // _MINUTE)
        live = abandons = 0
        for minute, n, a in reversed(self._minutes):
            if minute < since:
                break
            live += n
            abandons += a
        return AbandonRate(abandons, live)

    def hour(self, at: float) -> AbandonRate:
        """So far in the clock hour that contains `at` (hours count from the clock's origin,
        which the dialer sets on the hour)."""
        counts = self._hours.get(int(at // _HOUR))
        return AbandonRate(counts[1], counts[0]) if counts else AbandonRate(0, 0)

    def thirty_days(self, at: float) -> AbandonRate:
        """Over the 30 days before `at` (the FTC's period for campaigns longer than that)."""
        since = int((at - 30 * 86_400) // _HOUR)
        live = abandons = 0
        for hour, (n, a) in self._hours.items():
            if hour > since:
                live += n
                abandons += a
        return AbandonRate(abandons, live)

    def seed_hour(self, hour_start: float, live: int, abandons: int) -> None:
        """Counts of an earlier run's clock hour (from the database): they weigh in the hourly,
        cumulative and 30-day rates, not in the minute windows the feedback reads."""
        hour = self._hours.setdefault(int(hour_start // _HOUR), [0, 0])
        hour[0] += live
        hour[1] += abandons
        self._live += live
        self._abandons += abandons

    def by_hour(self) -> dict[float, AbandonRate]:
        """Each clock hour (its start, in the clock's seconds) with live answers or abandons."""
        return {h * _HOUR: AbandonRate(a, n) for h, (n, a) in sorted(self._hours.items())}

    def worst_hour(self, min_live: int = 1) -> AbandonRate | None:
        hours = [r for r in self.by_hour().values() if r.live_answers >= min_live]
        return max(hours, key=lambda r: r.rate, default=None)


class _Sample:
    """The last `size` values of a distribution, sorted on demand for survival look-ups.

    `refresh` also tabulates the survival function on a grid of `step` seconds, so that the
    pacer's hundreds of look-ups a tick are list indexing, not bisection."""

    __slots__ = ("_dirty", "_sorted", "_table", "_values", "step")

    def __init__(self, size: int, prior: tuple[float, ...] = (), step: float = 0.25) -> None:
        self._values: deque[float] = deque(prior, maxlen=size)
        self._sorted: list[float] = sorted(self._values)
        self._dirty = False
        self.step = step
        self._table: list[float] = self._tabulate()

    def add(self, value: float) -> None:
        self._values.append(value)
        self._dirty = True

    def __len__(self) -> int:
        return len(self._values)

    def refresh(self) -> None:
        if self._dirty:
            self._sorted = sorted(self._values)
            self._table = self._tabulate()
            self._dirty = False

    def _tabulate(self) -> list[float]:
        values = self._sorted
        if not values:
            return [1.0]
        n = len(values)
        cells = int(values[-1] / self.step) + 2
        return [(n - bisect_right(values, i * self.step)) / n for i in range(cells)]

    def survival(self, x: float) -> float:
        """P(value > x) over the sample (1.0 when it is empty), at the grid below `x`."""
        table = self._table
        i = int(x / self.step) if x > 0 else 0
        return table[i] if i < len(table) else 0.0

    def mean(self) -> float | None:
        values = self._sorted
        return sum(values) / len(values) if values else None

    def quantile(self, q: float) -> float | None:
        values = self._sorted
        if not values:
            return None
        return values[min(len(values) - 1, int(q * len(values)))]


def lognormal_params(mean: float, cv: float) -> tuple[float, float]:
    """(mu, sigma) of the lognormal with this mean and coefficient of variation."""
    sigma = math.sqrt(math.log(1 + cv * cv))
    return math.log(mean) - sigma * sigma / 2, sigma


def _lognormal_prior(mean: float, cv: float, n: int) -> tuple[float, ...]:
    """`n` evenly spaced quantiles of a lognormal: a prior sample that costs no randomness."""
    mu, sigma = lognormal_params(mean, cv)
    return tuple(math.exp(NormalDist(mu, sigma).inv_cdf((i + 0.5) / n)) for i in range(n))


@dataclass
class PacingStats:
    """What a campaign's calls taught the pacers, from observations the dialer reports.

    Distributions keep their last few thousand values (handle time, dial → live-answer verdict,
    dial → end of ringing for every dial); the live-answer rate is measured over the last
    `rate_window` resolved dials, so it follows the answer rate as it drifts through the day.
    Priors (a short lognormal sample) let a new campaign start before it has data."""

    rate_window: int = 400
    handle_prior: tuple[float, float] = (170.0, 0.8)  # mean seconds, coefficient of variation
    verdict_prior: tuple[float, float] = (15.0, 0.5)
    live_rate_prior: float = 0.15
    ledger: AbandonLedger = field(default_factory=AbandonLedger)
    handle: _Sample = field(init=False)
    live_verdict: _Sample = field(init=False)
    resolved: _Sample = field(init=False)
    _outcomes: deque[int] = field(init=False)
    _live_in_window: int = field(init=False, default=0)
    live_answers: int = field(init=False, default=0)
    handles: int = field(init=False, default=0)
    launched: int = field(init=False, default=0)
    transfers: int = field(init=False, default=0)
    _refreshed: float = field(init=False, default=-math.inf)

    def __post_init__(self) -> None:
        self.handle = _Sample(3000, _lognormal_prior(*self.handle_prior, 40), step=1.0)
        self.live_verdict = _Sample(3000, _lognormal_prior(*self.verdict_prior, 40))
        resolved_prior = _lognormal_prior(*self.verdict_prior, 40)
        self.resolved = _Sample(8000, resolved_prior)
        self._outcomes = deque(maxlen=self.rate_window)

    # Observations, as the dialer sees them.
    def dialled(self, count: int = 1) -> None:
        self.launched += count

    def resolved_dial(self, at: float, after: float, *, live: bool) -> None:
        """A dial stopped ringing `after` seconds after launch: a live answer (`live`, at its
        human verdict) or anything else (machine, busy, no answer, failed)."""
        self.resolved.add(after)
        if live:
            self.live_verdict.add(after)
            self.live_answers += 1
            self.ledger.live_answer(at)
        if len(self._outcomes) == self._outcomes.maxlen and self._outcomes[0]:
            self._live_in_window -= 1
        self._outcomes.append(1 if live else 0)
        self._live_in_window += live

    def abandoned(self, at: float) -> None:
        self.ledger.abandon(at)

    def handled(self, seconds: float) -> None:
        """An agent finished a call (talk plus wrap-up) that lasted `seconds`."""
        self.handle.add(seconds)
        self.handles += 1

    def transfer_requested(self) -> None:
        self.transfers += 1

    # What the pacers read.
    def live_rate(self) -> float:
        """Live answers per resolved dial, over the recent window (blended with the prior
        while the window is filling)."""
        n = len(self._outcomes)
        prior_weight = max(0, 50 - n)
        return (self._live_in_window + self.live_rate_prior * prior_weight) / (n + prior_weight)

    def transfer_rate(self, prior: float = 0.15) -> float:
        """IVR transfer requests per live answer."""
        weight = max(0, 50 - self.live_answers)
        return (self.transfers + prior * weight) / (self.live_answers + weight)

    def refresh(self, now: float, every: float = 60.0) -> None:
        """Re-sort the distributions (once a minute: a pacer's view need not be fresher)."""
        if now - self._refreshed >= every:
            self.handle.refresh()
            self.live_verdict.refresh()
            self.resolved.refresh()
            self._refreshed = now


class Pacer(ABC):
    """The limits every mode obeys: a CPS bucket (no burst above its size) and a ceiling on the
    campaign's channels. Subclasses decide the wish; `launches` caps it."""

    mode: PacingMode

    def __init__(self, settings: PacingSettings, stats: PacingStats | None = None) -> None:
        self.settings = settings
        self.stats = stats if stats is not None else PacingStats()
        self.bucket = TokenBucket(settings.cps, settings.burst)
        self.last_wish = 0

    @abstractmethod
    def wish(self, state: FloorState) -> int:
        """Calls this mode would launch now, before the CPS and channel limits."""

    def launches(self, state: FloorState, limit: int | None = None) -> int:
        """Calls to launch now, at most `limit` (the calls the caller has ready); the caller
        launches exactly this many and reports them with `PacingStats.dialled`."""
        wish = max(0, self.wish(state))
        self.last_wish = wish
        room = self.settings.max_channels - state.channels
        n = min(wish, room, self.bucket.available(state.now))
        if limit is not None:
            n = min(n, limit)
        if n <= 0:
            return 0
        self.bucket.take(state.now, n)
        return n


class BlastPacer(Pacer):
    """Agentless robocalls: as many as the CPS bucket and the channels allow."""

    mode = PacingMode.BLAST

    def wish(self, state: FloorState) -> int:
        return self.settings.max_channels


class ProgressivePacer(Pacer):
    """`lines_per_agent` ringing lines per ready agent; at 1.0 it never abandons."""

    mode = PacingMode.PROGRESSIVE

    def wish(self, state: FloorState) -> int:
        free = state.ready - state.waiting
        return math.floor(free * self.settings.lines_per_agent + 1e-9) - state.ringing


class RatioPacer(Pacer):
    """A fixed dial level: `ratio` lines per ready or talking agent, counting the calls already
    ringing, waiting or connected (VICIdial's RATIO)."""

    mode = PacingMode.RATIO

    def wish(self, state: FloorState) -> int:
        talking = len(state.busy_elapsed)
        goal = round(self.settings.ratio * (state.ready + talking))
        existing = state.ringing + state.waiting + talking
        return goal - existing


class PredictivePacer(Pacer):
    """The statistical pacer (`../shared/pacing.md` §1.5): launch `n` so that the agents
    expected free over the next few seconds cover the live answers expected from the calls in
    flight and the new ones, with a margin of `z` standard deviations that feedback on the
    measured abandon rate widens or narrows. Never dials less than progressive."""

    mode = PacingMode.PREDICTIVE

    def __init__(self, settings: PacingSettings, stats: PacingStats | None = None) -> None:
        super().__init__(settings, stats)
        self.z = self.z_start
        self._feedback_at = -math.inf
        self.braking = False
        self._hour_estimate = 0  # live answers an hour brings, from the last 60 minutes

    #: The margin at the start, its bounds, and how far one minute's feedback moves it per
    #: unit of log error (the abandon rate roughly halves for each +0.35 of margin, and the
    #: half-hour window lags by about 15 minutes: a larger gain oscillates).
    z_start = 2.5
    z_bounds = (0.5, 4.0)
    z_gain = 0.015

    def _feedback(self, now: float) -> None:
        """Once a minute: move the margin by the log of the measured abandon rate over the
        target — the last half hour's, weighted 0.7, and the campaign's, 0.3. A slow integral:
        the statistical model does the forecasting and a fixed margin already holds a steady
        rate, so feedback only corrects its drift. Brake to progressive while the last five
        minutes run far over target."""
        if now - self._feedback_at < _MINUTE:
            return
        self._feedback_at = now
        s = self.settings
        ledger = self.stats.ledger
        # Aim a tenth under the setting: the rate must be held, not averaged around.
        target = 0.9 * s.abandon_target
        if target <= 0:
            self.z = self.z_bounds[1]
        else:
            recent = ledger.recent(now, 30 * _MINUTE)
            total = ledger.cumulative()
            hour = ledger.recent(now, _HOUR)

            def log_error(rate: AbandonRate, prior: float) -> float:
                # Smoothed toward the target by `prior` live answers' worth of evidence.
                expected = target * (rate.live_answers + prior)
                return math.log((rate.abandons + target * prior) / expected)

            error = 0.7 * log_error(recent, 40.0) + 0.3 * log_error(total, 40.0)
            if hour.live_answers >= 40 and hour.rate > 0.8 * s.hourly_abandon_limit:
                error = max(error, 1.0)  # this clock hour is near its own limit
            low, high = self.z_bounds
            self.z = max(low, min(high, self.z + self.z_gain * error))
        self._hour_estimate = ledger.recent(now, _HOUR).live_answers
        five = ledger.recent(now, 5 * _MINUTE)
        self.braking = (
            five.live_answers >= 20
            and five.abandons >= 3
            and five.rate > 3 * max(s.abandon_target, 0.005)
        )

    #: Quantiles of the dial → live-verdict time at which the floor is checked.
    horizons = (0.25, 0.5, 0.9)

    def wish(self, state: FloorState) -> int:
        s = self.settings
        stats = self.stats
        stats.refresh(state.now)
        self._feedback(state.now)
        progressive = state.ready - state.waiting - state.ringing
        warm = stats.live_answers >= s.warmup_live_answers and stats.handles >= s.warmup_handles
        if not warm or self.braking or self._hour_spent(state.now):
            return progressive
        agents = max(state.agents, state.ready + len(state.busy_elapsed))
        cap = math.floor(s.max_lines_per_agent * agents) - state.ringing - len(state.busy_elapsed)
        ph = stats.live_rate()
        n = cap
        for q in self.horizons:
            horizon = stats.live_verdict.quantile(q) or 10.0
            n = min(n, self._most_at(state, ph, horizon, n))
            if n <= 0:
                break
        return max(n, progressive)

    def _hour_spent(self, now: float) -> bool:
        """This clock hour's abandons are near its own limit (`hourly_abandon_limit`, with a
        fifth kept back) of the live answers it is likely to bring: only progressive dialling,
        which does not abandon, until the hour turns. Small teams need it most: at 5 agents
        an hour brings some 65 live answers, and 4 abandons would already be 6 %."""
        hour = self.stats.ledger.hour(now)
        expected = max(hour.live_answers, self._hour_estimate)
        budget = 0.8 * self.settings.hourly_abandon_limit * expected
        return expected > 0 and hour.abandons + 1 > budget

    def _most_at(self, state: FloorState, ph: float, horizon: float, cap: int) -> int:
        """The most new calls whose live answers, with those still to come from the calls in
        flight, the agents free by `horizon` seconds from now cover with a margin of `z`
        standard deviations."""
        stats = self.stats
        survival = stats.handle.survival
        e_free = float(state.ready - state.waiting)
        v_free = 0.0
        for elapsed in state.busy_elapsed:
            now_alive = survival(elapsed)
            # Longer than any call on record: as likely to end as not.
            q = (now_alive - survival(elapsed + horizon)) / now_alive if now_alive > 0.0 else 0.5
            e_free += q
            v_free += q * (1.0 - q)
        verdict = stats.live_verdict.survival
        resolved = stats.resolved.survival
        e_live = v_live = 0.0
        for age in state.ringing_ages:
            still = resolved(age)
            if still <= 0.0:
                continue
            p = min(1.0, ph * (verdict(age) - verdict(age + horizon)) / still)
            e_live += p
            v_live += p * (1.0 - p)
        b = ph * (1.0 - verdict(horizon))  # a new call is a live answer by the horizon
        spare = e_free - e_live
        variance = v_free + v_live
        z = self.z
        n = 0
        while n < cap:
            m = n + 1
            if spare - m * b < z * math.sqrt(max(0.0, variance + m * b * (1.0 - b))):
                break
            n = m
        return n


def erlang_c_max_arrivals(agents: int, handle_seconds: float, within: float, level: float) -> float:
    """The most calls per second `agents` can take with `level` of them answered within
    `within` seconds (Erlang C, Poisson arrivals), found by bisection."""
    if agents <= 0 or handle_seconds <= 0:
        return 0.0

    def service(rate: float) -> float:
        load = rate * handle_seconds
        if load >= agents:
            return 0.0
        # Erlang B by recursion (stable), then C from B.
        b = 1.0
        for k in range(1, agents + 1):
            b = load * b / (k + load * b)
        c = agents * b / (agents - load * (1 - b))
        return 1.0 - c * math.exp(-(agents - load) * within / handle_seconds)

    low, high = 0.0, agents / handle_seconds
    for _ in range(50):
        mid = (low + high) / 2
        if service(mid) >= level:
            low = mid
        else:
            high = mid
    return low


class IvrTransferPacer(Pacer):
    """Robocalls whose debtors may press a key for an agent: dial at the rate whose expected
    transfers (dials × live rate × transfer rate) the agents can take within the service level
    (Erlang C), and hold off while transfers queue."""

    mode = PacingMode.IVR_TRANSFER

    def __init__(self, settings: PacingSettings, stats: PacingStats | None = None) -> None:
        super().__init__(settings, stats)
        self._credit = 0.0
        self._last: float | None = None

    def wish(self, state: FloorState) -> int:
        s = self.settings
        stats = self.stats
        stats.refresh(state.now)
        dt = 0.0 if self._last is None else max(0.0, state.now - self._last)
        self._last = state.now
        agents = max(state.agents, state.ready + len(state.busy_elapsed))
        handle = stats.handle.mean() or 170.0  # Erlang C takes the mean handling time
        capacity = erlang_c_max_arrivals(agents, handle, s.service_seconds, s.service_level)
        per_dial = stats.live_rate() * stats.transfer_rate()
        rate = capacity / per_dial if per_dial > 0 else s.cps
        if state.waiting > max(1, agents // 5):
            self._credit = 0.0  # transfers are queueing: let the agents catch up
            return 0
        self._credit = min(self._credit + rate * dt, max(1.0, 2 * rate))
        n = int(self._credit)
        self._credit -= n
        return n


_PACERS: dict[PacingMode, type[Pacer]] = {
    PacingMode.BLAST: BlastPacer,
    PacingMode.PROGRESSIVE: ProgressivePacer,
    PacingMode.RATIO: RatioPacer,
    PacingMode.PREDICTIVE: PredictivePacer,
    PacingMode.IVR_TRANSFER: IvrTransferPacer,
}


def make_pacer(settings: PacingSettings, stats: PacingStats | None = None) -> Pacer:
    """The pacer for `settings.mode`; pass the campaign's `stats` to keep what it learned."""
    return _PACERS[PacingMode(settings.mode)](settings, stats)
