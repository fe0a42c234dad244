"""What the dialer needs from a telephony backend, and nothing more.

A backend originates calls, hangs them up, moves them to an agent, and reports what happens as
`CallEvent`s through the sink it was given. `originate` returns as soon as the request has left
(or raises): the outcome arrives later as events, so the hot path never waits for a call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from dialer.calls import CallEvent

__all__ = ["Backend", "CallRoute", "EventSink", "OriginateRequest"]

EventSink = Callable[[CallEvent], None]


class CallRoute(StrEnum):
    """Where an answered call goes: the IVR talks to the debtor, or the call waits (silent,
    at most 2 s) for the dialer to bridge it to an agent or play the apology message."""

    IVR = "ivr"
    AGENT = "agent"


@dataclass(frozen=True, slots=True)
class OriginateRequest:
    """One outbound call as the dialer asks for it.

    `call_id` is ours and travels with the call (AMI `ChannelId`, Twilio status-callback query)
    so every event can be attributed before the backend's own id is known.
    """

    call_id: str
    to: str  # E.164
    caller_id: str  # E.164; never hidden
    caller_name: str = ""
    timeout_seconds: float = 30.0
    detect_machine: bool = True
    variables: Mapping[str, str] = field(default_factory=dict)
    route: CallRoute = CallRoute.IVR


class Backend(Protocol):
    """A telephony backend. Implementations: `asterisk`, `twilio`, `sim`."""

    name: str

    async def start(self, sink: EventSink) -> None:
        """Connect and log in; events flow to `sink` from now on."""
        ...

    async def close(self) -> None:
        """Disconnect; calls in flight are left to the far end (their events stop)."""
        ...

    async def originate(self, request: OriginateRequest) -> None:
        """Send the call out; raises `BackendError` if it certainly did not leave."""
        ...

    async def hangup(self, call_id: str) -> None:
        """Hang up a call of ours (cancels it while ringing)."""
        ...

    async def bridge(self, call_id: str, target: str) -> None:
        """Move an answered call into an agent's bridge or conference."""
        ...

    async def apologise(self, call_id: str, message: str) -> None:
        """No agent took this answered call in time: play the apology/identification message
        (`message`, the agency's name and number, es-MX), then hang up. Never silence."""
        ...

    async def live_calls(self) -> set[str]:
        """Call ids the backend still has channels for (reconciliation after a reconnect)."""
        ...
