"""Portfolio import throughput: generated rows into a fresh SQLite database, production path.

Usage: python bench/import_bench.py [--rows N] [--quick] [--workers N]
Targets (issue 3): ≥ 50,000 rows/s and peak RSS < 500 MB (all import processes together).
The last line printed is one JSON object with the figures, the targets and whether each was met.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from campaigns import db  # noqa: E402
from campaigns.portfolio.importer import ImportOptions, import_portfolio  # noqa: E402
from config.logging import configure_logging  # noqa: E402
from config.settings import load_settings  # noqa: E402

TARGET_ROWS_PER_S = 50_000
TARGET_PEAK_RSS_MB = 500


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as handle:
                    children = [int(c) for c in handle.read().split()]
            except OSError:
                continue
            found.extend(children)
            stack.extend(children)
    return found


class TreeRss:
    """Samples the summed RSS of this process and its children (the import's workers)."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval, self.peak_kb, self._stop = interval, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            total = _rss_kb(me) + sum(_rss_kb(p) for p in _descendants(me))
            self.peak_kb = max(self.peak_kb, total)
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _commit() -> str:
    try:
        return (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
            ).stdout.strip()
            or "uncommitted"
        )
    except OSError:
        return "unknown"


async def _import(path: Path, url: str, workers: int) -> dict[str, object]:
    settings = load_settings()
    engine = db.create_engine(url)
    await db.upgrade(engine)
    try:
        with TreeRss() as rss:
            report = await import_portfolio(
                engine,
                ImportOptions(
                    path=path,
                    country="MX",
                    creditor="Bench",
                    workers=workers,
                    batch_rows=settings.importer.batch_rows,
                    parallel_from_rows=settings.importer.parallel_from_rows,
                    max_balance=settings.importer.max_balance,
                ),
            )
    finally:
        await engine.dispose()
    return {
        "imported": report.imported,
        "rejected": report.rejected,
        "seconds": round(report.seconds, 2),
        "workers": report.workers,
        "peak_rss_mb": round(rss.peak_kb / 1024, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 rows (within 60 s)")
    parser.add_argument("--workers", type=int, default=0, help="0 = one per CPU")
    args = parser.parse_args()
    rows = 100_000 if args.quick else args.rows
    configure_logging("warning")
    with tempfile.TemporaryDirectory(prefix="recaudo-bench-") as tmp:
        csv_path = Path(tmp) / "cartera.csv"
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "main.py"),
                "portfolio",
                "generate",
                "--rows",
                str(rows),
                "--country",
                "MX",
                "--out",
                str(csv_path),
                "--seed",
                "11",
            ],
            check=True,
            capture_output=True,
        )
        generated = time.perf_counter() - started
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        result = asyncio.run(_import(csv_path, url, args.workers))
        size_mb = csv_path.stat().st_size / 1e6
    rate = rows / float(result["seconds"])  # type: ignore[arg-type]
    figures = {
        "bench": "import",
        "rows": rows,
        "file_mb": round(size_mb, 1),
        "generate_seconds": round(generated, 2),
        **result,
        "rows_per_s": round(rate),
        "targets": {"rows_per_s": TARGET_ROWS_PER_S, "peak_rss_mb": TARGET_PEAK_RSS_MB},
        "met": {
            "rows_per_s": rate >= TARGET_ROWS_PER_S,
            "peak_rss_mb": float(result["peak_rss_mb"]) < TARGET_PEAK_RSS_MB,  # type: ignore[arg-type]
        },
        "machine": f"{platform.machine()} {os.cpu_count()} CPU, Python {platform.python_version()}",
        "commit": _commit(),
        "date": time.strftime("%Y-%m-%d"),
    }
    print(
        f"{rows:,} rows ({size_mb:.0f} MB) imported in {result['seconds']} s → {rate:,.0f} rows/s "
        f"(target {TARGET_ROWS_PER_S:,}); peak RSS {result['peak_rss_mb']} MB "
        f"(target < {TARGET_PEAK_RSS_MB}); {result['workers']} workers; "
        f"{result['imported']:,} imported, {result['rejected']:,} rejected"
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
