"""Run `main.py` as a user does: a child process with a clean RECAUDO_* environment."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["ROOT", "acli", "cli"]

ROOT = Path(__file__).resolve().parents[1]


def _environment(env: dict[str, str] | None) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RECAUDO_")}
    environ.update(env or {})
    environ["COLUMNS"] = "200"
    return environ


def cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`python main.py ARGS…` with only the RECAUDO_* variables of `env`."""
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        env=_environment(env),
        cwd=ROOT,
        timeout=timeout,
    )


async def acli(
    *args: str, env: dict[str, str] | None = None, within: float = 120
) -> subprocess.CompletedProcess[str]:
    """`cli` without blocking the event loop (a simulator in this process must keep serving)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "main.py"),
        *args,
        env=_environment(env),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), within)
    assert process.returncode is not None
    return subprocess.CompletedProcess(list(args), process.returncode, out.decode(), err.decode())
