"""The Twilio backend's book of calls: our id ↔ CallSid, and which events were already sent.

Twilio may deliver a webhook twice, out of order, or before the create request has returned;
the book makes each observation reach the sink once, and nothing after a call's final word.
Finished calls are forgotten after `retention` (late duplicates arrive within minutes), so a
campaign day does not grow the book without bound.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dialer.backends.base import EventSink
from dialer.backends.twilio_status import LegView
from dialer.calls import CallEvent, Signal
from dialer.clock import Clock

__all__ = ["Leg", "LegBook"]

_ANSWERING = frozenset({Signal.ANSWERED, Signal.AMD, Signal.IVR_STARTED, Signal.BRIDGED})
_ENDING = frozenset({Signal.FINAL, Signal.REJECTED})


@dataclass
class Leg:
    """What the backend knows of one call of ours."""

    call_id: str
    to: str
    variables: Mapping[str, str] = field(default_factory=dict)
    sid: str | None = None
    queued: bool = False
    answered: bool = False
    amd: bool = False
    final: bool = False
    cancel_requested: bool = False
    emitted: set[tuple[Signal, str | None]] = field(default_factory=set)

    def view(self) -> LegView:
        return LegView(queued=self.queued, answered=self.answered, amd=self.amd)


class LegBook:
    """All legs, by our call id and by CallSid, and the one way their events leave."""

    def __init__(self, clock: Clock, retention: timedelta = timedelta(minutes=15)) -> None:
        self.clock = clock
        self.sink: EventSink | None = None
        self._retention = retention
        self._legs: dict[str, Leg] = {}
        self._by_sid: dict[str, str] = {}
        self._ended: deque[tuple[datetime, str]] = deque()

    def __len__(self) -> int:
        return len(self._legs)

    def _forget_old(self) -> None:
        horizon = self.clock.now() - self._retention
        while self._ended and self._ended[0][0] <= horizon:
            _, call_id = self._ended.popleft()
            leg = self._legs.pop(call_id, None)
            if leg is not None and leg.sid is not None:
                self._by_sid.pop(leg.sid, None)

    def __contains__(self, call_id: object) -> bool:
        return call_id in self._legs

    def get(self, call_id: str) -> Leg | None:
        return self._legs.get(call_id)

    def open(self, call_id: str, to: str, variables: Mapping[str, str] | None = None) -> Leg:
        """Register a call before its create request leaves (webhooks may beat the answer)."""
        self._forget_old()
        leg = Leg(call_id, to, dict(variables or {}))
        self._legs[call_id] = leg
        return leg

    def adopt(self, call_id: str, form: Mapping[str, str]) -> tuple[Leg, bool]:
        """The leg a signed webhook speaks of (a call we do not know, after a restart, is taken
        on) and whether the webhook just told us its CallSid."""
        leg = self._legs.get(call_id) or self.open(call_id, form.get("To", ""))
        learned = leg.sid is None and bool(form.get("CallSid"))
        if learned:
            self.bind(leg, form["CallSid"])
        return leg, learned

    def bind(self, leg: Leg, sid: str) -> None:
        if leg.sid is None and sid:
            leg.sid = sid
            self._by_sid[sid] = leg.call_id

    def call_id_of(self, sid: str) -> str | None:
        return self._by_sid.get(sid)

    def live(self) -> list[Leg]:
        return [leg for leg in self._legs.values() if not leg.final]

    def event(
        self,
        leg: Leg,
        signal: Signal,
        *,
        cause: int | None = None,
        reason: int | None = None,
        detail: str | None = None,
        source: str,
    ) -> CallEvent:
        return CallEvent(
            leg.call_id, signal, self.clock.now(), cause, reason, detail, source=source
        )

    def emit(self, leg: Leg, events: Iterable[CallEvent]) -> None:
        """Send news to the sink: repeats, and anything after the final word, are dropped."""
        for event in events:
            if leg.final:
                return
            if event.signal is not Signal.DTMF:  # the same key may rightly be pressed twice
                key = (event.signal, event.detail)
                if key in leg.emitted:
                    continue
                leg.emitted.add(key)
            if event.signal is Signal.QUEUED:
                leg.queued = True
            if event.signal in _ANSWERING:
                leg.answered = True
            if event.signal is Signal.AMD:
                leg.amd = True
            if event.signal in _ENDING:
                leg.final = True
                self._ended.append((event.at, leg.call_id))
            if self.sink is not None:
                self.sink(event)
