"""`python main.py simulate pbx` as a user runs it (a real process), and its option checks."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from dialer.sim.console import (
    SECRET_ENV,
    SimulatorSetupError,
    is_loopback,
    load_users,
    resolve_users,
)
from tests.dialer.sim.wire import AmiClient

ROOT = Path(__file__).resolve().parents[3]
_LISTENING = re.compile(r"AMI on 127\.0\.0\.1:(\d+)")


def _env() -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RECAUDO_")}
    environ["COLUMNS"] = "300"
    return environ


def simulate(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "simulate", "pbx", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        cwd=ROOT,
    )


async def test_runs_until_interrupted_and_takes_users_from_a_file(tmp_path: Path) -> None:
    users = tmp_path / "users.yaml"
    users.write_text("dialer: s3cret\nops: 'other one'\n", encoding="utf-8")
    process = simulate("--ami-port", "0", "--users", str(users), "--time-scale", "10")
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 30)
        match = _LISTENING.search(line)
        assert match, line
        assert "users: dialer, ops" in line
        assert "s3cret" not in line
        client = await AmiClient.connect(int(match.group(1)))
        await client.login("ops", "other one")
        client.action("Ping", "p")
        assert (await client.reply("p"))["Ping"] == "Pong"
        await client.close()
    finally:
        process.send_signal(signal.SIGINT)
        _, err = await asyncio.to_thread(process.communicate, timeout=30)
    assert process.returncode == 0, err


def test_refuses_a_remote_host_without_the_flag() -> None:
    process = simulate("--host", "0.0.0.0")
    _, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "--allow-remote" in err
    assert "0.0.0.0" in err


def test_says_which_port_is_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = simulate("--ami-port", str(port))
        _, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert f"AMI port {port}" in err
    assert "already in use" in err
    assert "--ami-port" in err


def test_users_come_from_the_environment_or_a_printed_random_secret(tmp_path: Path) -> None:
    assert resolve_users(None, {SECRET_ENV: "from-env"}).secrets == {"dialer": "from-env"}
    made_up = resolve_users(None, {})
    assert made_up.generated_secret
    assert made_up.secrets == {"dialer": made_up.generated_secret}
    assert resolve_users(None, {}).generated_secret != made_up.generated_secret
    bad = tmp_path / "bad.yaml"
    for text in ("- just\n- a list\n", "dialer: [1, 2]\n", "{unclosed\n"):
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(SimulatorSetupError, match="--users"):
            load_users(bad)
    with pytest.raises(SimulatorSetupError, match="cannot read"):
        load_users(tmp_path / "missing.yaml")


def test_only_loopback_counts_as_local() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "192.168.1.10", "::", "example.com"))
