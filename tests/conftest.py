"""Shared fixtures: real databases (a fresh SQLite file; the PostgreSQL server on 127.0.0.1)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from campaigns import db

# Examples are judged on what they assert, not on how long a busy CI machine takes to run them.
hypothesis_settings.register_profile("recaudo", deadline=None)
hypothesis_settings.load_profile("recaudo")

PG_URL = os.environ.get("RECAUDO_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


async def _pg_reachable() -> str | None:
    engine = db.create_engine(PG_URL)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        await engine.dispose()
    return None


_PG_PROBLEM: list[str | None] = []


async def require_postgres() -> None:
    """Skip (or, under CI, fail) when the PostgreSQL server is not there."""
    if not _PG_PROBLEM:
        _PG_PROBLEM.append(await _pg_reachable())
    problem = _PG_PROBLEM[0]
    if problem is None:
        return
    message = f"PostgreSQL at {PG_URL} unreachable ({problem}); set RECAUDO_TEST_PG_URL"
    if os.environ.get("CI"):
        pytest.fail(message + " — CI must run the PostgreSQL tests", pytrace=False)
    pytest.skip(message)


async def _fresh_pg_engine() -> tuple[AsyncEngine, str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = db.create_engine(PG_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f"CREATE SCHEMA {schema}"))
    await admin.dispose()
    engine = db.create_engine(PG_URL, connect_args={"server_settings": {"search_path": schema}})
    return engine, schema


async def _drop_pg_schema(schema: str) -> None:
    admin = db.create_engine(PG_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    await admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def empty_engine(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[AsyncEngine]:
    """An engine on a brand-new, unmigrated database of each kind."""
    if request.param == "sqlite":
        engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
        yield engine
        await engine.dispose()
        return
    await require_postgres()
    engine, schema = await _fresh_pg_engine()
    try:
        yield engine
    finally:
        await engine.dispose()
        await _drop_pg_schema(schema)


@pytest.fixture
async def engine(empty_engine: AsyncEngine) -> AsyncEngine:
    """A migrated database of each kind."""
    await db.upgrade(empty_engine)
    return empty_engine


@pytest.fixture
async def sqlite_engine(tmp_path) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}")
    await db.upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture(autouse=True)
def _clean_recaudo_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see only the RECAUDO_* variables they set themselves."""
    for name in list(os.environ):
        if name.startswith("RECAUDO_") and not name.startswith("RECAUDO_TEST_"):
            monkeypatch.delenv(name)
