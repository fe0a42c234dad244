"""The simulated PBX's nouns, sans-I/O: channels, ids, and every AMI event as Asterisk 22 words it.

Header names and their order are copied from the lab recordings of Asterisk 22.10.1
(`tests/dialer/transcripts`); a dialer parsing these events cannot tell them from the real ones.
Nothing here touches a socket or a clock: callers pass the instants in.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

__all__ = [
    "CAUSE_TEXT",
    "AmiEvent",
    "Bridge",
    "BridgeKind",
    "Channel",
    "ChannelState",
    "Ids",
    "cause_text",
]

Fields = tuple[tuple[str, str], ...]


class ChannelState(IntEnum):
    """`ChannelState` / `ChannelStateDesc` of channel snapshots (the states a call goes through)."""

    DOWN = 0
    RING = 4
    RINGING = 5
    UP = 6
    BUSY = 7

    @property
    def desc(self) -> str:
        return _STATE_DESC[self]


_STATE_DESC = {
    ChannelState.DOWN: "Down",
    ChannelState.RING: "Ring",
    ChannelState.RINGING: "Ringing",
    ChannelState.UP: "Up",
    ChannelState.BUSY: "Busy",
}

# `Cause-txt` of Asterisk's causes table (main/channel.c) for the causes a debtor call ends with.
CAUSE_TEXT: dict[int, str] = {
    0: "Unknown",
    1: "Unallocated (unassigned) number",
    3: "No route to destination",
    16: "Normal Clearing",
    17: "User busy",
    18: "No user responding",
    19: "User alerting, no answer",
    20: "Subscriber absent",
    21: "Call Rejected",
    22: "Number changed",
    27: "Destination out of order",
    28: "Invalid number format",
    31: "Normal, unspecified",
    34: "Circuit/channel congestion",
    38: "Network out of order",
    41: "Temporary failure",
    42: "Switching equipment congestion",
    127: "Interworking, unspecified",
}


def cause_text(cause: int) -> str:
    """The `Cause-txt` Asterisk prints for a Q.850 cause ("Unknown" for any it has no name for)."""
    return CAUSE_TEXT.get(cause, "Unknown")


@dataclass(frozen=True, slots=True)
class AmiEvent:
    """One event before encoding: name, privilege (`call,all` …) and the headers after them."""

    name: str
    privilege: str | None
    fields: Fields

    @property
    def category(self) -> str:
        """The class an `EventMask` filters on (`call`, `dialplan`, `agi`, `dtmf`, `security` …)."""
        return (self.privilege or "").split(",")[0]

    def pairs(self, action_id: str | None = None) -> list[tuple[str, str]]:
        """Wire headers; list items (no privilege) carry the request's ActionID after `Event`."""
        head = [("Event", self.name)]
        if self.privilege is not None:
            head.append(("Privilege", self.privilege))
        if action_id is not None:
            head.append(("ActionID", action_id))
        return head + list(self.fields)


@dataclass(slots=True, eq=False)
class Channel:
    """One live channel and what a snapshot of it shows; mutated as the call moves on."""

    name: str
    uniqueid: str
    linkedid: str
    tech: str  # Local | PJSIP
    device: str  # DeviceStateChange name: Local/5550001001@debtor-sim, PJSIP/trunk
    context: str
    exten: str
    priority: int = 1
    state: ChannelState = ChannelState.DOWN
    caller_num: str = "<unknown>"
    caller_name: str = "<unknown>"
    connected_num: str = "<unknown>"
    connected_name: str = "<unknown>"
    application: str = ""
    app_data: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    created_at: float = 0.0  # loop time, for Duration / Seconds
    answered_at: float | None = None
    bridge_id: str = ""
    hungup: bool = False

    def fields(self, prefix: str = "") -> Fields:
        """The snapshot block of every channel event, optionally prefixed (Dest, LocalOne …)."""
        return (
            (f"{prefix}Channel", self.name),
            (f"{prefix}ChannelState", str(int(self.state))),
            (f"{prefix}ChannelStateDesc", self.state.desc),
            (f"{prefix}CallerIDNum", self.caller_num),
            (f"{prefix}CallerIDName", self.caller_name),
            (f"{prefix}ConnectedLineNum", self.connected_num),
            (f"{prefix}ConnectedLineName", self.connected_name),
            (f"{prefix}Language", "en"),
            (f"{prefix}AccountCode", ""),
            (f"{prefix}Context", self.context),
            (f"{prefix}Exten", self.exten),
            (f"{prefix}Priority", str(self.priority)),
            (f"{prefix}Uniqueid", self.uniqueid),
            (f"{prefix}Linkedid", self.linkedid),
        )

    def at(self, context: str, exten: str, priority: int) -> None:
        """Move the channel's dialplan position (a goto, a redirect, the start of its PBX)."""
        self.context, self.exten, self.priority = context, exten, priority

    # -- events about this channel -------------------------------------------------------------

    def event(self, name: str, privilege: str, *extra: tuple[str, str]) -> AmiEvent:
        return AmiEvent(name, privilege, self.fields() + tuple(extra))

    def newchannel(self) -> AmiEvent:
        return self.event("Newchannel", "call,all")

    def newexten(self, priority: int, application: str, data: str = "") -> AmiEvent:
        """Run `application` at `priority` of the current context (Newexten shows it)."""
        self.priority, self.application, self.app_data = priority, application, data
        return self.event(
            "Newexten",
            "dialplan,all",
            ("Extension", self.exten),
            ("Application", application),
            ("AppData", data),
        )

    def varset(self, variable: str, value: str) -> AmiEvent:
        self.variables[variable] = value
        return self.event("VarSet", "dialplan,all", ("Variable", variable), ("Value", value))

    def newcallerid(self) -> AmiEvent:
        return self.event(
            "NewCallerid", "call,all", ("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")
        )

    def newconnectedline(self) -> AmiEvent:
        return self.event("NewConnectedLine", "call,all")

    def newstate(self, state: ChannelState) -> AmiEvent:
        self.state = state
        return self.event("Newstate", "call,all")

    def hangup_request(self, cause: int) -> AmiEvent:
        return self.event("HangupRequest", "call,all", ("Cause", str(cause)))

    def soft_hangup_request(self, cause: int) -> AmiEvent:
        return self.event("SoftHangupRequest", "call,all", ("Cause", str(cause)))

    def hangup(self, cause: int) -> AmiEvent:
        self.hungup = True
        return self.event(
            "Hangup", "call,all", ("Cause", str(cause)), ("Cause-txt", cause_text(cause))
        )

    def dtmf_begin(self, digit: str) -> AmiEvent:
        return self.event("DTMFBegin", "dtmf,all", ("Digit", digit), ("Direction", "Received"))

    def dtmf_end(self, digit: str) -> AmiEvent:
        return self.event(
            "DTMFEnd",
            "dtmf,all",
            ("Digit", digit),
            ("DurationMs", "100"),
            ("Direction", "Received"),
        )

    def agi_exec_start(self, command_id: int, command: str) -> AmiEvent:
        return self.event(
            "AGIExecStart", "agi,all", ("CommandId", str(command_id)), ("Command", command)
        )

    def agi_exec_end(self, command_id: int, command: str, code: int, result: str) -> AmiEvent:
        return self.event(
            "AGIExecEnd",
            "agi,all",
            ("CommandId", str(command_id)),
            ("Command", command),
            ("ResultCode", str(code)),
            ("Result", result),
        )

    def device_state(self, state: str) -> AmiEvent:
        return device_state(self.device, state)

    # -- dial events (the originated channel is the Dest of a dial without a caller) ------------

    def dial_event(self, name: str, *extra: tuple[str, str]) -> AmiEvent:
        return AmiEvent(name, "call,all", self.fields("Dest") + tuple(extra))


def device_state(device: str, state: str) -> AmiEvent:
    return AmiEvent("DeviceStateChange", "call,all", (("Device", device), ("State", state)))


def global_varset(variable: str, value: str) -> AmiEvent:
    """`Setvar` without a channel: a global, reported on `Channel: none`."""
    return AmiEvent(
        "VarSet",
        "dialplan,all",
        (("Channel", "none"), ("Uniqueid", "none"), ("Variable", variable), ("Value", value)),
    )


def local_bridge(one: Channel, two: Channel, context: str, exten: str) -> AmiEvent:
    """The two halves of a Local channel are joined (LocalOptimization as the lab had it)."""
    return AmiEvent(
        "LocalBridge",
        "call,all",
        one.fields("LocalOne")
        + two.fields("LocalTwo")
        + (("Context", context), ("Exten", exten), ("LocalOptimization", "Yes")),
    )


class BridgeKind(StrEnum):
    """ConfBridge conferences (softmix) or the basic bridge the AMI `Bridge` action makes."""

    CONFERENCE = "conference"
    BASIC = "basic"


@dataclass(slots=True, eq=False)
class Bridge:
    """A bridge and who is in it; `announcer` is ConfBridge's hidden CBAnn channel name."""

    uniqueid: str
    kind: BridgeKind
    name: str = "<unknown>"
    members: list[Channel] = field(default_factory=list)
    marked: set[str] = field(default_factory=set)  # channel names that joined as marked users
    joined_at: dict[str, float] = field(default_factory=dict)
    announcer: str = ""

    @property
    def count(self) -> int:
        """`BridgeNumChannels`: the members, plus the conference announcer while it exists."""
        return len(self.members) + (1 if self.announcer else 0)

    def fields(self, count: int | None = None) -> Fields:
        conference = self.kind is BridgeKind.CONFERENCE
        return (
            ("BridgeUniqueid", self.uniqueid),
            ("BridgeType", "base" if conference else "basic"),
            ("BridgeTechnology", "softmix" if conference else "simple_bridge"),
            ("BridgeCreator", "ConfBridge" if conference else "<unknown>"),
            ("BridgeName", self.name if conference else "<unknown>"),
            ("BridgeNumChannels", str(self.count if count is None else count)),
            ("BridgeVideoSourceMode", "none"),
        )

    def event(self, name: str, count: int | None = None) -> AmiEvent:
        head: Fields = (("Conference", self.name),) if name.startswith("Confbridge") else ()
        return AmiEvent(name, "call,all", head + self.fields(count))

    def member_event(
        self, name: str, channel: Channel, count: int | None = None, extra: Fields = ()
    ) -> AmiEvent:
        head: Fields = (("Conference", self.name),) if name.startswith("Confbridge") else ()
        return AmiEvent(name, "call,all", head + self.fields(count) + channel.fields() + extra)


class Ids:
    """Uniqueids (`<epoch>.<n>`), channel sequence numbers (8 hex digits) and cosmetic ids.

    Cosmetic ids (bridge uuids, AGI CommandIds, thread ids) draw from their own seeded stream so
    they never shift which debtor does what in the population draws.
    """

    def __init__(self, seed: int) -> None:
        self._unique = 0
        self._sequence = 0
        self._rng = random.Random(f"pbx-ids-{seed}")

    def uniqueid(self, epoch: float) -> str:
        value = f"{int(epoch)}.{self._unique}"
        self._unique += 1
        return value

    def sequence(self) -> str:
        value = f"{self._sequence:08x}"
        self._sequence += 1
        return value

    def bridge_uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def command_id(self) -> int:
        return self._rng.randrange(1, 2**31)

    def thread_id(self) -> int:
        return self._rng.randrange(139_600_000_000_000, 139_700_000_000_000)

    def session_id(self) -> str:
        return f"0x{self._rng.randrange(0x7F0000000000, 0x7FFFFFFFFFFF):x}"
