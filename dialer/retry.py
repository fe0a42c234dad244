"""What happens to a contact after each outcome: retry later, stop, or done. Sans-I/O.

A retry only says *not before*; the compliance engine's `next_allowed_at` then decides when the
call may really start (windows, caps, cool-offs), at claim time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from campaigns.enums import AttemptOutcome, ContactStatus

__all__ = ["DEFAULT_RULES", "RetryDecision", "RetryPolicy", "RetryRule"]


@dataclass(frozen=True, slots=True)
class RetryRule:
    """Retry an outcome after `delay`, at most `limit` times for that outcome (0: never)."""

    delay: timedelta
    limit: int

    def __post_init__(self) -> None:
        if self.delay < timedelta(0):
            raise ValueError(f"a retry delay cannot be negative ({self.delay})")
        if self.limit < 0:
            raise ValueError(f"a retry limit cannot be negative ({self.limit})")


DEFAULT_RULES: Mapping[AttemptOutcome, RetryRule] = {
    AttemptOutcome.BUSY: RetryRule(timedelta(minutes=15), 4),
    AttemptOutcome.NO_ANSWER: RetryRule(timedelta(hours=2), 5),
    AttemptOutcome.MACHINE: RetryRule(timedelta(hours=3), 3),
    AttemptOutcome.CONGESTION: RetryRule(timedelta(minutes=10), 3),
    AttemptOutcome.FAILED: RetryRule(timedelta(minutes=30), 2),
    AttemptOutcome.CANCELLED: RetryRule(timedelta(minutes=20), 3),
    AttemptOutcome.ABANDONED: RetryRule(timedelta(hours=1), 2),
    AttemptOutcome.REJECTED: RetryRule(timedelta(days=1), 1),
    AttemptOutcome.INVALID_NUMBER: RetryRule(timedelta(0), 0),
    AttemptOutcome.HUMAN: RetryRule(timedelta(0), 0),
}


@dataclass(frozen=True, slots=True)
class RetryDecision:
    status: ContactStatus  # PENDING (retry) or DONE
    not_before: datetime | None
    why: str


@dataclass(frozen=True)
class RetryPolicy:
    """Per-outcome rules plus a ceiling on attempts per contact in one campaign."""

    rules: Mapping[AttemptOutcome, RetryRule] = field(default_factory=lambda: dict(DEFAULT_RULES))
    max_attempts: int = 8

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(
                f"max attempts per contact must be at least 1, not {self.max_attempts}"
            )

    def after(
        self,
        outcome: AttemptOutcome,
        ended_at: datetime,
        *,
        attempts: int,
        same_outcome: int,
    ) -> RetryDecision:
        """The contact's next step after its `attempts`-th attempt ended with `outcome`
        (`same_outcome` attempts so far ended that way, this one included)."""
        rule = self.rules.get(outcome, RetryRule(timedelta(hours=1), 1))
        if outcome is AttemptOutcome.HUMAN:
            return RetryDecision(ContactStatus.DONE, None, "reached a person")
        if same_outcome > rule.limit:
            return RetryDecision(
                ContactStatus.DONE, None, f"{outcome.value}: {rule.limit} retries used"
            )
        if attempts >= self.max_attempts:
            return RetryDecision(
                ContactStatus.DONE, None, f"{self.max_attempts} attempts, the campaign maximum"
            )
        return RetryDecision(
            ContactStatus.PENDING,
            ended_at + rule.delay,
            f"{outcome.value}: retry after {rule.delay}",
        )
