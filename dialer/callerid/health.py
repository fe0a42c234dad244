"""A caller-ID number's health: how debtors treat calls from it, over a rolling window.

A number the carriers or the debtors' phones label as spam shows it in three ways: fewer people
answer, those who answer hang up at once, and more calls are rejected outright. Per number,
over its last `window_size` results no older than `window_age`:

    n  results that say something about the number: every outcome except cancelled, failed,
       congestion and invalid_number (those are about us or the network)
    h  answered by a person (human, abandoned)
    s  human answers shorter than `short_call_seconds` (6 s)
    r  rejections (outcome rejected, or Q.850 cause 21)
    A, S, R  the same rates over every number of the pool in the number's country
             (answer rates differ widely between countries): A = Σh/Σn, S = Σs/Σh, R = Σr/Σn

Each rate is shrunk towards the pool's with `prior_weight` (K = 10) pseudo-results, so a few
unlucky calls do not swing it, and a new number starts at the pool's average:

    â = (h + K·A) / (n + K)    ŝ = (s + K·S) / (h + K)    r̂ = (r + K·R) / (n + K)

    health = min(1, â / A) × (1 − ŝ) × (1 − min(1, reject_weight · r̂))     in [0, 1]

(the first factor is 1 while nobody in the pool has answered yet; reject_weight = 2, so 25 %
rejections alone halve the score). Below `threshold` (0.5) with at least `min_samples` (30)
results, the number rests for `rest` (24 h), an alert is raised, and it comes back afterwards
with an empty window: it needs `min_samples` fresh results before it can be rested again.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from campaigns.enums import AttemptOutcome

__all__ = ["HealthAlert", "HealthConfig", "HealthStats", "HealthWindow", "Tally", "classify"]

_REJECTED_CAUSE = 21  # Q.850 "call rejected"
_ANSWERED = frozenset({AttemptOutcome.HUMAN, AttemptOutcome.ABANDONED})
_NOT_ABOUT_THE_NUMBER = frozenset(
    {
        AttemptOutcome.CANCELLED,
        AttemptOutcome.FAILED,
        AttemptOutcome.CONGESTION,
        AttemptOutcome.INVALID_NUMBER,
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthConfig:
    """Health scoring and resting parameters (see the module docstring for the formula)."""

    threshold: float = 0.5
    min_samples: int = 30
    rest: timedelta = timedelta(hours=24)
    window_size: int = 200
    window_age: timedelta = timedelta(hours=24)
    short_call_seconds: float = 6.0
    prior_weight: float = 10.0
    reject_weight: float = 2.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"health threshold must be within [0, 1], not {self.threshold}")
        if self.min_samples < 1 or self.window_size < self.min_samples:
            raise ValueError(
                f"need 1 <= min_samples ({self.min_samples}) <= window_size ({self.window_size})"
            )
        if self.rest <= timedelta(0) or self.window_age <= timedelta(0):
            raise ValueError("rest and window_age must be positive durations")
        if self.short_call_seconds < 0 or self.prior_weight < 0 or self.reject_weight < 0:
            raise ValueError("short_call_seconds, prior_weight and reject_weight must be >= 0")


# A result as the window keeps it: (when, answered, short, rejected), flags as 0/1.
_Sample = tuple[datetime, int, int, int]


def classify(
    outcome: AttemptOutcome, talk_seconds: float, cause: int | None, short_call_seconds: float
) -> tuple[int, int, int] | None:
    """(answered, short, rejected) flags of one result, or None when it says nothing about the
    number presented."""
    rejected = outcome is AttemptOutcome.REJECTED or cause == _REJECTED_CAUSE
    if outcome in _NOT_ABOUT_THE_NUMBER and not rejected:
        return None
    answered = outcome in _ANSWERED and not rejected
    short = answered and outcome is AttemptOutcome.HUMAN and talk_seconds < short_call_seconds
    return int(answered), int(short), int(rejected)


@dataclass(slots=True)
class Tally:
    """Counts of results, answers, short answers and rejections (a number's or a pool's)."""

    n: int = 0
    answered: int = 0
    short: int = 0
    rejected: int = 0

    def add(self, answered: int, short: int, rejected: int, sign: int = 1) -> None:
        self.n += sign
        self.answered += sign * answered
        self.short += sign * short
        self.rejected += sign * rejected


@dataclass(frozen=True, slots=True)
class HealthStats:
    """A number's health and the rates it comes from (raw rates, before shrinking)."""

    score: float
    samples: int
    answer_rate: float
    pool_answer_rate: float
    short_share: float
    reject_share: float

    @staticmethod
    def of(own: Tally, pool: Tally, config: HealthConfig) -> HealthStats:
        """The formula of the module docstring."""
        k = config.prior_weight
        pool_answer = pool.answered / pool.n if pool.n else 0.0
        pool_short = pool.short / pool.answered if pool.answered else 0.0
        pool_reject = pool.rejected / pool.n if pool.n else 0.0
        answer = 1.0
        if pool_answer > 0.0:
            answer = min(1.0, (own.answered + k * pool_answer) / (own.n + k) / pool_answer)
        short = (own.short + k * pool_short) / (own.answered + k) if own.answered + k else 0.0
        reject = (own.rejected + k * pool_reject) / (own.n + k) if own.n + k else 0.0
        score = answer * (1.0 - short) * (1.0 - min(1.0, config.reject_weight * reject))
        return HealthStats(
            score=min(1.0, max(0.0, score)),
            samples=own.n,
            answer_rate=own.answered / own.n if own.n else 0.0,
            pool_answer_rate=pool_answer,
            short_share=own.short / own.answered if own.answered else 0.0,
            reject_share=own.rejected / own.n if own.n else 0.0,
        )


class HealthWindow:
    """One number's recent results, keeping its tally and its country's pool tally in step."""

    __slots__ = ("_config", "_samples", "own", "pool")

    def __init__(self, pool: Tally, config: HealthConfig) -> None:
        self._config = config
        self._samples: deque[_Sample] = deque()
        self.own = Tally()
        self.pool = pool

    def add(self, at: datetime, answered: int, short: int, rejected: int) -> None:
        self._samples.append((at, answered, short, rejected))
        self.own.add(answered, short, rejected)
        self.pool.add(answered, short, rejected)
        if len(self._samples) > self._config.window_size:
            self._drop()

    def expire(self, now: datetime) -> None:
        """Forget results older than the window's age."""
        oldest = now - self._config.window_age
        while self._samples and self._samples[0][0] < oldest:
            self._drop()

    def clear(self) -> None:
        while self._samples:
            self._drop()

    def stats(self) -> HealthStats:
        return HealthStats.of(self.own, self.pool, self._config)

    def _drop(self) -> None:
        _, answered, short, rejected = self._samples.popleft()
        self.own.add(answered, short, rejected, -1)
        self.pool.add(answered, short, rejected, -1)


@dataclass(frozen=True, slots=True)
class HealthAlert:
    """A number put to rest because its health fell: what to look at, and until when."""

    number_id: int
    e164: str
    pool: str
    at: datetime
    rest_until: datetime
    threshold: float
    stats: HealthStats

    @property
    def message(self) -> str:
        s = self.stats
        return (
            f"caller ID {self.e164} (pool {self.pool!r}) rests until "
            f"{self.rest_until:%Y-%m-%d %H:%M} UTC: health {s.score:.2f} < {self.threshold:.2f} "
            f"over its last {s.samples} calls (answered {s.answer_rate:.0%} vs the pool's "
            f"{s.pool_answer_rate:.0%}, {s.short_share:.0%} of answers under the short-call "
            f"limit, {s.reject_share:.0%} rejected); ask the carrier whether it is labelled as "
            "spam, and register or replace it before it returns"
        )
