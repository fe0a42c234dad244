"""`PbxSimulator`: the built-in PBX on the network, an Asterisk 22 a dialer cannot tell apart.

It listens for AMI clients, plays each Originate as the population model's debtor would, and
calls the FastAGI server for answered calls like Asterisk's `AGI(agi://…)` does. The registry of
live channels, bridges and conferences lives here; the call runner (`calls.py`) and the AMI
sessions (`ami.py`) act on it. `time_scale` divides every simulated wait so a test can run a
30-second no-answer in under a second; reported timestamps stay real.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import random
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from dialer.ami.codec import encode_message
from dialer.clock import Clock, SystemClock
from dialer.sim.pbx.agi import AgiUrl, parse_agi_url
from dialer.sim.pbx.ami import AmiSession
from dialer.sim.pbx.bridges import basic_enter, new_conference
from dialer.sim.pbx.calls import Call
from dialer.sim.pbx.dialplan import Legs, failed_originate_response
from dialer.sim.pbx.model import (
    AmiEvent,
    Bridge,
    BridgeKind,
    Channel,
    ChannelState,
    Ids,
    global_varset,
)
from dialer.sim.pbx.originate import (
    DEBTOR_CONTEXT,
    Originate,
    agent_phone_script,
    missing_context_script,
    parse_dial,
    plan_call,
)
from dialer.sim.population import LAB_VARIABLES, CallScript, PopulationModel, lab_script

__all__ = ["LAB_AGI_URL", "ChannelInfo", "PbxSimulator", "PbxStartError"]

# The lab's FastAGI address and script (config/asterisk/extensions.conf uses it too); [ivr] shows
# it when no server is set.
LAB_AGI_URL = "agi://127.0.0.1:4573/collections"


class PbxStartError(RuntimeError):
    """The simulator could not start listening; the message says what to change."""


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    """A snapshot of one live channel, for tests and the console."""

    name: str
    uniqueid: str
    linkedid: str
    state: ChannelState
    context: str
    exten: str
    priority: int
    application: str
    app_data: str
    bridge_id: str


class PbxSimulator:
    """An AMI server (and FastAGI client) playing the lab Asterisk with a simulated population."""

    def __init__(
        self,
        *,
        users: Mapping[str, str],
        host: str = "127.0.0.1",
        ami_port: int = 5038,
        agi_url: str | None = None,
        model: PopulationModel | None = None,
        seed: int = 0,
        time_scale: float = 1.0,
        clock: Clock | None = None,
        record_send_times: bool = False,
    ) -> None:
        if not users:
            raise ValueError("the PBX simulator needs at least one AMI user (username → secret)")
        if time_scale <= 0:
            raise ValueError(f"time_scale must be positive (1.0 = real time), not {time_scale}")
        self.users = dict(users)
        self.host = host
        self._port = ami_port
        self.agi_url: AgiUrl | None = parse_agi_url(agi_url) if agi_url else None
        self.agi_app_data = agi_url or LAB_AGI_URL
        self.model = model or PopulationModel()
        self.time_scale = time_scale
        self.clock: Clock = clock or SystemClock()
        self.ids = Ids(seed)
        self._rng = random.Random(seed)  # the population draws: same seed, same debtors
        self.sessions: set[AmiSession] = set()  # logged in: they receive events
        self._connections: set[AmiSession] = set()
        self._channels: dict[str, Channel] = {}
        self._owners: dict[str, Call] = {}
        self._calls: set[Call] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.bridges: dict[str, Bridge] = {}
        self.conferences: dict[str, Bridge] = {}
        self.global_vars: dict[str, str] = {}
        self.originations: Counter[str] = Counter()  # by dial string and by ChannelId
        # Benchmarks: each session keeps when (perf_counter) it wrote each message, in order.
        self.record_send_times = record_send_times
        self._live_ids: dict[str, int] = {}  # Uniqueids of channels not yet hung up → count
        self.processed_calls = 0
        self.started_at: datetime = self.clock.now()
        self._loop_started = 0.0
        self._server: asyncio.Server | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        try:
            self._server = await asyncio.start_server(self._on_client, self.host, self._port)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PbxStartError(
                    f"AMI port {self._port} on {self.host} is already in use (an Asterisk or "
                    "another simulator?); stop it or choose another port with --ami-port"
                ) from None
            raise PbxStartError(
                f"cannot listen on {self.host}:{self._port}: {exc.strerror}"
            ) from None
        self.started_at = self.clock.now()
        self._loop_started = asyncio.get_running_loop().time()

    async def close(self) -> None:
        """Stop listening, drop every client and end every call (no events: the PBX is gone)."""
        if self._server is not None:
            self._server.close()
        for session in list(self._connections):
            session.close(abort=True)
        self.sessions.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)
            self._server = None

    async def __aenter__(self) -> PbxSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def ami_port(self) -> int:
        """The bound port (ami_port=0 asks the OS for a free one)."""
        if self._server is not None and self._server.sockets:
            return int(self._server.sockets[0].getsockname()[1])
        return self._port

    async def drop_clients(self) -> None:
        """Cut every AMI connection abruptly (a network blip); calls go on without listeners."""
        for session in list(self._connections):
            session.close(abort=True)
        await asyncio.sleep(0)

    def scaled(self, seconds: float) -> float:
        return seconds / self.time_scale

    def uptime(self) -> float:
        return (self.clock.now() - self.started_at).total_seconds()

    def _keep(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = AmiSession(self, reader, writer)
        self._connections.add(session)
        try:
            await session.run()
        finally:
            self._connections.discard(session)

    # -- events --------------------------------------------------------------------------------

    def emit(self, *events: AmiEvent) -> None:
        """Send events to every logged-in client whose event mask takes their class."""
        for event in events:
            data = encode_message(event.pairs())
            for session in list(self.sessions):
                session.deliver(event, data)

    # -- calls ---------------------------------------------------------------------------------

    def originate(self, spec: Originate, on_result: Callable[[bool], None] | None = None) -> None:
        """Start a call; `on_result(answered)` stands in for the OriginateResponse of a sync one."""
        self.originations[spec.channel] += 1
        if spec.channel_id:
            self.originations[spec.channel_id] += 1
        target = parse_dial(spec.channel)
        if target is None or (spec.channel_id is not None and self._uniqueid_live(spec.channel_id)):
            self.processed_calls += 1
            if on_result is not None:
                on_result(False)
            else:
                self.emit(failed_originate_response(spec))
            return
        if target.agent_phone:
            script = agent_phone_script()
        elif target.tech == "Local" and target.context != DEBTOR_CONTEXT:
            script = missing_context_script()
        else:
            script = self._debtor(target.number, spec)
        plan = plan_call(script, spec.timeout_seconds)
        loop = asyncio.get_running_loop()
        legs = Legs(spec, target, script, plan, self.ids, self.clock.now().timestamp(), loop.time())
        call = Call(self, legs, on_result)
        for channel in (legs.one, legs.two):
            if channel is not None:
                self._channels[channel.name] = channel
                self._owners[channel.name] = call
                self._live_ids[channel.uniqueid] = self._live_ids.get(channel.uniqueid, 0) + 1
        self._calls.add(call)
        self._keep(loop.create_task(call.run()))

    def _debtor(self, number: str, spec: Originate) -> CallScript:
        """The population's debtor; a lab number the Originate tunes with the lab's variables
        (DTMF_DIGITS, DTMF_DELAY, HANGUP_AFTER) plays the lab's `[debtor-sim]` with them."""
        variables = dict(spec.variables)
        if any(name in variables for name in LAB_VARIABLES):
            lab = lab_script(number, variables)
            if lab is not None:
                return lab
        return self.model.script(number, self.clock.now(), self._rng)

    def forget(self, call: Call) -> None:
        """A call is over: its channels leave the registry."""
        self._calls.discard(call)
        for channel in (call.legs.one, call.legs.two):
            if channel is not None and self._owners.get(channel.name) is call:
                del self._owners[channel.name]
                del self._channels[channel.name]
                left = self._live_ids.pop(channel.uniqueid, 1) - 1
                if left > 0:
                    self._live_ids[channel.uniqueid] = left

    def _uniqueid_live(self, uniqueid: str) -> bool:
        """A channel with this Uniqueid is up (an Originate may not reuse its ChannelId)."""
        if uniqueid not in self._live_ids:
            return False
        return any(c.uniqueid == uniqueid and not c.hungup for c in self._channels.values())

    def find_channel(self, name: str) -> Channel | None:
        channel = self._channels.get(name)
        return channel if channel is not None and not channel.hungup else None

    def hangup_channel(self, channel: Channel, cause: int) -> None:
        """AMI `Hangup`: our `;1` (or trunk channel) is hung up locally, a `;2` is the far end."""
        call = self._owners.get(channel.name)
        if call is None:
            return
        if channel is call.legs.one:
            call.local_hangup(cause)
        else:
            call.far_hangup(cause)

    def redirect(self, channel: Channel, context: str, exten: str, priority: int) -> None:
        call = self._owners.get(channel.name)
        if call is not None and channel is call.legs.one:
            call.redirect(context, exten, priority)

    def bridge_channels(self, one: Channel, two: Channel) -> None:
        """AMI `Bridge`: both answered channels leave their applications for a basic bridge."""
        first, second = self._owners.get(one.name), self._owners.get(two.name)
        if first is None or second is None or first is second:
            return
        if one is not first.legs.one or two is not second.legs.one:
            return
        if not (first.answered and second.answered):
            return
        bridge = Bridge(self.ids.bridge_uuid(), BridgeKind.BASIC)
        self.bridges[bridge.uniqueid] = bridge
        first.enter_bridge(bridge, second)
        second.enter_bridge(bridge, first)
        self.emit(*basic_enter(bridge, one, two))

    def conference(self, name: str) -> Bridge:
        """The ConfBridge conference `name`, created (with its announcer channel) on first use."""
        existing = self.conferences.get(name)
        if existing is not None:
            return existing
        announcer = f"CBAnn/{name}-{self.ids.sequence()};2"
        epoch = self.clock.now().timestamp()
        self.ids.uniqueid(epoch)  # the announcer's two halves take uniqueids, as in Asterisk
        self.ids.uniqueid(epoch)
        bridge = new_conference(self.ids.bridge_uuid(), name, announcer)
        self.conferences[name] = bridge
        self.bridges[bridge.uniqueid] = bridge
        return bridge

    def drop_conference(self, bridge: Bridge) -> None:
        self.conferences.pop(bridge.name, None)
        self.bridges.pop(bridge.uniqueid, None)

    # -- introspection -------------------------------------------------------------------------

    def live_channels(self) -> list[Channel]:
        return [c for c in self._channels.values() if not c.hungup]

    @property
    def channels(self) -> list[ChannelInfo]:
        """Snapshots of the live channels, oldest first."""
        return [
            ChannelInfo(
                c.name,
                c.uniqueid,
                c.linkedid,
                c.state,
                c.context,
                c.exten,
                c.priority,
                c.application,
                c.app_data,
                c.bridge_id,
            )
            for c in self.live_channels()
        ]

    def current_calls(self) -> int:
        return len(self._calls)

    def _seconds(self, channel: Channel) -> int:
        return int((asyncio.get_running_loop().time() - channel.created_at) * self.time_scale)

    def resolve(self, channel: Channel, name: str) -> str | None:
        """A channel variable or one of the dialplan functions an IVR reads, None when unset."""
        key = name.strip()
        upper = key.upper()
        specials = {
            "CALLERID(NUM)": channel.caller_num,
            "CALLERID(NAME)": channel.caller_name,
            "CHANNEL": channel.name,
            "CHANNEL(NAME)": channel.name,
            "UNIQUEID": channel.uniqueid,
            "CHANNEL(UNIQUEID)": channel.uniqueid,
            "CHANNEL(LINKEDID)": channel.linkedid,
            "CONTEXT": channel.context,
            "EXTEN": channel.exten,
            "PRIORITY": str(channel.priority),
        }
        if upper == "CALLERID(ALL)":
            call = self._owners.get(channel.name)
            return call.legs.spec.callerid_all if call is not None else None
        if upper in specials:
            value = specials[upper]
            return "" if value == "<unknown>" else value
        if key in channel.variables:
            return channel.variables[key]
        return self.global_vars.get(key)

    def set_global(self, name: str, value: str) -> None:
        self.global_vars[name] = value
        self.emit(global_varset(name, value))

    def status_item(self, channel: Channel, action_id: str | None) -> list[tuple[str, str]]:
        """One `Event: Status` of the Status action (manager.c generate_status)."""
        pairs = [("Event", "Status"), ("Privilege", "Call"), *channel.fields()]
        pairs += [
            ("Type", channel.tech),
            ("DNID", ""),
            ("EffectiveConnectedLineNum", channel.connected_num),
            ("EffectiveConnectedLineName", channel.connected_name),
            ("TimeToHangup", "0"),
            ("BridgeID", channel.bridge_id),
            ("Application", channel.application),
            ("Data", channel.app_data),
            ("Nativeformats", "(ulaw)"),
            ("Readformat", "ulaw"),
            ("Readtrans", ""),
            ("Writeformat", "ulaw"),
            ("Writetrans", ""),
            ("Callgroup", "0"),
            ("Pickupgroup", "0"),
            ("Seconds", str(self._seconds(channel))),
        ]
        if action_id is not None:
            pairs.append(("ActionID", action_id))
        return pairs

    def core_show_channel(self, channel: Channel) -> AmiEvent:
        seconds = self._seconds(channel)
        duration = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        return AmiEvent(
            "CoreShowChannel",
            None,
            (
                *channel.fields(),
                ("Application", channel.application),
                ("ApplicationData", channel.app_data),
                ("Duration", duration),
                ("BridgeId", channel.bridge_id),
            ),
        )

    def confbridge_list_items(self, conference: Bridge) -> list[AmiEvent]:
        now = asyncio.get_running_loop().time()
        items = []
        for member in conference.members:
            answered = member.answered_at if member.answered_at is not None else now
            items.append(
                AmiEvent(
                    "ConfbridgeList",
                    None,
                    (
                        ("Conference", conference.name),
                        ("Admin", "No"),
                        ("MarkedUser", "Yes" if member.name in conference.marked else "No"),
                        ("WaitMarked", "No"),
                        ("EndMarked", "No"),
                        ("EndMarkedAny", "No"),
                        ("Waiting", "No"),
                        ("Muted", "No"),
                        ("Talking", "No"),
                        ("AnsweredTime", str(int((now - answered) * self.time_scale))),
                        *member.fields(),
                    ),
                )
            )
        return items

    def cli(self, command: str) -> list[str]:
        """A few CLI commands for the AMI `Command` action, with Asterisk's wording."""
        if command == "core show version":
            built = self.started_at.strftime("%Y-%m-%d %H:%M:%S")
            return [f"Asterisk 22.10.1 built by root @ vm on a x86_64 running Linux on {built} UTC"]
        if command == "core show channels concise":
            lines = []
            for c in self.live_channels():
                cid = "" if c.caller_num == "<unknown>" else c.caller_num
                lines.append(
                    f"{c.name}!{c.context}!{c.exten}!{c.priority}!{c.state.desc}!{c.application}!"
                    f"{c.app_data}!{cid}!!!3!{self._seconds(c)}!!{c.uniqueid}"
                )
            return lines or [""]
        if command == "core show channels":
            count = len(self.live_channels())
            return [
                f"{count} active channel{'s' if count != 1 else ''}",
                f"{len(self._calls)} active call{'s' if len(self._calls) != 1 else ''}",
                f"{self.processed_calls} call{'s' if self.processed_calls != 1 else ''} processed",
            ]
        if command == "core show uptime":
            return [f"System uptime: {int(self.uptime())} seconds"]
        return [
            f"No such command '{command}' (type 'core show help {command}' for other possible "
            "commands)"
        ]
