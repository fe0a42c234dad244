"""One UTC timeline for all the calendar rules (windows, holidays) a decision asks.

The calendar rules of a plan (`campaigns.compliance.plan`) answer from the instant alone: in which
zone a window is closed, until when, whether the local day is a holiday. Those answers change only
at a few instants — where a window range opens or closes in some zone (margins included), at each
local midnight and each change of UTC offset of a zone — so the timeline cuts UTC time into the
stretches between them, asks every rule once at the start of each stretch, and answers any later
instant by bisection. Stretches are built a week of UTC time (`CHUNK`) at a time, when an instant
in that week is first asked about, filed by UTC day, and shared by every decision over the same
rules and zones.

The rules' own `check` stays the authority: a stretch holds exactly what it answered at the
stretch's start. Only their sentences depend on the instant within the stretch (the local clock
time), and those are written from the instant the reason is given for (`Verdict.texts`).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from campaigns.compliance.clock import day_boundaries
from campaigns.compliance.rules import CalendarRule, Verdict, WindowRule
from campaigns.compliance.rules.windows import CHUNK, allowed_intervals

__all__ = ["SEARCH_STEPS", "Failures", "Timeline", "TimelineEntry"]

#: How many jumps the search for the next allowed instant makes before giving up (`decide()`).
SEARCH_STEPS = 200
_MINUTE = timedelta(minutes=1)

#: One calendar rule as a plan asks it: (its place among the plan's timed rules, the rule, the
#: pack's candidate zones, the margin in seconds).
TimelineEntry = tuple[int, CalendarRule, tuple[ZoneInfo, ...], int]
#: The failing rules of a stretch, as (place among the plan's timed rules, verdict); () = open.
Failures = tuple[tuple[int, Verdict], ...]
_Day = tuple[list[datetime], list[Failures]]  # stretch starts, and what fails in each

_MAX_DAYS = 30_000  # per timeline; a long-running process forgets old days past this
_DAY = 86_400


class Timeline:
    """The calendar rules of one plan, answered per stretch of UTC time."""

    __slots__ = ("_days", "_entries", "_reopens", "_zones")

    def __init__(self, entries: tuple[TimelineEntry, ...]) -> None:
        self._entries = entries
        self._zones = tuple(dict.fromkeys(z for _, _, zones, _ in entries for z in zones))
        # The stretches of each UTC day built so far (the first one may have begun the day
        # before), by the day's ordinal: an instant finds its day without being converted to a
        # timestamp, and its stretch among a few.
        self._days: dict[int, _Day] = {}
        # The calendar's own next allowed instant from each closed stretch, by the stretch's
        # start (None: never, as far as the search goes).
        self._reopens: dict[datetime, datetime | None] = {}

    @property
    def entries(self) -> tuple[TimelineEntry, ...]:
        return self._entries

    def failures(self, t: datetime) -> Failures:
        """The calendar rules that refuse a contact starting at `t`, each with its verdict."""
        if t.tzinfo is not UTC:
            t = t.astimezone(UTC)
        day = self._days.get(t.toordinal())
        if day is None:
            day = self._build(t)
        starts, failures = day
        return failures[bisect_right(starts, t) - 1]

    def reopens(self, t: datetime) -> datetime | None:
        """Where the search for the next allowed instant (`decide()`) ends from `t`, for a `t` at
        which the calendar refuses and no other rule can: every failing verdict of a stretch
        says when its rule reopens, at or after the stretch's end, so the search takes the same
        steps from any instant of the stretch, and is made once per stretch."""
        if t.tzinfo is not UTC:
            t = t.astimezone(UTC)
        day = self._days.get(t.toordinal())
        if day is None:
            day = self._build(t)
        starts, failures = day
        index = bisect_right(starts, t) - 1
        start = starts[index]
        if start in self._reopens:
            return self._reopens[start]
        found = self._search(start, failures[index])
        if len(self._reopens) >= _MAX_DAYS:
            self._reopens.clear()
        self._reopens[start] = found
        return found

    def _search(self, t: datetime, failing: Failures) -> datetime | None:
        """`decide()`'s search (`engine._next_allowed`) over the calendar rules alone."""
        for _ in range(SEARCH_STEPS):
            moved = t
            for _, (_, _, _, _, earliest, _) in failing:
                if earliest is None:
                    return None
                if earliest > moved:
                    moved = earliest
            t = moved if moved > t else t + _MINUTE
            failing = self.failures(t)
            if not failing:
                return t
        return None

    def _build(self, t: datetime) -> _Day:
        """Cut the week (`CHUNK`) holding `t` into stretches, ask every rule at the start of each,
        and file the stretches by UTC day."""
        chunk = int(t.timestamp() // CHUNK)
        low, high = chunk * CHUNK, (chunk + 1) * CHUNK
        cuts: set[float] = {low}
        for tz in self._zones:
            cuts.update(day_boundaries(tz, low, high))
        for _, rule, zones, margin in self._entries:
            if not isinstance(rule, WindowRule):
                continue
            for tz in zones:
                # A rule looks up to two weeks ahead for the next opening (WindowRule.check).
                for ahead in range(3):
                    opens, closes = allowed_intervals(rule, tz.key, margin, chunk + ahead)
                    cuts.update(x for x in opens if low < x < high)
                    cuts.update(x for x in closes if low < x < high)
        cuts.update(range(low, high, _DAY))  # each UTC day starts a stretch of its own
        starts = [datetime.fromtimestamp(start, UTC) for start in sorted(cuts)]
        failures: list[Failures] = []
        for start in starts:
            found = []
            for place, rule, zones, margin in self._entries:
                verdict = rule.check(zones, margin, start)
                if verdict is not None:
                    found.append((place, verdict))
            failures.append(tuple(found))
        if len(self._days) >= _MAX_DAYS:
            self._days.clear()
        for day in range(low, high, _DAY):
            begins = datetime.fromtimestamp(day, UTC)
            first = bisect_left(starts, begins)  # a stretch starts at each UTC midnight
            last = bisect_left(starts, datetime.fromtimestamp(day + _DAY, UTC))
            self._days[begins.toordinal()] = (starts[first:last], failures[first:last])
        return self._days[t.toordinal()]
