"""Caller-ID pools in the database: pool files in, pickers out, usage and health written back.

The attempts table is the record of use: each attempt names the number it presented, so a
picker loaded after a restart counts today's uses and rebuilds each number's health window from
it. What the picker changes (last use, rest, health) is written behind, in one batch per
`flush`, never once per pick.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import structlog
import yaml
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.compliance import Pack, load_policies
from campaigns.models import Attempt, CallerIdNumber
from dialer.callerid import (
    CALL_CHANNELS,
    PRESENTED_RULE,
    CallerIdPicker,
    HealthConfig,
    NumberProblem,
    PoolNumber,
    local_day_start,
    number_place,
    validate_pool,
)
from dialer.callerid.values import HIDDEN_CALLER_IDS
from dialer.errors import CallerIdError

__all__ = ["PoolFileError", "PoolImport", "flush", "import_pool", "load_picker"]

log = structlog.get_logger(__name__)

_TOP_KEYS: Final = frozenset({"pool", "description", "defaults", "numbers"})
_LIMIT_KEYS: Final = frozenset({"daily_cap", "cooldown_seconds"})
_ENTRY_KEYS: Final = frozenset({"e164", "active"}) | _LIMIT_KEYS
_POOL_NAME_MAX: Final = 60  # CallerIdNumber.pool


class PoolFileError(CallerIdError):
    """A pool file that cannot be imported; `problems` lists each as "file: where: why".
    Nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        shown = "\n  ".join(problems)
        super().__init__(f"caller-ID pool file refused, nothing imported:\n  {shown}")
        self.problems = problems


@dataclass
class PoolImport:
    """What an import did; `problems` are compliance warnings (numbers a pack forbids for
    some debtors: imported, but the picker will not present them to those debtors)."""

    pool: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    problems: list[NumberProblem] = field(default_factory=list)


# --------------------------------------------------------------------------- loading


def _all_packs() -> tuple[Pack, ...]:
    return tuple(pack for pack in load_policies().packs.values() if not pack.abstract)


async def load_picker(
    session: AsyncSession,
    pool: str,
    *,
    packs: Iterable[Pack] | None = None,
    channels: Iterable[str] = CALL_CHANNELS,
    config: HealthConfig | None = None,
    now: datetime | None = None,
) -> CallerIdPicker:
    """A picker for `pool` with today's usage and each number's recent results restored from
    the attempts table. `packs` default to every pack in `config/policies` (the strictest
    reading: each number meets every caller-ID rule for debtors of its country)."""
    now = now or datetime.now(UTC)
    config = config or HealthConfig()
    rows = (
        await session.execute(
            select(
                CallerIdNumber.id,
                CallerIdNumber.e164,
                CallerIdNumber.country,
                CallerIdNumber.area_code,
                CallerIdNumber.subdivision,
                CallerIdNumber.zone,
                CallerIdNumber.daily_cap,
                CallerIdNumber.cooldown_seconds,
                CallerIdNumber.active,
                CallerIdNumber.rest_until,
                CallerIdNumber.last_used_at,
                CallerIdNumber.health_score,
            )
            .where(CallerIdNumber.pool == pool)
            .order_by(CallerIdNumber.id)
        )
    ).all()
    numbers = [PoolNumber(*row) for row in rows]
    picker = CallerIdPicker(
        pool,
        numbers,
        packs=_all_packs() if packs is None else packs,
        channels=channels,
        config=config,
    )
    await _restore_usage(session, picker, now)
    await _restore_health(session, picker, config, now)
    log.info(
        "caller_id.pool_loaded",
        pool=pool,
        numbers=len(picker.numbers),
        refused=sum(1 for p in picker.problems.values() if p[0].rule == PRESENTED_RULE),
    )
    return picker


async def _restore_usage(session: AsyncSession, picker: CallerIdPicker, now: datetime) -> None:
    """Today's uses per number, each from its own local midnight: one query per zone."""
    by_zone: dict[str | None, list[int]] = defaultdict(list)
    for number in picker.numbers:
        by_zone[number.zone].append(number.id)
    for zone, ids in by_zone.items():
        since = local_day_start(zone, now)
        counted = await session.execute(
            select(Attempt.caller_id_number_id, func.count(), func.max(Attempt.created_at))
            .where(Attempt.caller_id_number_id.in_(ids), Attempt.created_at >= since)
            .group_by(Attempt.caller_id_number_id)
        )
        for number_id, used, last in counted:
            if number_id is not None:
                picker.seed_usage(number_id, int(used), now, last)


async def _restore_health(
    session: AsyncSession, picker: CallerIdPicker, config: HealthConfig, now: datetime
) -> None:
    """The last `window_size` settled attempts of each number within the window's age."""
    ids = [n.id for n in picker.numbers]
    if not ids:
        return
    rank = (
        func.row_number()
        .over(
            partition_by=Attempt.caller_id_number_id,
            order_by=(Attempt.created_at.desc(), Attempt.id.desc()),
        )
        .label("rank")
    )
    recent = (
        select(
            Attempt.caller_id_number_id,
            Attempt.outcome,
            Attempt.hangup_cause,
            Attempt.answered_at,
            Attempt.ended_at,
            Attempt.created_at,
            rank,
        )
        .where(
            Attempt.caller_id_number_id.in_(ids),
            Attempt.created_at >= now - config.window_age,
            Attempt.outcome.is_not(None),
        )
        .subquery()
    )
    rows = await session.execute(
        select(recent)
        .where(recent.c.rank <= config.window_size)
        .order_by(recent.c.created_at, recent.c.caller_id_number_id)
    )
    for number_id, outcome, cause, answered_at, ended_at, created_at, _ in rows:
        talk = (ended_at - answered_at).total_seconds() if answered_at and ended_at else 0.0
        picker.replay_result(number_id, outcome, talk, ended_at or created_at, cause=cause)
    picker.refresh_scores(now)


# --------------------------------------------------------------------------- writing back


async def flush(session: AsyncSession, picker: CallerIdPicker) -> int:
    """Write every number the picker changed (last use, rest, health) in one batched UPDATE
    and commit; returns how many. Give it a session of its own: it commits. If the write
    fails, the changes stay pending for the next flush."""
    updates = picker.pending()
    if not updates:
        return 0
    await session.execute(
        update(CallerIdNumber),
        [
            {
                "id": u.id,
                "last_used_at": u.last_used_at,
                "rest_until": u.rest_until,
                "health_score": u.health_score,
            }
            for u in updates
        ],
    )
    await session.commit()
    picker.mark_flushed(updates)
    return len(updates)


# --------------------------------------------------------------------------- pool files


@dataclass(frozen=True, slots=True)
class _Entry:
    e164: str
    daily_cap: int
    cooldown_seconds: int
    active: bool


def _count(value: object, key: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{key} must be a whole number >= {minimum}, not {value!r}")
    return value


def _limits(raw: Mapping[str, Any], base: Mapping[str, int]) -> dict[str, int]:
    out = dict(base)
    if "daily_cap" in raw:
        out["daily_cap"] = _count(raw["daily_cap"], "daily_cap", 1)
    if "cooldown_seconds" in raw:
        out["cooldown_seconds"] = _count(raw["cooldown_seconds"], "cooldown_seconds", 0)
    return out


def _entry(raw: object, limits: Mapping[str, int]) -> _Entry:
    if not isinstance(raw, dict):
        raise ValueError('expected a mapping such as {e164: "+525555500101"}')
    unknown = sorted(str(k) for k in raw if k not in _ENTRY_KEYS)
    if unknown:
        raise ValueError(
            f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_ENTRY_KEYS))}"
        )
    e164 = raw.get("e164")
    if not isinstance(e164, str):
        raise ValueError(f'e164 must be a quoted string such as "+525555500101", not {e164!r}')
    if e164.strip().lower() in HIDDEN_CALLER_IDS:
        raise ValueError("a caller ID must be a presented number, never hidden or empty")
    number_place(e164)  # ValueError saying why it is not a usable number
    active = raw.get("active", True)
    if not isinstance(active, bool):
        raise ValueError(f"active must be true or false, not {active!r}")
    merged = _limits(raw, limits)
    return _Entry(e164, merged["daily_cap"], merged["cooldown_seconds"], active)


def _read_pool_file(path: Path) -> tuple[str, list[_Entry]]:
    """The pool name and its entries, or PoolFileError listing every problem."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PoolFileError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    except yaml.YAMLError as exc:
        raise PoolFileError([f"{path}: not valid YAML: {exc}"]) from None
    if not isinstance(doc, dict):
        raise PoolFileError([f"{path}: expected a mapping with pool and numbers"])
    problems: list[str] = []
    unknown = sorted(str(k) for k in doc if k not in _TOP_KEYS)
    if unknown:
        problems.append(
            f"{path}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_TOP_KEYS))}"
        )
    pool = doc.get("pool")
    if not isinstance(pool, str) or not pool.strip() or len(pool) > _POOL_NAME_MAX:
        problems.append(f"{path}: pool: a name of 1 to {_POOL_NAME_MAX} characters, not {pool!r}")
    limits = {"daily_cap": 300, "cooldown_seconds": 0}
    defaults = doc.get("defaults", {})
    try:
        if not isinstance(defaults, dict) or set(defaults) - _LIMIT_KEYS:
            raise ValueError(f"a mapping with {' and/or '.join(sorted(_LIMIT_KEYS))}")
        limits = _limits(defaults, limits)
    except ValueError as exc:
        problems.append(f"{path}: defaults: {exc}")
    raw_numbers = doc.get("numbers")
    if not isinstance(raw_numbers, list) or not raw_numbers:
        problems.append(f"{path}: numbers: a non-empty list of {{e164: ...}} entries")
        raw_numbers = []
    entries: list[_Entry] = []
    first_seen: dict[str, int] = {}
    for index, raw in enumerate(raw_numbers):
        shown = raw.get("e164") if isinstance(raw, dict) else None
        where = f"{path}: numbers[{index}]" + (f" ({shown})" if isinstance(shown, str) else "")
        try:
            entry = _entry(raw, limits)
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if entry.e164 in first_seen:
            problems.append(f"{where}: same number as numbers[{first_seen[entry.e164]}]")
            continue
        first_seen[entry.e164] = index
        entries.append(entry)
    if problems:
        raise PoolFileError(problems)
    assert isinstance(pool, str)
    return pool.strip(), entries


async def import_pool(
    session: AsyncSession, file: Path | str, *, packs: Iterable[Pack] | None = None
) -> PoolImport:
    """Make pool `file` the pool's content: new numbers added, known ones updated (limits,
    active, and the place derived from the number), numbers no longer listed deactivated (kept:
    attempts refer to them). Idempotent. Refuses the whole file, writing nothing, when an entry
    is bad or a number belongs to another pool. The caller commits."""
    path = Path(file)
    pool, entries = _read_pool_file(path)
    wanted = {e.e164: e for e in entries}
    elsewhere = await session.execute(
        select(CallerIdNumber.e164, CallerIdNumber.pool).where(
            CallerIdNumber.e164.in_(list(wanted)), CallerIdNumber.pool != pool
        )
    )
    index = {e.e164: i for i, e in enumerate(entries)}
    taken = [
        f"{path}: numbers[{index[e164]}] ({e164}): already in pool {other!r}; remove it there first"
        for e164, other in elsewhere
    ]
    if taken:
        raise PoolFileError(sorted(taken))
    rows = (await session.scalars(select(CallerIdNumber).where(CallerIdNumber.pool == pool))).all()
    known = {row.e164: row for row in rows}
    report = PoolImport(pool)
    for entry in entries:
        place = number_place(entry.e164)
        values = {
            "country": place.country,
            "area_code": place.area_code,
            "subdivision": place.subdivision,
            "zone": place.zone,
            "daily_cap": entry.daily_cap,
            "cooldown_seconds": entry.cooldown_seconds,
            "active": entry.active,
        }
        row = known.get(entry.e164)
        if row is None:
            known[entry.e164] = row = CallerIdNumber(e164=entry.e164, pool=pool, **values)
            session.add(row)
            report.created += 1
            continue
        changed = {k: v for k, v in values.items() if getattr(row, k) != v}
        for key, value in changed.items():
            setattr(row, key, value)
        if changed:
            report.updated += 1
        else:
            report.unchanged += 1
    for e164, row in known.items():
        if e164 not in wanted and row.active:  # only rows loaded above: new ones are wanted
            row.active = False
            report.deactivated += 1
    await session.flush()
    placed = [
        PoolNumber(row.id, row.e164, row.country, row.area_code, row.subdivision, row.zone)
        for row in (known[e.e164] for e in entries)
    ]
    problems = validate_pool(placed, _all_packs() if packs is None else packs)
    report.problems = [p for found in problems.values() for p in found]
    log.info(
        "caller_id.pool_imported",
        pool=pool,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        deactivated=report.deactivated,
        warnings=len(report.problems),
    )
    return report
