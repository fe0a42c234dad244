"""One originated call played out in time: dialling, the `[ivr]`/`[ivr-amd]`/agent contexts, the
FastAGI session, hangups from either end, redirects and bridges.

The sans-I/O pieces decide *what* happens (`dialplan.Legs` batches, `agi.plan_command`); this
runner decides *when*, sleeping `seconds / time_scale` and waking early when something interrupts
the channel (a `Kick`). Events go out through the simulator as they happen, so concurrent calls
interleave on every AMI client exactly as they would on a real Asterisk.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Coroutine
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from dialer.sim.pbx.agi import Keypad
from dialer.sim.pbx.bridges import (
    basic_leave,
    conference_destroy,
    conference_join,
    conference_leave_finish,
    conference_leave_start,
)
from dialer.sim.pbx.dialplan import ORIGINATE_RESULT, Legs
from dialer.sim.pbx.fastagi import AgiRun
from dialer.sim.pbx.model import AmiEvent, Bridge, device_state
from dialer.sim.pbx.originate import Outcome
from dialer.sim.population import Fate

if TYPE_CHECKING:
    from dialer.sim.pbx.simulator import PbxSimulator

__all__ = ["Call", "Kick", "Where"]

_AGENT_WAIT_SECONDS = 300.0
_HOLD_SECONDS = 20.0  # [ivr-amd] hold: Wait(20) for the dialer's Redirect (agent campaigns)
_APOLOGY_SECONDS = 9.0  # [recaudo-abandon]: Playback(recaudo/abandono)


class Where(StrEnum):
    """What the call's channel is running, which decides how an interruption plays out."""

    DIALLING = "dialling"
    STARTING = "starting"
    AMD = "amd"
    AGI = "agi"
    CONFERENCE = "conference"
    WAIT = "wait"
    BRIDGED = "bridged"
    DONE = "done"


class Kick(StrEnum):
    """Why a sleeping channel was woken."""

    CANCEL = "cancel"  # the dialer hung up before the answer
    FAR = "far"  # the debtor (or the agent's phone) hung up
    LOCAL = "local"  # the dialer hung up the answered channel
    REDIRECT = "redirect"
    BRIDGE = "bridge"


class Call:
    """The runtime of one Originate; `legs` holds its channels and the dialling batches."""

    def __init__(
        self, pbx: PbxSimulator, legs: Legs, on_result: Callable[[bool], None] | None
    ) -> None:
        self.pbx, self.legs = pbx, legs
        self.on_result = on_result
        self.where = Where.DIALLING
        self.kicked = asyncio.Event()
        self.kick: Kick | None = None
        self.cancel_cause: int | None = None
        self.far_cause: int | None = None
        self.local_cause: int | None = None
        self.redirect_to: tuple[str, str, int] | None = None
        self.agi_dead = False
        self.agi_detached = False  # moved into a bridge by AMI: the AGI answers but reports nothing
        self.agi_status = ""
        script = legs.script
        self.keypad = Keypad(script.keys, script.key_delay_seconds, script.key_times())
        self.conference: Bridge | None = None
        self.bridge: Bridge | None = None
        self.peer: Call | None = None
        self.released = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def answered(self) -> bool:
        """Up and running dialplan (not ringing, not over): what AMI Bridge can take."""
        return self.where not in (Where.DIALLING, Where.DONE)

    @property
    def gone(self) -> bool:
        return self.far_cause is not None or self.local_cause is not None

    def emit(self, *events: AmiEvent) -> None:
        self.pbx.emit(*events)

    def poke(self, kick: Kick) -> None:
        self.kick = kick
        self.kicked.set()

    async def sleep(self, seconds: float) -> bool:
        """Wait `seconds` of simulated time; True if something interrupted the channel first."""
        if self.kicked.is_set():
            return True
        if seconds == math.inf:
            await self.kicked.wait()
            return True
        try:
            await asyncio.wait_for(self.kicked.wait(), self.pbx.scaled(max(0.0, seconds)))
        except TimeoutError:
            return False
        return True

    # -- the whole call ----------------------------------------------------------------------

    async def run(self) -> None:
        try:
            if await self._dial():
                await self._answered()
        finally:
            if self.on_result is not None:  # the PBX shut down before a sync Originate resolved
                self.on_result(False)
                self.on_result = None
            self.where = Where.DONE
            for task in list(self._tasks):
                task.cancel()
            self.released.set()
            self.pbx.forget(self)

    def _publish(self, batch: list[AmiEvent], outcome: Outcome | None) -> None:
        """Emit a batch; the marker becomes the OriginateResponse (async) or the reply (sync)."""
        if outcome is not None:
            self.pbx.processed_calls += 1
            if self.on_result is not None:
                self.on_result(outcome is Outcome.ANSWER)
                self.on_result = None
        for event in batch:
            if event is ORIGINATE_RESULT:
                if self.legs.spec.is_async and outcome is not None:
                    self.emit(self.legs.originate_response(outcome))
            else:
                self.emit(event)

    async def _dial(self) -> bool:
        legs, plan = self.legs, self.legs.plan
        batch = legs.start()
        if not plan.rings:
            self._publish(batch, plan.outcome)
            return plan.outcome is Outcome.ANSWER
        self._publish(batch, None)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.pbx.scaled(plan.at_seconds)
        while True:
            try:
                await asyncio.wait_for(self.kicked.wait(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                break
            if self.cancel_cause is not None:
                self._publish(legs.cancel(self.cancel_cause), Outcome.CANCELLED)
                return False
            self.kicked.clear()  # a redirect while ringing applies once answered
            self.kick = None
        self._publish(legs.finish(), plan.outcome)
        return plan.outcome is Outcome.ANSWER

    async def _answered(self) -> None:
        legs = self.legs
        spec = legs.spec
        self.where = Where.STARTING
        legs.one.answered_at = asyncio.get_running_loop().time()
        self.emit(*legs.debtor_settles())
        self.spawn(self._far_end_timer())
        target = self.redirect_to or (spec.context, spec.exten, spec.priority)
        self.redirect_to = None
        while not self.gone:
            self.kicked.clear()
            self.kick = None
            await self._run_context(*target)
            follow = self._take_redirect()
            if follow is None:
                break
            target = follow
        await self._finish()

    def _take_redirect(self) -> tuple[str, str, int] | None:
        """Where a Redirect sends the channel next (None: hung up, bridged, or not moved)."""
        target, self.redirect_to = self.redirect_to, None
        if target is None or self.gone or self.where is Where.BRIDGED:
            return None
        return target

    async def _far_end_timer(self) -> None:
        script = self.legs.script
        await asyncio.sleep(self.pbx.scaled(script.hangup_after_seconds))
        self.far_hangup(script.cause)

    # -- the dialplan contexts ---------------------------------------------------------------

    async def _run_context(self, context: str, exten: str, priority: int) -> None:
        one = self.legs.one
        one.at(context, exten, priority)
        if context == "ivr-amd":
            await self._amd()
        elif context in ("agents", "agent-bridge"):
            await self._conference(context, exten)
        elif context == "agent-wait":
            await self._wait(exten)
        elif context == "recaudo-abandon":
            await self._apology()
        else:  # [ivr], and any context the lab dialplan does not know, run the IVR
            self.emit(
                one.newexten(1, "NoOp", f"IVR for {one.name} caller {self.legs.spec.callerid_all}"),
                one.newexten(2, "Answer"),
                one.newexten(3, "AGI", self.pbx.agi_app_data),
                one.device_state("INUSE"),
            )
            await self._agi(())

    async def _amd(self) -> None:
        one, script = self.legs.one, self.legs.script
        self.emit(
            one.newexten(1, "NoOp", f"IVR with answering-machine detection for {one.name}"),
            one.newexten(2, "Answer"),
            one.newexten(3, "AMD"),
            one.device_state("INUSE"),
            one.device_state("INUSE"),
        )
        self.where = Where.AMD
        if await self.sleep(script.amd_seconds):
            if self.gone:
                self.emit(one.varset("AMDSTATUS", "HANGUP"), one.varset("AMDCAUSE", ""))
            return
        status = "MACHINE" if script.fate is Fate.MACHINE else "HUMAN"
        cause = script.amd_cause
        self.emit(
            one.varset("AMDSTATUS", status),
            one.varset("AMDCAUSE", cause),
            one.newexten(4, "NoOp", f"AMDSTATUS={status} AMDCAUSE={cause}"),
        )
        if status == "HUMAN" and ("RECAUDO_ROUTE", "agent") in self.legs.spec.variables:
            await self._hold()
            return
        self.emit(one.newexten(5, "AGI", f"{self.pbx.agi_app_data},{status},{cause}"))
        await self._agi((status, cause))

    async def _hold(self) -> None:
        """An agent campaign's person waits, silent, for the dialer's Redirect (to an agent or
        to the apology); nobody moves the call in time: it hangs up."""
        one = self.legs.one
        self.emit(one.newexten(6, "Wait", f"{_HOLD_SECONDS:g}"))
        self.where = Where.WAIT
        if not await self.sleep(_HOLD_SECONDS):
            self.emit(one.newexten(7, "Hangup"))
            self.local_cause = 16

    async def _apology(self) -> None:
        """`[recaudo-abandon]`: the recorded apology, then the hang-up."""
        one = self.legs.one
        self.emit(
            one.newexten(1, "NoOp", f"Recaudo call {one.name}: no agent free, apology"),
            one.newexten(2, "Playback", "recaudo/abandono"),
        )
        self.where = Where.WAIT
        if not await self.sleep(_APOLOGY_SECONDS):
            self.emit(one.newexten(3, "Hangup"))
            self.local_cause = 16

    async def _conference(self, context: str, exten: str) -> None:
        one = self.legs.one
        name = f"agent-{exten}"
        if context == "agents":
            self.emit(
                one.newexten(1, "NoOp", f"agent {exten} joins bridge {name}"),
                one.device_state("INUSE"),
                one.device_state("INUSE"),
                one.newexten(2, "Answer"),
                one.newexten(3, "ConfBridge", f"{name},agent_bridge,agent_user"),
            )
        else:
            self.emit(
                one.newexten(1, "NoOp", f"debtor {one.name} joins bridge {name}"),
                one.newexten(2, "ConfBridge", f"{name},agent_bridge,debtor_user"),
            )
        conference = self.pbx.conference(name)
        now = asyncio.get_running_loop().time()
        self.emit(*conference_join(conference, one, marked=context == "agents", now=now))
        self.conference = conference
        self.where = Where.CONFERENCE
        await self.sleep(math.inf)
        if self.gone or self.kick is not Kick.REDIRECT:
            return
        events = conference_leave_start(conference, one)
        events += conference_leave_finish(conference, one, hangup=False)
        if not conference.members:
            events += conference_destroy(conference)
            self.pbx.drop_conference(conference)
        self.conference = None
        self.emit(*events)

    async def _wait(self, exten: str) -> None:
        one = self.legs.one
        self.emit(
            one.newexten(1, "NoOp", f"agent {exten} waiting for AMI Bridge"),
            one.newexten(2, "Answer"),
            one.newexten(3, "Wait", f"{_AGENT_WAIT_SECONDS:g}"),
        )
        self.where = Where.WAIT
        if not await self.sleep(_AGENT_WAIT_SECONDS):
            self.emit(one.newexten(4, "Hangup"))
            self.local_cause = 16

    # -- FastAGI -----------------------------------------------------------------------------

    async def _agi(self, args: tuple[str, ...]) -> None:
        """Run the AGI application (see `fastagi.AgiRun`); AGISTATUS says how it ended."""
        self.where = Where.AGI
        await AgiRun(self).run(args)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """A helper task that dies with the call (timers, the delayed HANGUP line)."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def since_answer(self) -> float:
        """Simulated seconds since the call was answered (0 before the answer)."""
        answered = self.legs.one.answered_at
        if answered is None:
            return 0.0
        return (asyncio.get_running_loop().time() - answered) * self.pbx.time_scale

    def until_far_hangup(self) -> float:
        """Simulated seconds left before the far end hangs up (for the lab's last `Wait`)."""
        answered = self.legs.one.answered_at
        if answered is None:
            return self.legs.script.hangup_after_seconds
        spent = (asyncio.get_running_loop().time() - answered) * self.pbx.time_scale
        return max(0.0, self.legs.script.hangup_after_seconds - spent)

    # -- interruptions -----------------------------------------------------------------------

    def far_hangup(self, cause: int) -> None:
        """The debtor (or agent phone) hangs up: `;2` goes, `;1` is asked to hang up."""
        if self.where in (Where.DONE, Where.DIALLING) or self.far_cause is not None:
            if self.where is Where.DIALLING:
                self.cancel_cause = cause
                self.poke(Kick.CANCEL)
            return
        if self.where is Where.BRIDGED:
            self.bridged_hangup(cause, far=True)
            return
        self.far_cause = cause
        one, two = self.legs.one, self.legs.two
        events: list[AmiEvent] = []
        if self.where is Where.CONFERENCE and self.conference is not None:
            events += conference_leave_start(self.conference, one)
        if two is not None and not two.hungup:
            events += [
                self.legs.step("Hangup", str(cause)),
                two.soft_hangup_request(16),
                one.hangup_request(cause),
                two.hangup(cause),
            ]
        else:
            events.append(one.hangup_request(cause))
        events.append(one.device_state("NOT_INUSE"))
        self.emit(*events)
        self.poke(Kick.FAR)

    def local_hangup(self, cause: int) -> None:
        """The dialer hangs up our channel (AMI `Hangup`): cancels a ringing call."""
        if self.where is Where.DONE:
            return
        if self.where is Where.DIALLING:
            self.cancel_cause = cause
            self.poke(Kick.CANCEL)
            return
        if self.where is Where.BRIDGED:
            self.bridged_hangup(cause, far=False)
            return
        if self.local_cause is not None or (self.where is Where.AGI and self.agi_dead):
            return
        self.local_cause = cause
        if self.where is Where.AGI:
            self.emit(self.legs.one.soft_hangup_request(32))
        self.poke(Kick.LOCAL)

    def redirect(self, context: str, exten: str, priority: int) -> None:
        if self.where in (Where.DONE, Where.BRIDGED) or self.gone:
            return
        self.redirect_to = (context, exten, priority)
        if self.where is not Where.DIALLING:
            self.poke(Kick.REDIRECT)

    def enter_bridge(self, bridge: Bridge, peer: Call) -> None:
        """AMI `Bridge`: leave the running application (an AGI goes on, silently, until closed)."""
        if self.where is Where.AGI:
            self.agi_detached = True
        self.where = Where.BRIDGED
        self.bridge, self.peer = bridge, peer
        self.poke(Kick.BRIDGE)

    def bridged_hangup(self, cause: int, *, far: bool) -> None:
        """One side of a basic bridge hangs up: the bridge dissolves, the peer's dialplan ends."""
        bridge, peer = self.bridge, self.peer
        one, two = self.legs.one, self.legs.two
        if bridge is None or peer is None or self.where is Where.DONE:
            return
        events: list[AmiEvent] = []
        if far and two is not None and not two.hungup:
            events += [
                self.legs.step("Hangup", str(cause)),
                two.soft_hangup_request(16),
                one.hangup_request(cause),
                two.hangup(cause),
            ]
        elif far:
            events.append(one.hangup_request(cause))
        events += [one.varset("BRIDGEPEER", ""), peer.legs.one.varset("BRIDGEPEER", "")]
        events += basic_leave(bridge, one)
        if far:  # the far end is gone: the channel just goes, no soft hangup request
            events += [one.hangup(cause), one.device_state("NOT_INUSE")]
        else:
            events += self._hang_legs(cause, far_done=False)
        events += basic_leave(bridge, peer.legs.one)
        events.append(bridge.event("BridgeDestroy", 0))
        self.pbx.bridges.pop(bridge.uniqueid, None)
        peer_one = peer.legs.one
        events.append(peer_one.newexten(peer_one.priority, "Hangup"))
        events += peer._hang_legs(16, far_done=peer.far_cause is not None)
        for call in (self, peer):
            call.where = Where.DONE
            call.released.set()
        self.emit(*events)

    def _hang_legs(self, cause: int, *, far_done: bool) -> list[AmiEvent]:
        """Hangup events for `;1` (and `;2` if it is still up), in the lab's order."""
        one, two = self.legs.one, self.legs.two
        if one.hungup:
            return []
        alive_two = two if two is not None and not two.hungup and not far_done else None
        events = [one.soft_hangup_request(16)]
        if alive_two is not None:
            events.append(alive_two.hangup_request(cause))
        events.append(one.hangup(cause if (cause or one.tech == "Local") else 16))
        if alive_two is not None:
            events += [alive_two.soft_hangup_request(16), alive_two.hangup(cause)]
        events.append(one.device_state("NOT_INUSE"))
        if alive_two is not None:
            events.append(alive_two.device_state("NOT_INUSE"))
        return events

    async def _finish(self) -> None:
        """After the last application: bridged calls wait for the bridge, others hang up."""
        if self.where is Where.BRIDGED:
            await self.released.wait()
            return
        one = self.legs.one
        events: list[AmiEvent] = []
        conference = self.conference
        if conference is not None:
            if self.far_cause is None:
                events += conference_leave_start(conference, one)
            events += conference_leave_finish(conference, one, hangup=True)
        if not self.gone:  # the dialplan goes on after AGI(): NoOp(AGISTATUS=…), Hangup()
            status = self.agi_status or "SUCCESS"
            events += [
                one.newexten(one.priority + 1, "NoOp", f"AGISTATUS={status}"),
                one.newexten(one.priority + 2, "Hangup"),
                one.soft_hangup_request(32),
            ]
            self.local_cause = 0
        if self.far_cause is not None:
            events += [one.soft_hangup_request(16), one.hangup(self.far_cause)]
            events.append(one.device_state("NOT_INUSE"))
        else:
            events += self._hang_legs(self.local_cause or 0, far_done=False)
        if conference is not None and not conference.members:
            at = next(i for i, e in enumerate(events) if e.name == "Hangup") + 1
            events[at:at] = conference_destroy(conference)
            events.append(device_state(f"CBAnn/{conference.name}", "UNKNOWN"))
            self.pbx.drop_conference(conference)
        self.conference = None
        self.emit(*events)
