"""Rules that count the audit trail: caps, cool-offs, channel locks and minimum gaps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from campaigns.compliance.clock import local_midnight
from campaigns.compliance.model import Code, Contact, Event, EventKind
from campaigns.compliance.rules.base import Context, Rule, Verdict

__all__ = ["CapRule", "ChannelLockRule", "CooloffRule", "MinGapRule"]

_COUNTED_KINDS = {
    "attempts": frozenset({EventKind.ATTEMPT}),
    "connected": frozenset({EventKind.ATTEMPT}),
    "two_way": frozenset({EventKind.TWO_WAY_CONTACT}),
    "messages": frozenset({EventKind.MESSAGE_SENT}),
    "communications": frozenset({EventKind.ATTEMPT, EventKind.MESSAGE_SENT}),
}
_TRIGGER_ES = {"conversation": "una conversación", "two_way_contact": "un contacto directo"}


def _in_scope(per: frozenset[str], contact: Contact, event: Event) -> bool:
    if "debt" in per and contact.debt is not None and event.debt not in (None, contact.debt):
        return False
    return not (
        "phone" in per and contact.phone is not None and event.phone not in (None, contact.phone)
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class CapRule(Rule):
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

    def _active(self, ctx: Context, t: datetime) -> bool:
        contact = ctx.contact
        if self.line_types is not None and (contact.line_type or "unknown") not in self.line_types:
            return False
        if self.when_no_consent and ctx.channel in contact.consent:
            return False
        if self.active_after == "two_way_contact":
            return any(e.kind is EventKind.TWO_WAY_CONTACT and e.at <= t for e in ctx.history)
        return True

    def _reach(self) -> timedelta:
        """How far back an event can still count at any instant: the rolling length, or a local
        day or week (plus the widest UTC offset change, for any candidate zone)."""
        if self.window_kind == "rolling":
            assert self.length is not None
            return self.length
        return timedelta(days=7 if self.unit == "week" else 1, hours=3)

    def _times(self, ctx: Context, t: datetime) -> list[datetime]:
        """When each counted event of the scope happened within reach of `t` (unsorted)."""
        since = t - self._reach()
        kinds = _COUNTED_KINDS[self.counts]
        channels = self.channels
        strict = self.counts == "connected" or self.exclude_not_connected
        debt = ctx.contact.debt if "debt" in self.per else None
        phone = ctx.contact.phone if "phone" in self.per else None
        return [
            e.at
            for e in ctx.history
            if e.kind in kinds
            and since < e.at <= t
            and (channels is None or e.channel in channels)
            and not (strict and e.kind is EventKind.ATTEMPT and e.connected is False)
            and (debt is None or e.debt is None or e.debt == debt)
            and (phone is None or e.phone is None or e.phone == phone)
        ]

    def check(self, ctx: Context, t: datetime) -> Verdict | None:
        if len(ctx.history) < self.max or not self._active(ctx, t):
            return None
        times = self._times(ctx, t)
        if len(times) < self.max:
            return None
        times.sort()
        scope = "+".join(sorted(self.per))
        if self.window_kind == "rolling":
            assert self.length is not None
            inside = times  # _times kept only those after t - length
            earliest = inside[len(inside) - self.max] + self.length
            days = self.length.days or self.length.total_seconds() / 86400
            count = len(inside)
            return Verdict(
                Code.CAP_EXCEEDED,
                None,
                "",
                "",
                earliest,
                lambda: (
                    f"ya hay {count} {self._what_es()} en {days:g} días "
                    f"(máximo {self.max}, por {scope})",
                    f"{count} {self.counts} in {days:g} days already (max {self.max} per {scope})",
                ),
            )
        worst: tuple[ZoneInfo, int, datetime] | None = None
        for tz in ctx.zones:
            start, end = self._period(t, tz)
            n = sum(1 for x in times if start <= x < end)
            if n >= self.max and (worst is None or end > worst[2]):
                worst = (tz, n, end)
        if worst is None:
            return None
        tz, n, end = worst
        unit_es = "hoy" if self.unit == "day" else "esta semana"
        unit_en = "today" if self.unit == "day" else "this week"
        return Verdict(
            Code.CAP_EXCEEDED,
            tz.key,
            "",
            "",
            end,
            lambda: (
                f"ya hay {n} {self._what_es()} {unit_es} en {tz.key} "
                f"(máximo {self.max}, por {scope})",
                f"{n} {self.counts} {unit_en} in {tz.key} already (max {self.max} per {scope})",
            ),
        )

    def _what_es(self) -> str:
        return {
            "attempts": "intentos",
            "connected": "llamadas conectadas",
            "two_way": "contactos directos",
            "messages": "mensajes",
            "communications": "comunicaciones",
        }[self.counts]

    def _period(self, t: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
        day = t.astimezone(tz).date()
        if self.unit == "week":
            first = day - timedelta(days=(day.weekday() - self.week_start) % 7)
            return local_midnight(first, tz), local_midnight(first + timedelta(days=7), tz)
        return local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)


@dataclass(frozen=True, slots=True, kw_only=True)
class CooloffRule(Rule):
    """After a trigger event, `channels` are blocked for a rolling time or N local days
    (the trigger's day counting as day 1)."""

    trigger: str
    per: frozenset[str]
    until_kind: str  # rolling | calendar_days_inclusive
    length: timedelta | None = None
    days: int = 0

    def check(self, ctx: Context, t: datetime) -> Verdict | None:
        worst: tuple[datetime, str | None] | None = None
        for event in ctx.history:
            if event.kind != self.trigger or event.at > t:
                continue
            if not _in_scope(self.per, ctx.contact, event):
                continue
            if self.until_kind == "rolling":
                assert self.length is not None
                ends: list[tuple[datetime, str | None]] = [(event.at + self.length, None)]
            else:
                ends = []
                for tz in ctx.zones:
                    day = event.at.astimezone(tz).date()
                    ends.append((local_midnight(day + timedelta(days=self.days), tz), tz.key))
            for end, zone_name in ends:
                if end > t and (worst is None or end > worst[0]):
                    worst = (end, zone_name)
        if worst is None:
            return None
        end, zone_name = worst
        return Verdict(
            Code.COOLOFF_ACTIVE,
            zone_name,
            "",
            "",
            end,
            lambda: (
                f"periodo de espera tras {_TRIGGER_ES[self.trigger]} hasta {end.isoformat()}",
                f"cool-off after a {self.trigger.replace('_', ' ')} until {end.isoformat()}",
            ),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelLockRule(Rule):
    """After a two-way contact on one channel, other channels wait (Colombia: one a week)."""

    trigger: str
    per: frozenset[str]
    length: timedelta

    def check(self, ctx: Context, t: datetime) -> Verdict | None:
        ends = [
            e.at + self.length
            for e in ctx.history
            if e.kind == self.trigger
            and e.at <= t < e.at + self.length
            and e.channel is not None
            and e.channel != ctx.channel
            and _in_scope(self.per, ctx.contact, e)
        ]
        if not ends:
            return None
        end = max(ends)
        return Verdict(
            Code.COOLOFF_ACTIVE,
            None,
            f"tras un contacto directo por otro canal, este canal espera hasta {end.isoformat()}",
            f"after a two-way contact on another channel, this one waits until {end.isoformat()}",
            end,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class MinGapRule(Rule):
    per: frozenset[str]
    gap: timedelta

    def check(self, ctx: Context, t: datetime) -> Verdict | None:
        last = max(
            (
                e.at
                for e in ctx.history
                if e.kind in (EventKind.ATTEMPT, EventKind.MESSAGE_SENT)
                and e.at <= t
                and (self.channels is None or e.channel in self.channels)
                and _in_scope(self.per, ctx.contact, e)
            ),
            default=None,
        )
        if last is None or t >= last + self.gap:
            return None
        hours = self.gap.total_seconds() / 3600
        return Verdict(
            Code.MIN_GAP,
            None,
            f"deben pasar {hours:g} h entre contactos; el último fue {last.isoformat()}",
            f"{hours:g} h must pass between contacts; the last was {last.isoformat()}",
            last + self.gap,
        )
