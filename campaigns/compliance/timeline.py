"""One UTC timeline for all the calendar rules (windows, holidays) a decision asks.

The calendar rules of a plan (`campaigns.compliance.plan`) answer from the instant alone: in which
zone a window is closed, until when, whether the local day is a holiday. Those answers change only
at a few instants — where a window range opens or closes in some zone (margins included), at each
local midnight and each change of UTC offset of a zone — so the timeline cuts UTC time into the
stretches between them, asks every rule once at the start of each stretch, and answers any later
instant by bisection. Stretches are built a week of UTC time (`CHUNK`) at a time, when an instant
in that week is first asked about, and shared by every decision over the same rules and zones.

The rules' own `check` stays the authority: a stretch holds exactly what it answered at the
stretch's start. Only their sentences depend on the instant within the stretch (the local clock
time), and those are written from the instant the reason is given for (`Verdict.texts`).
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from campaigns.compliance.clock import day_boundaries
from campaigns.compliance.rules import CalendarRule, Verdict, WindowRule
from campaigns.compliance.rules.windows import CHUNK, allowed_intervals

__all__ = ["Failures", "Timeline", "TimelineEntry"]

#: One calendar rule as a plan asks it: (its place among the plan's timed rules, the rule, the
#: pack's candidate zones, the margin in seconds).
TimelineEntry = tuple[int, CalendarRule, tuple[ZoneInfo, ...], int]
#: The failing rules of a stretch, as (place among the plan's timed rules, verdict); () = open.
Failures = tuple[tuple[int, Verdict], ...]
_Week = tuple[list[float], list[Failures]]  # stretch starts, and what fails in each

_MAX_WEEKS = 4096  # per timeline; a long-running process forgets old weeks past this


class Timeline:
    """The calendar rules of one plan, answered per stretch of UTC time."""

    __slots__ = ("_entries", "_weeks", "_zones")

    def __init__(self, entries: tuple[TimelineEntry, ...]) -> None:
        self._entries = entries
        self._zones = tuple(dict.fromkeys(z for _, _, zones, _ in entries for z in zones))
        self._weeks: dict[float, _Week] = {}

    def failures(self, t: datetime) -> Failures:
        """The calendar rules that refuse a contact starting at `t`, each with its verdict."""
        ts = t.timestamp()
        week = self._weeks.get(ts // CHUNK)  # a float key finds the int key it equals
        if week is None:
            week = self._build(int(ts // CHUNK))
        starts, failures = week
        return failures[bisect_right(starts, ts) - 1]

    def _build(self, chunk: int) -> _Week:
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
        starts = sorted(cuts)
        failures: list[Failures] = []
        for start in starts:
            t = datetime.fromtimestamp(start, UTC)
            found = []
            for place, rule, zones, margin in self._entries:
                verdict = rule.check(zones, margin, t)
                if verdict is not None:
                    found.append((place, verdict))
            failures.append(tuple(found))
        if len(self._weeks) >= _MAX_WEEKS:
            self._weeks.clear()
        week = (starts, failures)
        self._weeks[chunk] = week
        return week
