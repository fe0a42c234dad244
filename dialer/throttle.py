"""Backpressure, sans-I/O: a calls-per-second token bucket and a concurrent-call ceiling.

The bucket never lets more than `burst` calls out at once and refills at `rate` per second, so
over any window of T seconds at most `burst + rate*T` calls leave. Time is an input (seconds
from any monotonic origin), which keeps the limiter exact under a virtual clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["CallLimiter", "TokenBucket"]


@dataclass
class TokenBucket:
    """Calls per second with a bounded burst (Twilio accounts default to 1 CPS, burst 1)."""

    rate: float
    burst: int = 1
    _tokens: float = field(init=False)
    _stamp: float | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if not self.rate > 0 or not math.isfinite(self.rate):
            raise ValueError(f"calls per second must be a positive number, not {self.rate}")
        if self.burst < 1:
            raise ValueError(f"the burst size must be at least 1, not {self.burst}")
        self._tokens = float(self.burst)

    def _refill(self, now: float) -> None:
        if self._stamp is not None and now > self._stamp:
            self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate)
        if self._stamp is None or now > self._stamp:
            self._stamp = now

    def available(self, now: float) -> int:
        """Whole tokens available at `now`."""
        self._refill(now)
        return int(self._tokens + 1e-9)

    def retune(self, now: float, rate: float, burst: int) -> None:
        """A new rate and burst from `now` on: tokens earned until now at the old rate stay,
        capped at the new burst (a change never grants a fresh burst)."""
        TokenBucket(rate, burst)  # validates
        self._refill(now)
        self.rate, self.burst = rate, burst
        self._tokens = min(self._tokens, float(burst))

    def take(self, now: float, count: int = 1) -> bool:
        """Spend `count` tokens if they are all there; False (and nothing spent) otherwise."""
        self._refill(now)
        if self._tokens + 1e-9 >= count:
            self._tokens -= count
            return True
        return False

    def wait_time(self, now: float, count: int = 1) -> float:
        """Seconds until `count` tokens will be there (0 when they already are)."""
        self._refill(now)
        missing = count - self._tokens
        return 0.0 if missing <= 1e-9 else missing / self.rate


@dataclass
class CallLimiter:
    """A CPS bucket plus a ceiling on calls in flight, per backend or trunk."""

    max_concurrent: int
    bucket: TokenBucket
    in_flight: int = 0

    def __post_init__(self) -> None:
        if self.max_concurrent < 1:
            raise ValueError(f"max concurrent calls must be at least 1, not {self.max_concurrent}")

    def room(self, now: float) -> int:
        """How many calls may start right now."""
        return max(0, min(self.max_concurrent - self.in_flight, self.bucket.available(now)))

    def acquire(self, now: float) -> bool:
        """Take a slot and a token for one call; False when either is missing."""
        if self.in_flight >= self.max_concurrent or not self.bucket.take(now):
            return False
        self.in_flight += 1
        return True

    def release(self) -> None:
        """A call in flight ended."""
        if self.in_flight > 0:
            self.in_flight -= 1
