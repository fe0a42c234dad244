"""The simulator's in-process face: a backend on a virtual clock.

Each originate draws a `CallScript` from the population model and schedules the normalised
events a real Asterisk would produce for it (the same `Signal`s the AMI tracker emits), so the
dialer runs its production path while a campaign day passes in seconds. Deterministic for a
given seed and sequence of requests.
"""

from __future__ import annotations

import heapq
import itertools
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dialer.backends.base import CallRoute, EventSink, OriginateRequest
from dialer.calls import CallEvent, Signal
from dialer.clock import Clock
from dialer.errors import BackendError
from dialer.sim.population import CallScript, Fate, Population, PopulationModel

__all__ = ["SimBackend"]


@dataclass
class _SimCall:
    request: OriginateRequest
    script: CallScript
    started: datetime
    answered: bool = False
    ended: bool = False
    events: list[tuple[datetime, int]] = field(default_factory=list)


class SimBackend:
    """Backend whose far end is the population model; time comes from the injected clock."""

    name = "sim"

    #: How long the apology/identification message of an abandoned call plays.
    apology_seconds = 9.0

    def __init__(self, clock: Clock, *, model: Population | None = None, seed: int = 0) -> None:
        self.clock = clock
        self.model: Population = model or PopulationModel()
        self.rng = random.Random(seed)
        self._sink: EventSink | None = None
        self._queue: list[tuple[datetime, int, CallEvent]] = []
        self._cancelled: set[int] = set()
        self._seq = itertools.count()
        self._calls: dict[str, _SimCall] = {}
        self.originations: dict[str, int] = {}  # call id → times originated (must stay 1)
        self.fates: dict[str, Fate] = {}

    async def start(self, sink: EventSink) -> None:
        self._sink = sink

    async def close(self) -> None:
        self._sink = None

    # --- actions ------------------------------------------------------------------------

    async def originate(self, request: OriginateRequest) -> None:
        if self._sink is None:
            raise BackendError("the simulator backend is not started; call start() first")
        self.originations[request.call_id] = self.originations.get(request.call_id, 0) + 1
        if request.call_id in self._calls:
            raise BackendError(f"call id {request.call_id} was already originated")
        now = self.clock.now()
        script = self.model.script(request.to, now, self.rng)
        call = _SimCall(request, script, now)
        self._calls[request.call_id] = call
        self.fates[request.call_id] = script.fate
        self._play(call)

    async def hangup(self, call_id: str) -> None:
        call = self._calls.get(call_id)
        now = self.clock.now()
        self._deliver(CallEvent(call_id, Signal.CANCEL_REQUESTED, now, source="dialer"))
        if call is None or call.ended:
            return
        self._drop_pending(call)
        self._schedule(call, None, Signal.HANGUP, cause=16, source="Hangup")
        if not call.answered:
            self._schedule(
                call, None, Signal.ORIGINATE_RESULT, reason=0, source="OriginateResponse"
            )

    async def bridge(self, call_id: str, target: str) -> None:
        call = self._calls.get(call_id)
        if call is None or call.ended or not call.answered:
            raise BackendError(f"call {call_id} is not up; it cannot be bridged to {target}")
        self._drop_pending(call)  # the silent wait (or the IVR) is over
        self._schedule(call, None, Signal.BRIDGED, detail=target, source="ConfbridgeJoin")
        talk = call.script.talk_seconds or call.script.hangup_after_seconds
        self._schedule(call, self._elapsed(call) + talk, Signal.HANGUP, cause=16, source="Hangup")

    async def apologise(self, call_id: str, message: str) -> None:
        call = self._calls.get(call_id)
        if call is None or call.ended or not call.answered:
            raise BackendError(f"call {call_id} is not up; no message can be played on it")
        self._drop_pending(call)
        self._schedule(
            call, None, Signal.IVR_STARTED, detail="abandon-message", source="AGIExecStart"
        )
        end = self._elapsed(call) + self.apology_seconds
        self._schedule(call, end, Signal.HANGUP, cause=16, source="Hangup")

    def _elapsed(self, call: _SimCall) -> float:
        return (self.clock.now() - call.started).total_seconds()

    def script_of(self, call_id: str) -> CallScript | None:
        """The far end's script of a call not yet forgotten (the truth a benchmark scores by)."""
        call = self._calls.get(call_id)
        return call.script if call is not None else None

    async def live_calls(self) -> set[str]:
        return {call_id for call_id, call in self._calls.items() if not call.ended}

    # --- time ---------------------------------------------------------------------------

    def next_due(self) -> datetime | None:
        """When the next scheduled event happens (None: nothing in flight)."""
        while self._queue and id(self._queue[0][2]) in self._cancelled:
            self._cancelled.discard(id(heapq.heappop(self._queue)[2]))
        return self._queue[0][0] if self._queue else None

    def pump(self, now: datetime) -> int:
        """Deliver every event due at or before `now`; returns how many were delivered."""
        delivered = 0
        while self._queue and self._queue[0][0] <= now:
            _, _, event = heapq.heappop(self._queue)
            if id(event) in self._cancelled:
                self._cancelled.discard(id(event))
                continue
            call = self._calls.get(event.call_id)
            if call is not None:
                if event.signal is Signal.ANSWERED:
                    call.answered = True
                if event.signal is Signal.HANGUP:
                    call.ended = True
            self._deliver(event)
            delivered += 1
        return delivered

    def forget(self, call_id: str) -> None:
        call = self._calls.get(call_id)
        if call is not None and call.ended:
            del self._calls[call_id]

    # --- scripts ------------------------------------------------------------------------

    def _deliver(self, event: CallEvent) -> None:
        if self._sink is not None:
            self._sink(event)

    def _schedule(
        self, call: _SimCall, after: float | None, signal: Signal, **fields: object
    ) -> None:
        """Schedule an event `after` seconds from the call's start (None: right now)."""
        at = self.clock.now() if after is None else call.started + timedelta(seconds=after)
        event = CallEvent(call.request.call_id, signal, at, **fields)  # type: ignore[arg-type]
        heapq.heappush(self._queue, (at, next(self._seq), event))
        call.events.append((at, id(event)))

    def _drop_pending(self, call: _SimCall) -> None:
        now = self.clock.now()
        for at, event_id in call.events:
            if at > now:
                self._cancelled.add(event_id)
        call.events = [(at, eid) for at, eid in call.events if at <= now]

    def _play(self, call: _SimCall) -> None:
        s, req = call.script, call.request
        timeout = req.timeout_seconds
        self._schedule(call, 0.0, Signal.QUEUED, source="Response")
        fate = s.fate
        if fate in (Fate.HUMAN, Fate.MACHINE) and s.ring_seconds >= timeout:
            fate = Fate.NO_ANSWER
        if fate is Fate.INVALID:
            self._fail(call, 0.3, cause=s.cause, reason=0)
            return
        if fate in (Fate.BUSY, Fate.CONGESTION):
            status = "BUSY" if fate is Fate.BUSY else "CONGESTION"
            at = 0.2 + s.ring_seconds
            self._schedule(call, at, Signal.DIAL_STATUS, detail=status, source="DialEnd")
            self._fail(call, at, cause=s.cause, reason=5 if fate is Fate.BUSY else 8)
            return
        self._schedule(call, 0.1, Signal.RINGING, source="Newstate")
        if fate is Fate.REJECTED:
            self._fail(call, 0.1 + s.ring_seconds, cause=s.cause, reason=0)
            return
        if fate is Fate.NO_ANSWER:
            self._fail(call, timeout, cause=19, reason=3)
            return
        answer = 0.1 + s.ring_seconds
        self._schedule(call, answer, Signal.ANSWERED, source="Newstate")
        self._schedule(
            call, answer + 0.01, Signal.ORIGINATE_RESULT, reason=4, source="OriginateResponse"
        )
        ivr = answer
        status = "HUMAN"
        if req.detect_machine:
            ivr = answer + s.amd_seconds
            status = s.detected
            self._schedule(call, ivr, Signal.AMD, detail=status, source="VarSet")
        end = answer + s.hangup_after_seconds
        if req.route is CallRoute.AGENT and status != "MACHINE":
            # A person (or so AMD says) waits in silence for the dialer's bridge or apology;
            # nobody does either: they hang up after `hangup_after_seconds`.
            self._schedule(call, end, Signal.HANGUP, cause=16, source="Hangup")
            return
        self._schedule(call, ivr + 0.05, Signal.IVR_STARTED, source="AGIExecStart")
        for index, digit in enumerate(s.keys):
            at = ivr + s.key_delay_seconds * (index + 1)
            if at < end:
                self._schedule(call, at, Signal.DTMF, detail=digit, source="DTMFEnd")
        self._schedule(call, end, Signal.HANGUP, cause=s.cause, source="Hangup")

    def _fail(self, call: _SimCall, at: float, *, cause: int, reason: int) -> None:
        self._schedule(call, at, Signal.HANGUP, cause=cause, source="Hangup")
        self._schedule(
            call, at + 0.01, Signal.ORIGINATE_RESULT, reason=reason, source="OriginateResponse"
        )
