"""`main.py import`: a portfolio CSV validated row by row and loaded in one transaction.

Pass 1 reads the file cheaply (duplicate account numbers, the file's decimal separator);
pass 2 validates rows (in worker processes for big files) and writes good ones. Bad rows are
reported with row, column and reason. `strict`: one bad row and nothing changes.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from campaigns.db import ensure_migrated
from campaigns.enums import ImportStatus
from campaigns.models import Base, ImportRun
from campaigns.portfolio.columns import ColumnPlan, load_mapping, plan_columns
from campaigns.portfolio.loader import PortfolioWriter
from campaigns.portfolio.rows import (
    RowContext,
    RowError,
    RowRecord,
    RowValidator,
    Validated,
    init_worker,
    validate_rows,
    validate_span,
)
from campaigns.portfolio.source import CsvSource, Span, open_source
from campaigns.portfolio.values import DateOrder, decimal_evidence
from campaigns.segments import ensure_default_segments

__all__ = ["ImportOptions", "ImportReport", "import_portfolio"]

#: progress(phase, rows done, rows in all or None while still counting)
Progress = Callable[[str, int, int | None], None]
log = structlog.get_logger(__name__)
_SQLITE_CACHE_KB = 65_536


@dataclass(frozen=True, slots=True)
class ImportOptions:
    path: Path
    country: str
    creditor: str
    strict: bool = False
    mapping: Path | None = None
    decimal: str | None = None
    date_order: DateOrder | None = None
    as_of: date | None = None
    workers: int = 0
    batch_rows: int = 5000
    parallel_from_rows: int = 20_000
    max_balance: dict[str, int] = field(default_factory=dict)


@dataclass
class ImportReport:
    source: str
    country: str
    encoding: str = ""
    delimiter: str = ""
    decimal_separator: str | None = None
    rows: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    vanished: int = 0
    committed: bool = False
    import_id: int | None = None
    seconds: float = 0.0
    workers: int = 0
    ignored_columns: tuple[str, ...] = ()
    errors: list[RowError] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "vanished": self.vanished,
            "committed": self.committed,
            "rows": self.rows,
            "source": self.source,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "decimal_separator": self.decimal_separator,
            "ignored_columns": list(self.ignored_columns),
            "import_id": self.import_id,
            "seconds": round(self.seconds, 3),
            "errors": [{"row": e.row, "column": e.column, "reason": e.reason} for e in self.errors],
        }


@dataclass(frozen=True, slots=True)
class _Scan:
    rows: int
    spans: list[Span]
    duplicates: dict[str, list[int]]
    decimal_sep: str | None


def _scan(source: CsvSource, plan: ColumnPlan, batch_rows: int, progress: Progress | None) -> _Scan:
    """Pass 1: count rows, cut the file into spans, find repeated account numbers (by hash
    first, confirmed on the strings only when hashes repeat), learn the decimal separator."""
    account_col, balance_col = plan.fields["account_number"], plan.fields["balance"]
    width = max(account_col, balance_col)
    seen: set[int] = set()
    suspects: set[int] = set()
    evidence = {".": 0, ",": 0}
    spans: list[Span] = []
    rows = 0
    for span, batch in source.spans(batch_rows):
        spans.append(span)
        rows += len(batch)
        if progress:
            progress("checking", rows, None)
        for _, cells in batch:
            if len(cells) <= width:
                continue
            account = cells[account_col].strip()
            if account:
                key = hash(account)
                if key in seen:
                    suspects.add(key)
                else:
                    seen.add(key)
            balance = cells[balance_col]
            if not balance.isdigit():
                sep = decimal_evidence(balance)
                if sep:
                    evidence[sep] += 1
    del seen
    duplicates: dict[str, list[int]] = {}
    if suspects:
        occurrences: dict[str, list[int]] = {}
        for number, cells in source.rows():
            if len(cells) > account_col:
                account = cells[account_col].strip()
                if account and hash(account) in suspects:
                    occurrences.setdefault(account, []).append(number)
        duplicates = {a: numbers for a, numbers in occurrences.items() if len(numbers) > 1}
    decimal = None
    if evidence["."] and not evidence[","]:
        decimal = "."
    elif evidence[","] and not evidence["."]:
        decimal = ","
    return _Scan(rows, spans, duplicates, decimal)


class _StrictRejection(Exception):
    """Raised inside the import transaction to roll it back."""


async def import_portfolio(
    engine: AsyncEngine, options: ImportOptions, progress: Progress | None = None
) -> ImportReport:
    """Validate and load one portfolio file; raises PortfolioError before touching anything
    when the file itself is unusable, NotMigratedError when the database is not ready."""
    started = time.perf_counter()
    report = ImportReport(source=str(options.path), country=options.country)
    mapping = load_mapping(options.mapping) if options.mapping else None
    source = open_source(options.path)
    plan = plan_columns(source.header, mapping)
    await ensure_migrated(engine)
    scan = _scan(source, plan, options.batch_rows, progress)
    report.encoding, report.delimiter = source.encoding, source.delimiter
    report.rows, report.ignored_columns = scan.rows, plan.ignored
    decimal = options.decimal or (mapping.decimal if mapping else None) or scan.decimal_sep
    report.decimal_separator = decimal
    order = options.date_order or (mapping.date_order if mapping else None)
    if order is None:
        order = DateOrder.MDY if options.country == "US" else DateOrder.DMY
    ctx = RowContext(
        plan=plan,
        country=options.country,
        creditor=options.creditor,
        as_of=options.as_of or datetime.now(UTC).date(),
        date_order=order,
        decimal_sep=decimal,
        max_balance=options.max_balance,
    )
    duplicated_rows: dict[int, str] = {}
    for account, numbers in scan.duplicates.items():
        shown = ", ".join(map(str, numbers[:5])) + (" …" if len(numbers) > 5 else "")
        for number in numbers:
            duplicated_rows[number] = (
                f"account number {account!r} appears in rows {shown}; none of them was loaded"
            )
    column = plan.column_name("account_number")
    log.info(
        "import.started",
        file=options.path.name,
        country=options.country,
        rows=scan.rows,
        encoding=source.encoding,
        duplicated_accounts=len(scan.duplicates),
    )
    workers = options.workers or os.cpu_count() or 1
    parallel = workers > 1 and scan.rows >= options.parallel_from_rows
    report.workers = workers if parallel else 0
    now = datetime.now(UTC)
    try:
        async with engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                # A big import touches random pages of several indexes: give it a larger cache.
                await conn.exec_driver_sql(f"PRAGMA cache_size=-{_SQLITE_CACHE_KB}")
            result = await conn.execute(
                Base.metadata.tables["import_runs"].insert().returning(ImportRun.id),
                {
                    "source_name": options.path.name,
                    "sha256": source.sha256,
                    "country": options.country,
                    "strict": options.strict,
                    "status": ImportStatus.RUNNING,
                    "started_at": now,
                },
            )
            report.import_id = int(result.scalar_one())
            segments = await ensure_default_segments(conn)
            writer = PortfolioWriter(
                conn,
                country=options.country,
                import_id=report.import_id,
                segments=segments,
                now=now,
            )
            done = 0

            async def consume(good: list[RowRecord], bad: list[RowError], size: int) -> None:
                nonlocal done
                bad.extend(
                    RowError(r.row, column, duplicated_rows[r.row])
                    for r in good
                    if r.row in duplicated_rows
                )
                good = [r for r in good if r.row not in duplicated_rows]
                bad.sort(key=lambda e: e.row)
                report.errors.extend(bad)
                report.rejected += len({e.row for e in bad})
                if not (options.strict and report.errors):
                    await writer.write(good)
                done += size
                if progress:
                    progress("importing", done, scan.rows)

            if parallel:
                await _run_parallel(ctx, source, scan.spans, workers, consume)
            else:
                validator = RowValidator(ctx)
                with source.open() as handle:
                    for span in scan.spans:
                        rows = source.read_span(handle, span)
                        await consume(*validate_rows(validator, rows), len(rows))
            if options.strict and report.errors:
                raise _StrictRejection
            report.vanished = await writer.vanished()
            report.imported = writer.counts.imported
            report.updated = writer.counts.updated
            report.unchanged = writer.counts.unchanged
            await conn.execute(
                update(ImportRun)
                .where(ImportRun.id == report.import_id)
                .values(
                    status=ImportStatus.COMMITTED,
                    rows_total=report.rows,
                    imported=report.imported,
                    updated=report.updated,
                    unchanged=report.unchanged,
                    rejected=report.rejected,
                    vanished=report.vanished,
                    finished_at=datetime.now(UTC),
                )
            )
        report.committed = True
    except _StrictRejection:
        report.import_id = None
    report.seconds = time.perf_counter() - started
    log.info(
        "import.finished" if report.committed else "import.refused_strict",
        file=options.path.name,
        import_id=report.import_id,
        imported=report.imported,
        updated=report.updated,
        unchanged=report.unchanged,
        rejected=report.rejected,
        vanished=report.vanished,
        seconds=round(report.seconds, 2),
        workers=report.workers,
    )
    return report


async def _run_parallel(
    ctx: RowContext,
    source: CsvSource,
    spans: list[Span],
    workers: int,
    consume: Callable[[list[RowRecord], list[RowError], int], Awaitable[None]],
) -> None:
    """Workers read and validate spans of the file while this process writes finished ones."""
    loop = asyncio.get_running_loop()
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=get_context("spawn"),
        initializer=init_worker,
        initargs=(ctx, source),
    )
    try:
        in_flight: list[tuple[asyncio.Future[Validated], int]] = []
        for span in spans:
            in_flight.append((loop.run_in_executor(pool, validate_span, span), span[2]))
            if len(in_flight) >= workers * 2:
                future, size = in_flight.pop(0)
                good, bad = await future
                await consume(good, bad, size)
        for future, size in in_flight:
            good, bad = await future
            await consume(good, bad, size)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
