"""The AMI face: one `AmiSession` per TCP client, speaking manager.c's dialect of Asterisk 22.

Banner at connect, Login (wrong secret: `Authentication failed` a second later, then close),
`Permission denied` before login, `Events`/EventMask filtering, and the actions a dialer uses.
Responses are written the moment an action is handled, events as the engine emits them, so the
order a client sees is the order Asterisk would produce. Call-related actions go to the engine.
"""

from __future__ import annotations

import asyncio
from array import array
from collections.abc import Awaitable, Callable
from datetime import datetime
from time import perf_counter
from typing import TYPE_CHECKING

from dialer.ami.codec import AmiMessage, AmiParser, encode_message
from dialer.errors import AmiProtocolError
from dialer.sim.pbx.model import AmiEvent
from dialer.sim.pbx.originate import parse_originate

if TYPE_CHECKING:
    from dialer.sim.pbx.simulator import PbxSimulator

__all__ = ["BANNER", "AmiSession"]

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
_ALL_CLASSES = frozenset(
    {
        "system",
        "call",
        "log",
        "verbose",
        "command",
        "agent",
        "user",
        "config",
        "dtmf",
        "reporting",
        "cdr",
        "dialplan",
        "originate",
        "agi",
        "cc",
        "aoc",
        "test",
        "security",
        "message",
    }
)
_PRE_LOGIN = frozenset({"login", "logoff", "challenge"})
Pairs = list[tuple[str, str]]


def _event_tv(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"


def parse_event_mask(value: str | None) -> frozenset[str]:
    """`on`/`off`/`call,agi`: the event classes a client receives (`Events: on` = all)."""
    text = (value or "on").strip().lower()
    if text in ("on", "yes", "true", "all", "1"):
        return _ALL_CLASSES
    if text in ("off", "no", "false", "none", "0", ""):
        return frozenset()
    return frozenset(part.strip() for part in text.split(",") if part.strip()) & _ALL_CLASSES


class AmiSession:
    """One manager connection: its login, event mask and action loop."""

    def __init__(
        self, pbx: PbxSimulator, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.pbx = pbx
        self.reader, self.writer = reader, writer
        self.username: str | None = None
        self.mask: frozenset[str] = frozenset()
        self.session_id = pbx.ids.session_id()
        self.started = pbx.clock.now()
        self.closed = False
        # With `record_send_times`: perf_counter() and first header value of each message sent.
        self.sent_at: array[float] | None = array("d") if pbx.record_send_times else None
        self.sent_names: list[str] = []
        local = writer.get_extra_info("sockname") or ("127.0.0.1", pbx.ami_port)
        remote = writer.get_extra_info("peername") or ("127.0.0.1", 0)
        self.local = f"IPV4/TCP/{local[0]}/{local[1]}"
        self.remote = f"IPV4/TCP/{remote[0]}/{remote[1]}"
        handlers: dict[str, Callable[[AmiMessage], Awaitable[None]]] = {
            "Login": self._login,
            "Logoff": self._logoff,
            "Ping": self._ping,
            "Events": self._events,
            "Originate": self._originate,
            "Hangup": self._hangup,
            "Redirect": self._redirect,
            "Bridge": self._bridge,
            "Getvar": self._getvar,
            "Setvar": self._setvar,
            "Status": self._status,
            "CoreShowChannels": self._core_show_channels,
            "BridgeList": self._bridge_list,
            "ConfbridgeList": self._confbridge_list,
            "ConfbridgeListRooms": self._confbridge_list_rooms,
            "QueueStatus": self._queue_status,
            "CoreStatus": self._core_status,
            "CoreSettings": self._core_settings,
            "Command": self._command,
            "ListCommands": self._list_commands,
        }
        self._names = sorted(handlers)
        self._actions = {name.lower(): handler for name, handler in handlers.items()}

    @property
    def logged_in(self) -> bool:
        return self.username is not None

    # -- wire ------------------------------------------------------------------------------

    async def run(self) -> None:
        """Greet, then handle actions one at a time until the client or we hang up."""
        parser = AmiParser(expect_banner=False)
        self.writer.write(BANNER)
        try:
            while self.is_open():
                data = await self.reader.read(65536)
                if not data:
                    break
                try:
                    messages = parser.feed(data)
                except AmiProtocolError:
                    break
                for message in messages:
                    if not self.is_open():
                        break
                    await self._handle(message)
        except (ConnectionError, OSError):
            pass
        finally:
            self.close()

    def close(self, *, abort: bool = False) -> None:
        if self.closed:
            return
        self.closed = True
        self.pbx.sessions.discard(self)
        transport = self.writer.transport
        if abort:
            transport.abort()
        else:
            self.writer.close()

    def is_open(self) -> bool:
        return not self.closed and not self.writer.transport.is_closing()

    def send(self, pairs: Pairs) -> None:
        if self.is_open():
            self.writer.write(encode_message(pairs))
            if self.sent_at is not None:
                self.sent_at.append(perf_counter())
                self.sent_names.append(pairs[0][1] if pairs else "")

    def deliver(self, event: AmiEvent, data: bytes) -> None:
        """An engine event, if this client is logged in and its mask lets the class through."""
        if self.logged_in and event.category in self.mask and self.is_open():
            self.writer.write(data)
            if self.sent_at is not None:
                self.sent_at.append(perf_counter())
                self.sent_names.append(event.name)

    def respond(self, message: AmiMessage, response: str, text: str | None = None) -> None:
        pairs: Pairs = [("Response", response)]
        if message.action_id is not None:
            pairs.append(("ActionID", message.action_id))
        if text is not None:
            pairs.append(("Message", text))
        self.send(pairs)

    def error(self, message: AmiMessage, text: str) -> None:
        self.respond(message, "Error", text)

    def success(
        self, message: AmiMessage, text: str | None = None, *extra: tuple[str, str]
    ) -> None:
        pairs: Pairs = [("Response", "Success")]
        if message.action_id is not None:
            pairs.append(("ActionID", message.action_id))
        if text is not None:
            pairs.append(("Message", text))
        self.send(pairs + list(extra))

    def send_list(
        self,
        message: AmiMessage,
        what: str,
        items: list[AmiEvent],
        complete: str,
        *extra: tuple[str, str],
    ) -> None:
        """A list reply: `EventList: start` ack, items, Complete event (each with the ActionID)."""
        action_id = message.action_id
        head: Pairs = [("Response", "Success")]
        if action_id is not None:
            head.append(("ActionID", action_id))
        self.send([*head, ("EventList", "start"), ("Message", what)])
        for item in items:
            self.send(item.pairs(action_id))
        tail: Pairs = [("Event", complete)]
        if action_id is not None:
            tail.append(("ActionID", action_id))
        self.send([*tail, ("EventList", "Complete"), ("ListItems", str(len(items))), *extra])

    def security_event(self, name: str, severity: str, *fields: tuple[str, str]) -> AmiEvent:
        now = self.pbx.clock.now()
        head = (
            ("EventTV", _event_tv(now)),
            ("Severity", severity),
            ("Service", "AMI"),
            ("EventVersion", "1"),
        )
        return AmiEvent(name, "security,all", head + fields)

    # -- dispatch --------------------------------------------------------------------------

    async def _handle(self, message: AmiMessage) -> None:
        action = (message.get("Action") or "").strip()
        if not action:
            self.error(message, "Missing action in request")
            return
        key = action.lower()
        if not self.logged_in and key not in _PRE_LOGIN:
            self.error(message, "Permission denied")
            return
        handler = self._actions.get(key)
        if handler is None:
            self.error(
                message,
                f"Invalid/unknown command: {action}. Use Action: ListCommands to show available "
                "commands.",
            )
            self.pbx.emit(
                self.security_event(
                    "RequestBadFormat",
                    "Error",
                    ("SessionID", self.session_id),
                    ("LocalAddress", self.local),
                    ("RemoteAddress", self.remote),
                    ("RequestType", f"Action: {action}"),
                    ("SessionTV", _event_tv(self.started)),
                    ("AccountID", self.username or ""),
                )
            )
            return
        await handler(message)

    # -- session actions -------------------------------------------------------------------

    async def _login(self, message: AmiMessage) -> None:
        if self.logged_in:
            self.success(message, "Already authenticated")
            return
        user = message.get("Username") or ""
        secret = message.get("Secret") or ""
        if user not in self.pbx.users or self.pbx.users[user] != secret:
            await asyncio.sleep(self.pbx.scaled(1.0))  # manager.c sleeps a second on failure
            self.error(message, "Authentication failed")
            self.close()
            return
        self.username = user
        self.mask = parse_event_mask(message.get("Events"))
        self.pbx.sessions.add(self)
        self.success(message, "Authentication accepted")
        if "system" in self.mask:
            uptime = str(int(self.pbx.uptime()))
            self.send(
                [
                    ("Event", "FullyBooted"),
                    ("Privilege", "system,all"),
                    ("Uptime", uptime),
                    ("LastReload", uptime),
                    ("Status", "Fully Booted"),
                ]
            )
        self.pbx.emit(
            self.security_event(
                "SuccessfulAuth",
                "Informational",
                ("AccountID", user),
                ("SessionID", self.session_id),
                ("LocalAddress", self.local),
                ("RemoteAddress", self.remote),
                ("UsingPassword", "0"),
                ("SessionTV", _event_tv(self.started)),
            )
        )

    async def _logoff(self, message: AmiMessage) -> None:
        self.respond(message, "Goodbye", "Thanks for all the fish.")
        self.close()

    async def _ping(self, message: AmiMessage) -> None:
        stamp = self.pbx.clock.now().timestamp()
        self.success(message, None, ("Ping", "Pong"), ("Timestamp", f"{stamp:.6f}"))

    async def _events(self, message: AmiMessage) -> None:
        self.mask = parse_event_mask(message.get("EventMask"))
        self.success(message, None, ("Events", "On" if self.mask else "Off"))

    # -- call actions ----------------------------------------------------------------------

    async def _originate(self, message: AmiMessage) -> None:
        spec = parse_originate(message)
        if isinstance(spec, str):
            self.error(message, spec)
            return
        if spec.is_async:
            self.success(message, "Originate successfully queued")
            self.pbx.originate(spec)
            return
        # Synchronous: the reply comes when the dialling ends, just before that step's events,
        # and this session handles nothing else meanwhile (manager.c blocks its thread).
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def reply(answered: bool) -> None:
            if answered:
                self.success(message, "Originate successfully queued")
            else:
                self.error(message, "Originate failed")
            if not done.done():
                done.set_result(None)

        self.pbx.originate(spec, on_result=reply)
        await done

    async def _hangup(self, message: AmiMessage) -> None:
        name = (message.get("Channel") or "").strip()
        if not name:
            self.error(message, "No channel specified")
            return
        cause_text = (message.get("Cause") or "").strip()
        cause = int(cause_text) if cause_text.isdigit() else 16
        channel = self.pbx.find_channel(name)
        if channel is None:
            self.error(message, "No such channel")
            return
        self.success(message, "Channel Hungup")
        self.pbx.hangup_channel(channel, cause)

    async def _redirect(self, message: AmiMessage) -> None:
        name = (message.get("Channel") or "").strip()
        if not name:
            self.error(message, "Channel not specified")
            return
        channel = self.pbx.find_channel(name)
        if channel is None:
            self.error(message, f"Channel does not exist: {name}")
            return
        context = (message.get("Context") or "").strip()
        exten = (message.get("Exten") or "").strip()
        priority = (message.get("Priority") or "1").strip()
        if not context or not exten:
            self.error(message, "Redirect failed")
            return
        if not priority.isdigit():
            self.error(message, "Invalid priority")
            return
        self.success(message, "Redirect successful")
        self.pbx.redirect(channel, context, exten, int(priority))

    async def _bridge(self, message: AmiMessage) -> None:
        names = [(message.get(h) or "").strip() for h in ("Channel1", "Channel2")]
        if not all(names):
            self.error(message, "Missing channel parameter in request")
            return
        found = [self.pbx.find_channel(name) for name in names]
        for label, name, channel in zip(("Channel1", "Channel2"), names, found, strict=True):
            if channel is None:
                self.error(message, f"{label} does not exist: {name}")
                return
        one, two = found
        assert one is not None
        assert two is not None
        self.success(message, "Channels have been bridged")
        self.pbx.bridge_channels(one, two)

    async def _getvar(self, message: AmiMessage) -> None:
        variable = (message.get("Variable") or "").strip()
        if not variable:
            self.error(message, "No variable specified")
            return
        name = (message.get("Channel") or "").strip()
        value = self.pbx.global_vars.get(variable, "")
        if name:
            channel = self.pbx.find_channel(name)
            if channel is None:
                self.error(message, "No such channel")
                return
            value = self.pbx.resolve(channel, variable) or ""
        self.success(message, None, ("Variable", variable), ("Value", value))

    async def _setvar(self, message: AmiMessage) -> None:
        variable = (message.get("Variable") or "").strip()
        if not variable:
            self.error(message, "No variable specified")
            return
        value = message.get("Value") or ""
        name = (message.get("Channel") or "").strip()
        if name:
            channel = self.pbx.find_channel(name)
            if channel is None:
                self.error(message, "No such channel")
                return
            self.success(message, "Variable Set")
            self.pbx.emit(channel.varset(variable, value))
            return
        self.success(message, "Variable Set")
        self.pbx.set_global(variable, value)

    # -- lists -----------------------------------------------------------------------------

    async def _status(self, message: AmiMessage) -> None:
        name = (message.get("Channel") or "").strip()
        channels = self.pbx.live_channels()
        if name:
            channels = [c for c in channels if c.name == name]
            if not channels:
                self.error(message, "No such channel")
                return
        action_id = message.action_id
        head: Pairs = [("Response", "Success")]
        if action_id is not None:
            head.append(("ActionID", action_id))
        self.send([*head, ("EventList", "start"), ("Message", "Channel status will follow")])
        for channel in channels:
            self.send(self.pbx.status_item(channel, action_id))
        tail: Pairs = [("Event", "StatusComplete")]
        if action_id is not None:
            tail.append(("ActionID", action_id))
        count = str(len(channels))
        self.send([*tail, ("EventList", "Complete"), ("ListItems", count), ("Items", count)])

    async def _core_show_channels(self, message: AmiMessage) -> None:
        items = [self.pbx.core_show_channel(c) for c in self.pbx.live_channels()]
        self.send_list(message, "Channels will follow", items, "CoreShowChannelsComplete")

    async def _bridge_list(self, message: AmiMessage) -> None:
        items = [AmiEvent("BridgeListItem", None, b.fields()) for b in self.pbx.bridges.values()]
        self.send_list(message, "Bridge listing will follow", items, "BridgeListComplete")

    async def _confbridge_list(self, message: AmiMessage) -> None:
        name = (message.get("Conference") or "").strip()
        if not name:
            self.error(message, "No Conference name provided.")
            return
        if not self.pbx.conferences:
            self.error(message, "No active conferences.")
            return
        conference = self.pbx.conferences.get(name)
        if conference is None:
            self.error(message, "No Conference by that name found.")
            return
        items = self.pbx.confbridge_list_items(conference)
        self.send_list(message, "Confbridge user list will follow", items, "ConfbridgeListComplete")

    async def _confbridge_list_rooms(self, message: AmiMessage) -> None:
        if not self.pbx.conferences:
            self.error(message, "No active conferences.")
            return
        items = [
            AmiEvent(
                "ConfbridgeListRooms",
                None,
                (
                    ("Conference", c.name),
                    ("Parties", str(len(c.members))),
                    ("Marked", str(len(c.marked))),
                    ("Locked", "No"),
                    ("Muted", "No"),
                ),
            )
            for c in self.pbx.conferences.values()
        ]
        self.send_list(
            message, "Confbridge conferences will follow", items, "ConfbridgeListRoomsComplete"
        )

    async def _queue_status(self, message: AmiMessage) -> None:
        action_id = message.action_id
        head: Pairs = [("Response", "Success")]
        if action_id is not None:
            head.append(("ActionID", action_id))
        self.send([*head, ("EventList", "start"), ("Message", "Queue status will follow")])
        params: Pairs = [
            ("Event", "QueueParams"),
            ("Queue", "collections-agents"),
            ("Max", "0"),
            ("Strategy", "ringall"),
            ("Calls", "0"),
            ("Holdtime", "0"),
            ("TalkTime", "0"),
            ("Completed", "0"),
            ("Abandoned", "0"),
            ("ServiceLevel", "0"),
            ("ServicelevelPerf", "0.0"),
            ("ServicelevelPerf2", "0.0"),
            ("Weight", "0"),
        ]
        if action_id is not None:
            params.append(("ActionID", action_id))
        self.send(params)
        tail: Pairs = [("Event", "QueueStatusComplete")]
        if action_id is not None:
            tail.append(("ActionID", action_id))
        self.send([*tail, ("EventList", "Complete"), ("ListItems", "1")])

    # -- system ----------------------------------------------------------------------------

    async def _core_status(self, message: AmiMessage) -> None:
        started = self.pbx.started_at
        self.success(
            message,
            None,
            ("CoreStartupDate", started.strftime("%Y-%m-%d")),
            ("CoreStartupTime", started.strftime("%H:%M:%S")),
            ("CoreReloadDate", started.strftime("%Y-%m-%d")),
            ("CoreReloadTime", started.strftime("%H:%M:%S")),
            ("CoreCurrentCalls", str(self.pbx.current_calls())),
            ("CoreProcessedCalls", str(self.pbx.processed_calls)),
        )

    async def _core_settings(self, message: AmiMessage) -> None:
        self.success(
            message,
            None,
            ("AMIversion", "11.0.0"),
            ("AsteriskVersion", "22.10.1"),
            ("SystemName", ""),
            ("CoreMaxCalls", "0"),
            ("CoreMaxLoadAvg", "0.000000"),
            ("CoreRunUser", ""),
            ("CoreRunGroup", ""),
            ("CoreMaxFilehandles", "0"),
            ("CoreRealTimeEnabled", "No"),
            ("CoreCDRenabled", "Yes"),
            ("CoreHTTPenabled", "No"),
            ("SoundsSearchCustomDir", "No"),
        )

    async def _command(self, message: AmiMessage) -> None:
        command = " ".join((message.get("Command") or "").split())
        if not command:
            self.error(message, "No command provided")
            return
        lines = self.pbx.cli(command)
        self.success(message, "Command output follows", *(("Output", line) for line in lines))

    async def _list_commands(self, message: AmiMessage) -> None:
        self.success(message, None, *((name, f"{name}  (Priv: <none>)") for name in self._names))
