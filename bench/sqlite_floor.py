"""The floor under the import benchmark: how fast this machine's SQLite takes Recaudo's
portfolio rows when nothing else happens — no CSV, no validation, ids and values prebuilt —
through plain sqlite3 into the migrated schema (same pragmas as the import).

Usage: python bench/sqlite_floor.py [--rows N] [--quick]
It holds itself to the import target (50,000 portfolio rows/s) to show whether that target is
reachable at all on this machine with this schema. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from campaigns import db  # noqa: E402

TARGET_ROWS_PER_S = 50_000
BATCH = 5000
NOW = "2026-11-25 14:00:00.000000"


def _migrate(path: Path) -> None:
    async def run() -> None:
        engine = db.create_engine(f"sqlite+aiosqlite:///{path}")
        await db.upgrade(engine)
        await engine.dispose()

    asyncio.run(run())


def _batches(rows: int, rng: random.Random) -> list[dict[str, list[tuple[object, ...]]]]:
    """Prebuilt rows, shaped like a real Mexican portfolio (1.6 phones a debtor)."""
    out: list[dict[str, list[tuple[object, ...]]]] = []
    phone_id = 1
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    for start in range(1, rows + 1, BATCH):
        ids = range(start, min(rows, start + BATCH - 1) + 1)
        phones: list[tuple[object, ...]] = []
        for i in ids:
            for _ in range(2 if i % 5 < 3 else 1):
                e164 = f"+52{rng.randrange(2_000_000_000, 9_999_999_999)}"
                phones.append(
                    (
                        phone_id,
                        i,
                        e164,
                        "unknown",
                        "debtor",
                        "provided",
                        "[]",
                        None,
                        '["America/Mexico_City"]',
                        '{"America/Mexico_City":["phone_prefix"]}',
                        "telefono",
                        NOW,
                        NOW,
                    )
                )
                phone_id += 1
        out.append(
            {
                "debtors": [
                    (
                        i,
                        "MX",
                        "".join(rng.choices(alphabet, k=18)),
                        "curp",
                        "Juan Pérez López",
                        None,
                        NOW,
                        NOW,
                    )
                    for i in ids
                ],
                "accounts": [
                    (
                        i,
                        i,
                        "Bench",
                        f"MX{i:09d}",
                        "tarjeta",
                        1234500,
                        "MXN",
                        "2026-01-01",
                        30,
                        "active",
                        None,
                        None,
                        NOW,
                        NOW,
                    )
                    for i in ids
                ],
                "addresses": [
                    (
                        i,
                        i,
                        "home",
                        "MX",
                        "MX-CMX",
                        "Iztapalapa",
                        "09000",
                        None,
                        '["America/Mexico_City"]',
                        NOW,
                        NOW,
                    )
                    for i in ids
                ],
                "phones": phones,
            }
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="200,000 rows")
    args = parser.parse_args()
    rows = 200_000 if args.quick else args.rows
    batches = _batches(rows, random.Random(1))
    with tempfile.TemporaryDirectory(prefix="recaudo-floor-") as tmp:
        path = Path(tmp) / "floor.db"
        _migrate(path)
        con = sqlite3.connect(path, isolation_level=None)
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "cache_size=-65536",
        ):
            con.execute(f"PRAGMA {pragma}")
        columns = {
            table: [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
            for table in ("debtors", "accounts", "addresses", "phones")
        }
        seconds = dict.fromkeys(columns, 0.0)
        started = time.perf_counter()
        con.execute("BEGIN")
        for batch in batches:
            for table, values in batch.items():
                marks = ",".join("?" * len(columns[table]))
                t = time.perf_counter()
                con.executemany(
                    f"INSERT INTO {table} ({','.join(columns[table])}) VALUES ({marks})", values
                )
                seconds[table] += time.perf_counter() - t
        con.execute("COMMIT")
        total = time.perf_counter() - started
        con.close()
    rate = rows / total
    figures = {
        "bench": "sqlite_floor",
        "rows": rows,
        "seconds": round(total, 2),
        "seconds_per_table": {k: round(v, 2) for k, v in seconds.items()},
        "rows_per_s": round(rate),
        "targets": {"rows_per_s": TARGET_ROWS_PER_S},
        "met": {"rows_per_s": rate >= TARGET_ROWS_PER_S},
        "machine": f"{platform.machine()} {os.cpu_count()} CPU, SQLite {sqlite3.sqlite_version}",
        "date": time.strftime("%Y-%m-%d"),
    }
    print(
        f"{rows:,} portfolio rows (+ debtors, addresses, {rows * 8 // 5:,} phones) inserted in "
        f"{total:.1f} s with nothing else to do → {rate:,.0f} rows/s"
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
