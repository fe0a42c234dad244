"""`python main.py simulate pbx`: run the PBX simulator until Ctrl-C, from the command line.

AMI gives whoever logs in the power to dial, so the simulator stays on loopback unless asked
otherwise, and without a users file it invents a secret rather than shipping a default one.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import secrets
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from rich.console import Console

from dialer.sim.pbx import PbxSimulator, PbxStartError

__all__ = [
    "SECRET_ENV",
    "PbxOptions",
    "SimulatorSetupError",
    "is_loopback",
    "load_users",
    "resolve_users",
    "run_pbx",
]

SECRET_ENV = "RECAUDO_SIM_AMI_SECRET"
DEFAULT_USER = "dialer"


class SimulatorSetupError(Exception):
    """The command line asks for something the simulator will not do; the message says why."""


@dataclass(frozen=True, slots=True)
class PbxOptions:
    host: str = "127.0.0.1"
    ami_port: int = 5038
    agi_url: str | None = None
    users_file: Path | None = None
    seed: int = 0
    time_scale: float = 1.0
    allow_remote: bool = False


@dataclass(frozen=True, slots=True)
class Users:
    """AMI accounts, and the secret to show once when we made it up."""

    secrets: dict[str, str]
    generated_secret: str | None = None


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1 (the only addresses listened on by default)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_users(path: Path) -> dict[str, str]:
    """A YAML mapping of AMI username to secret, e.g. `dialer: s3cret` (one per line)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SimulatorSetupError(f"--users {path}: cannot read it ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise SimulatorSetupError(f"--users {path}: not valid YAML ({exc})") from None
    if not isinstance(data, Mapping) or not data:
        raise SimulatorSetupError(
            f"--users {path}: expected a YAML mapping of username to secret, e.g. 'dialer: s3cret'"
        )
    users: dict[str, str] = {}
    for name, secret in data.items():
        if not isinstance(name, str) or not name.strip() or secret is None:
            raise SimulatorSetupError(
                f"--users {path}: entry {name!r} needs a non-empty username and a secret"
            )
        if isinstance(secret, (dict, list)):
            raise SimulatorSetupError(f"--users {path}: the secret of {name!r} must be a string")
        users[name.strip()] = str(secret)
    return users


def resolve_users(path: Path | None, environ: Mapping[str, str]) -> Users:
    """The users file, or one `dialer` user with the secret from the environment or a new one."""
    if path is not None:
        return Users(load_users(path))
    secret = environ.get(SECRET_ENV, "")
    if secret:
        return Users({DEFAULT_USER: secret})
    made_up = secrets.token_urlsafe(12)
    return Users({DEFAULT_USER: made_up}, generated_secret=made_up)


def _banner(sim: PbxSimulator, options: PbxOptions, users: Users) -> str:
    names = ", ".join(sorted(users.secrets))
    secret = (
        f" (secret {users.generated_secret}, shown once; set {SECRET_ENV} to choose it)"
        if users.generated_secret
        else ""
    )
    agi = options.agi_url or "none (answered calls get AGISTATUS=FAILURE)"
    speed = f" · time ×{options.time_scale:g}" if options.time_scale != 1 else ""
    return (
        f"PBX simulator (Asterisk 22.10.1) AMI on {options.host}:{sim.ami_port} · "
        f"users: {names}{secret} · FastAGI: {agi} · seed {options.seed}{speed}"
    )


async def _serve(sim: PbxSimulator, options: PbxOptions, users: Users, out: Console) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    await sim.start()
    try:
        out.print(_banner(sim, options, users), highlight=False, soft_wrap=True)
        await stop.wait()
    finally:
        await sim.close()


def run_pbx(options: PbxOptions, out: Console, environ: Mapping[str, str] | None = None) -> None:
    """Check the options, then serve until Ctrl-C or SIGTERM. Raises SimulatorSetupError."""
    if not is_loopback(options.host) and not options.allow_remote:
        raise SimulatorSetupError(
            f"--host {options.host} is not a loopback address; AMI lets anyone who logs in place "
            "calls, so the simulator listens on 127.0.0.1 unless you add --allow-remote"
        )
    if not 0 <= options.ami_port <= 65535:
        raise SimulatorSetupError(
            f"--ami-port {options.ami_port}: use 1–65535 (0 picks a free one)"
        )
    if options.time_scale <= 0:
        raise SimulatorSetupError(
            f"--time-scale {options.time_scale:g}: must be above 0 (1 = real)"
        )
    users = resolve_users(options.users_file, os.environ if environ is None else environ)
    try:
        sim = PbxSimulator(
            users=users.secrets,
            host=options.host,
            ami_port=options.ami_port,
            agi_url=options.agi_url,
            seed=options.seed,
            time_scale=options.time_scale,
        )
    except ValueError as exc:
        raise SimulatorSetupError(str(exc)) from None
    try:
        asyncio.run(_serve(sim, options, users, out))
    except PbxStartError as exc:
        raise SimulatorSetupError(str(exc)) from None
    except KeyboardInterrupt:
        pass
