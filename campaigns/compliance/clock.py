"""Local time in IANA zones and holiday calendars, cached: the engine asks for them constantly."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

__all__ = ["at_local", "holiday_dates", "local_midnight", "zone"]


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which `day` begins in `tz` (zoneinfo resolves gaps and folds)."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def at_local(day: date, seconds: int, tz: ZoneInfo) -> datetime:
    """The UTC instant of `seconds` after local midnight of `day` on the wall clock of `tz`."""
    if seconds >= 86_400:
        return local_midnight(day + timedelta(days=1), tz)
    wall = time(seconds // 3600, seconds % 3600 // 60, seconds % 60)
    return datetime.combine(day, wall, tzinfo=tz).astimezone(UTC)


@lru_cache(maxsize=1024)
def holiday_dates(country: str, subdiv: str | None, year: int) -> frozenset[date]:
    """Public holidays of a country (and subdivision) in one year, from `holidays`."""
    calendar = holidays.country_holidays(country, subdiv=subdiv, years=year)
    return frozenset(calendar.keys())
