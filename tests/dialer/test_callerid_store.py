"""Caller-ID pools on real databases (SQLite and PostgreSQL): importing pool files, loading a
picker with today's usage and recent health rebuilt from the attempts, writing changes back."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from campaigns.enums import AttemptOutcome, Channel, LineType, PhoneRole, Provenance
from campaigns.models import Account, Attempt, CallerIdNumber, Debtor, Phone
from dialer.callerid import CallerIdUnavailable, HealthConfig, Target
from dialer.callerid_store import PoolFileError, flush, import_pool, load_picker

DEMO = Path(__file__).resolve().parents[2] / "config" / "caller_ids" / "demo.yaml"
# Wednesday 2026-11-25 16:00 UTC = 10:00 in Mexico City (UTC-6); its day began at 06:00 UTC.
AT = datetime(2026, 11, 25, 16, tzinfo=UTC)
CDMX = Target.for_phone("+525512345678")


def pool_file(tmp_path: Path, numbers: Sequence[object], **top: object) -> Path:
    path = tmp_path / "pool.yaml"
    path.write_text(yaml.safe_dump({"pool": "p", **top, "numbers": numbers}), encoding="utf-8")
    return path


async def rows(engine: AsyncEngine) -> list[CallerIdNumber]:
    async with AsyncSession(engine) as session:
        return list(
            (await session.scalars(select(CallerIdNumber).order_by(CallerIdNumber.e164))).all()
        )


# --------------------------------------------------------------------------- pool files


async def test_the_demo_pool_imports_and_reimports_idempotently(engine: AsyncEngine) -> None:
    entries = yaml.safe_load(DEMO.read_text(encoding="utf-8"))["numbers"]
    async with AsyncSession(engine) as session:
        report = await import_pool(session, DEMO)
        await session.commit()
    assert (report.pool, report.created, report.problems) == ("demo", len(entries), [])
    stored = {row.e164: row for row in await rows(engine)}
    tijuana = stored["+526645550101"]
    assert (tijuana.country, tijuana.area_code, tijuana.subdivision, tijuana.zone) == (
        "MX",
        "664",
        "MX-BCN",
        "America/Tijuana",
    )
    assert (tijuana.daily_cap, tijuana.cooldown_seconds, tijuana.active) == (150, 30, True)
    assert stored["+525555500103"].daily_cap == 200
    assert not stored["+12135550101"].active
    assert {row.country for row in stored.values()} == {"MX", "CO", "PE", "CL", "US"}
    assert all(row.area_code == "600" for row in stored.values() if row.country == "CL")

    async with AsyncSession(engine) as session:
        again = await import_pool(session, DEMO)
        await session.commit()
    assert (again.created, again.updated, again.unchanged, again.deactivated) == (
        0,
        0,
        len(entries),
        0,
    )


async def test_a_reimport_updates_limits_and_deactivates_numbers_left_out(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    first = [{"e164": "+525555500101"}, {"e164": "+525555500102"}]
    async with AsyncSession(engine) as session:
        await import_pool(session, pool_file(tmp_path, first))
        await session.commit()
    second = [{"e164": "+525555500101", "daily_cap": 80}, {"e164": "+523355500101"}]
    async with AsyncSession(engine) as session:
        report = await import_pool(
            session, pool_file(tmp_path, second, defaults={"cooldown_seconds": 45})
        )
        await session.commit()
    assert (report.created, report.updated, report.unchanged, report.deactivated) == (1, 1, 0, 1)
    stored = {r.e164: (r.daily_cap, r.cooldown_seconds, r.active) for r in await rows(engine)}
    assert stored == {
        "+525555500101": (80, 45, True),
        "+525555500102": (300, 0, False),
        "+523355500101": (300, 45, True),
    }


async def test_a_bad_pool_file_is_refused_whole_with_file_entry_and_reason(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "pool: p\n"
        "numbers:\n"
        '  - e164: "+525555500101"\n'  # good, but the file is refused: nothing is written
        "  - e164: +525555500102\n"  # unquoted: YAML reads an integer
        '  - e164: "anonymous"\n'
        '  - e164: "+52 55 5550 0103"\n'
        '  - e164: "+520000000000"\n'
        '  - e164: "+525555500101"\n'
        '  - {e164: "+525555500104", daily_cap: 0}\n'
        '  - {e164: "+525555500105", colour: red}\n'
        '  - {e164: "+525555500106", active: "yes"}\n'
        "  - just a string\n",
        encoding="utf-8",
    )
    async with AsyncSession(engine) as session:
        with pytest.raises(PoolFileError) as caught:
            await import_pool(session, path)
    assert caught.value.problems == [
        f'{path}: numbers[1]: e164 must be a quoted string such as "+525555500101", not 525555500102',
        f"{path}: numbers[2] (anonymous): a caller ID must be a presented number, never hidden or empty",
        f"{path}: numbers[3] (+52 55 5550 0103): '+52 55 5550 0103' is not an E.164 number (+ and 7 to 15 digits, e.g. +525512345678)",
        f"{path}: numbers[4] (+520000000000): +520000000000 is not a valid number in its country's numbering plan",
        f"{path}: numbers[5] (+525555500101): same number as numbers[0]",
        f"{path}: numbers[6] (+525555500104): daily_cap must be a whole number >= 1, not 0",
        f"{path}: numbers[7] (+525555500105): unknown key(s) colour; allowed: active, cooldown_seconds, daily_cap, e164",
        f"{path}: numbers[8] (+525555500106): active must be true or false, not 'yes'",
        f'{path}: numbers[9]: expected a mapping such as {{e164: "+525555500101"}}',
    ]
    assert str(caught.value).startswith("caller-ID pool file refused, nothing imported:")
    assert await rows(engine) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("pool: p\nnumbers: [", "not valid YAML"),
        ("- a list", "expected a mapping with pool and numbers"),
        ("numbers: []\nextra: 1", "unknown key(s) extra"),
        ('pool: ""\nnumbers: [{e164: "+525555500101"}]', "pool: a name of 1 to 60 characters"),
        ("pool: p\nnumbers: []", "numbers: a non-empty list"),
        (
            'pool: p\ndefaults: {daily_cap: -1}\nnumbers: [{e164: "+525555500101"}]',
            "defaults: daily_cap must be a whole number >= 1",
        ),
    ],
)
async def test_pool_file_shape_errors(
    engine: AsyncEngine, tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "shape.yaml"
    path.write_text(text, encoding="utf-8")
    async with AsyncSession(engine) as session:
        with pytest.raises(PoolFileError, match=re.escape(problem)):
            await import_pool(session, path)
    with pytest.raises(PoolFileError, match="cannot read"):
        async with AsyncSession(engine) as session:
            await import_pool(session, tmp_path / "missing.yaml")


async def test_a_number_of_another_pool_is_refused(engine: AsyncEngine, tmp_path: Path) -> None:
    async with AsyncSession(engine) as session:
        await import_pool(session, pool_file(tmp_path, [{"e164": "+525555500101"}]))
        await session.commit()
    other = tmp_path / "other.yaml"
    other.write_text(
        'pool: q\nnumbers: [{e164: "+525555500102"}, {e164: "+525555500101"}]\n', encoding="utf-8"
    )
    async with AsyncSession(engine) as session:
        with pytest.raises(
            PoolFileError, match=r"numbers\[1\] \(\+525555500101\): already in pool 'p'"
        ):
            await import_pool(session, other)
    assert [r.pool for r in await rows(engine)] == ["p"]


async def test_import_warns_about_numbers_a_pack_forbids(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    numbers = [{"e164": "+56600555101"}, {"e164": "+56225550101"}]
    async with AsyncSession(engine) as session:
        report = await import_pool(session, pool_file(tmp_path, numbers))
        await session.commit()
    assert report.created == 2
    assert [(p.e164, p.pack, p.rule) for p in report.problems] == [
        ("+56225550101", "cl-l19496", "caller-id-600")
    ]
    async with AsyncSession(engine) as session:
        picker = await load_picker(session, "p", now=AT)
    santiago = Target.for_phone("+56223456789")
    assert {picker.pick(santiago, AT + timedelta(seconds=i)).number.e164 for i in range(3)} == {
        "+56600555101"
    }


# --------------------------------------------------------------------------- picker state


async def make_phone(session: AsyncSession) -> tuple[int, int]:
    debtor = Debtor(country="MX", full_name="Ana Peña")
    session.add(debtor)
    await session.flush()
    account = Account(
        debtor_id=debtor.id,
        creditor="ACME",
        account_number="A1",
        balance=Decimal("100.00"),
        currency="MXN",
    )
    phone = Phone(
        debtor_id=debtor.id,
        e164="+525512345678",
        line_type=LineType.MOBILE,
        role=PhoneRole.DEBTOR,
        provenance=Provenance.PROVIDED,
        candidate_zones=["America/Mexico_City"],
        zone_sources={},
    )
    session.add_all([account, phone])
    await session.flush()
    return account.id, phone.id


def attempt(
    ids: tuple[int, int],
    number_id: int,
    at: datetime,
    outcome: AttemptOutcome | None,
    talk: float = 0.0,
    cause: int | None = None,
) -> Attempt:
    answered = at + timedelta(seconds=10) if outcome is AttemptOutcome.HUMAN else None
    return Attempt(
        account_id=ids[0],
        phone_id=ids[1],
        channel=Channel.VOICE_PRERECORDED,
        backend="sim",
        caller_id_number_id=number_id,
        caller_id_e164="+525555500101",
        caller_id_reason="local:area_code 55",
        outcome=outcome,
        hangup_cause=cause,
        created_at=at,
        answered_at=answered,
        ended_at=(answered + timedelta(seconds=talk)) if answered else at + timedelta(seconds=30),
    )


async def test_todays_usage_is_counted_from_the_attempts_since_local_midnight(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    numbers = [{"e164": "+525555500101", "daily_cap": 3}, {"e164": "+526645550101"}]
    async with AsyncSession(engine) as session:
        await import_pool(session, pool_file(tmp_path, numbers))
        ids = await make_phone(session)
        (cdmx,) = await session.scalars(
            select(CallerIdNumber.id).where(CallerIdNumber.e164 == "+525555500101")
        )
        midnight = datetime(2026, 11, 25, 6, tzinfo=UTC)  # 00:00 in Mexico City
        session.add_all(
            [
                attempt(ids, cdmx, midnight - timedelta(seconds=1), AttemptOutcome.NO_ANSWER),
                attempt(ids, cdmx, midnight, AttemptOutcome.NO_ANSWER),
                attempt(ids, cdmx, AT - timedelta(minutes=5), None),  # still in flight
            ]
        )
        await session.commit()
    async with AsyncSession(engine) as session:
        picker = await load_picker(session, "p", now=AT)
    status = picker.status(cdmx, AT)
    assert status.used_today == 2
    assert status.last_used_at == AT - timedelta(minutes=5)
    assert picker.pick(CDMX, AT).number.id == cdmx  # the third and last call of its day
    second = picker.pick(CDMX, AT + timedelta(seconds=1))
    assert (second.number.e164, second.reason) == ("+526645550101", "country:MX")


async def test_health_is_rebuilt_from_recent_attempts_after_the_last_rest(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    numbers = [{"e164": "+525555500101"}, {"e164": "+525555500102"}]
    async with AsyncSession(engine) as session:
        await import_pool(session, pool_file(tmp_path, numbers))
        ids = await make_phone(session)
        bad, good = await session.scalars(select(CallerIdNumber.id).order_by(CallerIdNumber.e164))
        start = AT - timedelta(hours=6)
        rested_until = AT - timedelta(hours=3)
        session.add_all(
            [
                attempt(ids, good, start + timedelta(minutes=i), AttemptOutcome.HUMAN, 60)
                for i in range(20)
            ]
            + [
                attempt(ids, good, start + timedelta(minutes=i), AttemptOutcome.NO_ANSWER)
                for i in range(40)
            ]
            # before its rest ended: left out
            + [
                attempt(ids, bad, start + timedelta(minutes=i), AttemptOutcome.REJECTED)
                for i in range(50)
            ]
            # since: 25 short answers and 15 rejections by cause
            + [
                attempt(ids, bad, rested_until + timedelta(minutes=i), AttemptOutcome.HUMAN, 2)
                for i in range(25)
            ]
            + [
                attempt(
                    ids,
                    bad,
                    rested_until + timedelta(minutes=30 + i),
                    AttemptOutcome.FAILED,
                    cause=21,
                )
                for i in range(15)
            ]
            # older than the window: left out
            + [attempt(ids, good, AT - timedelta(hours=30), AttemptOutcome.REJECTED)]
        )
        row = await session.get(CallerIdNumber, bad)
        assert row is not None
        row.rest_until = rested_until
        await session.commit()
    async with AsyncSession(engine) as session:
        picker = await load_picker(session, "p", now=AT)
    assert picker.health(good).samples == 60
    sick = picker.health(bad)
    assert (sick.samples, sick.short_share, sick.reject_share) == (40, 1.0, 15 / 40)
    assert sick.score < 0.5 < picker.health(good).score
    # Scores are rebuilt but the rest decision waits for the next result, which makes it.
    alert = picker.record_result(bad, AttemptOutcome.REJECTED, 0.0, AT)
    assert alert is not None
    assert alert.stats.samples == 41


async def test_flush_writes_changes_in_one_batch_and_a_new_picker_sees_them(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    numbers = [
        {"e164": "+525555500101", "cooldown_seconds": 600},
        {"e164": "+525555500102", "cooldown_seconds": 600},
    ]
    async with AsyncSession(engine) as session:
        await import_pool(session, pool_file(tmp_path, numbers))
        await session.commit()
    config = HealthConfig(min_samples=5, window_size=10)
    async with AsyncSession(engine) as session:
        picker = await load_picker(session, "p", config=config, now=AT)
        first = picker.pick(CDMX, AT)
        second = picker.pick(CDMX, AT + timedelta(seconds=1))
        alert = None
        for i in range(5):
            alert = picker.record_result(
                first.number.id, AttemptOutcome.REJECTED, 0.0, AT + timedelta(seconds=2 + i)
            )
        assert alert is not None
        assert await flush(session, picker) == 2
        assert await flush(session, picker) == 0
    stored = {r.id: r for r in await rows(engine)}
    assert stored[first.number.id].last_used_at == AT
    assert stored[first.number.id].rest_until == alert.rest_until
    assert stored[first.number.id].health_score == pytest.approx(alert.stats.score, abs=1e-4)
    assert stored[second.number.id].last_used_at == AT + timedelta(seconds=1)
    assert stored[second.number.id].rest_until is None
    # A node that starts now knows the rest and the cool-downs.
    async with AsyncSession(engine) as session:
        reloaded = await load_picker(session, "p", config=config, now=AT + timedelta(minutes=1))
    assert reloaded.status(first.number.id, AT + timedelta(minutes=1)).resting
    with pytest.raises(
        CallerIdUnavailable, match=r"1 resting after low health \(first back .*\), 1 in cool-down"
    ):
        reloaded.pick(CDMX, AT + timedelta(minutes=1))
    later = AT + timedelta(seconds=601)
    assert reloaded.pick(CDMX, later).number.id == second.number.id


async def test_loading_an_unknown_pool_gives_an_empty_picker(engine: AsyncEngine) -> None:
    async with AsyncSession(engine) as session:
        picker = await load_picker(session, "nobody", now=AT)
        assert await flush(session, picker) == 0
        count = await session.scalar(select(func.count()).select_from(CallerIdNumber))
    assert count == 0
    with pytest.raises(CallerIdUnavailable, match="has no numbers"):
        picker.pick(CDMX, AT)
