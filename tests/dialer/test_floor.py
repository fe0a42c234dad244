"""The agent floor on constructed scenarios: FIFO queue, longest-ready agent first, the 2 s
abandon boundary, wrap-up then the queue, occupancy arithmetic, pauses, misuse."""

from __future__ import annotations

import pytest

from dialer.floor import AgentFloor, AgentStatus, AgentTimes, Assignment, FloorError
from dialer.pacing import ABANDON_SECONDS


def test_a_live_answer_goes_to_the_agent_ready_longest() -> None:
    floor = AgentFloor()
    floor.login("ana", 0.0)
    floor.login("beto", 5.0)
    floor.login("caro", 1.0)
    assert floor.live_answer("c1", 10.0) == Assignment("c1", "ana", 10.0, 0.0)
    assert floor.live_answer("c2", 11.0) == Assignment("c2", "beto", 11.0, 0.0)  # login order
    assert floor.live_answer("c3", 12.0) == Assignment("c3", "caro", 12.0, 0.0)
    assert floor.live_answer("c4", 13.0) is None
    assert floor.waiting == 1


def test_an_agent_back_from_wrap_up_queues_behind_those_already_ready() -> None:
    floor = AgentFloor()
    floor.login("ana", 0.0)
    floor.login("beto", 0.0)
    floor.live_answer("c1", 1.0)  # ana
    floor.end_talk("ana", 30.0)
    floor.end_wrap("ana", 40.0)  # ana ready again, after beto
    assert floor.live_answer("c2", 41.0) == Assignment("c2", "beto", 41.0, 0.0)
    assert floor.live_answer("c3", 42.0) == Assignment("c3", "ana", 42.0, 0.0)


def test_waiting_calls_are_taken_first_in_first_out() -> None:
    floor = AgentFloor()
    floor.login("ana", 0.0)
    floor.live_answer("busy", 0.0)
    for i, at in enumerate((10.0, 10.5, 11.0)):
        assert floor.live_answer(f"w{i}", at) is None
    floor.end_talk("ana", 11.2)
    taken = floor.end_wrap("ana", 11.5)
    assert taken == Assignment("w0", "ana", 11.5, 1.5)
    assert floor.status("ana") is AgentStatus.TALKING
    assert floor.call_of("ana") == "w0"
    assert floor.waiting == 2


def test_abandon_boundary_is_exactly_two_seconds_after_the_verdict() -> None:
    assert ABANDON_SECONDS == 2.0
    floor = AgentFloor()
    floor.login("ana", 0.0)
    floor.live_answer("busy", 0.0)
    floor.live_answer("late", 10.0)
    assert floor.expire(11.999) == []
    assert floor.expire(12.0) == []  # at 2.0 s the call may still be bridged "within 2 s"
    assert floor.next_deadline() == 12.0
    assert floor.expire(12.000001) == ["late"]
    assert floor.waiting == 0
    assert floor.next_deadline() is None


def test_a_bridge_at_exactly_two_seconds_is_in_time() -> None:
    floor = AgentFloor()
    floor.login("ana", 0.0)
    floor.live_answer("busy", 0.0)
    floor.live_answer("edge", 10.0)
    floor.end_talk("ana", 11.0)
    assert floor.end_wrap("ana", 12.0) == Assignment("edge", "ana", 12.0, 2.0)
    assert floor.expire(20.0) == []


def test_an_expired_call_is_never_bridged_even_before_expire_is_called() -> None:
    floor = AgentFloor()
    floor.login("ana", 0.0)
    floor.live_answer("busy", 0.0)
    floor.live_answer("stale", 10.0)
    floor.live_answer("fresh", 11.0)
    floor.end_talk("ana", 12.0)
    # At 12.5 "stale" (2.5 s) is past its deadline: the agent takes "fresh" (1.5 s).
    assert floor.end_wrap("ana", 12.5) == Assignment("fresh", "ana", 12.5, 1.5)
    assert floor.expire(12.5) == ["stale"]


def test_wrap_up_then_ready_takes_the_head_of_the_queue_at_once() -> None:
    floor = AgentFloor()
    floor.login("ana", 0.0)
    floor.live_answer("c1", 0.0)
    assert floor.end_talk("ana", 100.0) == "c1"
    assert floor.status("ana") is AgentStatus.WRAP
    assert floor.live_answer("c2", 110.0) is None  # wrap-up is not ready
    assert floor.end_wrap("ana", 111.0) == Assignment("c2", "ana", 111.0, 1.0)


def test_a_waiting_caller_may_hang_up_first() -> None:
    floor = AgentFloor()
    floor.login("ana", 0.0)
    floor.live_answer("busy", 0.0)
    floor.live_answer("gone", 5.0)
    assert floor.hangup_waiting("gone", 6.0) is True
    assert floor.hangup_waiting("gone", 6.1) is False
    assert floor.expire(60.0) == []
    floor.end_talk("ana", 7.0)
    assert floor.end_wrap("ana", 7.5) is None
    assert floor.status("ana") is AgentStatus.READY


def test_occupancy_is_talk_plus_wrap_over_logged_in_time() -> None:
    floor = AgentFloor()
    floor.login("ana", 0.0)
    floor.live_answer("c1", 10.0)  # ready 10
    floor.end_talk("ana", 70.0)  # talk 60
    floor.end_wrap("ana", 90.0)  # wrap 20
    floor.pause("ana", 100.0)  # ready 10 more
    floor.resume("ana", 120.0)  # paused 20
    times = floor.times("ana", 200.0)  # ready 80 more
    assert times == AgentTimes(ready=100.0, talk=60.0, wrap=20.0, paused=20.0, calls=1)
    assert times.logged_in == 200.0
    assert times.occupancy == pytest.approx(80.0 / 200.0)
    floor.logout("ana", 200.0)
    assert floor.times("ana", 500.0) == times  # logged-out time is not counted


def test_totals_sum_every_agent() -> None:
    floor = AgentFloor()
    floor.login("ana", 0.0)
    floor.login("beto", 0.0)
    floor.live_answer("c1", 0.0)
    floor.end_talk("ana", 50.0)
    totals = floor.totals(100.0)
    assert totals == AgentTimes(ready=100.0, talk=50.0, wrap=50.0, paused=0.0, calls=1)
    assert totals.occupancy == pytest.approx(0.5)
    assert AgentTimes().occupancy == 0.0


def test_a_paused_agent_is_not_ready_and_gets_no_call() -> None:
    floor = AgentFloor()
    floor.login("ana", 0.0)
    floor.login("beto", 1.0)
    floor.pause("ana", 2.0)
    floor.pause("ana", 2.5)  # idempotent
    state = floor.state(3.0)
    assert (state.ready, state.agents) == (1, 2)
    assert floor.live_answer("c1", 3.0) == Assignment("c1", "beto", 3.0, 0.0)
    assert floor.live_answer("c2", 4.0) is None
    assert floor.resume("ana", 4.5) == Assignment("c2", "ana", 4.5, 0.5)


def test_pause_during_wrap_up_ends_it_and_keeps_the_agent_off_the_queue() -> None:
    floor = AgentFloor()
    floor.login("ana", 0.0)
    floor.live_answer("c1", 0.0)
    floor.end_talk("ana", 10.0)
    floor.pause("ana", 12.0)
    floor.live_answer("c2", 13.0)
    assert floor.status("ana") is AgentStatus.PAUSED
    assert floor.times("ana", 20.0) == AgentTimes(talk=10.0, wrap=2.0, paused=8.0, calls=1)


def test_state_is_what_the_pacer_sees() -> None:
    floor = AgentFloor()
    for name in ("ana", "beto", "caro", "dani"):
        floor.login(name, 0.0)
    floor.live_answer("c1", 10.0)  # ana talks
    floor.live_answer("c2", 20.0)  # beto talks
    floor.end_talk("ana", 40.0)  # ana wraps up: still busy, elapsed since the bridge
    floor.pause("dani", 41.0)
    state = floor.state(50.0, ringing_ages=(3.0, 7.5), channels=4)
    assert state.now == 50.0
    assert state.ready == 1  # caro
    assert sorted(state.busy_elapsed) == [30.0, 40.0]
    assert state.ringing_ages == (3.0, 7.5)
    assert (state.waiting, state.channels, state.agents) == (0, 4, 4)
    counts = floor.counts()
    assert (counts.ready, counts.talking, counts.wrapping, counts.paused) == (1, 1, 1, 1)
    assert counts.logged_in == 4


def test_misuse_is_refused_with_a_clear_message() -> None:
    floor = AgentFloor()
    with pytest.raises(FloorError, match="'ghost' is not known"):
        floor.pause("ghost", 0.0)
    floor.login("ana", 0.0)
    with pytest.raises(FloorError, match="'ana' is already logged in"):
        floor.login("ana", 1.0)
    with pytest.raises(FloorError, match="cannot end a call: it is ready"):
        floor.end_talk("ana", 1.0)
    with pytest.raises(FloorError, match="cannot resume: it is ready"):
        floor.resume("ana", 1.0)
    floor.live_answer("c1", 2.0)
    with pytest.raises(FloorError, match="'c1' is already on the floor"):
        floor.live_answer("c1", 2.5)
    with pytest.raises(FloorError, match="cannot log out: it is talking"):
        floor.logout("ana", 3.0)
    with pytest.raises(FloorError, match="cannot pause: it is talking"):
        floor.pause("ana", 3.0)
    with pytest.raises(FloorError, match="time went backwards"):
        floor.end_talk("ana", 1.0)
    floor.end_talk("ana", 4.0)
    floor.logout("ana", 5.0)
    assert floor.status("ana") is AgentStatus.LOGGED_OUT
    assert floor.login("ana", 6.0) is None  # logging in again after a logout is fine
    with pytest.raises(FloorError, match="abandon_seconds"):
        AgentFloor(abandon_seconds=-1.0)
