"""`main.py campaign run`: the production dialer as a process, on real time, until told to stop.

The backend comes from the settings (asterisk, twilio, or the in-process simulator), the dialer
runs under the real-time driver, and SIGINT/SIGTERM (or `--until`) stop it cleanly: no new call
starts, calls in flight are tracked until they settle or the grace ends, outcomes are written,
and contacts leased but not dialled are handed back. A run killed outright loses nothing either:
the next run closes its open attempts (`Dialer.recover`) and never dials them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import structlog
from rich.console import Console
from rich.table import Table
from sqlalchemy import exists, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from campaigns import db
from campaigns.compliance import PolicySet
from campaigns.enums import ContactStatus
from campaigns.manage import CampaignError, call_channel, get_campaign
from campaigns.models import Attempt, CampaignContact
from config.settings import Settings
from dialer.backends.configured import (
    BACKENDS,
    BackendName,
    BackendSetupError,
    ConfiguredBackend,
    configured_backend,
)
from dialer.callerid_store import PoolFileError, import_pool, load_picker
from dialer.clock import Clock, SystemClock
from dialer.driver import run_realtime
from dialer.errors import BackendError
from dialer.runner import (
    CallerIdSource,
    Dialer,
    DialerOptions,
    FixedCallerId,
    PacingSetupError,
    PooledCallerIds,
)
from dialer.sim.backend import SimBackend
from dialer.sim.team import SimulatedTeam

__all__ = [
    "BACKENDS",
    "RunReport",
    "RunRequest",
    "RunSetupError",
    "print_run",
    "release_undialled",
    "run_campaign",
]

log = structlog.get_logger(__name__)


class RunSetupError(Exception):
    """The run cannot start as configured; the message names the setting and the fix. No
    contact or attempt was touched (a valid --caller-ids file may have been imported: that is
    idempotent)."""


@dataclass(frozen=True, slots=True)
class RunRequest:
    campaign_id: int
    backend: BackendName
    caller_ids: Path | None = None
    until: datetime | None = None
    agents: int = 0  # a simulated team of this many agents (the `sim` backend only)


@dataclass
class RunReport:
    """What one run did, for the summary printed at its end."""

    campaign_id: int
    name: str
    backend: str
    where: str
    node: str
    started: datetime
    ended: datetime | None = None
    stopped_by: str = ""
    recovered: int = 0  # open attempts of an earlier run, closed without dialling again
    released: int = 0  # contacts this node had leased but not dialled, handed back
    left_in_flight: int = 0  # calls still unsettled when the stop grace ran out
    originated: int = 0
    denied: int = 0
    blocked: int = 0
    originate_errors: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    pacing: str = "blast"
    bridged: int = 0
    live_answers: int = 0  # the FTC's denominator: answers AMD called human
    abandoned: int = 0
    followups_queued: int = 0


# --- caller IDs and leases -----------------------------------------------------------------


async def _caller_ids(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    campaign_id: int,
    pool_file: Path | None,
) -> tuple[CallerIdSource, str]:
    """The pool file given (imported, and remembered as the campaign's pool), else the
    campaign's pool, else the one number of the settings."""
    async with sessions() as session, session.begin():
        campaign = await get_campaign(session, campaign_id)
        if pool_file is not None:
            try:
                imported = await import_pool(session, pool_file)
            except PoolFileError as exc:
                raise RunSetupError(str(exc)) from None
            campaign.caller_id_pool = imported.pool
        pool = campaign.caller_id_pool
    if pool is not None:
        async with sessions() as session:
            picker = await load_picker(session, pool)
        if not picker.numbers:
            raise RunSetupError(
                f"caller-ID pool {pool!r} of campaign {campaign_id} has no numbers; "
                "import a pool file with --caller-ids POOL.yaml"
            )
        return PooledCallerIds(picker), f"pool {pool} ({len(picker.numbers)} numbers)"
    if settings.dialer.caller_id is not None:
        return FixedCallerId(settings.dialer.caller_id), settings.dialer.caller_id
    raise RunSetupError(
        f"campaign {campaign_id} has no caller ID to present: pass --caller-ids POOL.yaml "
        "(see config/caller_ids/demo.yaml) or set RECAUDO_DIALER__CALLER_ID=+52…"
    )


async def release_undialled(
    sessions: async_sessionmaker[AsyncSession], campaign_id: int, node: str
) -> int:
    """Hand back contacts `node` leased but never dialled (no open attempt): due again now.

    `Dialer.recover()` closes this node's open attempts but leaves such leases to expire
    (10 minutes), so a restarted node would skip those contacts until then.
    """
    open_attempt = exists().where(
        Attempt.contact_id == CampaignContact.id, Attempt.outcome.is_(None)
    )
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(CampaignContact)
            .where(
                CampaignContact.campaign_id == campaign_id,
                CampaignContact.status == ContactStatus.IN_PROGRESS,
                CampaignContact.lease_owner == node,
                ~open_attempt,
            )
            .values(status=ContactStatus.PENDING, lease_owner=None, lease_expires_at=None)
            .execution_options(synchronize_session=False)
        )
    return int(getattr(result, "rowcount", 0) or 0)


# --- the run -------------------------------------------------------------------------------


async def run_campaign(
    settings: Settings,
    policies: PolicySet,
    request: RunRequest,
    *,
    on_start: Callable[[RunReport, Dialer], None] | None = None,
    on_stop: Callable[[RunReport, int], None] | None = None,
    clock: Clock | None = None,
) -> RunReport:
    """Run the campaign until a signal, `request.until`, or nothing is left to call.

    `on_start` hears when calls may begin, `on_stop` when the stop began (with the number of
    calls in flight it waits for).

    Raises RunSetupError (no contact or attempt touched) when the campaign, the settings or the
    backend are not usable, and `db.DatabaseError` when the database is not.
    """
    if request.agents and request.backend != "sim":
        raise RunSetupError(
            f"--agents {request.agents}: simulated agents answer only the sim backend's "
            f"calls, not {request.backend}'s; real agents come with the agent console"
        )
    clock = clock or SystemClock()
    engine = db.create_engine(settings.database_url)
    try:
        await db.ensure_migrated(engine)
        sessions = db.session_factory(engine)
        async with sessions() as session:
            campaign = await get_campaign(session, request.campaign_id)
            channel = call_channel(campaign)
            name = campaign.name
        try:
            line = configured_backend(settings, request.backend, clock)
        except BackendSetupError as exc:
            raise RunSetupError(str(exc)) from None
        caller_ids, shown = await _caller_ids(
            sessions, settings, request.campaign_id, request.caller_ids
        )
        d = settings.dialer
        options = DialerOptions(
            node=d.node,
            channel=channel,
            max_concurrent=d.max_concurrent,
            cps=d.cps,
            burst=d.burst,
            ring_timeout_seconds=d.ring_timeout_seconds,
            detect_machine=d.detect_machine,
            creditor_sector=settings.creditor_sector,
            collector_role=settings.collector_role,
            caller_name=d.caller_name,
        )
        dialer = Dialer(
            sessions,
            line.backend,
            request.campaign_id,
            policies,
            clock=clock,
            caller_ids=caller_ids,
            options=options,
            team=SimulatedTeam(request.agents) if request.agents else None,
        )
        report = RunReport(
            request.campaign_id,
            name,
            request.backend,
            f"{line.where}; caller ID {shown}",
            d.node,
            clock.now(),
        )
        try:
            await line.open()
        except BackendSetupError as exc:
            raise RunSetupError(str(exc)) from None
        try:
            await dialer.start()
        except (BackendError, PacingSetupError) as exc:
            await line.close()
            raise RunSetupError(str(exc)) from None
        report.recovered = dialer.in_flight
        try:
            report.released = await release_undialled(sessions, request.campaign_id, d.node)
            if on_start is not None:
                on_start(report, dialer)
            await _serve(dialer, line, request.until, d.stop_grace_seconds, report, on_stop)
        finally:
            with contextlib.suppress(BackendError):
                await dialer.close()
            await line.close()
            report.released += await release_undialled(sessions, request.campaign_id, d.node)
        report.ended = clock.now()
        stats = dialer.stats
        report.originated = stats.originated
        report.denied = stats.denied
        report.blocked = stats.blocked
        report.originate_errors = stats.originate_errors
        report.outcomes = Counter(stats.outcomes)
        report.pacing = dialer.pacing.mode.value if dialer.pacing is not None else "blast"
        report.bridged = stats.bridged
        report.abandoned = stats.abandoned
        if dialer.dispatch is not None:
            report.live_answers = dialer.dispatch.stats.ledger.cumulative().live_answers
        report.followups_queued = stats.followups_queued
        log.info(
            "dialer.run_stopped",
            campaign=report.campaign_id,
            node=report.node,
            stopped_by=report.stopped_by,
            originated=report.originated,
            settled=sum(report.outcomes.values()),
            recovered=report.recovered,
            released=report.released,
            left_in_flight=report.left_in_flight,
        )
        return report
    except CampaignError as exc:
        raise RunSetupError(str(exc)) from None
    finally:
        await engine.dispose()


async def _serve(
    dialer: Dialer,
    line: ConfiguredBackend,
    until: datetime | None,
    grace: float,
    report: RunReport,
    on_stop: Callable[[RunReport, int], None] | None,
) -> None:
    """Dial until stopped, then let the calls in flight settle (a second signal cuts it short)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    hurry = asyncio.Event()

    def request_stop(why: str) -> None:
        if stop.is_set():
            hurry.set()
        else:
            report.stopped_by = why
            stop.set()
        dialer.wakeup.set()

    handled: list[signal.Signals] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, request_stop, signum.name)
            handled.append(signum)
    timer = None
    if until is not None:
        delay = max(0.0, (until - dialer.clock.now()).total_seconds())
        timer = loop.call_later(delay, request_stop, f"--until {until:%Y-%m-%d %H:%M:%S %Z}")

    async def watch_finished() -> None:
        while not stop.is_set():
            if dialer.finished:
                request_stop("nothing left to call in this campaign")
            await asyncio.sleep(0.25)

    watcher = asyncio.create_task(watch_finished())
    try:
        await run_realtime(dialer, stop, sim=line.sim)
        if on_stop is not None:
            on_stop(report, dialer.in_flight)
        await _drain(dialer, line.sim, grace, hurry)
        report.left_in_flight = dialer.in_flight
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        if timer is not None:
            timer.cancel()
        for signum in handled:
            loop.remove_signal_handler(signum)


async def _drain(
    dialer: Dialer, sim: SimBackend | None, grace: float, hurry: asyncio.Event
) -> None:
    """Start no new call; keep tracking those in flight until they settle or `grace` ends."""
    dialer.limiter.max_concurrent = 0  # no room: step() settles and records, never launches
    done = asyncio.Event()

    async def watch() -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while dialer.in_flight and not hurry.is_set() and loop.time() < deadline:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(hurry.wait(), min(0.05, deadline - loop.time()))
        done.set()
        dialer.wakeup.set()

    watcher = asyncio.create_task(watch())
    await run_realtime(dialer, done, tick=0.1, sim=sim)
    await watcher


# --- the summary ---------------------------------------------------------------------------


def print_run(report: RunReport, console: Console) -> None:
    """What the run did: why it stopped, the outcomes of its calls, what it left for the next."""
    seconds = ((report.ended or report.started) - report.started).total_seconds()
    console.print(
        f"stopped ({report.stopped_by or 'ended'}) after {seconds:.1f} s: "
        f"{report.originated:,} calls placed, {sum(report.outcomes.values()):,} finished"
        + (f", {report.denied:,} contacts parked until their window opens" if report.denied else "")
        + (f", {report.blocked:,} blocked by compliance" if report.blocked else "")
        + (f", {report.originate_errors:,} originate errors" if report.originate_errors else ""),
        highlight=False,
    )
    if report.live_answers:
        console.print(
            f"pacing {report.pacing}: {report.live_answers:,} live answers, "
            f"{report.bridged:,} went to agents, {report.abandoned:,} abandoned "
            f"({100 * report.abandoned / report.live_answers:.1f} %; each heard the apology "
            f"and has an SMS follow-up queued: {report.followups_queued:,})",
            highlight=False,
        )
    if report.left_in_flight:
        console.print(
            f"{report.left_in_flight} calls were still in flight when the run stopped waiting: "
            "the next run closes them (failed unless answered) and never dials them again",
            highlight=False,
        )
    table = Table(title=f"Outcomes of this run (campaign {report.campaign_id})")
    table.add_column("outcome")
    table.add_column("calls", justify="right")
    for outcome, count in report.outcomes.most_common():
        table.add_row(outcome, f"{count:,}")
    table.add_row("[bold]total[/bold]", f"[bold]{sum(report.outcomes.values()):,}[/bold]")
    console.print(table)
