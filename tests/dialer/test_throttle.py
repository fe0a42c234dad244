"""CPS token bucket and concurrent-call ceiling."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.throttle import CallLimiter, TokenBucket


@given(
    rate=st.floats(min_value=0.5, max_value=300),
    burst=st.integers(min_value=1, max_value=20),
    gaps=st.lists(st.floats(min_value=0, max_value=2), min_size=1, max_size=300),
)
def test_no_window_ever_sees_more_than_burst_plus_rate_times_length(
    rate: float, burst: int, gaps: list[float]
) -> None:
    bucket = TokenBucket(rate, burst)
    now, taken = 0.0, []
    for gap in gaps:
        now += gap
        while bucket.take(now):
            taken.append(now)
    for i, start in enumerate(taken):
        for j in range(i, len(taken)):
            span = taken[j] - start
            assert j - i + 1 <= burst + rate * span + 1e-6


def test_rate_is_held_over_a_long_run() -> None:
    bucket = TokenBucket(5.0, 1)
    calls = sum(1 for step in range(100_000) if bucket.take(step / 1000))  # 100 s, 1 ms ticks
    assert abs(calls - 500) <= 1


def test_wait_time_says_when_the_next_token_arrives() -> None:
    bucket = TokenBucket(2.0, 1)
    assert bucket.take(0.0)
    assert bucket.wait_time(0.0) == pytest.approx(0.5)
    assert not bucket.take(0.4)
    assert bucket.take(0.5)


def test_limiter_caps_calls_in_flight() -> None:
    limiter = CallLimiter(2, TokenBucket(100.0, 10))
    assert limiter.room(0.0) == 2
    assert limiter.acquire(0.0)
    assert limiter.acquire(0.0)
    assert not limiter.acquire(0.0)
    limiter.release()
    assert limiter.room(0.0) == 1


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (float("inf"), 1), (1, 0)])
def test_bad_limits_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        TokenBucket(rate, burst)
