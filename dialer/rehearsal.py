"""A campaign day on the built-in simulator: the production dialer on a virtual clock.

Used by `demo` (and by a campaign manager rehearsing a campaign): the same claim → decide →
attempt → originate → events → outcome path as production, with the population model at the
far end, so a working day takes seconds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from time import perf_counter

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from campaigns import db
from campaigns.compliance import PolicySet
from campaigns.compliance.clock import zone
from campaigns.enrolment import create_campaign, enrol
from campaigns.models import Attempt
from dialer.clock import VirtualClock
from dialer.dispatch import Team
from dialer.driver import run_virtual
from dialer.pacing import AbandonRate
from dialer.runner import CallerIdSource, Dialer, DialerOptions
from dialer.sim.backend import SimBackend
from dialer.sim.population import Population

__all__ = ["DayReport", "rehearse_day"]


@dataclass
class DayReport:
    campaign_id: int
    contacts: int
    started: datetime
    ended: datetime
    attempts: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    causes: Counter[int] = field(default_factory=Counter)
    caller_ids: Counter[str] = field(default_factory=Counter)
    peak_in_flight: int = 0
    denied: int = 0
    blocked: int = 0
    duplicate_originations: int = 0
    wall_seconds: float = 0.0
    pacing: str = "blast"
    agents: int = 0
    occupancy: float = 0.0  # (talk + wrap-up) ÷ logged-in time of the agents
    bridged: int = 0
    abandon: AbandonRate | None = None  # the FTC's: abandons ÷ live answers
    abandon_by_hour: list[tuple[datetime, AbandonRate]] = field(default_factory=list)
    followups_queued: int = 0


async def rehearse_day(
    engine: AsyncEngine,
    policies: PolicySet,
    caller_ids: CallerIdSource,
    *,
    country: str,
    creditor: str | None,
    day: date,
    local_zone: str,
    contacts: int,
    options: DialerOptions,
    seed: int = 0,
    on_progress: Callable[[Dialer], None] | None = None,
    name: str | None = None,
    pacing: str = "blast",
    pacing_settings: dict[str, float] | None = None,
    team: Team | None = None,
    model: Population | None = None,
    hours: tuple[int, int] = (8, 21),
) -> DayReport:
    """Run one campaign from `hours` (08:00 to 21:00) local time of `day` in `local_zone`,
    paced by `pacing` (agent modes need a simulated `team`) against `model`'s debtors."""
    tz = zone(local_zone)
    start = datetime.combine(day, time(hours[0]), tzinfo=tz)
    end = datetime.combine(day, time(hours[1]), tzinfo=tz)
    sessions = db.session_factory(engine)
    async with sessions() as session, session.begin():
        campaign = await create_campaign(
            session,
            name=name or f"rehearsal {country} {day.isoformat()}",
            country=country,
            creditor=creditor,
            channels=[options.channel.value],
            pacing_mode=pacing,
            options={"pacing": dict(pacing_settings)} if pacing_settings else None,
        )
        enrolled = await enrol(session, campaign, due_at=start, limit=contacts)
        campaign_id = campaign.id
    clock = VirtualClock(start)
    sim = SimBackend(clock, model=model, seed=seed)
    dialer = Dialer(
        sessions,
        sim,
        campaign_id,
        policies,
        clock=clock,
        caller_ids=caller_ids,
        options=options,
        team=team,
    )
    report = DayReport(campaign_id, enrolled, start, end)
    peak = 0

    def progress(d: Dialer) -> None:
        nonlocal peak
        peak = max(peak, d.in_flight)
        if on_progress is not None:
            on_progress(d)

    began = perf_counter()
    await dialer.start()
    try:
        await run_virtual(
            dialer,
            sim,
            clock,
            end + timedelta(minutes=5),
            on_progress=progress,
            progress_every=timedelta(minutes=2),
        )
    finally:
        await dialer.close()
    report.wall_seconds = perf_counter() - began
    report.peak_in_flight = peak
    report.denied = dialer.stats.denied
    report.blocked = dialer.stats.blocked
    report.caller_ids = dialer.stats.caller_ids
    report.duplicate_originations = sum(1 for n in sim.originations.values() if n > 1)
    report.pacing = pacing
    report.bridged = dialer.stats.bridged
    report.followups_queued = dialer.stats.followups_queued
    dispatch = dialer.dispatch
    if dispatch is not None:
        report.agents = len(team.agent_ids) if team is not None else 0
        report.occupancy = dispatch.floor.totals(dispatch.seconds(end)).occupancy
        ledger = dispatch.stats.ledger
        report.abandon = ledger.cumulative()
        hours_of_day = (
            (dispatch.epoch + timedelta(seconds=at), rate) for at, rate in ledger.by_hour().items()
        )
        # Not the hour after the end, when only the last calls settle.
        report.abandon_by_hour = [(at, rate) for at, rate in hours_of_day if at < end]
    async with sessions() as session:
        rows = await session.execute(
            select(Attempt.outcome, Attempt.hangup_cause, func.count())
            .where(Attempt.campaign_id == campaign_id)
            .group_by(Attempt.outcome, Attempt.hangup_cause)
        )
        for outcome, cause, count in rows:
            report.attempts += count
            report.outcomes[outcome.value if outcome is not None else "open"] += count
            if cause:
                report.causes[cause] += count
    return report
