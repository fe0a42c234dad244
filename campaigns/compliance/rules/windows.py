"""Calendar rules: wall-clock windows per weekday, and public holidays, in every candidate zone.

Their verdicts depend only on the instant, the zones and the margin, never on the contact or its
history, so `campaigns.compliance.timeline` asks them once per stretch of UTC time and shares the
answers between every decision over the same packs and zones."""

from __future__ import annotations

from abc import abstractmethod
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from campaigns.compliance.clock import at_local, holiday_dates, local_midnight, zone
from campaigns.compliance.model import Code
from campaigns.compliance.rules.base import Rule, Verdict, hhmm

__all__ = ["CHUNK", "CalendarRule", "HolidayRule", "WindowRule", "allowed_intervals"]

_WEEKDAY_ES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
_WEEKDAY_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_CLOCK = tuple(f"{m // 60:02d}:{m % 60:02d}" for m in range(24 * 60))  # "HH:MM", by minute of day
_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class CalendarRule(Rule):
    """A rule on the calendar alone: its verdict at `t` in `zones`, with a campaign's `margin`
    (seconds before a range's end in which no contact may start; holidays ignore it).

    The verdict stays true for the whole stretch of UTC time around `t` in which no range of
    the rule opens or closes and no zone changes its local date or UTC offset; its sentences are
    written for any instant of that stretch (`Verdict.texts`)."""

    @abstractmethod
    def check(self, zones: tuple[ZoneInfo, ...], margin: int, t: datetime) -> Verdict | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowRule(CalendarRule):
    """Local wall-clock ranges per weekday, half-open [start, end), in seconds after midnight."""

    days: tuple[tuple[tuple[int, int], ...], ...]  # index 0 = Monday
    #: A holiday rule of the same pack with `on_holiday: {use_day: …}`: on its holidays this
    #: window keeps that weekday's ranges instead of the day's own (set when the pack is loaded).
    holiday: HolidayRule | None = None

    def ranges_on(self, day: date) -> tuple[tuple[int, int], ...]:
        """The ranges of local date `day`: its weekday's, or on a holiday of `holiday` the
        ranges of the weekday that holiday rule names."""
        kept = self._kept_weekday(day)
        return self.days[day.weekday() if kept is None else kept]

    def _kept_weekday(self, day: date) -> int | None:
        """The weekday whose hours `day` keeps because it is a holiday, or None."""
        holiday = self.holiday
        if holiday is not None and holiday.use_day is not None and holiday.is_holiday(day):
            return holiday.use_day
        return None

    def _earliest_in(self, tz: ZoneInfo, t: datetime, ts: float, margin: int) -> datetime | None:
        """`t` if a contact may start at `t` (`ts` as a timestamp) in `tz`, else the next instant
        one may (within 3 weeks)."""
        chunk = int(ts // CHUNK)
        for ahead in range(3):
            cached = _INTERVALS.get((id(self), tz.key, margin, chunk + ahead))
            if cached is not None and cached[0] is self:
                starts, ends = cached[1], cached[2]
            else:
                starts, ends = allowed_intervals(self, tz.key, margin, chunk + ahead)
            index = bisect_right(starts, ts) - 1
            if ahead == 0 and index >= 0 and ts < ends[index]:
                return t
            if index + 1 < len(starts):
                return datetime.fromtimestamp(starts[index + 1], UTC)
        return None

    def check(self, zones: tuple[ZoneInfo, ...], margin: int, t: datetime) -> Verdict | None:
        """The verdict holds until the next range boundary or local midnight, and
        `campaigns.compliance.timeline` reuses it for that whole stretch: only the clock time in
        the sentence is written for the instant a reason is given for."""
        ts = t.timestamp()
        failing: ZoneInfo | None = None
        earliest: datetime | None = t
        for tz in zones:
            opens = self._earliest_in(tz, t, ts, margin)
            if opens is t:
                continue
            if opens is None:
                failing, earliest = tz, None
                break
            if failing is None or (earliest is not None and opens > earliest):
                failing, earliest = tz, opens
        if failing is None:
            return None
        tz = failing
        local = t.astimezone(tz)
        used = self._kept_weekday(local.date())
        ranges = self.ranges_on(local.date())
        if not ranges:
            if used is not None:
                return Verdict(
                    Code.HOLIDAY,
                    tz.key,
                    f"{local.date().isoformat()} es día festivo ({tz.key}) y usa el horario del "
                    f"{_WEEKDAY_ES[used]}, sin contacto",
                    f"{local.date().isoformat()} is a public holiday ({tz.key}) and keeps "
                    f"{_WEEKDAY_EN[used]}'s hours: no contact",
                    earliest,
                )
            return Verdict(
                Code.DAY_CLOSED,
                tz.key,
                f"no se permite contactar en {_WEEKDAY_ES[local.weekday()]} ({tz.key})",
                f"no contact allowed on {local.strftime('%A')}s ({tz.key})",
                earliest,
            )
        # Only the clock time depends on the instant within the stretch: the rest is written now.
        shown_es, shown_en = _shown(ranges)
        note_es = f", sin iniciar en los últimos {margin // 60} min" if margin else ""
        note_en = f", no start in the last {margin // 60} min" if margin else ""
        if used is not None:
            note_es += f" (día festivo: horario del {_WEEKDAY_ES[used]})"
            note_en += f" (public holiday: {_WEEKDAY_EN[used]}'s hours)"
        tail_es = f" en {tz.key}; se permite {shown_es}{note_es}"
        tail_en = f" in {tz.key}; allowed {shown_en}{note_en}"
        offset = local.utcoffset()
        # Whole minutes east of UTC in `tz`, the same for every instant of the stretch (it ends
        # where the offset changes); None when a UTC clock cannot be shifted to the wall clock.
        shift = None if offset is None or offset % _MINUTE else offset // _MINUTE

        def window_closed(at: datetime) -> tuple[str, str]:
            """For an instant of the stretch this verdict holds for (`CalendarRule.check`)."""
            if shift is not None and at.tzinfo is UTC:
                clock = _CLOCK[(at.hour * 60 + at.minute + shift) % 1440]  # no astimezone
            else:
                wall = at.astimezone(tz)
                clock = _CLOCK[wall.hour * 60 + wall.minute]
            return f"son las {clock}{tail_es}", f"it is {clock}{tail_en}"

        return Verdict(Code.WINDOW_CLOSED, tz.key, "", "", earliest, window_closed)


@lru_cache(maxsize=1024)
def _shown(ranges: tuple[tuple[int, int], ...]) -> tuple[str, str]:
    """`((25200, 79260),)` → `de 07:00 a antes de las 22:01`, `from 07:00 to before 22:01`:
    ranges are half-open, and a reader of "07:00–22:01" could take 22:01 as allowed."""
    return (
        ", ".join(f"de {hhmm(start)} a antes de las {hhmm(end)}" for start, end in ranges),
        ", ".join(f"from {hhmm(start)} to before {hhmm(end)}" for start, end in ranges),
    )


CHUNK = 7 * 86_400  # seconds of UTC time per cached piece of a window's timeline
_INTERVALS: dict[tuple[int, str, int, int], tuple[WindowRule, tuple[float, ...], tuple[float, ...]]]
_INTERVALS = {}


def allowed_intervals(
    rule: WindowRule, tz_key: str, margin: int, chunk: int
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The [start, end) UTC intervals (as timestamps) in which `rule` lets a contact start in
    `tz`, overlapping one week-long chunk of UTC time. Cached: wall-clock to UTC conversion,
    with its DST gaps and folds, is done once per rule, zone and week."""
    key = (id(rule), tz_key, margin, chunk)
    cached = _INTERVALS.get(key)
    if cached is not None and cached[0] is rule:
        return cached[1], cached[2]
    tz = zone(tz_key)
    low, high = chunk * CHUNK, (chunk + 1) * CHUNK
    day = datetime.fromtimestamp(low, UTC).astimezone(tz).date() - timedelta(days=1)
    last = datetime.fromtimestamp(high, UTC).astimezone(tz).date() + timedelta(days=1)
    starts: list[float] = []
    ends: list[float] = []
    while day <= last:
        for start, end in rule.ranges_on(day):
            if end - margin <= start:
                continue
            begin = at_local(day, start, tz).timestamp()
            finish = at_local(day, end - margin, tz).timestamp()
            if finish > low and begin < high and finish > begin:
                if starts and begin <= ends[-1]:
                    ends[-1] = max(ends[-1], finish)
                else:
                    starts.append(begin)
                    ends.append(finish)
        day += timedelta(days=1)
    if len(_INTERVALS) > 200_000:
        _INTERVALS.clear()
    _INTERVALS[key] = (rule, tuple(starts), tuple(ends))
    return tuple(starts), tuple(ends)


@dataclass(frozen=True, slots=True, kw_only=True)
class HolidayRule(CalendarRule):
    country: str
    subdiv: str | None
    extra: frozenset[date]
    removed: frozenset[date]
    #: `on_holiday: {use_day: sun}` (0 = Monday): a holiday keeps that weekday's hours in the
    #: pack's window rules instead of closing (`WindowRule.holiday`); None = `on_holiday: deny`.
    use_day: int | None = None

    def is_holiday(self, day: date) -> bool:
        if day in self.removed:
            return False
        return day in self.extra or day in holiday_dates(self.country, self.subdiv, day.year)

    def check(self, zones: tuple[ZoneInfo, ...], margin: int, t: datetime) -> Verdict | None:
        if self.use_day is not None:
            return None  # the pack's window rules keep the named day's hours on holidays
        worst: tuple[ZoneInfo, date, datetime] | None = None
        for tz in zones:
            day = t.astimezone(tz).date()
            if not self.is_holiday(day):
                continue
            after = day + timedelta(days=1)
            while self.is_holiday(after) and after - day < timedelta(days=30):
                after += timedelta(days=1)
            opens = local_midnight(after, tz)
            if worst is None or opens > worst[2]:
                worst = (tz, day, opens)
        if worst is None:
            return None
        tz, day, opens = worst
        name = holidays.country_holidays(self.country, subdiv=self.subdiv, years=day.year).get(day)
        label = f" ({name})" if name else ""
        return Verdict(
            Code.HOLIDAY,
            tz.key,
            f"{day.isoformat()} es día festivo en {self.country}{label}",
            f"{day.isoformat()} is a public holiday in {self.country}{label}",
            opens,
        )
