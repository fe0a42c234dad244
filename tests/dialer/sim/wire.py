"""Raw-socket peers of the PBX simulator: an AMI client and a FastAGI server, as small as they can be.

They speak the bytes (banner, CRLF frames, LF AGI lines) so the tests see exactly what a dialer
would; the AMI frames are cut with the project's codec. The transcript helpers turn recorded and
simulated traffic into comparable per-channel signatures.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from dialer.ami.codec import AmiMessage, AmiParser, encode_message
from dialer.sim.pbx import PbxSimulator
from dialer.sim.population import CallScript, PopulationModel
from tests.dialer.transcripts import Record, records

TIMEOUT = 5.0
SCALE = 50.0  # every simulated wait runs 50× faster
USERS = {"dialer": "s3cret", "ops": "other"}
_CHANNEL_NAME = re.compile(r"Local/[^ ;,]+-[0-9a-f]{8};([12])")
_AGI_URL = re.compile(r"agi://127\.0\.0\.1:\d+/")
_ANNOUNCER = re.compile(r"CBAnn/(\S+?)-[0-9a-f]{8};2")


@dataclass(frozen=True, slots=True)
class ScriptedModel(PopulationModel):
    """The population model, except for numbers a test scripts itself (by prefix of the digits)."""

    scripted: Mapping[str, CallScript] = field(default_factory=dict)

    def script(self, number: str, at: datetime, rng: random.Random) -> CallScript:
        digits = number.lstrip("+")
        for prefix, script in self.scripted.items():
            if digits.startswith(prefix):
                return script
        return PopulationModel.script(self, number, at, rng)


async def make_pbx(
    agi: AgiServer | None = None,
    *,
    time_scale: float = SCALE,
    model: PopulationModel | None = None,
) -> PbxSimulator:
    sim = PbxSimulator(
        users=USERS,
        ami_port=0,
        agi_url=agi.url if agi is not None else None,
        time_scale=time_scale,
        seed=7,
        model=model,
    )
    await sim.start()
    return sim


class AmiClient:
    """A manager client that keeps every message it receives, in order."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.parser = AmiParser(expect_banner=True)
        self.messages: list[AmiMessage] = []
        self.raw = bytearray()
        self.eof = asyncio.Event()
        self._changed = asyncio.Event()
        self._pump = asyncio.ensure_future(self._read())

    @classmethod
    async def connect(cls, port: int) -> AmiClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def _read(self) -> None:
        try:
            while data := await self.reader.read(65536):
                self.raw += data
                self.messages += self.parser.feed(data)
                self._changed.set()
        except ConnectionError:
            pass
        finally:
            self.eof.set()
            self._changed.set()

    def send(self, *pairs: tuple[str, str]) -> None:
        self.writer.write(encode_message(pairs))

    def action(self, action: str, action_id: str | None = None, **headers: str) -> None:
        pairs = [("Action", action)]
        if action_id is not None:
            pairs.append(("ActionID", action_id))
        self.send(*pairs, *headers.items())

    async def wait_for(
        self, predicate: Callable[[AmiMessage], bool], *, start: int = 0, wait: float = TIMEOUT
    ) -> AmiMessage:
        """The first message from index `start` on that matches, waiting for it to arrive."""

        async def scan() -> AmiMessage:
            while True:
                for message in self.messages[start:]:
                    if predicate(message):
                        return message
                if self.eof.is_set():
                    raise AssertionError("the simulator closed the connection first")
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(scan(), wait)

    async def reply(self, action_id: str, wait: float = TIMEOUT) -> AmiMessage:
        return await self.wait_for(
            lambda m: m.response is not None and m.action_id == action_id, wait=wait
        )

    async def event(self, name: str, *, start: int = 0, **fields: str) -> AmiMessage:
        return await self.wait_for(
            lambda m: m.event == name and all(m.get(k) == v for k, v in fields.items()),
            start=start,
        )

    async def login(self, user: str = "dialer", secret: str = "s3cret", events: str = "on") -> None:
        self.action("Login", "login", Username=user, Secret=secret, Events=events)
        reply = await self.reply("login")
        assert reply.get("Message") == "Authentication accepted", reply

    def events(self, start: int = 0) -> list[AmiMessage]:
        return [m for m in self.messages[start:] if m.event is not None]

    async def close(self) -> None:
        self.writer.close()
        self._pump.cancel()


def originate(client: AmiClient, action_id: str, number: str, **extra: str) -> None:
    """An async Originate of a lab number through the `[debtor-sim]` dialplan."""
    client.action(
        "Originate",
        action_id,
        Channel=f"Local/{number}@debtor-sim",
        Context=extra.pop("Context", "ivr"),
        Exten="s",
        Priority="1",
        Async="true",
        CallerID='"Collections Dept" <8005550100>',
        **extra,
    )


@dataclass(eq=False)
class AgiConnection:
    """One FastAGI session as the server sees it: the header, then command / reply lines."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    header: bytes = b""
    env: dict[str, str] = field(default_factory=dict)

    async def read_header(self) -> None:
        data = bytearray()
        while True:
            line = await asyncio.wait_for(self.reader.readline(), TIMEOUT)
            data += line
            if line in (b"\n", b""):
                break
            key, _, value = line.decode("utf-8").rstrip("\n").partition(": ")
            self.env[key] = value
        self.header = bytes(data)

    async def line(self, wait: float = TIMEOUT) -> str:
        raw = await asyncio.wait_for(self.reader.readline(), wait)
        assert raw.endswith(b"\n"), f"AGI line without LF (or EOF): {raw!r}"
        return raw.decode("utf-8").rstrip("\n")

    async def command(self, text: str, wait: float = TIMEOUT) -> str:
        self.writer.write(text.encode("utf-8") + b"\n")
        return await self.line(wait)

    async def close(self) -> None:
        self.writer.close()


class AgiServer:
    """A FastAGI server the test drives: each connection is handed over through `accept()`."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[AgiConnection] = asyncio.Queue()
        self._server: asyncio.Server | None = None

    async def start(self) -> AgiServer:
        self._server = await asyncio.start_server(self._on_connect, "127.0.0.1", 0)
        return self

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"agi://127.0.0.1:{self.port}/collections"

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = AgiConnection(reader, writer)
        await connection.read_header()
        await self._queue.put(connection)

    async def accept(self, wait: float = TIMEOUT) -> AgiConnection:
        return await asyncio.wait_for(self._queue.get(), wait)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()


# -- transcripts -----------------------------------------------------------------------------

_KEY_FIELDS = (
    "ChannelStateDesc",
    "DestChannelStateDesc",
    "Context",
    "Exten",
    "Priority",
    "Application",
    "AppData",
    "Variable",
    "Value",
    "DialStatus",
    "DialString",
    "Cause",
    "Cause-txt",
    "Digit",
    "Command",
    "ResultCode",
    "Result",
    "Response",
    "Reason",
    "State",
)


def channel_of(message: AmiMessage) -> str | None:
    """The channel an event is about (`Channel`, a dial's `DestChannel`, a LocalBridge's `;1`)."""
    return message.get("Channel") or message.get("DestChannel") or message.get("LocalOneChannel")


def role(name: str | None) -> str:
    """`;1`, `;2` or the technology of a channel name; "" when there is none."""
    if not name:
        return ""
    if name.endswith((";1", ";2")):
        return name[-2:]
    return name.split("/", 1)[0]


def normalise(value: str) -> str:
    value = _ANNOUNCER.sub(r"CBAnn/\1-<seq>;2", _CHANNEL_NAME.sub(r"<chan;\1>", value))
    return _AGI_URL.sub("agi://127.0.0.1:PORT/", value)


def signature(message: AmiMessage) -> tuple[str, ...]:
    """What must match between Asterisk and the simulator: the event and its telling fields."""
    name = message.event or f"Response:{message.response}"
    who = role(channel_of(message))
    fields = [f"{k}={normalise(message[k])}" for k in _KEY_FIELDS if k in message]
    return (name, who, *fields)


def by_role(
    messages: Iterable[AmiMessage], skip: Callable[[AmiMessage], bool] = lambda m: False
) -> dict[str, list[tuple[str, ...]]]:
    """Signatures grouped per channel: Asterisk orders events per channel, not across them."""
    out: dict[str, list[tuple[str, ...]]] = {}
    for message in messages:
        if message.event is None or skip(message):
            continue
        sig = signature(message)
        out.setdefault(sig[1], []).append(sig)
    return out


def recorded_ami(name: str) -> list[AmiMessage]:
    """Every AMI message Asterisk sent in a transcript (banner excluded), parsed."""
    out: list[AmiMessage] = []
    for record in records(name):
        if record.channel == "AMI" and record.from_asterisk and "<-- banner" not in record.text:
            out += AmiParser(expect_banner=False).feed(record.text.encode("utf-8") + b"\n\n")
    return out


def recorded_actions(name: str, action: str) -> list[AmiMessage]:
    """The dialer's actions of one kind in a transcript, parsed (ready to send again)."""
    out: list[AmiMessage] = []
    for record in records(name):
        if record.channel == "AMI" and not record.from_asterisk:
            message = AmiParser(expect_banner=False).feed(record.text.encode("utf-8") + b"\n\n")[0]
            if (message.get("Action") or "").lower() == action.lower():
                out.append(message)
    return out


def agi_records(name: str) -> list[Record]:
    """The FastAGI lines of a transcript (its one AGI session), header first."""
    return [r for r in records(name) if r.channel == "AGI"]


def run_of(
    messages: list[AmiMessage],
    start: Callable[[AmiMessage], bool],
    count: int,
    skip: tuple[str, ...] = (),
) -> list[tuple[str, ...]]:
    """Signatures of `count` events from the first that matches `start` (device states left out)."""
    out: list[tuple[str, ...]] = []
    for message in messages:
        if message.event is None or message.event in ("DeviceStateChange", *skip):
            continue
        if out or start(message):
            out.append(signature(message))
        if len(out) == count:
            break
    return out


def after(messages: list[AmiMessage], predicate: Callable[[AmiMessage], bool]) -> list[AmiMessage]:
    """The messages from the first match on (used to start at the Originate's reply)."""
    for index, message in enumerate(messages):
        if predicate(message):
            return messages[index:]
    raise AssertionError("no message matches")
