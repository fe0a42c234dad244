"""Migrations on both databases: up, down, and no drift between the models and the scripts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from campaigns import db
from campaigns.models import Account, Base, Debtor


async def test_upgrade_then_downgrade_leaves_nothing(empty_engine: AsyncEngine) -> None:
    assert await db.current_revision(empty_engine) is None
    await db.upgrade(empty_engine)
    assert await db.current_revision(empty_engine) == db.head_revision()
    await db.ensure_migrated(empty_engine)
    async with empty_engine.connect() as conn:
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert set(Base.metadata.tables) <= tables
    await db.downgrade(empty_engine, "base")
    async with empty_engine.connect() as conn:
        left = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert left <= {"alembic_version"}
    with pytest.raises(db.NotMigratedError, match="never migrated"):
        await db.ensure_migrated(empty_engine)


async def test_models_and_migrations_agree(engine: AsyncEngine) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_instants_are_stored_in_utc_and_naive_ones_refused(engine: AsyncEngine) -> None:
    mexico = timezone(timedelta(hours=-6))
    async with AsyncSession(engine) as session:
        debtor = Debtor(
            country="MX", full_name="Ana Peña", created_at=datetime(2026, 1, 1, 9, tzinfo=mexico)
        )
        session.add(debtor)
        await session.flush()
        session.add(
            Account(
                debtor_id=debtor.id,
                creditor="ACME",
                account_number="A1",
                balance=Decimal("1234.56"),
                currency="MXN",
            )
        )
        await session.commit()
    async with AsyncSession(engine) as session:
        stored = (await session.execute(select(Debtor))).scalar_one()
        account = (await session.execute(select(Account))).scalar_one()
    assert stored.created_at == datetime(2026, 1, 1, 15, tzinfo=UTC)
    assert stored.created_at.tzinfo is UTC
    assert account.balance == Decimal("1234.56")
    async with AsyncSession(engine) as session:
        session.add(Debtor(country="MX", full_name="X Y", created_at=datetime(2026, 1, 1, 9)))
        with pytest.raises(Exception, match="naive datetime"):
            await session.commit()


async def test_unreachable_database_says_which() -> None:
    engine = db.create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    with pytest.raises(db.DatabaseError, match=r"127\.0\.0\.1:1"):
        await db.current_revision(engine)
    await engine.dispose()
