"""`CallerIdPicker`: which pool number to present to one debtor phone, sans-I/O.

Local presence first: a number with the debtor's area code, else one of their subdivision, else
one in one of their candidate zones, else any number of their country (never another
country's). Within the best tier that has a usable number (active, compliant for the debtor,
not resting, under its daily cap, past its cool-down) the least used relative to its cap and
health wins: `(used today + 1) / (daily_cap × health)`, ties to the longest unused. Numbers are
indexed once by area code, subdivision, zone and country, so a pick looks only at the numbers
of the tiers it tries. Usage and health live here; `dialer.callerid_store` loads and saves them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from itertools import chain
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog

from campaigns.compliance import Pack
from campaigns.enums import AttemptOutcome
from dialer.callerid.compliance import CALL_CHANNELS, PRESENTED_RULE, CallerIdRules, NumberProblem
from dialer.callerid.health import HealthAlert, HealthConfig, HealthStats, HealthWindow, Tally
from dialer.callerid.health import classify as classify_result
from dialer.callerid.values import Choice, PoolNumber, Target, Tier
from dialer.errors import CallerIdError

__all__ = [
    "CallerIdPicker",
    "CallerIdUnavailable",
    "NumberStatus",
    "NumberUpdate",
    "local_day_start",
]

log = structlog.get_logger(__name__)

_MIN_HEALTH = 0.05  # a nearly dead number is still weighed, not divided by zero
_LONG_AGO = datetime.min.replace(tzinfo=UTC)


class CallerIdUnavailable(CallerIdError):
    """No number of the pool may be presented for this call now; `retry_at` is when the first
    one will be (None: not without changing the pool)."""

    def __init__(self, message: str, *, country: str, retry_at: datetime | None) -> None:
        super().__init__(message)
        self.country = country
        self.retry_at = retry_at


@dataclass(frozen=True, slots=True)
class NumberUpdate:
    """What `dialer.callerid_store.flush` writes for one number; `version` tells whether the
    number changed again while the write was in flight."""

    id: int
    last_used_at: datetime | None
    rest_until: datetime | None
    health_score: float
    version: int


@dataclass(frozen=True, slots=True)
class NumberStatus:
    """A number's live state, for dashboards and tests."""

    used_today: int
    last_used_at: datetime | None
    rest_until: datetime | None
    resting: bool
    health: HealthStats


def _zone(name: str | None) -> tzinfo:
    return ZoneInfo(name) if name else UTC


def local_day_start(zone: str | None, now: datetime) -> datetime:
    """The UTC instant the local day holding `now` began in `zone` (UTC when None): where a
    number's daily count starts. On a day whose midnight does not exist (Chile's spring-forward
    happens at 24:00) the day begins at the jump."""
    tz = _zone(zone)
    return datetime.combine(now.astimezone(tz).date(), time(), tzinfo=tz).astimezone(UTC)


def _next_midnight(tz: tzinfo, now: datetime) -> datetime:
    day = now.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def _aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"the picker needs an aware instant, got naive {now.isoformat()}")


def _short(subdivision: str) -> str:
    return subdivision.split("-")[-1]


class _State:
    """One usable number's live usage and health."""

    __slots__ = (
        "cap",
        "cooldown",
        "day_ends",
        "free_at",
        "last_stamp",
        "last_used_at",
        "number",
        "problems",
        "reasons",
        "rest_until",
        "resting",
        "score",
        "tz",
        "used",
        "window",
    )

    def __init__(
        self, number: PoolNumber, problems: tuple[NumberProblem, ...], window: HealthWindow
    ) -> None:
        self.number = number
        self.problems = problems
        self.window = window
        try:
            self.tz = _zone(number.zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"caller ID {number.e164}: unknown time zone {number.zone!r}"
            ) from None
        self.cap = number.daily_cap
        self.cooldown = timedelta(seconds=number.cooldown_seconds)
        self.used = 0
        self.day_ends = _LONG_AGO
        self.last_used_at: datetime | None = None
        self.free_at = _LONG_AGO
        self.last_stamp = -math.inf
        self.rest_until = number.rest_until
        self.resting = number.rest_until is not None
        self.score = number.health_score
        self.reasons = {
            Tier.AREA_CODE: f"local:area_code {number.area_code}",
            Tier.SUBDIVISION: f"state:{_short(number.subdivision or '')}",
            Tier.ZONE: f"zone:{number.zone}",
            Tier.COUNTRY: f"country:{number.country}",
        }
        self.used_at(number.last_used_at)

    def used_at(self, at: datetime | None) -> bool:
        """Remember a use at `at` if it is the latest; whether it was."""
        if at is None or (self.last_used_at is not None and at <= self.last_used_at):
            return False
        self.last_used_at = at
        self.free_at = at + self.cooldown
        self.last_stamp = at.timestamp()
        return True


class CallerIdPicker:
    """Chooses numbers of one pool for calls and keeps their usage and health.

    `packs` are the policy packs whose caller-ID rules the numbers must meet for debtors of
    their country (e.g. cl-l19496's 600 prefix); numbers that are hidden, empty or malformed
    are refused whatever the packs. Every refused number is in `problems`; health alerts
    collect in `alerts`. Not thread-safe: one picker per event loop.
    """

    def __init__(
        self,
        pool: str,
        numbers: Iterable[PoolNumber],
        *,
        packs: Iterable[Pack] = (),
        channels: Iterable[str] = CALL_CHANNELS,
        config: HealthConfig | None = None,
    ) -> None:
        self.pool = pool
        self.config = config or HealthConfig()
        self.alerts: list[HealthAlert] = []
        self.problems: dict[int, tuple[NumberProblem, ...]] = {}
        rules = CallerIdRules(packs, channels)
        self._states: dict[int, _State] = {}
        self._refused: dict[str, int] = {}
        self._pool_tallies: dict[str, Tally] = {}
        self._by_area: dict[tuple[str, str], list[_State]] = {}
        self._by_subdivision: dict[str, list[_State]] = {}
        self._by_zone: dict[tuple[str, str], list[_State]] = {}
        self._by_country: dict[str, list[_State]] = {}
        self._dirty: dict[int, int] = {}
        self._version = 0
        seen: set[str] = set()
        for number in sorted(numbers, key=lambda n: n.id):
            if number.id in self._states or number.id in self.problems or number.e164 in seen:
                raise ValueError(f"caller ID {number.e164} (id {number.id}) is given twice")
            seen.add(number.e164)
            problems = rules.problems(number)
            if problems:
                self.problems[number.id] = problems
            if any(p.rule == PRESENTED_RULE for p in problems):
                self._refused[number.country] = self._refused.get(number.country, 0) + 1
                log.warning(
                    "caller_id.refused", pool=pool, number_id=number.id, why=problems[0].detail
                )
                continue
            tally = self._pool_tallies.setdefault(number.country, Tally())
            state = _State(number, problems, HealthWindow(tally, self.config))
            self._states[number.id] = state
            self._index(state)

    def _index(self, s: _State) -> None:
        n = s.number
        if n.area_code:
            self._by_area.setdefault((n.country, n.area_code), []).append(s)
        if n.subdivision:
            self._by_subdivision.setdefault(n.subdivision, []).append(s)
        if n.zone:
            self._by_zone.setdefault((n.country, n.zone), []).append(s)
        self._by_country.setdefault(n.country, []).append(s)

    @property
    def numbers(self) -> tuple[PoolNumber, ...]:
        """The numbers the picker may choose from (refused ones excluded), as loaded."""
        return tuple(s.number for s in self._states.values())

    # ------------------------------------------------------------------ choosing

    def pick(self, target: Target, now: datetime) -> Choice:
        """The number to present to `target` at `now`, counted as used; CallerIdUnavailable
        (a CallerIdError) saying why and what to do when none may be."""
        _aware(now)
        country = target.country
        if target.area_code:
            found = self._best(self._by_area.get((country, target.area_code), ()), target, now)
            if found is not None:
                return self._use(found, Tier.AREA_CODE, now)
        if target.subdivision:
            found = self._best(self._by_subdivision.get(target.subdivision, ()), target, now)
            if found is not None:
                return self._use(found, Tier.SUBDIVISION, now)
        if target.zones:
            zoned = chain.from_iterable(self._by_zone.get((country, z), ()) for z in target.zones)
            found = self._best(zoned, target, now)
            if found is not None:
                return self._use(found, Tier.ZONE, now)
        found = self._best(self._by_country.get(country, ()), target, now)
        if found is not None:
            return self._use(found, Tier.COUNTRY, now)
        raise self._unavailable(target, now)

    def _best(self, states: Iterable[_State], target: Target, now: datetime) -> _State | None:
        best: _State | None = None
        best_load, best_stamp = math.inf, math.inf
        for s in states:
            if not s.number.active or (s.problems and self._blocked(s, target)):
                continue
            if s.resting and not self._awake(s, now):
                continue
            if now >= s.day_ends:
                s.used, s.day_ends = 0, _next_midnight(s.tz, now)
            if s.used >= s.cap or now < s.free_at:
                continue
            load = (s.used + 1) / (s.cap * max(s.score, _MIN_HEALTH))
            if load < best_load or (load == best_load and s.last_stamp < best_stamp):
                best, best_load, best_stamp = s, load, s.last_stamp
        return best

    @staticmethod
    def _blocked(s: _State, target: Target) -> bool:
        return any(p.blocks(target.country, target.subdivision) for p in s.problems)

    def _use(self, s: _State, tier: Tier, now: datetime) -> Choice:
        s.used += 1
        s.used_at(now)
        self._touch(s)
        return Choice(s.number, s.reasons[tier], tier)

    def _awake(self, s: _State, now: datetime) -> bool:
        """Whether `s` is out of rest at `now`; the first time, it starts afresh."""
        if s.rest_until is not None and now < s.rest_until:
            return False
        if s.resting:
            s.resting = False
            s.score = s.window.stats().score
            self._touch(s)
            log.info("caller_id.back_from_rest", pool=self.pool, number=s.number.e164)
        return True

    # ------------------------------------------------------------------ results and health

    def record_result(
        self,
        number_id: int,
        outcome: AttemptOutcome,
        talk_seconds: float,
        now: datetime,
        *,
        cause: int | None = None,
    ) -> HealthAlert | None:
        """Fold one call's result into the number's health; when it falls below the threshold
        the number rests and the alert is returned (and kept in `alerts`). Results for unknown
        numbers, and for calls placed before a rest that end during it, are ignored."""
        _aware(now)
        s = self._states.get(number_id)
        if s is None or (s.resting and not self._awake(s, now)):
            return None
        flags = classify_result(outcome, talk_seconds, cause, self.config.short_call_seconds)
        if flags is None:
            return None
        s.window.expire(now)
        s.window.add(now, *flags)
        stats = s.window.stats()
        if stats.score != s.score:
            s.score = stats.score
            self._touch(s)
        if stats.samples >= self.config.min_samples and stats.score < self.config.threshold:
            return self._rest(s, stats, now)
        return None

    def _rest(self, s: _State, stats: HealthStats, now: datetime) -> HealthAlert:
        s.rest_until = now + self.config.rest
        s.resting = True
        s.window.clear()
        self._touch(s)
        alert = HealthAlert(
            s.number.id, s.number.e164, self.pool, now, s.rest_until, self.config.threshold, stats
        )
        self.alerts.append(alert)
        log.warning(
            "caller_id.resting",
            pool=self.pool,
            number=s.number.e164,
            number_id=s.number.id,
            health=round(stats.score, 3),
            samples=stats.samples,
            rest_until=s.rest_until.isoformat(),
            message=alert.message,
        )
        return alert

    def health(self, number_id: int) -> HealthStats:
        """The number's health now, from its window and its pool's current averages."""
        return self._states[number_id].window.stats()

    def status(self, number_id: int, now: datetime) -> NumberStatus:
        s = self._states[number_id]
        return NumberStatus(
            used_today=s.used if now < s.day_ends else 0,
            last_used_at=s.last_used_at,
            rest_until=s.rest_until,
            resting=s.resting and s.rest_until is not None and now < s.rest_until,
            health=s.window.stats(),
        )

    # ------------------------------------------------------------------ restoring state

    def seed_usage(
        self, number_id: int, used: int, now: datetime, last_used_at: datetime | None = None
    ) -> None:
        """Set how often a number was used in the local day holding `now` (counted from the
        attempts table after a restart), and its last use if later than the one loaded."""
        _aware(now)
        s = self._states.get(number_id)
        if s is None:
            return
        s.used, s.day_ends = used, _next_midnight(s.tz, now)
        if s.used_at(last_used_at):
            self._touch(s)

    def replay_result(
        self,
        number_id: int,
        outcome: AttemptOutcome,
        talk_seconds: float,
        at: datetime,
        *,
        cause: int | None = None,
    ) -> None:
        """Put a past result back in the window (oldest first), without resting or alerting;
        results from before the number's last rest ended are left out. Finish with
        `refresh_scores`."""
        s = self._states.get(number_id)
        if s is None or (s.rest_until is not None and at < s.rest_until):
            return
        flags = classify_result(outcome, talk_seconds, cause, self.config.short_call_seconds)
        if flags is not None:
            s.window.add(at, *flags)

    def refresh_scores(self, now: datetime) -> None:
        """Drop results older than the window and rescore every number not resting."""
        for s in self._states.values():
            s.window.expire(now)
        for s in self._states.values():
            if s.resting and s.rest_until is not None and now < s.rest_until:
                continue
            score = s.window.stats().score
            if score != s.score:
                s.score = score
                self._touch(s)

    # ------------------------------------------------------------------ write-behind

    def _touch(self, s: _State) -> None:
        self._version += 1
        self._dirty[s.number.id] = self._version

    def pending(self) -> list[NumberUpdate]:
        """The numbers changed since they were last written."""
        out = []
        for number_id, version in self._dirty.items():
            s = self._states[number_id]
            score = round(s.score, 4)
            out.append(NumberUpdate(number_id, s.last_used_at, s.rest_until, score, version))
        return out

    def mark_flushed(self, updates: Sequence[NumberUpdate]) -> None:
        """Forget changes that were written, unless the number changed again meanwhile."""
        for u in updates:
            if self._dirty.get(u.id) == u.version:
                del self._dirty[u.id]

    # ------------------------------------------------------------------ when nothing is usable

    def _unavailable(self, target: Target, now: datetime) -> CallerIdUnavailable:
        country = target.country
        where = country + (f" ({target.subdivision})" if target.subdivision else "")
        states = self._by_country.get(country, ())
        refused = self._refused.get(country, 0)
        if not self._states and not self.problems:
            return CallerIdUnavailable(
                f"caller-ID pool {self.pool!r} has no numbers: import its pool file "
                "(dialer.callerid_store.import_pool) before dialling",
                country=country,
                retry_at=None,
            )
        if not states and not refused:
            have = ", ".join(f"{len(v)} of {c}" for c, v in sorted(self._by_country.items()))
            return CallerIdUnavailable(
                f"caller-ID pool {self.pool!r} has no number of {country} (it has "
                f"{have or 'no usable number'}): add {country} numbers to it; a call shows a "
                "number of the debtor's own country",
                country=country,
                retry_at=None,
            )
        return self._exhausted(states, refused, target, where, now)

    def _exhausted(
        self,
        states: Sequence[_State],
        refused: int,
        target: Target,
        where: str,
        now: datetime,
    ) -> CallerIdUnavailable:
        inactive = 0
        blocked: list[NumberProblem] = []
        resting: list[datetime] = []
        capped: list[datetime] = []
        cooling: list[datetime] = []
        for s in states:
            if not s.number.active:
                inactive += 1
            elif s.problems and self._blocked(s, target):
                blocked.append(
                    next(p for p in s.problems if p.blocks(target.country, target.subdivision))
                )
            elif s.resting and s.rest_until is not None and now < s.rest_until:
                resting.append(s.rest_until)
            elif s.used >= s.cap and now < s.day_ends:
                capped.append(s.day_ends)
            else:
                cooling.append(s.free_at)
        parts: list[str] = []
        advice: list[str] = []
        if refused:
            parts.append(f"{refused} hidden or malformed")
            advice.append("fix or remove the hidden or malformed numbers in the pool file")
        if inactive:
            parts.append(f"{inactive} inactive")
        if blocked:
            first = blocked[0]
            parts.append(f"{len(blocked)} not allowed for {where} ({first.detail}; {first.pack})")
            advice.append(f"add numbers that meet {first.pack} rule {first.rule} ({first.detail})")
        if resting:
            back = min(resting)
            parts.append(
                f"{len(resting)} resting after low health (first back {back:%Y-%m-%d %H:%M} UTC)"
            )
            advice.append("ask the carrier about the resting numbers (spam labels) or add numbers")
        if capped:
            parts.append(
                f"{len(capped)} at their daily cap (first reset {min(capped):%Y-%m-%d %H:%M} UTC)"
            )
            advice.append("raise daily_cap or add numbers")
        if cooling:
            parts.append(
                f"{len(cooling)} in cool-down (first free {min(cooling):%Y-%m-%d %H:%M:%S} UTC)"
            )
            advice.append("retry then, or lower cooldown_seconds")
        if inactive and not (blocked or resting or capped or cooling):
            advice.append("activate numbers in the pool file and re-import it")
        waits = resting + capped + cooling
        total = len(states) + refused
        return CallerIdUnavailable(
            f"no caller ID for a call to {where} from pool {self.pool!r}: of its {total} "
            f"{target.country} numbers, {', '.join(parts)}; {'; '.join(advice)}",
            country=target.country,
            retry_at=min(waits) if waits else None,
        )
