"""Rule kinds and how each one judges a contact at an instant (pure: no clock, no I/O).

Each evaluable rule answers `check(ctx, t)`: None when it allows at `t`, else a Verdict with
the code, the zone it failed in, a sentence in Spanish and English, and the earliest instant
≥ `t` at which this rule alone would allow (None = never, as far as this rule knows).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import phonenumbers

from campaigns.compliance.clock import at_local, holiday_dates, local_midnight, zone
from campaigns.compliance.model import Code, Contact, Event, EventKind

__all__ = [
    "CallerIdRule",
    "CapRule",
    "ChannelAuthorizationRule",
    "ChannelBlockRule",
    "ChannelLockRule",
    "ConsentRule",
    "Context",
    "CooloffRule",
    "HolidayRule",
    "MinGapRule",
    "PartyRule",
    "ProvenanceRule",
    "Rule",
    "ScriptRule",
    "Verdict",
    "WindowRule",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_COUNTED_KINDS = {
    "attempts": frozenset({EventKind.ATTEMPT}),
    "connected": frozenset({EventKind.ATTEMPT}),
    "two_way": frozenset({EventKind.TWO_WAY_CONTACT}),
    "messages": frozenset({EventKind.MESSAGE_SENT}),
    "communications": frozenset({EventKind.ATTEMPT, EventKind.MESSAGE_SENT}),
}
_TRIGGER_ES = {"conversation": "una conversación", "two_way_contact": "un contacto directo"}
_WEEKDAY_ES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")


@dataclass(frozen=True, slots=True)
class Verdict:
    """A rule's "no": `describe`, when given, writes the sentences only if someone reads them
    (the search for the next allowed instant makes many verdicts nobody reads)."""

    code: Code
    zone: str | None
    detail_es: str
    detail_en: str
    earliest: datetime | None
    describe: Callable[[], tuple[str, str]] | None = None

    def texts(self) -> tuple[str, str]:
        return self.describe() if self.describe is not None else (self.detail_es, self.detail_en)


@dataclass(frozen=True, slots=True)
class Context:
    """What every rule of one pack sees for one decision."""

    contact: Contact
    channel: str
    zones: tuple[ZoneInfo, ...]
    history: tuple[Event, ...]
    end_margin: timedelta


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    id: str
    kind: str
    status: str
    source: str | None
    channels: frozenset[str] | None = None  # None = every channel
    note: str | None = None

    def applies_to(self, channel: str) -> bool:
        return self.channels is None or channel in self.channels

    def check(self, ctx: Context, t: datetime) -> Verdict | None:
        raise AssertionError(f"{type(self).__name__} is not evaluated when deciding")


# -- time windows ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowRule(Rule):
    """Local wall-clock ranges per weekday, half-open [start, end), in seconds after midnight."""

    days: tuple[tuple[tuple[int, int], ...], ...]  # index 0 = Monday

    def _earliest_in(self, tz: ZoneInfo, t: datetime, margin: int) -> datetime | None:
        """`t` if a contact may start at `t` in `tz`, else the next instant one may (≤ 3 weeks)."""
        ts = t.timestamp()
        chunk = int(ts // _CHUNK)
        for ahead in range(3):
            starts, ends = _allowed_intervals(self, tz.key, margin, chunk + ahead)
            index = bisect_right(starts, ts) - 1
            if ahead == 0 and index >= 0 and ts < ends[index]:
                return t
            if index + 1 < len(starts):
                return datetime.fromtimestamp(starts[index + 1], UTC)
        return None

    def check(self, ctx: Context, t: datetime) -> Verdict | None:
        margin = int(ctx.end_margin.total_seconds())
        failing: ZoneInfo | None = None
        earliest: datetime | None = t
        for tz in ctx.zones:
            opens = self._earliest_in(tz, t, margin)
            if opens == t:
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
        ranges = self.days[local.weekday()]
        if not ranges:
            return Verdict(
                Code.DAY_CLOSED,
                tz.key,
                "",
                "",
                earliest,
                lambda: (
                    f"no se permite contactar en {_WEEKDAY_ES[local.weekday()]} ({tz.key})",
                    f"no contact allowed on {local.strftime('%A')}s ({tz.key})",
                ),
            )

        def describe() -> tuple[str, str]:
            shown = ", ".join(f"{_hhmm(s)}–{_hhmm(e)}" for s, e in ranges)
            note_es = f", sin iniciar en los últimos {margin // 60} min" if margin else ""
            note_en = f", no start in the last {margin // 60} min" if margin else ""
            clock = local.strftime("%H:%M")
            return (
                f"son las {clock} en {tz.key}; horario permitido {shown}{note_es}",
                f"it is {clock} in {tz.key}; allowed {shown}{note_en}",
            )

        return Verdict(Code.WINDOW_CLOSED, tz.key, "", "", earliest, describe)


_CHUNK = 7 * 86_400  # seconds of UTC time per cached piece of a window's timeline
_INTERVALS: dict[tuple[int, str, int, int], tuple[WindowRule, tuple[float, ...], tuple[float, ...]]]
_INTERVALS = {}


def _allowed_intervals(
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
    low, high = chunk * _CHUNK, (chunk + 1) * _CHUNK
    day = datetime.fromtimestamp(low, UTC).astimezone(tz).date() - timedelta(days=1)
    last = datetime.fromtimestamp(high, UTC).astimezone(tz).date() + timedelta(days=1)
    starts: list[float] = []
    ends: list[float] = []
    while day <= last:
        for start, end in rule.days[day.weekday()]:
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
class HolidayRule(Rule):
    country: str
    subdiv: str | None
    extra: frozenset[date]
    removed: frozenset[date]

    def is_holiday(self, day: date) -> bool:
        if day in self.removed:
            return False
        return day in self.extra or day in holiday_dates(self.country, self.subdiv, day.year)

    def check(self, ctx: Context, t: datetime) -> Verdict | None:
        worst: tuple[ZoneInfo, date, datetime] | None = None
        for tz in ctx.zones:
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


# -- counting the audit trail ---------------------------------------------------------------------


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

    def _times(self, ctx: Context, t: datetime) -> list[datetime]:
        """When each counted event of the scope happened (unsorted)."""
        kinds = _COUNTED_KINDS[self.counts]
        channels = self.channels
        strict = self.counts == "connected" or self.exclude_not_connected
        debt = ctx.contact.debt if "debt" in self.per else None
        phone = ctx.contact.phone if "phone" in self.per else None
        return [
            e.at
            for e in ctx.history
            if e.kind in kinds
            and e.at <= t
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
            inside = [x for x in times if x > t - self.length]
            if len(inside) < self.max:
                return None
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


# -- static rules ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PartyRule(Rule):
    allowed_roles: frozenset[str]
    forbidden_roles: frozenset[str]
    location_only_roles: frozenset[str]

    def check(self, ctx: Context, t: datetime) -> Verdict | None:
        role = ctx.contact.role or "unknown"
        if role in self.allowed_roles and role not in self.forbidden_roles:
            return None
        if role in self.location_only_roles:
            es = f"con un(a) {role} solo se permite pedir datos de localización, no cobrar"
            en = f"a {role} may only be asked for location information, not about the debt"
        else:
            allowed = ", ".join(sorted(self.allowed_roles))
            es = f"no se permite contactar a un(a) {role}; solo: {allowed}"
            en = f"contacting a {role} is not allowed; only: {allowed}"
        return Verdict(Code.THIRD_PARTY_FORBIDDEN, None, es, en, None)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProvenanceRule(Rule):
    allowed: frozenset[str]

    def check(self, ctx: Context, t: datetime) -> Verdict | None:
        provenance = ctx.contact.provenance
        if provenance in self.allowed:
            return None
        what = provenance or "unknown"
        return Verdict(
            Code.CONTACT_POINT_NOT_ALLOWED,
            None,
            f"solo se permiten los datos de contacto proporcionados (este: {what})",
            f"only contact points the debtor or creditor provided may be used (this one: {what})",
            None,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CallerIdRule(Rule):
    prefix: str | None = None

    def check(self, ctx: Context, t: datetime) -> Verdict | None:
        caller = ctx.contact.caller_id
        if caller is None:
            return None  # chosen later by the dialer, which checks its pool against this rule
        if caller.lower() in ("restricted", "anonymous", "private", "hidden"):
            return Verdict(
                Code.CALLER_ID_INVALID,
                None,
                "el número que llama debe mostrarse (no oculto)",
                "the calling number must be presented, never hidden",
                None,
            )
        if self.prefix and not _national_starts_with(caller, self.prefix):
            return Verdict(
                Code.CALLER_ID_INVALID,
                None,
                f"el número que llama debe empezar con {self.prefix} (es {caller})",
                f"the calling number must start with {self.prefix} (it is {caller})",
                None,
            )
        return None


def _national_starts_with(e164: str, prefix: str) -> bool:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    return str(number.national_number).startswith(prefix)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentRule(Rule):
    line_types: frozenset[str] | None

    def check(self, ctx: Context, t: datetime) -> Verdict | None:
        line = ctx.contact.line_type or "unknown"
        if self.line_types is not None and line not in self.line_types:
            return None
        if ctx.channel in ctx.contact.consent:
            return None
        return Verdict(
            Code.CONSENT_REQUIRED,
            None,
            f"se requiere consentimiento previo para {ctx.channel} a una línea {line}",
            f"prior express consent is needed for {ctx.channel} to a {line} line",
            None,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelAuthorizationRule(Rule):
    def check(self, ctx: Context, t: datetime) -> Verdict | None:
        allowed = ctx.contact.authorized_channels
        if allowed is None or ctx.channel in allowed:
            return None
        shown = ", ".join(sorted(allowed)) or "ninguno"
        return Verdict(
            Code.CHANNEL_NOT_AUTHORIZED,
            None,
            f"el deudor no autorizó {ctx.channel} (autorizó: {shown})",
            f"the debtor did not authorise {ctx.channel} (authorised: {shown})",
            None,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelBlockRule(Rule):
    def check(self, ctx: Context, t: datetime) -> Verdict | None:
        return Verdict(
            Code.CHANNEL_NOT_AUTHORIZED,
            None,
            f"el canal {ctx.channel} no se permite en esta jurisdicción",
            f"channel {ctx.channel} is not allowed in this jurisdiction",
            None,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ScriptRule(Rule):
    """A rule on what is said (disclosures, voicemail content…): checked on scripts and
    templates, not when deciding whether a contact may happen. Kept with its keys."""

    check_at: str
    spec: tuple[tuple[str, object], ...]
