"""The call state machine, sans-I/O: backend events in, one normalised lifecycle out.

queued → originating → ringing → answered (human | machine | unknown) → in IVR → bridged → ended,
or failed with a normalised outcome and the Q.850 cause. Backends report what they saw as
`CallEvent`s in whatever order their protocol delivers them (AMI does not fix the order of
`OriginateResponse` and `Hangup`); the machine keeps the strongest evidence, ignores late and
duplicate events, and is *settled* once nothing can change the outcome any more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from campaigns.enums import AttemptOutcome, CallState

__all__ = [
    "AMD_STATUSES",
    "Call",
    "CallEvent",
    "Signal",
    "Transition",
    "outcome_for_cause",
]


class Signal(StrEnum):
    """What a backend observed about a call, independent of the protocol it came from."""

    QUEUED = "queued"  # the backend accepted the originate request
    REJECTED = "rejected"  # the backend refused the originate request (error reply)
    RINGING = "ringing"
    ANSWERED = "answered"
    AMD = "amd"  # detail: HUMAN | MACHINE | NOTSURE (+ cause)
    IVR_STARTED = "ivr_started"
    DTMF = "dtmf"  # detail: the digit
    BRIDGED = "bridged"  # detail: bridge or agent
    DIAL_STATUS = (
        "dial_status"  # detail: BUSY | CONGESTION | NOANSWER | CHANUNAVAIL | ANSWER | CANCEL
    )
    LEG_HANGUP = "leg_hangup"  # the far (non-primary) leg hung up; cause carries the Q.850 code
    HANGUP = "hangup"  # the call's own channel is gone; cause carries the Q.850 code
    ORIGINATE_RESULT = "originate_result"  # reason: Asterisk's OriginateResponse reason code
    CANCEL_REQUESTED = "cancel_requested"  # we asked the backend to hang up
    FINAL = "final"  # the backend's last word (Twilio's completed/busy/… callback)


AMD_STATUSES = frozenset({"HUMAN", "MACHINE", "NOTSURE", "HANGUP"})

# Q.850 causes → outcomes of a call that was never answered.
_CAUSE_OUTCOMES: dict[int, AttemptOutcome] = {
    1: AttemptOutcome.INVALID_NUMBER,  # unallocated number
    3: AttemptOutcome.INVALID_NUMBER,  # no route to destination
    22: AttemptOutcome.INVALID_NUMBER,  # number changed
    28: AttemptOutcome.INVALID_NUMBER,  # invalid number format
    17: AttemptOutcome.BUSY,
    18: AttemptOutcome.NO_ANSWER,  # no user responding
    19: AttemptOutcome.NO_ANSWER,  # alerting, no answer
    21: AttemptOutcome.REJECTED,
    34: AttemptOutcome.CONGESTION,
    38: AttemptOutcome.CONGESTION,  # network out of order
    41: AttemptOutcome.CONGESTION,  # temporary failure
    42: AttemptOutcome.CONGESTION,  # switching equipment congestion
}
_DIAL_STATUS_OUTCOMES = {
    "BUSY": AttemptOutcome.BUSY,
    "CONGESTION": AttemptOutcome.CONGESTION,
    "CHANUNAVAIL": AttemptOutcome.CONGESTION,
}
# Asterisk OriginateResponse reasons (main/dial.c / pbx.c): 3 ringing timeout, 5 busy, 8 congestion.
_REASON_OUTCOMES = {
    3: AttemptOutcome.NO_ANSWER,
    5: AttemptOutcome.BUSY,
    8: AttemptOutcome.CONGESTION,
}
_TERMINAL = frozenset({CallState.ENDED, CallState.FAILED})
_ORDER = {
    CallState.QUEUED: 0,
    CallState.ORIGINATING: 1,
    CallState.RINGING: 2,
    CallState.ANSWERED: 3,
    CallState.IN_IVR: 4,
    CallState.BRIDGED: 5,
    CallState.ENDED: 6,
    CallState.FAILED: 6,
}


def outcome_for_cause(cause: int | None) -> AttemptOutcome | None:
    """The outcome a Q.850 cause means for an unanswered call (None: the cause says nothing)."""
    if cause is None:
        return None
    return _CAUSE_OUTCOMES.get(cause)


@dataclass(frozen=True, slots=True)
class CallEvent:
    """One observation about one call, normalised by a backend adapter."""

    call_id: str
    signal: Signal
    at: datetime
    cause: int | None = None
    reason: int | None = None
    detail: str | None = None
    outcome: AttemptOutcome | None = None  # only for FINAL: the backend's own verdict
    source: str = ""  # the protocol message it came from, e.g. "Hangup" (kept in the audit trail)


@dataclass(frozen=True, slots=True)
class Transition:
    """A change of state the lifecycle must record."""

    call_id: str
    before: CallState
    after: CallState
    at: datetime


@dataclass
class Call:
    """One call's lifecycle. Feed it events; read `state`, `outcome`, `cause` and `settled`."""

    call_id: str
    state: CallState = CallState.QUEUED
    outcome: AttemptOutcome | None = None
    cause: int | None = None
    amd: str | None = None
    amd_cause: str | None = None
    digits: str = ""
    bridged_to: str | None = None
    originated_at: datetime | None = None
    ringing_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    cancel_requested: bool = False
    rang: bool = False
    reason: int | None = None
    dial_status: str | None = None
    leg_causes: list[int] = field(default_factory=list)
    primary_gone: bool = False
    settled: bool = False
    events_seen: int = 0
    duplicates: int = 0
    _verdict: AttemptOutcome | None = field(default=None, repr=False)
    _seen: set[tuple[Signal, int | None, int | None, str | None, str]] = field(
        default_factory=set, repr=False
    )

    @property
    def terminal(self) -> bool:
        return self.state in _TERMINAL

    def feed(self, event: CallEvent) -> list[Transition]:
        """Apply one event; returns the state changes it caused (often none)."""
        key = (event.signal, event.cause, event.reason, event.detail, event.source)
        if key in self._seen and event.signal is not Signal.DTMF:
            self.duplicates += 1
            return []
        self._seen.add(key)
        self.events_seen += 1
        if self.settled:
            return []
        before = self.state
        handler = _HANDLERS[event.signal]
        handler(self, event)
        self._refresh_outcome()
        if self.state is before:
            return []
        return [Transition(self.call_id, before, self.state, event.at)]

    def settle(self, at: datetime) -> list[Transition]:
        """Close the books: no later event may change the outcome (called after a grace period)."""
        transitions: list[Transition] = []
        if not self.terminal:
            before = self.state
            self._end(at)
            transitions.append(Transition(self.call_id, before, self.state, at))
        self._refresh_outcome()
        if self.outcome is None:
            self.outcome = AttemptOutcome.FAILED
        self.settled = True
        return transitions

    def settle_due(self, grace: timedelta) -> datetime | None:
        """When the lifecycle should call `settle` if nothing else settles the call first."""
        if self.settled or not self.terminal or self.ended_at is None:
            return None
        return self.ended_at + grace

    # --- handlers -------------------------------------------------------------------------

    def _advance(self, state: CallState) -> None:
        if not self.terminal and _ORDER[state] > _ORDER[self.state]:
            self.state = state

    def _on_queued(self, event: CallEvent) -> None:
        if self.originated_at is None:
            self.originated_at = event.at
        self._advance(CallState.ORIGINATING)

    def _on_rejected(self, event: CallEvent) -> None:
        if self.state in (CallState.QUEUED, CallState.ORIGINATING):
            self.state = CallState.FAILED
            self.ended_at = event.at
            self.primary_gone = True
            self.reason = event.reason
            self.settled = True

    def _on_ringing(self, event: CallEvent) -> None:
        self.rang = True
        if self.ringing_at is None:
            self.ringing_at = event.at
        self._advance(CallState.RINGING)

    def _on_answered(self, event: CallEvent) -> None:
        if self.terminal:
            return
        if self.answered_at is None:
            self.answered_at = event.at
        self._advance(CallState.ANSWERED)

    def _on_amd(self, event: CallEvent) -> None:
        status = (event.detail or "").upper()
        if status in AMD_STATUSES:
            self.amd = status
        self._on_answered(event)

    def _on_ivr(self, event: CallEvent) -> None:
        self._on_answered(event)
        self._advance(CallState.IN_IVR)

    def _on_dtmf(self, event: CallEvent) -> None:
        if event.detail:
            self.digits += event.detail

    def _on_bridged(self, event: CallEvent) -> None:
        self._on_answered(event)
        self.bridged_to = event.detail
        self._advance(CallState.BRIDGED)

    def _on_dial_status(self, event: CallEvent) -> None:
        status = (event.detail or "").upper()
        if status == "ANSWER":
            self._on_answered(event)
        elif status:
            self.dial_status = status

    def _on_leg_hangup(self, event: CallEvent) -> None:
        if event.cause:
            self.leg_causes.append(event.cause)
            if self.primary_gone and self.answered_at is None and self.reason is not None:
                self.settled = True

    def _on_hangup(self, event: CallEvent) -> None:
        if event.cause:
            self.leg_causes.append(event.cause)
        self.primary_gone = True
        if not self.terminal:
            self._end(event.at)
        if self.cause is None and event.cause:
            self.cause = event.cause
        if self.answered_at is not None or (self.reason is not None and self._has_cause()):
            self.settled = True

    def _on_originate_result(self, event: CallEvent) -> None:
        self.reason = event.reason
        if event.reason == 4:
            self._on_answered(event)
            return
        if not self.terminal and self.answered_at is None:
            self._end(event.at)
        if self.primary_gone and self._has_cause():
            self.settled = True

    def _has_cause(self) -> bool:
        """A Q.850 cause is known. Without one, the other leg's Hangup (which carries it with
        Local channels) may still be on its way: the call settles after the grace instead."""
        return any(self.leg_causes)

    def _on_cancel(self, event: CallEvent) -> None:
        if self.answered_at is None:
            self.cancel_requested = True

    def _on_final(self, event: CallEvent) -> None:
        if event.cause:
            self.cause = event.cause
        if event.outcome is not None and self.answered_at is None:
            self._verdict = event.outcome
        self.primary_gone = True
        if not self.terminal:
            self._end(event.at)
        self.settled = True

    def _end(self, at: datetime) -> None:
        self.ended_at = at
        self.state = CallState.ENDED if self.answered_at is not None else CallState.FAILED

    # --- outcome --------------------------------------------------------------------------

    def _refresh_outcome(self) -> None:
        if self.terminal and self.cause is None and self.leg_causes:
            known = [c for c in self.leg_causes if outcome_for_cause(c) is not None]
            self.cause = known[0] if known else self.leg_causes[0]
        if self.answered_at is not None:
            if self.outcome is not AttemptOutcome.ABANDONED:
                machine = self.amd == "MACHINE"
                self.outcome = AttemptOutcome.MACHINE if machine else AttemptOutcome.HUMAN
            return
        if not self.terminal:
            return
        self.outcome = self._verdict or self._unanswered_outcome()

    def _unanswered_outcome(self) -> AttemptOutcome:
        if self.cancel_requested:
            return AttemptOutcome.CANCELLED
        if self.dial_status in _DIAL_STATUS_OUTCOMES:
            return _DIAL_STATUS_OUTCOMES[self.dial_status]
        for cause in self.leg_causes:
            outcome = outcome_for_cause(cause)
            if outcome is not None:
                return outcome
        if self.reason in _REASON_OUTCOMES:
            return _REASON_OUTCOMES[self.reason]
        if self.state is CallState.FAILED and not self.rang and self.reason == 0:
            # Reason 0 with no ringing and no cause: the number led nowhere. If no channel was
            # ever created the dial string itself is broken (a configuration error).
            return AttemptOutcome.INVALID_NUMBER if self.primary_gone else AttemptOutcome.FAILED
        if self.rang:
            return AttemptOutcome.NO_ANSWER
        return AttemptOutcome.FAILED

    def mark_abandoned(self) -> None:
        """An answered call no agent took in time (counted against the abandon rate)."""
        if self.answered_at is not None:
            self.outcome = AttemptOutcome.ABANDONED


_HANDLERS = {
    Signal.QUEUED: Call._on_queued,
    Signal.REJECTED: Call._on_rejected,
    Signal.RINGING: Call._on_ringing,
    Signal.ANSWERED: Call._on_answered,
    Signal.AMD: Call._on_amd,
    Signal.IVR_STARTED: Call._on_ivr,
    Signal.DTMF: Call._on_dtmf,
    Signal.BRIDGED: Call._on_bridged,
    Signal.DIAL_STATUS: Call._on_dial_status,
    Signal.LEG_HANGUP: Call._on_leg_hangup,
    Signal.HANGUP: Call._on_hangup,
    Signal.ORIGINATE_RESULT: Call._on_originate_result,
    Signal.CANCEL_REQUESTED: Call._on_cancel,
    Signal.FINAL: Call._on_final,
}
