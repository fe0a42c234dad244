"""The `asterisk` backend: AMI through panoramisk, hardened where panoramisk 1.4 is not.

panoramisk keeps the login, the action futures and the ping; we replace its wire layer with our
codec (`dialer.ami.codec`): frames are cut on bytes before decoding (a "ñ" split across two TCP
reads survives), actions are written as UTF-8 (a "Peña" is not silently dropped) and a header
value with a line break is refused instead of injecting headers. Every message also goes to our
tracker, including the `OriginateResponse` panoramisk would keep to itself.

Originate is asynchronous with `ChannelId` = our call id: the call is known before Asterisk
answers and `originate()` never waits for the call's result. Originate is never re-sent after a
reconnect: a call whose fate is unknown is reconciled with `CoreShowChannels` and closed, not
dialled again.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import structlog
from panoramisk import Manager
from panoramisk.actions import Action
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from dialer.ami.codec import AmiMessage, AmiParser, encode_message
from dialer.ami.tracker import AmiCallTracker
from dialer.backends.base import EventSink, OriginateRequest
from dialer.calls import CallEvent, Signal
from dialer.clock import Clock, SystemClock
from dialer.errors import AmiProtocolError, BackendError, BackendUnavailable

__all__ = ["AsteriskBackend", "AsteriskConfig"]

log = structlog.get_logger(__name__)

# Actions that must never be replayed by panoramisk after a reconnect.
_NEVER_RESEND = ("ping", "login", "originate", "hangup", "redirect", "bridge", "logoff")


@dataclass(frozen=True, slots=True)
class AsteriskConfig:
    """Where the AMI is and how our calls enter the dialplan (see config/asterisk/)."""

    username: str
    secret: str
    host: str = "127.0.0.1"
    port: int = 5038
    dial_template: str = "PJSIP/{number}@trunk"  # {number}: as given, {digits}: digits only
    context: str = "ivr"
    amd_context: str = "ivr-amd"
    bridge_context: str = "agent-bridge"
    abandon_context: str = "recaudo-abandon"
    connect_timeout: float = 5.0
    reconnect_max_seconds: float = 30.0
    action_timeout: float = 10.0


class _Protocol(AMIProtocol):  # type: ignore[misc]
    """panoramisk's protocol with our framing and encoding underneath."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._parser = AmiParser(expect_banner=True)
        self.received = 0  # messages parsed on this connection (the latency probe's index)

    def send(self, data: Any, as_list: bool = False) -> asyncio.Future[Any]:
        if not isinstance(data, Action):
            data = Action(data, as_list=as_list)
        data.as_list = as_list
        payload = encode_message(_ordered(data))  # raises on header injection, before registering
        self.responses[data.id] = data
        if data.action_id:
            self.responses[data.action_id] = data
        self.transport.write(payload)
        future: asyncio.Future[Any] = data.future
        return future

    def data_received(self, data: bytes) -> None:
        try:
            messages = self._parser.feed(data)
        except AmiProtocolError as exc:
            log.error("ami.not_asterisk", error=str(exc))
            self.transport.close()
            return
        if self._parser.banner:
            self.version: str | None = self._parser.banner.partition("/")[2]
        factory = self.factory
        responses = self.responses
        for message in messages:
            self.received += 1
            if message.malformed:
                log.warning("ami.malformed_lines", count=len(message.malformed))
            if not message.headers:
                continue
            factory.raw_message(message)
            # panoramisk needs replies to its own actions and their list items, Shutdown, and
            # events someone registered for; everything else (most of the stream: call events,
            # our Originates' replies) is ours alone and panoramisk would drop it.
            event = message.event
            if (
                responses
                and (message.action_id in responses or message.get("CommandID") in responses)
            ) or (event is not None and factory.wants(event)):
                self.handle_message(_to_panoramisk(message))


def _ordered(action: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Action first, ActionID second, the rest as given (lists repeat the header)."""
    items = list(action.items())
    head = [kv for kv in items if kv[0].lower() == "action"]
    head += [kv for kv in items if kv[0].lower() == "actionid"]
    rest = [kv for kv in items if kv[0].lower() not in ("action", "actionid")]
    pairs: list[tuple[str, str]] = []
    for key, value in head + rest:
        if isinstance(value, (list, tuple)):
            pairs.extend((key, str(v)) for v in value)
        else:
            pairs.append((key, str(value)))
    return pairs


def _to_panoramisk(message: AmiMessage) -> Message:
    headers: dict[str, Any] = {}
    for key, value in message.headers:
        if key in headers:
            previous = headers[key]
            headers[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            headers[key] = value
    return Message(headers)


class _Manager(Manager):  # type: ignore[misc]
    """panoramisk's Manager with exponential reconnect back-off and a raw-message hook."""

    def __init__(self, backend: AsteriskBackend, **config: Any) -> None:
        super().__init__(**config)
        self._backend = backend
        self._delay = 1.0
        self._wanted: dict[str, bool] = {}  # event name → panoramisk has a use for it
        self._pattern_count = -1

    def raw_message(self, message: AmiMessage) -> None:
        self._backend._on_message(message)

    def wants(self, event: str) -> bool:
        """Whether panoramisk has a use for this event: Shutdown, or a registered pattern."""
        if len(self.patterns) != self._pattern_count:
            self._wanted.clear()
            self._pattern_count = len(self.patterns)
        wanted = self._wanted.get(event)
        if wanted is None:
            wanted = event.lower() == "shutdown" or any(
                regexp.match(event) for _, regexp in self.patterns
            )
            self._wanted[event] = wanted
        return wanted

    def connection_lost(self, exc: Exception | None) -> None:
        self._connected = False
        self.authenticated = False
        pinger: asyncio.TimerHandle | None = getattr(self, "pinger", None)
        if pinger is not None:
            pinger.cancel()
            self.pinger = None
        self._backend._on_disconnect()
        if self._backend._closing:
            return
        delay, self._delay = (
            self._delay,
            min(self._delay * 2, self._backend.config.reconnect_max_seconds),
        )
        log.warning("ami.reconnecting", in_seconds=delay)
        self.loop.call_later(delay, self.connect)

    def reset_backoff(self) -> None:
        self._delay = 1.0


class AsteriskBackend:
    """Calls through a real Asterisk (or the simulator's AMI face)."""

    name = "asterisk"

    def __init__(self, config: AsteriskConfig, *, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.tracker = AmiCallTracker()
        self._sink: EventSink | None = None
        self._manager: _Manager | None = None
        self._closing = False
        self._live: set[str] = set()
        self._ids = itertools.count(1)
        self._prefix = uuid.uuid4().hex[:8]
        self._ready = asyncio.Event()
        self._logged_in_once = False
        self._tasks: set[asyncio.Future[None]] = set()
        self.reconnects = 0
        self.reconciled: list[str] = []
        # Benchmarks: (message index on the connection, perf_counter() once the events it meant
        # were applied by the sink, first header value) for every message that meant events.
        self.latency_probe: list[tuple[int, float, str]] | None = None

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self, sink: EventSink) -> None:
        self._sink = sink
        loop = asyncio.get_running_loop()
        manager = _Manager(
            self,
            host=self.config.host,
            port=self.config.port,
            username=self.config.username,
            secret=self.config.secret,
            encoding="utf8",
            protocol_factory=_Protocol,
            forgetable_actions=_NEVER_RESEND,
            loop=loop,
            on_login=self._on_login,
        )
        self._manager = manager
        where = f"{self.config.host}:{self.config.port}"
        try:
            await asyncio.wait_for(manager.connect(), self.config.connect_timeout)
        except (OSError, TimeoutError) as exc:
            await self.close()
            raise BackendUnavailable(
                f"cannot reach the Asterisk Manager Interface at {where} ({exc}); "
                "is Asterisk (or `python main.py simulate pbx`) running and manager.conf enabled?"
            ) from exc
        login = manager.authenticated_future
        try:
            if login is not None:
                reply = await asyncio.wait_for(asyncio.shield(login), self.config.connect_timeout)
                if not reply.success:
                    raise BackendUnavailable(
                        f"the Asterisk Manager at {where} refused user "
                        f"{self.config.username!r}: {reply.get('Message')}; check the AMI "
                        "username and RECAUDO_AMI_PASSWORD against manager.conf"
                    )
            await asyncio.wait_for(self._ready.wait(), self.config.connect_timeout)
        except (TimeoutError, BackendUnavailable, ConnectionError) as exc:
            await self.close()
            if isinstance(exc, BackendUnavailable):
                raise
            raise BackendUnavailable(
                f"the Asterisk Manager at {where} did not complete the login ({exc!r})"
            ) from exc

    async def close(self) -> None:
        self._closing = True
        if self._manager is not None:
            self._manager.close()
            self._manager = None

    def _on_login(self, manager: _Manager) -> None:
        manager.reset_backoff()
        self._ready.set()
        if self._logged_in_once:
            self.reconnects += 1
            task = asyncio.ensure_future(self._reconcile())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._logged_in_once = True

    def _on_disconnect(self) -> None:
        self._ready.clear()
        log.warning("ami.disconnected", calls_in_flight=len(self._live))

    # --- actions ------------------------------------------------------------------------

    def _send(self, action: dict[str, Any]) -> asyncio.Future[Any]:
        manager = self._manager
        if manager is None or manager.protocol is None or not manager.authenticated:
            raise BackendUnavailable(
                "the Asterisk Manager connection is down; the action was not sent "
                "(the dialer waits for the reconnect)"
            )
        future: asyncio.Future[Any] = manager.send_action(action)
        future.add_done_callback(_swallow)
        return future

    async def originate(self, request: OriginateRequest) -> None:
        """Write the Originate straight to the socket: its replies go to the tracker only
        (panoramisk would only hold a future nobody awaits)."""
        number = request.to
        digits = "".join(ch for ch in number if ch.isdigit())
        dial = self.config.dial_template.format(number=number, digits=digits)
        action_id = f"recaudo-{self._prefix}-{next(self._ids)}"
        variables = {
            "RECAUDO_CALL_ID": request.call_id,
            "RECAUDO_ROUTE": request.route.value,
            **request.variables,
        }
        name = request.caller_name.replace('"', "")
        pairs = [
            ("Action", "Originate"),
            ("ActionID", action_id),
            ("Channel", dial),
            ("Context", self.config.amd_context if request.detect_machine else self.config.context),
            ("Exten", "s"),
            ("Priority", "1"),
            ("Timeout", str(int(request.timeout_seconds * 1000))),
            ("CallerID", f'"{name}" <{request.caller_id}>' if name else request.caller_id),
            ("Async", "true"),
            ("ChannelId", request.call_id),
            ("OtherChannelId", f"{request.call_id}-2"),
            *(("Variable", f"{key}={value}") for key, value in variables.items()),
        ]
        payload = encode_message(pairs)  # refuses a bad header before the call is tracked
        transport = self._transport()
        self.tracker.originate(request.call_id, action_id, dial)
        self._live.add(request.call_id)
        transport.write(payload)

    def _transport(self) -> asyncio.WriteTransport:
        manager = self._manager
        protocol = None if manager is None else manager.protocol
        if protocol is None or manager is None or not manager.authenticated:
            raise BackendUnavailable(
                "the Asterisk Manager connection is down; the action was not sent "
                "(the dialer waits for the reconnect)"
            )
        transport: asyncio.WriteTransport = protocol.transport
        if transport.is_closing():
            raise BackendUnavailable("the Asterisk Manager connection is closing; not sent")
        return transport

    async def hangup(self, call_id: str) -> None:
        self._emit(CallEvent(call_id, Signal.CANCEL_REQUESTED, self.clock.now(), source="dialer"))
        reply = await self._await(
            self._send({"Action": "Hangup", "Channel": self.tracker.channel_of(call_id)})
        )
        if not reply.success and "no such channel" not in str(reply.get("Message", "")).lower():
            raise BackendError(
                f"Asterisk refused to hang up call {call_id}: {reply.get('Message')}"
            )

    async def _redirect(self, call_id: str, context: str, exten: str, what: str) -> None:
        reply = await self._await(
            self._send(
                {
                    "Action": "Redirect",
                    "Channel": self.tracker.channel_of(call_id),
                    "Context": context,
                    "Exten": exten,
                    "Priority": "1",
                }
            )
        )
        if not reply.success:
            raise BackendError(f"Asterisk could not {what} call {call_id}: {reply.get('Message')}")

    async def bridge(self, call_id: str, target: str) -> None:
        await self._redirect(call_id, self.config.bridge_context, target, f"move to {target}")

    async def apologise(self, call_id: str, message: str) -> None:
        """Redirect the call to the abandon context, which plays the recorded apology and
        hangs up (`config/asterisk/extensions.conf`, `[recaudo-abandon]`)."""
        await self._redirect(call_id, self.config.abandon_context, "s", "play the apology on")

    async def live_calls(self) -> set[str]:
        replies = await self._await(self._send({"Action": "CoreShowChannels"}), as_list=True)
        live: set[str] = set()
        for reply in replies if isinstance(replies, list) else [replies]:
            call = self.tracker.call_of(str(reply.get("Uniqueid", "")))
            if call is not None:
                live.add(call)
            elif str(reply.get("Uniqueid", "")) in self._live:
                live.add(str(reply.get("Uniqueid")))
        return live

    async def _await(self, future: asyncio.Future[Any], *, as_list: bool = False) -> Any:
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.config.action_timeout)
        except TimeoutError as exc:
            raise BackendError(
                f"Asterisk did not answer within {self.config.action_timeout:g} s"
            ) from exc

    # --- events -------------------------------------------------------------------------

    def _emit(self, event: CallEvent) -> None:
        if event.signal in (Signal.HANGUP, Signal.FINAL, Signal.REJECTED):
            self._live.discard(event.call_id)
        if self._sink is not None:
            self._sink(event)

    def _on_message(self, message: AmiMessage) -> None:
        events = self.tracker.feed(message, self.clock.now())
        for event in events:
            if event.signal is Signal.REJECTED:
                log.warning("ami.originate_refused", call_id=event.call_id, message=event.detail)
            self._emit(event)
        if self.latency_probe is not None and events:
            protocol = self._manager.protocol if self._manager is not None else None
            index = getattr(protocol, "received", 0)
            first = message.headers[0][1] if message.headers else ""
            self.latency_probe.append((index, perf_counter(), first))

    def forget(self, call_id: str) -> None:
        """The lifecycle settled this call: drop its correlation state."""
        self._live.discard(call_id)
        self.tracker.forget(call_id)

    async def _reconcile(self) -> None:
        """After a reconnect: calls Asterisk no longer has ended while we were away."""
        try:
            live = await self.live_calls()
        except BackendError as exc:
            log.error("ami.reconcile_failed", error=str(exc))
            return
        now = self.clock.now()
        for call_id in sorted(self._live - live):
            self.reconciled.append(call_id)
            self._emit(CallEvent(call_id, Signal.FINAL, now, source="reconcile"))
        log.info("ami.reconciled", live=len(live), closed=len(self.reconciled))


def _swallow(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
