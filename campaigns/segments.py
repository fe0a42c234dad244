"""Segments: buckets of accounts by days past due, the unit campaigns target."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from campaigns.models import Base, Segment

__all__ = ["DEFAULT_BUCKETS", "Bucket", "bucket_for", "ensure_default_segments"]


@dataclass(frozen=True, slots=True)
class Bucket:
    code: str
    name: str
    min_days: int
    max_days: int | None  # inclusive; None = no upper bound


DEFAULT_BUCKETS = (
    Bucket("dpd_000", "Preventiva (al corriente)", 0, 0),
    Bucket("dpd_001_030", "Mora temprana 1–30", 1, 30),
    Bucket("dpd_031_060", "Mora 31–60", 31, 60),
    Bucket("dpd_061_090", "Mora 61–90", 61, 90),
    Bucket("dpd_091_180", "Mora tardía 91–180", 91, 180),
    Bucket("dpd_181_365", "Cartera vencida 181–365", 181, 365),
    Bucket("dpd_366_plus", "Cartera castigada 366+", 366, None),
)


def bucket_for(days_past_due: int | None) -> Bucket | None:
    """The default bucket holding `days_past_due`, or None when it is unknown."""
    if days_past_due is None:
        return None
    for bucket in DEFAULT_BUCKETS:
        if bucket.max_days is None or days_past_due <= bucket.max_days:
            return bucket
    raise AssertionError("the last bucket is open-ended")


async def ensure_default_segments(conn: AsyncConnection) -> dict[str, int]:
    """Create the default buckets that are missing; return {code: segment id}."""
    existing = dict((await conn.execute(select(Segment.code, Segment.id))).all())
    missing = [b for b in DEFAULT_BUCKETS if b.code not in existing]
    if missing:
        await conn.execute(
            Base.metadata.tables["segments"].insert(),
            [
                {
                    "code": b.code,
                    "name": b.name,
                    "min_days_past_due": b.min_days,
                    "max_days_past_due": b.max_days,
                }
                for b in missing
            ],
        )
        existing = dict((await conn.execute(select(Segment.code, Segment.id))).all())
    return existing
