"""Rules that count the audit trail: caps, cool-offs, channel locks and minimum gaps.

A plan (`campaigns.compliance.plan`) asks each for a `Prober` once per channel and zones, with
everything that depends on the rule alone worked out; per decision, the prober gets the history in
time order and the index of its first event that can still count at or after the decision's
instant (`HistoryRule.reach`), picks the events that can count (kind, channel, scope) from there
and sorts their instants once, so that judging an
instant — the decision's own, then each candidate of the search for the next allowed one — is a
bisection. A probe of None means the rule cannot fail with this history. Probes over sorted
instants are the rule's judging function with the instants bound (`functools.partial`, built in
C), not a new closure per decision."""

from __future__ import annotations

from abc import abstractmethod
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache, partial
from zoneinfo import ZoneInfo

from campaigns.compliance.clock import local_midnight
from campaigns.compliance.model import Code, Contact, Event, EventKind
from campaigns.compliance.rules.base import Probe, Rule, Verdict

# A Verdict from a tuple of all its fields, in C: probes make one at each instant they refuse.
_verdict = partial(tuple.__new__, Verdict)

__all__ = ["CapRule", "ChannelLockRule", "CooloffRule", "HistoryRule", "MinGapRule", "Prober"]

#: A history rule ready for one channel and zones: the probe for a contact and its history
#: (in time order), given the index of the first event within the rule's reach of the instant.
Prober = Callable[[Contact, tuple[Event, ...], int], Probe | None]

_COUNTED_KINDS = {
    "attempts": frozenset({EventKind.ATTEMPT}),
    "connected": frozenset({EventKind.ATTEMPT}),
    "two_way": frozenset({EventKind.TWO_WAY_CONTACT}),
    "messages": frozenset({EventKind.MESSAGE_SENT}),
    "communications": frozenset({EventKind.ATTEMPT, EventKind.MESSAGE_SENT}),
}
_TRIGGER_ES = {"conversation": "una conversación", "two_way_contact": "un contacto directo"}


def _until(until: str, trigger_es: str, trigger_en: str) -> tuple[str, str]:
    """The sentences naming an instant take it written once (`isoformat()` is slow)."""
    return (
        f"periodo de espera tras {trigger_es} hasta {until}",
        f"cool-off after a {trigger_en} until {until}",
    )


def _locked_until(end: str) -> tuple[str, str]:
    return (
        f"tras un contacto directo por otro canal, este canal espera hasta {end}",
        f"after a two-way contact on another channel, this one waits until {end}",
    )


def _last_was(last: str, head_es: str, head_en: str) -> tuple[str, str]:
    return f"{head_es}{last}", f"{head_en}{last}"


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryRule(Rule):
    """A rule that counts the audit trail; see the module's docstring."""

    @abstractmethod
    def prober(self, channel: str, zones: tuple[ZoneInfo, ...]) -> Prober: ...

    @abstractmethod
    def reach(self) -> timedelta:
        """How long an event can matter: one at or before `at - reach()` changes no verdict at
        `at` or later, so `decide()` leaves it out of what the prober counts."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CapRule(HistoryRule):
    per: frozenset[str]
    counts: str  # attempts | connected | two_way | messages | communications
    max: int
    window_kind: str  # rolling | calendar
    length: timedelta | None = None  # rolling
    unit: str | None = None  # calendar: day | week
    week_start: int = 0
    exclude_not_connected: bool = False
    active_after: str | None = None
    line_types: frozenset[str] | None = None
    when_no_consent: bool = False

    def reach(self) -> timedelta:
        """The rolling length, or a local day or week (plus the widest UTC offset change, for
        any candidate zone)."""
        if self.window_kind == "rolling":
            assert self.length is not None
            return self.length
        return timedelta(days=7 if self.unit == "week" else 1, hours=3)

    def prober(self, channel: str, zones: tuple[ZoneInfo, ...]) -> Prober:
        limit = self.max
        line_types = self.line_types
        consented = self.when_no_consent  # the cap applies only without consent to `channel`
        after_two_way = self.active_after == "two_way_contact"
        two_way = EventKind.TWO_WAY_CONTACT
        kinds = _COUNTED_KINDS[self.counts]
        channels = self.channels
        strict = self.counts == "connected" or self.exclude_not_connected
        attempt = EventKind.ATTEMPT
        per_debt = "debt" in self.per
        per_phone = "phone" in self.per
        reach = self.reach()
        judge = self._rolling(reach) if self.window_kind == "rolling" else self._calendar(zones)

        def probe(
            times: list[datetime], active_from: datetime | None, t: datetime
        ) -> Verdict | None:
            """The verdict at `t` over `times`, the sorted instants of the events that count."""
            if active_from is not None and active_from > t:
                return None
            high = bisect_right(times, t)
            if high < limit:
                return None
            low = bisect_right(times, t - reach, 0, high)
            if high - low < limit:
                return None
            return judge(times, low, high, t)

        def prepare(contact: Contact, everything: tuple[Event, ...], first: int) -> Probe | None:
            if len(everything) - first < limit:
                return None
            if line_types is not None and (contact.line_type or "unknown") not in line_types:
                return None
            if consented and channel in contact.consent:
                return None
            debt = contact.debt if per_debt else None
            phone = contact.phone if per_phone else None
            history = everything[first:] if first else everything
            # A loop, not a comprehension (no function object per call), and one loop per shape
            # of the filter: a condition that cannot fail costs as much per event as one that can.
            times: list[datetime] = []
            keep = times.append
            if debt is None and phone is None and not strict:
                for e in history:
                    if e.kind in kinds and (channels is None or e.channel in channels):
                        keep(e.at)
            elif phone is None and not strict:
                for e in history:
                    if (
                        e.kind in kinds
                        and (channels is None or e.channel in channels)
                        and (e.debt is None or e.debt == debt)
                    ):
                        keep(e.at)
            else:
                for e in history:
                    if (
                        e.kind in kinds
                        and (channels is None or e.channel in channels)
                        and not (strict and e.kind is attempt and e.connected is False)
                        and (debt is None or e.debt is None or e.debt == debt)
                        and (phone is None or e.phone is None or e.phone == phone)
                    ):
                        keep(e.at)
            if len(times) < limit:
                return None
            active_from = None  # the cap counts from the first two-way contact on
            if after_two_way:
                two_ways = [e.at for e in everything if e.kind is two_way]
                if not two_ways:
                    return None
                active_from = min(two_ways)
            times.sort()  # stable: equal instants keep the history's order, as verdicts name them
            return partial(probe, times, active_from)

        return prepare

    def _rolling(
        self, length: timedelta
    ) -> Callable[[list[datetime], int, int, datetime], Verdict]:
        """The verdict of a rolling cap over `times[low:high]`, the counted events within
        `length` before the instant (at least `max` of them)."""
        limit = self.max
        days = length.days or length.total_seconds() / 86400
        scope = "+".join(sorted(self.per))
        # The sentences but for the count, written once per rule.
        tail_es = f" {_WHAT_ES[self.counts]} en {days:g} días (máximo {limit}, por {scope})"
        tail_en = f" {self.counts} in {days:g} days already (max {limit} per {scope})"

        def judge(times: list[datetime], low: int, high: int, t: datetime) -> Verdict:
            count = high - low
            # Written now: two short strings cost less than a closure to write them later.
            return _verdict(
                (
                    Code.CAP_EXCEEDED,
                    None,
                    f"ya hay {count}{tail_es}",
                    f"{count}{tail_en}",
                    times[high - limit] + length,
                    None,
                )
            )

        return judge

    def _calendar(
        self, zones: tuple[ZoneInfo, ...]
    ) -> Callable[[list[datetime], int, int, datetime], Verdict | None]:
        """The verdict of a calendar cap (local day or week, in every zone) over
        `times[low:high]`, the counted events within reach of the instant."""
        limit = self.max
        counts = self.counts
        what_es = _WHAT_ES[counts]
        scope = "+".join(sorted(self.per))
        unit_es = "hoy" if self.unit == "day" else "esta semana"
        unit_en = "today" if self.unit == "day" else "this week"
        period = self._period
        # The sentences but for the count, written once per rule and zone.
        tails = {
            tz: (
                f" {what_es} {unit_es} en {tz.key} (máximo {limit}, por {scope})",
                f" {counts} {unit_en} in {tz.key} already (max {limit} per {scope})",
            )
            for tz in zones
        }

        def judge(times: list[datetime], low: int, high: int, t: datetime) -> Verdict | None:
            worst: tuple[ZoneInfo, int, datetime] | None = None
            for tz in zones:
                start, end = period(t, tz)
                n = bisect_left(times, end, low, high) - bisect_left(times, start, low, high)
                if n >= limit and (worst is None or end > worst[2]):
                    worst = (tz, n, end)
            if worst is None:
                return None
            tz, n, end = worst
            tail_es, tail_en = tails[tz]
            return _verdict(
                (Code.CAP_EXCEEDED, tz.key, f"ya hay {n}{tail_es}", f"{n}{tail_en}", end, None)
            )

        return judge

    def _period(self, t: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
        return _period(t.astimezone(tz).date(), tz, self.unit == "week", self.week_start)


@lru_cache(maxsize=16_384)
def _period(day: date, tz: ZoneInfo, week: bool, week_start: int) -> tuple[datetime, datetime]:
    """The UTC bounds of the local day (or week starting on `week_start`) holding `day`."""
    if week:
        first = day - timedelta(days=(day.weekday() - week_start) % 7)
        return local_midnight(first, tz), local_midnight(first + timedelta(days=7), tz)
    return local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)


_WHAT_ES = {
    "attempts": "intentos",
    "connected": "llamadas conectadas",
    "two_way": "contactos directos",
    "messages": "mensajes",
    "communications": "comunicaciones",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class CooloffRule(HistoryRule):
    """After a trigger event, `channels` are blocked for a rolling time or N local days
    (the trigger's day counting as day 1)."""

    trigger: str
    per: frozenset[str]
    until_kind: str  # rolling | calendar_days_inclusive
    length: timedelta | None = None
    days: int = 0

    def reach(self) -> timedelta:
        """The rolling length, or N local days from the trigger's own local day (which began up
        to a day before it), plus the widest UTC offset change."""
        if self.until_kind == "rolling":
            assert self.length is not None
            return self.length
        return timedelta(days=self.days + 1, hours=3)

    def prober(self, channel: str, zones: tuple[ZoneInfo, ...]) -> Prober:
        trigger = self.trigger
        triggers = frozenset({trigger})  # `in` a set: no string comparison per event
        per_debt = "debt" in self.per
        per_phone = "phone" in self.per
        length = self.length if self.until_kind == "rolling" else None
        days = timedelta(days=self.days)
        trigger_es = _TRIGGER_ES[trigger]
        trigger_en = trigger.replace("_", " ")

        def prepare(contact: Contact, history: tuple[Event, ...], first: int) -> Probe | None:
            debt = contact.debt if per_debt else None
            phone = contact.phone if per_phone else None
            # (trigger instant, end of its cool-off, zone the end was reckoned in), in order
            ends: list[tuple[datetime, datetime, str | None]] = []
            for event in [
                e
                for e in history[first:]
                if e.kind in triggers
                and (debt is None or e.debt is None or e.debt == debt)
                and (phone is None or e.phone is None or e.phone == phone)
            ]:
                if length is not None:
                    ends.append((event.at, event.at + length, None))
                else:
                    for tz in zones:
                        day = event.at.astimezone(tz).date()
                        ends.append((event.at, local_midnight(day + days, tz), tz.key))
            if not ends:
                return None

            def probe(t: datetime) -> Verdict | None:
                worst: tuple[datetime, str | None] | None = None
                for happened, end, zone_name in ends:
                    if happened <= t and end > t and (worst is None or end > worst[0]):
                        worst = (end, zone_name)
                if worst is None:
                    return None
                until, zone_name = worst
                return Verdict(
                    Code.COOLOFF_ACTIVE,
                    zone_name,
                    "",
                    "",
                    until,
                    lambda _: _until(until.isoformat(), trigger_es, trigger_en),
                )

            return probe

        return prepare


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelLockRule(HistoryRule):
    """After a two-way contact on one channel, other channels wait (Colombia: one a week)."""

    trigger: str
    per: frozenset[str]
    length: timedelta

    def reach(self) -> timedelta:
        return self.length

    def prober(self, channel: str, zones: tuple[ZoneInfo, ...]) -> Prober:
        triggers = frozenset({self.trigger})  # `in` a set: no string comparison per event
        per_debt = "debt" in self.per
        per_phone = "phone" in self.per
        length = self.length

        def prepare(contact: Contact, history: tuple[Event, ...], first: int) -> Probe | None:
            debt = contact.debt if per_debt else None
            phone = contact.phone if per_phone else None
            locks = [
                (e.at, e.at + length)
                for e in history[first:]
                if e.kind in triggers
                and e.channel is not None
                and e.channel != channel
                and (debt is None or e.debt is None or e.debt == debt)
                and (phone is None or e.phone is None or e.phone == phone)
            ]
            if not locks:
                return None

            def probe(t: datetime) -> Verdict | None:
                ends = [end for start, end in locks if start <= t < end]
                if not ends:
                    return None
                end = max(ends)
                return Verdict(
                    Code.COOLOFF_ACTIVE,
                    None,
                    "",
                    "",
                    end,
                    lambda _: _locked_until(end.isoformat()),
                )

            return probe

        return prepare


@dataclass(frozen=True, slots=True, kw_only=True)
class MinGapRule(HistoryRule):
    per: frozenset[str]
    gap: timedelta

    def reach(self) -> timedelta:
        """An event `gap` or more before the instant leaves the gap kept, as if absent."""
        return self.gap

    def prober(self, channel: str, zones: tuple[ZoneInfo, ...]) -> Prober:
        kinds = frozenset({EventKind.ATTEMPT, EventKind.MESSAGE_SENT})
        channels = self.channels
        per_debt = "debt" in self.per
        per_phone = "phone" in self.per
        gap = self.gap
        hours = gap.total_seconds() / 3600
        head_es = f"deben pasar {hours:g} h entre contactos; el último fue "
        head_en = f"{hours:g} h must pass between contacts; the last was "

        def probe(times: list[datetime], t: datetime) -> Verdict | None:
            """The verdict at `t` after the sorted instants `times` of the events that count."""
            index = bisect_right(times, t)
            if index == 0:
                return None
            last = times[bisect_left(times, times[index - 1])]
            if t >= last + gap:
                return None
            return Verdict(
                Code.MIN_GAP,
                None,
                "",
                "",
                last + gap,
                lambda _: _last_was(last.isoformat(), head_es, head_en),
            )

        def prepare(contact: Contact, history: tuple[Event, ...], first: int) -> Probe | None:
            debt = contact.debt if per_debt else None
            phone = contact.phone if per_phone else None
            times = [
                e.at
                for e in history[first:]
                if e.kind in kinds
                and (channels is None or e.channel in channels)
                and (debt is None or e.debt is None or e.debt == debt)
                and (phone is None or e.phone is None or e.phone == phone)
            ]
            if not times:
                return None
            times.sort()  # stable: of equal instants, the first in the history is the one named
            return partial(probe, times)

        return prepare
