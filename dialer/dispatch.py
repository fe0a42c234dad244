"""One campaign's pacing loop, sans-I/O: the pacer, the agent floor and the calls between them.

The dialer (with its database) and the pacing benchmark (without one) drive the same object:
they report each launch and each call event, ask every tick how many calls to launch, and take
the actions it decided — bridge an answered call to an agent, or, when no agent took it within
2 s of its live-answer verdict, play the apology message (an *abandon*, counted the FTC's way
in `PacingStats.ledger`). Times come in as datetimes and become seconds from an epoch for the
pacing core.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from dialer.calls import Call, CallEvent, Signal
from dialer.floor import AgentFloor, AgentStatus, Assignment
from dialer.pacing import (
    ABANDON_SECONDS,
    FloorState,
    Pacer,
    PacingMode,
    PacingSettings,
    PacingStats,
    make_pacer,
)

__all__ = [
    "AGENT_MODES",
    "AbandonCall",
    "Action",
    "BridgeCall",
    "Dispatch",
    "LaunchPacer",
    "Team",
]

#: Modes whose answered calls go to agents (blast calls go to the IVR and need no floor).
AGENT_MODES = frozenset(
    {PacingMode.PROGRESSIVE, PacingMode.RATIO, PacingMode.PREDICTIVE, PacingMode.IVR_TRANSFER}
)
# How long a debtor who pressed for an agent waits in the transfer queue before the apology.
_TRANSFER_PATIENCE_SECONDS = 60.0
_TRANSFER_KEY = "2"


@dataclass(frozen=True, slots=True)
class BridgeCall:
    """Move `call_id` to `agent_id` now; `waited` is seconds since its verdict."""

    call_id: str
    agent_id: str
    waited: float


@dataclass(frozen=True, slots=True)
class AbandonCall:
    """No agent took `call_id` in time: play the apology, record the abandon, queue the SMS."""

    call_id: str
    waited: float


Action = BridgeCall | AbandonCall


class LaunchPacer(Protocol):
    """What a dispatch asks every tick (Recaudo's pacers; the benchmark's VICIdial emulation)."""

    def launches(self, state: FloorState, limit: int | None = None) -> int: ...


class Team(Protocol):
    """Agents whose wrap-up ends by itself (the simulator's team). Real agents end wrap-up
    from the console instead (`Dispatch.end_wrap`)."""

    agent_ids: tuple[str, ...]

    def wrap_seconds(self, agent_id: str) -> float: ...


class Dispatch:
    """The pacing loop of one campaign. Call `launched` for every call that left, `observe`
    for every event of it, `actions` and `launches` every tick; `next_wakeup` says when the
    next tick has work without any new event."""

    tick = timedelta(seconds=1)

    def __init__(
        self,
        settings: PacingSettings,
        epoch: datetime,
        *,
        team: Team | None = None,
        pacer: LaunchPacer | None = None,
        stats: PacingStats | None = None,
        detect_machine: bool = True,
    ) -> None:
        self.settings = settings
        # Seconds count from the top of the hour, so the ledger's hours are clock hours.
        self.epoch = epoch.replace(minute=0, second=0, microsecond=0)
        self.team = team
        self.detect_machine = detect_machine
        self.stats = stats if stats is not None else PacingStats()
        transfer = settings.mode is PacingMode.IVR_TRANSFER
        self.floor = AgentFloor(_TRANSFER_PATIENCE_SECONDS if transfer else ABANDON_SECONDS)
        self.pacer: LaunchPacer = pacer if pacer is not None else make_pacer(settings, self.stats)
        self._ringing: dict[str, float] = {}  # call id → launched at (s): not yet resolved
        self._agent_of: dict[str, str] = {}  # call id → agent talking on it
        self._handle_from: dict[str, float] = {}  # agent → when its current call reached it
        self._wraps: list[tuple[float, str]] = []  # (wrap-up ends, agent) for the team
        self._pending: list[Action] = []
        self.last_wish = 0  # calls the pacer wanted at the last tick, before its limits
        self.bridged = 0
        self.abandoned = 0
        if team is not None:
            for agent_id in team.agent_ids:
                self._take(self.floor.login(agent_id, 0.0))

    @property
    def mode(self) -> PacingMode:
        return self.settings.mode

    def seconds(self, at: datetime) -> float:
        return (at - self.epoch).total_seconds()

    def change(self, settings: PacingSettings, now: datetime) -> bool:
        """New settings take effect at the next tick; what the campaign learned is kept, and
        so are the CPS tokens earned so far (up to the new burst: a change grants no burst).
        False when nothing changed. The floor's abandon deadline stays as the mode began."""
        if settings == self.settings:
            return False
        old = self.pacer.bucket if isinstance(self.pacer, Pacer) else None
        self.settings = settings
        self.pacer = make_pacer(settings, self.stats)
        if old is not None and isinstance(self.pacer, Pacer):
            old.retune(self.seconds(now), settings.cps, settings.burst)
            self.pacer.bucket = old
        return True

    # --- what the caller reports ------------------------------------------------------------

    def launched(self, call_id: str, at: datetime) -> None:
        self._ringing[call_id] = self.seconds(at)
        self.stats.dialled()

    def observe(self, call: Call, event: CallEvent) -> None:
        """One event of a launched call, after `call.feed(event)`."""
        t = self.seconds(event.at)
        call_id = call.call_id
        launched = self._ringing.get(call_id)
        if launched is not None:
            live = self._verdict(call, event)
            if live is not None:
                del self._ringing[call_id]
                self.stats.resolved_dial(t, t - launched, live=live)
                if live and self.mode is not PacingMode.IVR_TRANSFER:
                    self._take(self.floor.live_answer(call_id, t))
        elif (
            self.mode is PacingMode.IVR_TRANSFER
            and event.signal is Signal.DTMF
            and event.detail == _TRANSFER_KEY
            and call_id not in self._agent_of
            and not call.terminal
        ):
            self.stats.transfer_requested()
            self._take(self.floor.live_answer(call_id, t))
        if call.terminal or event.signal in (Signal.HANGUP, Signal.FINAL):
            self._ended(call_id, t)

    def _verdict(self, call: Call, event: CallEvent) -> bool | None:
        """True at a live answer's verdict, False once the dial is certainly not one."""
        if event.signal is Signal.AMD:
            return call.amd in ("HUMAN", "NOTSURE")
        if call.terminal:
            return False
        if event.signal is Signal.ANSWERED and not self.detect_machine:
            return True
        return None

    def _ended(self, call_id: str, t: float) -> None:
        self._ringing.pop(call_id, None)
        agent_id = self._agent_of.pop(call_id, None)
        if agent_id is not None:
            if self.floor.call_of(agent_id) == call_id:
                self.floor.end_talk(agent_id, t)
                if self.team is not None:
                    wrap = max(0.0, self.team.wrap_seconds(agent_id))
                    heapq.heappush(self._wraps, (t + wrap, agent_id))
            return
        self.floor.hangup_waiting(call_id, t)

    def end_wrap(self, agent_id: str, at: datetime) -> None:
        """An agent finished wrap-up (the console's "ready"); may bridge a waiting call."""
        self._end_wrap(agent_id, self.seconds(at))

    def _end_wrap(self, agent_id: str, t: float) -> None:
        start = self._handle_from.pop(agent_id, None)
        if start is not None:
            self.stats.handled(t - start)
        self._take(self.floor.end_wrap(agent_id, t))

    def _take(self, assignment: Assignment | None) -> None:
        if assignment is not None:
            self._agent_of[assignment.call_id] = assignment.agent_id
            self._handle_from[assignment.agent_id] = assignment.at
            self.bridged += 1
            self._pending.append(
                BridgeCall(assignment.call_id, assignment.agent_id, assignment.waited)
            )

    # --- what the caller asks ---------------------------------------------------------------

    def actions(self, now: datetime) -> list[Action]:
        """Bridges decided since the last call, wrap-ups that ended, and the abandons due."""
        t = self.seconds(now)
        wraps = self._wraps
        while wraps and wraps[0][0] <= t:
            ends, agent_id = heapq.heappop(wraps)
            if self.floor.status(agent_id) is AgentStatus.WRAP:
                self._end_wrap(agent_id, ends)
        for call_id in self.floor.expire(t):
            self.abandoned += 1
            if self.mode is not PacingMode.IVR_TRANSFER:
                self.stats.abandoned(t)
            self._pending.append(AbandonCall(call_id, self.floor.abandon_seconds))
        out, self._pending = self._pending, []
        return out

    def launches(self, now: datetime, channels: int, limit: int | None = None) -> int:
        """Calls to launch now (at most `limit`); report each with `launched`."""
        t = self.seconds(now)
        state = self.floor.state(t, _ages(t, self._ringing.values()), channels)
        n = self.pacer.launches(state, limit)
        self.last_wish = int(getattr(self.pacer, "last_wish", n))
        return n

    def next_wakeup(self, now: datetime) -> datetime:
        """The next instant a tick has work: a wrap-up ending, a waiting call's deadline, or
        the next pacing tick."""
        t = self.seconds(now)
        due = t + self.tick.total_seconds()
        if self._wraps:
            due = min(due, self._wraps[0][0])
        deadline = self.floor.next_deadline()
        if deadline is not None:
            due = min(due, math.nextafter(deadline, math.inf) + 1e-3)
        return self.epoch + timedelta(seconds=max(due, t))

    def wait_time(self, now: datetime) -> float:
        """Seconds until the pacer's own CPS bucket has a token (0 for other pacers)."""
        if isinstance(self.pacer, Pacer):
            return self.pacer.bucket.wait_time(self.seconds(now))
        return 0.0

    @property
    def pending(self) -> bool:
        """Actions are waiting for `actions()` (the caller should tick soon)."""
        return bool(self._pending)

    @property
    def ringing(self) -> int:
        return len(self._ringing)


def _ages(t: float, launched: Iterable[float]) -> tuple[float, ...]:
    return tuple(t - at for at in launched)
