"""The pacing loop on constructed calls: bridges, the 2-second abandon, wrap-ups, live changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dialer.calls import Call, CallEvent, Signal
from dialer.dispatch import AbandonCall, BridgeCall, Dispatch
from dialer.floor import AgentStatus
from dialer.pacing import PacingMode, PacingSettings
from dialer.sim.team import SimulatedTeam

T0 = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


class FixedWrap:
    """A team whose wrap-up always lasts `seconds`."""

    def __init__(self, size: int, seconds: float = 20.0) -> None:
        self.agent_ids = tuple(f"a{i}" for i in range(1, size + 1))
        self.seconds = seconds

    def wrap_seconds(self, agent_id: str) -> float:
        return self.seconds


def settings(mode: PacingMode = PacingMode.PROGRESSIVE, **changes: object) -> PacingSettings:
    base = PacingSettings(mode=mode, cps=100.0, burst=100, max_channels=1000)
    return base.with_changes(**changes)


def feed(dispatch: Dispatch, call: Call, signal: Signal, when: float, **fields: object) -> None:
    event = CallEvent(call.call_id, signal, at(when), **fields)  # type: ignore[arg-type]
    call.feed(event)
    dispatch.observe(call, event)


def answered_human(dispatch: Dispatch, call_id: str, verdict_at: float) -> Call:
    """A call launched 10 s before `verdict_at` whose AMD just said HUMAN."""
    call = Call(call_id)
    dispatch.launched(call_id, at(verdict_at - 10))
    feed(dispatch, call, Signal.QUEUED, verdict_at - 10)
    feed(dispatch, call, Signal.ANSWERED, verdict_at - 3)
    feed(dispatch, call, Signal.AMD, verdict_at, detail="HUMAN")
    return call


class TestBridgesAndAbandons:
    def test_a_live_answer_goes_to_the_ready_agent_at_once(self) -> None:
        dispatch = Dispatch(settings(), T0, team=FixedWrap(1))
        answered_human(dispatch, "c1", 12.0)
        actions = dispatch.actions(at(12.0))
        assert actions == [BridgeCall("c1", "a1", 0.0)]
        assert dispatch.floor.status("a1") is AgentStatus.TALKING
        assert dispatch.stats.ledger.cumulative().live_answers == 1

    def test_no_agent_within_two_seconds_is_an_abandon(self) -> None:
        dispatch = Dispatch(settings(), T0, team=FixedWrap(1))
        answered_human(dispatch, "c1", 12.0)
        answered_human(dispatch, "c2", 13.0)  # the only agent is talking to c1
        dispatch.actions(at(13.0))
        assert dispatch.actions(at(15.0)) == []  # exactly 2 s: still in time
        actions = dispatch.actions(at(15.01))
        assert actions == [AbandonCall("c2", 2.0)]
        rate = dispatch.stats.ledger.cumulative()
        assert (rate.abandons, rate.live_answers) == (1, 2)

    def test_an_agent_freed_in_time_takes_the_waiting_call(self) -> None:
        dispatch = Dispatch(settings(), T0, team=FixedWrap(1, seconds=0.5))
        first = answered_human(dispatch, "c1", 12.0)
        dispatch.actions(at(12.0))
        answered_human(dispatch, "c2", 13.0)
        feed(dispatch, first, Signal.HANGUP, 13.5, cause=16)  # c1 ends; wrap-up 0.5 s
        assert dispatch.floor.status("a1") is AgentStatus.WRAP
        actions = dispatch.actions(at(14.0))
        assert [(a.call_id, getattr(a, "agent_id", None)) for a in actions] == [("c2", "a1")]
        assert actions[0].waited == pytest.approx(1.0)
        assert dispatch.stats.handles == 1  # 12.0 → 14.0: talk and wrap-up

    def test_machines_never_reach_the_floor(self) -> None:
        dispatch = Dispatch(settings(), T0, team=FixedWrap(2))
        call = Call("m1")
        dispatch.launched("m1", at(0.0))
        feed(dispatch, call, Signal.ANSWERED, 8.0)
        feed(dispatch, call, Signal.AMD, 11.0, detail="MACHINE")
        assert dispatch.actions(at(11.0)) == []
        assert dispatch.stats.live_answers == 0
        assert dispatch.ringing == 0  # resolved: not a call in flight any more

    def test_a_failed_dial_stops_ringing(self) -> None:
        dispatch = Dispatch(settings(), T0, team=FixedWrap(2))
        call = Call("b1")
        dispatch.launched("b1", at(0.0))
        assert dispatch.ringing == 1
        feed(dispatch, call, Signal.HANGUP, 4.0, cause=17)
        feed(dispatch, call, Signal.ORIGINATE_RESULT, 4.0, reason=5)
        assert dispatch.ringing == 0

    def test_an_ivr_transfer_joins_the_floor_on_its_key(self) -> None:
        dispatch = Dispatch(settings(PacingMode.IVR_TRANSFER), T0, team=FixedWrap(1))
        call = answered_human(dispatch, "t1", 12.0)
        assert dispatch.actions(at(12.0)) == []  # the IVR talks first
        feed(dispatch, call, Signal.IVR_STARTED, 12.1)
        feed(dispatch, call, Signal.DTMF, 20.0, detail="2")
        assert dispatch.actions(at(20.0)) == [BridgeCall("t1", "a1", 0.0)]
        assert dispatch.stats.transfers == 1


class TestPacingAndChanges:
    def test_progressive_launches_one_per_ready_agent(self) -> None:
        dispatch = Dispatch(settings(), T0, team=FixedWrap(3))
        assert dispatch.launches(at(0.0), channels=0) == 3
        for i in range(3):
            dispatch.launched(f"c{i}", at(0.0))
        assert dispatch.launches(at(1.0), channels=3) == 0  # each ready agent has its line

    def test_a_limit_caps_the_launches(self) -> None:
        dispatch = Dispatch(settings(), T0, team=FixedWrap(5))
        assert dispatch.launches(at(0.0), channels=0, limit=2) == 2
        assert dispatch.last_wish == 5

    def test_a_change_keeps_what_was_learned_and_grants_no_burst(self) -> None:
        dispatch = Dispatch(settings(cps=1.0, burst=1), T0, team=FixedWrap(5))
        dispatch.stats.handled(120.0)
        assert dispatch.launches(at(0.0), channels=0) == 1  # the one token
        changed = dispatch.change(settings(PacingMode.RATIO, cps=5.0, burst=5), at(0.0))
        assert changed
        assert dispatch.mode is PacingMode.RATIO
        assert dispatch.stats.handles == 1
        assert dispatch.launches(at(0.0), channels=1) == 0  # no fresh burst on a change
        assert dispatch.launches(at(1.0), channels=1) == 5  # the new rate from then on
        assert not dispatch.change(dispatch.settings, at(1.0))

    def test_hours_are_clock_hours(self) -> None:
        dispatch = Dispatch(settings(), T0 + timedelta(minutes=37), team=FixedWrap(1))
        assert dispatch.epoch == T0
        answered_human(dispatch, "c1", 37 * 60 + 30.0)
        assert list(dispatch.stats.ledger.by_hour()) == [0.0]

    def test_next_wakeup_is_the_abandon_deadline_when_a_call_waits(self) -> None:
        dispatch = Dispatch(settings(), T0, team=FixedWrap(1))
        answered_human(dispatch, "c1", 12.0)
        answered_human(dispatch, "c2", 12.2)
        dispatch.actions(at(12.2))
        assert dispatch.next_wakeup(at(12.2)) == at(13.2)  # the pacing tick comes first
        wake = dispatch.next_wakeup(at(13.5))  # the deadline before the next tick
        assert at(14.2) < wake < at(14.3)


class TestSimulatedTeam:
    def test_names_and_wrap_times(self) -> None:
        team = SimulatedTeam(12, seed=1)
        assert team.agent_ids[0] == "agent-01"
        assert team.agent_ids[-1] == "agent-12"
        draws = [team.wrap_seconds("agent-01") for _ in range(2000)]
        assert 18.5 < sum(draws) / len(draws) < 21.5

    def test_needs_an_agent(self) -> None:
        with pytest.raises(ValueError, match="at least one agent"):
            SimulatedTeam(0)
