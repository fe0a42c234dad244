"""An agent shift on the simulator, without a database: the pacing loop alone, fast.

The same `Dispatch` (pacer, agent floor, abandons), `Call` lifecycle and in-process simulator
as a campaign run, on a virtual clock, with a simulated team: what `bench/pacing_sim.py`
measures and what the test suite's seeded pacing simulation asserts. Contacts, compliance and
the database are left out (one number is dialled over and over; the population model decides
every dial afresh), so an 8-hour shift of 50 agents takes seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dialer.backends.base import CallRoute, OriginateRequest
from dialer.calls import Call, CallEvent
from dialer.clock import VirtualClock
from dialer.dispatch import AbandonCall, BridgeCall, Dispatch, LaunchPacer
from dialer.floor import AgentFloor
from dialer.pacing import AbandonRate, PacingSettings, PacingStats
from dialer.sim.backend import SimBackend
from dialer.sim.population import AgentCampaignModel, Fate, Population
from dialer.sim.team import SimulatedTeam

__all__ = ["PacerFactory", "ShiftResult", "run_shift"]

#: Builds the pacer under test from the shift's floor and stats (None: the settings' own).
PacerFactory = Callable[[AgentFloor, PacingStats], LaunchPacer]


@dataclass
class ShiftResult:
    """What one shift did, scored by the simulator's truth where the dialer cannot know it."""

    agents: int
    hours: float
    seed: int
    dials: int = 0
    live_answers: int = 0  # as the dialer saw them (AMD verdicts): the FTC denominator
    abandons: int = 0
    by_hour: list[AbandonRate] = field(default_factory=list)  # one per clock hour of the shift
    connects: int = 0  # real people bridged to an agent
    promises: int = 0
    machines_to_agents: int = 0  # AMD said human, it was a machine
    humans_missed: int = 0  # AMD said machine, it was a person (never reaches an agent)
    talk_seconds: float = 0.0
    wrap_seconds: float = 0.0
    logged_in_seconds: float = 0.0
    occupancy: float = 0.0
    wall_seconds: float = 0.0

    @property
    def abandon_rate(self) -> float:
        return self.abandons / self.live_answers if self.live_answers else 0.0

    @property
    def worst_hour(self) -> float:
        return max((h.rate for h in self.by_hour), default=0.0)

    @property
    def agent_hours(self) -> float:
        return self.logged_in_seconds / 3600.0


async def run_shift(
    settings: PacingSettings,
    *,
    agents: int,
    start: datetime,
    hours: float = 8.0,
    seed: int = 0,
    population: Population | None = None,
    pacer: PacerFactory | None = None,
    wrap_mean: float = 20.0,
    ring_timeout: float = 25.0,
) -> ShiftResult:
    """Run one shift from `start` for `hours`; no call starts after the end, and the calls
    in flight then settle (answers still get an agent or the apology)."""
    began = time.perf_counter()
    clock = VirtualClock(start)
    sim = SimBackend(clock, model=population or AgentCampaignModel(), seed=seed)
    team = SimulatedTeam(agents, wrap_mean=wrap_mean, seed=seed + 7919)
    stats = PacingStats()
    dispatch = Dispatch(settings, start, team=team, stats=stats)
    if pacer is not None:
        dispatch.pacer = pacer(dispatch.floor, stats)
    result = ShiftResult(agents, hours, seed)
    calls: dict[str, Call] = {}

    def sink(event: CallEvent) -> None:
        call = calls.get(event.call_id)
        if call is None:
            return
        call.feed(event)
        dispatch.observe(call, event)
        if call.terminal:
            del calls[event.call_id]
            sim.forget(event.call_id)

    await sim.start(sink)
    end = start + timedelta(hours=hours)
    next_tick = start
    serial = 0
    while True:
        now = clock.now()
        sim.pump(now)
        for action in dispatch.actions(now):
            call = calls.get(action.call_id)
            if call is None:
                continue
            if isinstance(action, BridgeCall):
                script = sim.script_of(action.call_id)
                if script is not None:
                    if script.fate is Fate.HUMAN:
                        result.connects += 1
                        result.promises += script.promise
                    else:
                        result.machines_to_agents += 1
                await sim.bridge(action.call_id, action.agent_id)
            elif isinstance(action, AbandonCall):
                call.mark_abandoned()
                await sim.apologise(action.call_id, "")
        if now >= next_tick:
            next_tick = now + Dispatch.tick
            if now < end:
                n = dispatch.launches(now, channels=len(calls))
                for _ in range(n):
                    serial += 1
                    call_id = f"shift-{serial}"
                    calls[call_id] = Call(call_id)
                    dispatch.launched(call_id, now)
                    await sim.originate(
                        OriginateRequest(
                            call_id,
                            "+525555000000",
                            "+525512345678",
                            timeout_seconds=ring_timeout,
                            route=CallRoute.AGENT,
                        )
                    )
                    script = sim.script_of(call_id)
                    if script is not None and script.fate is Fate.HUMAN:
                        result.humans_missed += script.detected == "MACHINE"
                result.dials += n
            elif not calls:
                break
        upcoming = [next_tick, dispatch.next_wakeup(now)]
        due = sim.next_due()
        if due is not None:
            upcoming.append(due)
        clock.advance_to(max(min(upcoming), now + timedelta(microseconds=1)))
    finished = clock.now()
    totals = dispatch.floor.totals(dispatch.seconds(min(finished, end)))
    ledger = stats.ledger
    total = ledger.cumulative()
    result.live_answers = total.live_answers
    result.abandons = total.abandons
    first = dispatch.seconds(start)
    result.by_hour = [
        rate
        for hour_start, rate in ledger.by_hour().items()
        if first <= hour_start < first + hours * 3600
    ]
    result.talk_seconds = totals.talk
    result.wrap_seconds = totals.wrap
    result.logged_in_seconds = totals.logged_in
    result.occupancy = totals.occupancy
    result.wall_seconds = time.perf_counter() - began
    return result
