"""The in-process simulator's agent route: silent wait, bridge for the talk time, the apology."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dialer.backends.base import CallRoute, OriginateRequest
from dialer.calls import CallEvent, Signal
from dialer.clock import VirtualClock
from dialer.errors import BackendError
from dialer.sim.backend import SimBackend
from dialer.sim.population import CallScript, Fate

T0 = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


class OneScript:
    def __init__(self, script: CallScript) -> None:
        self.script_ = script

    def script(self, number: str, at: datetime, rng: object) -> CallScript:
        return self.script_


HUMAN = CallScript(
    Fate.HUMAN, ring_seconds=5.0, amd_seconds=2.5, talk_seconds=120.0, hangup_after_seconds=17.5
)


async def _call(
    script: CallScript, route: CallRoute = CallRoute.AGENT
) -> tuple[SimBackend, VirtualClock, list[CallEvent]]:
    clock = VirtualClock(T0)
    sim = SimBackend(clock, model=OneScript(script))
    events: list[CallEvent] = []
    await sim.start(events.append)
    await sim.originate(OriginateRequest("c1", "+525555000000", "+525512345678", route=route))
    return sim, clock, events


def _run(sim: SimBackend, clock: VirtualClock, until: float) -> None:
    end = T0 + timedelta(seconds=until)
    while (due := sim.next_due()) is not None and due <= end:
        clock.advance_to(due)
        sim.pump(due)
    clock.advance_to(end)


def _signals(events: list[CallEvent]) -> list[Signal]:
    return [e.signal for e in events]


async def test_a_person_waits_in_silence_and_hangs_up_if_nobody_comes() -> None:
    sim, clock, events = await _call(HUMAN)
    _run(sim, clock, 60)
    assert Signal.IVR_STARTED not in _signals(events)
    hangup = next(e for e in events if e.signal is Signal.HANGUP)
    assert hangup.at == T0 + timedelta(seconds=0.1 + 5.0 + 17.5)


async def test_a_bridge_lasts_the_debtors_talk_time() -> None:
    sim, clock, events = await _call(HUMAN)
    _run(sim, clock, 7.7)  # the AMD verdict came at 7.6 s
    await sim.bridge("c1", "agent-01")
    _run(sim, clock, 400)
    bridged = next(e for e in events if e.signal is Signal.BRIDGED)
    hangup = next(e for e in events if e.signal is Signal.HANGUP)
    assert bridged.detail == "agent-01"
    assert (hangup.at - bridged.at).total_seconds() == pytest.approx(120.0)


async def test_the_apology_plays_then_the_call_ends() -> None:
    sim, clock, events = await _call(HUMAN)
    _run(sim, clock, 9.7)
    await sim.apologise("c1", "Le llamamos de parte de ACME…")
    _run(sim, clock, 60)
    played = next(e for e in events if e.signal is Signal.IVR_STARTED)
    hangup = next(e for e in events if e.signal is Signal.HANGUP)
    assert played.detail == "abandon-message"
    assert (hangup.at - played.at).total_seconds() == pytest.approx(SimBackend.apology_seconds)


async def test_a_machine_on_the_agent_route_gets_the_ivr() -> None:
    machine = CallScript(Fate.MACHINE, ring_seconds=3.0, amd_seconds=3.0, hangup_after_seconds=20.0)
    sim, clock, events = await _call(machine)
    _run(sim, clock, 60)
    assert Signal.IVR_STARTED in _signals(events)


async def test_amd_errors_are_what_the_detector_reports() -> None:
    wrong = CallScript(
        Fate.HUMAN, ring_seconds=3.0, amd_status="MACHINE", hangup_after_seconds=20.0
    )
    sim, clock, events = await _call(wrong)
    _run(sim, clock, 60)
    amd = next(e for e in events if e.signal is Signal.AMD)
    assert amd.detail == "MACHINE"


async def test_nothing_is_bridged_or_played_before_the_answer() -> None:
    sim, _, _ = await _call(HUMAN)
    with pytest.raises(BackendError, match="not up"):
        await sim.bridge("c1", "agent-01")
    with pytest.raises(BackendError, match="not up"):
        await sim.apologise("c1", "…")
