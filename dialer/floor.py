"""The agent floor, sans-I/O: who is ready, who is talking, which live answers wait, and how long.

Agents log in, pause, resume and log out; a live answer goes straight to the agent who has been
ready longest, or waits in a FIFO queue. A waiting call not bridged within `ABANDON_SECONDS` of
its live-answer verdict is abandoned (`expire` reports it: the dialer then plays the
apology/identification message and queues the SMS follow-up). After a call an agent wraps up,
then becomes ready and takes the head of the queue at once. Every status change is timed per
agent, so occupancy — (talk + wrap) ÷ logged-in time — comes from the same records the pacer's
`FloorState` is built from. Time is an input (float seconds), as everywhere in the pacing core.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from dialer.errors import DialerError
from dialer.pacing import ABANDON_SECONDS, FloorState

__all__ = [
    "AgentFloor",
    "AgentStatus",
    "AgentTimes",
    "Assignment",
    "FloorCounts",
    "FloorError",
]


class FloorError(DialerError):
    """The floor was asked something impossible (unknown agent, double login, a call twice);
    the message names the agent or call and its current status."""


class AgentStatus(StrEnum):
    READY = "ready"  # logged in, waiting for a call
    TALKING = "talking"  # bridged to a call
    WRAP = "wrap"  # after-call work (disposition); the call is gone
    PAUSED = "paused"  # logged in, not taking calls
    LOGGED_OUT = "logged_out"


@dataclass(frozen=True, slots=True)
class Assignment:
    """A live answer bridged to an agent; `waited` is seconds from its verdict to the bridge."""

    call_id: str
    agent_id: str
    at: float
    waited: float


@dataclass(frozen=True, slots=True)
class AgentTimes:
    """Seconds spent in each logged-in status (one agent or a sum over agents)."""

    ready: float = 0.0
    talk: float = 0.0
    wrap: float = 0.0
    paused: float = 0.0
    calls: int = 0

    @property
    def logged_in(self) -> float:
        return self.ready + self.talk + self.wrap + self.paused

    @property
    def occupancy(self) -> float:
        """(talk + wrap) ÷ logged-in time; 0 before any time was logged."""
        total = self.logged_in
        return (self.talk + self.wrap) / total if total > 0 else 0.0

    def __add__(self, other: AgentTimes) -> AgentTimes:
        return AgentTimes(
            self.ready + other.ready,
            self.talk + other.talk,
            self.wrap + other.wrap,
            self.paused + other.paused,
            self.calls + other.calls,
        )


@dataclass(frozen=True, slots=True)
class FloorCounts:
    """Agents per status and live answers waiting, as a VICIdial-style pacer counts them."""

    ready: int
    talking: int
    wrapping: int
    paused: int
    waiting: int

    @property
    def logged_in(self) -> int:
        return self.ready + self.talking + self.wrapping + self.paused


class _Agent:
    """One agent's mutable record: status, since when, its call, and time per status."""

    __slots__ = ("agent_id", "bridged_at", "call_id", "calls", "since", "status", "totals")

    def __init__(self, agent_id: str) -> None:
        self.agent_id = agent_id
        self.status = AgentStatus.LOGGED_OUT
        self.since = 0.0
        self.call_id: str | None = None
        self.bridged_at = 0.0
        self.calls = 0
        self.totals: dict[AgentStatus, float] = dict.fromkeys(AgentStatus, 0.0)

    def move(self, status: AgentStatus, now: float) -> None:
        if now < self.since:
            raise FloorError(
                f"agent {self.agent_id}: time went backwards ({now:g} s is before its last "
                f"change at {self.since:g} s)"
            )
        self.totals[self.status] += now - self.since
        self.status = status
        self.since = now

    def times(self, now: float) -> AgentTimes:
        totals = dict(self.totals)
        if self.status is not AgentStatus.LOGGED_OUT:
            totals[self.status] += max(0.0, now - self.since)
        return AgentTimes(
            totals[AgentStatus.READY],
            totals[AgentStatus.TALKING],
            totals[AgentStatus.WRAP],
            totals[AgentStatus.PAUSED],
            self.calls,
        )


class AgentFloor:
    """Agents and the live answers waiting for them; every method takes the current time.

    Methods that can bridge a call (`login`, `resume`, `end_wrap`, `live_answer`) return the
    `Assignment` they made, or None. A waiting call whose deadline (verdict + abandon seconds)
    has passed is never bridged: it stays until `expire` reports it as abandoned. At the
    deadline instant itself a bridge still counts as in time ("within 2 s")."""

    def __init__(self, abandon_seconds: float = ABANDON_SECONDS) -> None:
        if abandon_seconds < 0:
            raise FloorError(f"abandon_seconds must be 0 or more, not {abandon_seconds}")
        self.abandon_seconds = abandon_seconds
        self._agents: dict[str, _Agent] = {}
        self._ready: dict[str, None] = {}  # agents ready, longest-ready first (insertion order)
        self._waiting: dict[str, float] = {}  # call id → verdict time, oldest first
        self._busy: dict[str, _Agent] = {}  # agents talking or wrapping up

    # --- agents ---------------------------------------------------------------------------

    def _agent(self, agent_id: str) -> _Agent:
        agent = self._agents.get(agent_id)
        if agent is None:
            raise FloorError(f"agent {agent_id!r} is not known to this floor; log it in first")
        return agent

    def _refuse(self, agent: _Agent, action: str) -> FloorError:
        return FloorError(f"agent {agent.agent_id!r} cannot {action}: it is {agent.status.value}")

    def login(self, agent_id: str, now: float) -> Assignment | None:
        """The agent logs in ready (and takes the oldest waiting call, if any)."""
        agent = self._agents.get(agent_id)
        if agent is None:
            agent = self._agents[agent_id] = _Agent(agent_id)
            agent.since = now
        elif agent.status is not AgentStatus.LOGGED_OUT:
            raise FloorError(f"agent {agent_id!r} is already logged in ({agent.status.value})")
        agent.move(AgentStatus.READY, now)
        return self._make_ready(agent, now)

    def logout(self, agent_id: str, now: float) -> None:
        """The agent leaves; not while on a call (end the call first)."""
        agent = self._agent(agent_id)
        if agent.status in (AgentStatus.TALKING, AgentStatus.LOGGED_OUT):
            raise self._refuse(agent, "log out")
        agent.move(AgentStatus.LOGGED_OUT, now)
        self._ready.pop(agent_id, None)
        self._busy.pop(agent_id, None)

    def pause(self, agent_id: str, now: float) -> None:
        """Stop taking calls: from ready, or during wrap-up (which then ends); idempotent."""
        agent = self._agent(agent_id)
        if agent.status is AgentStatus.PAUSED:
            return
        if agent.status not in (AgentStatus.READY, AgentStatus.WRAP):
            raise self._refuse(agent, "pause")
        agent.move(AgentStatus.PAUSED, now)
        self._ready.pop(agent_id, None)
        self._busy.pop(agent_id, None)

    def resume(self, agent_id: str, now: float) -> Assignment | None:
        """A paused agent becomes ready (and takes the oldest waiting call, if any)."""
        agent = self._agent(agent_id)
        if agent.status is not AgentStatus.PAUSED:
            raise self._refuse(agent, "resume")
        agent.move(AgentStatus.READY, now)
        return self._make_ready(agent, now)

    def end_talk(self, agent_id: str, now: float) -> str:
        """The agent's call ended: wrap-up starts. Returns the call's id."""
        agent = self._agent(agent_id)
        if agent.status is not AgentStatus.TALKING or agent.call_id is None:
            raise self._refuse(agent, "end a call")
        call_id = agent.call_id
        agent.move(AgentStatus.WRAP, now)
        agent.call_id = None
        return call_id

    def end_wrap(self, agent_id: str, now: float) -> Assignment | None:
        """Wrap-up done: the agent is ready and takes the oldest waiting call at once."""
        agent = self._agent(agent_id)
        if agent.status is not AgentStatus.WRAP:
            raise self._refuse(agent, "end wrap-up")
        agent.move(AgentStatus.READY, now)
        del self._busy[agent_id]
        return self._make_ready(agent, now)

    def _make_ready(self, agent: _Agent, now: float) -> Assignment | None:
        for call_id, verdict_at in self._waiting.items():
            if now - verdict_at <= self.abandon_seconds:
                del self._waiting[call_id]
                return self._bridge(agent, call_id, verdict_at, now)
        self._ready[agent.agent_id] = None
        return None

    def _bridge(self, agent: _Agent, call_id: str, verdict_at: float, now: float) -> Assignment:
        agent.move(AgentStatus.TALKING, now)
        agent.call_id = call_id
        agent.bridged_at = now
        agent.calls += 1
        self._busy[agent.agent_id] = agent
        return Assignment(call_id, agent.agent_id, now, now - verdict_at)

    # --- calls ----------------------------------------------------------------------------

    def live_answer(self, call_id: str, now: float) -> Assignment | None:
        """A live answer's verdict: bridged to the longest-ready agent, or queued (FIFO)."""
        if call_id in self._waiting or any(a.call_id == call_id for a in self._busy.values()):
            raise FloorError(f"call {call_id!r} is already on the floor")
        if self._ready:
            agent_id = next(iter(self._ready))
            assignment = self._bridge(self._agents[agent_id], call_id, now, now)
            del self._ready[agent_id]
            return assignment
        self._waiting[call_id] = now
        return None

    def hangup_waiting(self, call_id: str, now: float) -> bool:
        """The waiting caller hung up before an agent took the call; False if it was not
        waiting (already bridged, expired or unknown)."""
        return self._waiting.pop(call_id, None) is not None

    def expire(self, now: float) -> list[str]:
        """Waiting calls past their deadline, oldest first: they are abandoned and leave."""
        expired = [c for c, at in self._waiting.items() if now - at > self.abandon_seconds]
        for call_id in expired:
            del self._waiting[call_id]
        return expired

    def next_deadline(self) -> float | None:
        """When the oldest waiting call stops being bridgeable (None when none waits)."""
        for verdict_at in self._waiting.values():
            return verdict_at + self.abandon_seconds
        return None

    # --- views ----------------------------------------------------------------------------

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def status(self, agent_id: str) -> AgentStatus:
        return self._agent(agent_id).status

    def call_of(self, agent_id: str) -> str | None:
        """The call the agent is talking on (None in any other status)."""
        return self._agent(agent_id).call_id

    def counts(self) -> FloorCounts:
        by_status = dict.fromkeys(AgentStatus, 0)
        for agent in self._agents.values():
            by_status[agent.status] += 1
        return FloorCounts(
            ready=by_status[AgentStatus.READY],
            talking=by_status[AgentStatus.TALKING],
            wrapping=by_status[AgentStatus.WRAP],
            paused=by_status[AgentStatus.PAUSED],
            waiting=len(self._waiting),
        )

    def state(
        self, now: float, ringing_ages: Iterable[float] = (), channels: int = 0
    ) -> FloorState:
        """What the pacer sees: ready agents, each busy agent's time since its call reached
        it (talk and wrap-up), the calls still ringing, the live answers waiting."""
        logged_in = sum(1 for a in self._agents.values() if a.status is not AgentStatus.LOGGED_OUT)
        return FloorState(
            now=now,
            ready=len(self._ready),
            busy_elapsed=tuple(now - a.bridged_at for a in self._busy.values()),
            ringing_ages=tuple(ringing_ages),
            waiting=len(self._waiting),
            channels=channels,
            agents=logged_in,
        )

    def times(self, agent_id: str, now: float) -> AgentTimes:
        """One agent's time per status up to `now`."""
        return self._agent(agent_id).times(now)

    def totals(self, now: float) -> AgentTimes:
        """Time per status summed over every agent that ever logged in."""
        total = AgentTimes()
        for agent in self._agents.values():
            total = total + agent.times(now)
        return total
