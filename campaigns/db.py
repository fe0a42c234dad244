"""Database access: the async engine, sessions, and Alembic migrations run from code.

SQLite is the single-node default; PostgreSQL is for several dialer nodes sharing work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import SQLAlchemyError as _SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

__all__ = [
    "DatabaseError",
    "NotMigratedError",
    "create_engine",
    "current_revision",
    "downgrade",
    "ensure_migrated",
    "head_revision",
    "session_factory",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class DatabaseError(Exception):
    """The database is unreachable or not in the state Recaudo needs; the message says what."""


class NotMigratedError(DatabaseError):
    """The schema is older (or newer) than this code; run `python main.py db upgrade`."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for `url`; for SQLite, creates the file's folder and sets safe pragmas."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = _create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return _create_async_engine(url, pool_pre_ping=True, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def _alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None, "no migration scripts found"
    return head


def _describe(engine: AsyncEngine) -> str:
    return engine.url.render_as_string(hide_password=True)


async def _run(engine: AsyncEngine, action: str, revision: str) -> None:
    def run(connection: Connection) -> None:
        cfg = _alembic_config(connection)
        if action == "upgrade":
            command.upgrade(cfg, revision)
        else:
            command.downgrade(cfg, revision)

    try:
        async with engine.begin() as conn:
            await conn.run_sync(run)
    except (OSError, OperationalError) as exc:
        raise DatabaseError(f"cannot migrate database {_describe(engine)}: {exc}") from exc


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema up to `revision` (default: the newest)."""
    await _run(engine, "upgrade", revision)


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    """Take the schema down to `revision` (default: empty)."""
    await _run(engine, "downgrade", revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The schema revision the database is at, or None for an empty database."""

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    try:
        async with engine.connect() as conn:
            return await conn.run_sync(read)
    except (OSError, _SQLAlchemyError) as exc:
        raise DatabaseError(f"cannot open database {_describe(engine)}: {exc}") from exc


async def ensure_migrated(engine: AsyncEngine) -> None:
    """Refuse to work on a schema other than this code's: say which command fixes it."""
    current = await current_revision(engine)
    head = head_revision()
    if current != head:
        state = "is empty (never migrated)" if current is None else f"is at revision {current}"
        raise NotMigratedError(
            f"database {_describe(engine)} {state}, this Recaudo needs revision {head}: "
            "run `python main.py db upgrade`"
        )
