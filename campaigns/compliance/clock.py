"""Local time in IANA zones and holiday calendars, cached: the engine asks for them constantly."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

__all__ = ["at_local", "day_boundaries", "holiday_dates", "local_midnight", "zone"]

_SECOND = timedelta(seconds=1)
_DAY = 86_400


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=16_384)
def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which `day` begins in `tz` (zoneinfo resolves gaps and folds).
    Cached: calendar caps and cool-offs ask for the same few days again and again."""
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


def _offset(tz: ZoneInfo, ts: int) -> int:
    offset = datetime.fromtimestamp(ts, tz).utcoffset()
    assert offset is not None
    return offset // _SECOND


def day_boundaries(tz: ZoneInfo, low: int, high: int) -> list[int]:
    """Every UTC instant (POSIX seconds) in (low, high) at which the local date in `tz` may
    change: each local midnight and each change of UTC offset, whatever its direction (a clock
    set back across midnight makes the date go back too). Between two of them the local date is
    constant, which is what lets a timeline reuse one holiday or weekday verdict for a stretch.

    The offset is read at every UTC hour and each change is pinned to the second by bisection
    (tzdata transitions fall on whole seconds); this assumes that no zone changes its offset and
    back within one hour, which none does."""
    changes: list[tuple[int, int]] = [(low, _offset(tz, low))]  # (from, offset)
    previous, offset = low, changes[0][1]
    while previous < high:
        probe = min(previous + 3600, high)
        new = _offset(tz, probe)
        if new != offset:
            before, after = previous, probe
            while after - before > 1:
                middle = (before + after) // 2
                if _offset(tz, middle) == offset:
                    before = middle
                else:
                    after = middle
            changes.append((after, new))
            offset = new
        previous = probe
    out: set[int] = set()
    for index, (start, offset) in enumerate(changes):
        end = changes[index + 1][0] if index + 1 < len(changes) else high
        if low < start < high:
            out.add(start)
        midnight = ((start + offset) // _DAY + 1) * _DAY - offset  # first midnight after start
        while midnight < end:
            if low < midnight:
                out.add(midnight)
            midnight += _DAY
    return sorted(out)
