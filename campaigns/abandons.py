"""A campaign's abandon rate from its recorded attempts, the FTC's way, for any run and restart.

Live answers are the attempts answered by a person as the dialer judged it (outcome `human` or
`abandoned`); abandons are the `abandoned` ones. Counted per clock hour (UTC, by the answer's
instant), over the last 30 days (16 CFR 310.4(b)(4)(i): per campaign, each successive 30 days)
and over the whole campaign.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.enums import AttemptOutcome
from campaigns.models import Attempt
from dialer.pacing import AbandonRate

__all__ = ["AbandonReport", "abandon_report"]

_LIVE = (AttemptOutcome.HUMAN, AttemptOutcome.ABANDONED)


@dataclass
class AbandonReport:
    cumulative: AbandonRate = field(default_factory=lambda: AbandonRate(0, 0))
    by_hour: list[tuple[datetime, AbandonRate]] = field(default_factory=list)  # 30 days

    @property
    def thirty_days(self) -> AbandonRate:
        return AbandonRate(
            sum(c.abandons for _, c in self.by_hour), sum(c.live_answers for _, c in self.by_hour)
        )

    @property
    def worst_hour(self) -> tuple[datetime, AbandonRate] | None:
        return max(self.by_hour, key=lambda item: item[1].rate, default=None)

    def to_json(self) -> dict[str, Any]:
        return {
            "cumulative": self.cumulative.as_dict(),
            "thirty_days": self.thirty_days.as_dict(),
            "by_hour": [{"hour": at.isoformat(), **c.as_dict()} for at, c in self.by_hour],
        }


def _hour_of(value: object) -> datetime:
    """The hour bucket as SQLite (text) or PostgreSQL (datetime) returns it, aware UTC."""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(at, datetime):
        raise TypeError(f"an hour bucket must be a datetime, not {value!r}")
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


async def abandon_report(session: AsyncSession, campaign_id: int, now: datetime) -> AbandonReport:
    """The campaign's abandon rate: cumulative, over the 30 days before `now`, and per hour."""
    a = Attempt
    mine = (a.campaign_id == campaign_id) & a.outcome.in_(_LIVE) & a.answered_at.is_not(None)
    counted = await session.execute(select(a.outcome, func.count()).where(mine).group_by(a.outcome))
    totals: dict[AttemptOutcome | None, int] = dict(counted.all())
    bind = session.bind
    if bind is not None and bind.dialect.name == "postgresql":
        hour: Any = func.date_trunc("hour", a.answered_at)
    else:
        hour = func.strftime("%Y-%m-%d %H:00:00", a.answered_at)
    since = now - timedelta(days=30)
    hours: dict[datetime, list[int]] = {}
    rows = await session.execute(
        select(hour, a.outcome, func.count())
        .where(mine, a.answered_at >= since)
        .group_by(hour, a.outcome)
    )
    for bucket, outcome, count in rows:
        counts = hours.setdefault(_hour_of(bucket), [0, 0])
        counts[0] += count
        if outcome is AttemptOutcome.ABANDONED:
            counts[1] += count
    return AbandonReport(
        cumulative=AbandonRate(totals.get(AttemptOutcome.ABANDONED, 0), sum(totals.values())),
        by_hour=[(at, AbandonRate(ab, n)) for at, (n, ab) in sorted(hours.items())],
    )
