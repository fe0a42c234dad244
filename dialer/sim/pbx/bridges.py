"""ConfBridge conferences and basic bridges, sans-I/O: membership and the events of joining and
leaving, in the order `agent-bridge.txt` and `agent-bridge-action.txt` recorded them.

A conference has a hidden announcer channel (`CBAnn/<name>-<seq>;2`) that counts in
`BridgeNumChannels` and in `BRIDGEPEER` but is never listed, as with Asterisk's ConfBridge.
"""

from __future__ import annotations

from dialer.sim.pbx.model import AmiEvent, Bridge, BridgeKind, Channel, device_state

__all__ = [
    "basic_enter",
    "basic_leave",
    "conference_destroy",
    "conference_join",
    "conference_leave_finish",
    "conference_leave_start",
    "new_conference",
]


def new_conference(uniqueid: str, name: str, announcer: str) -> Bridge:
    return Bridge(uniqueid, BridgeKind.CONFERENCE, name=name, announcer=announcer)


def _peers(bridge: Bridge, channel: Channel) -> str:
    names = [bridge.announcer] if bridge.announcer else []
    names += [m.name for m in bridge.members if m is not channel]
    return ",".join(names)


def conference_join(
    bridge: Bridge, channel: Channel, *, marked: bool, now: float
) -> list[AmiEvent]:
    """A channel enters `ConfBridge()`; the first member also creates and starts the conference."""
    out: list[AmiEvent] = []
    if not bridge.members:
        out += [
            bridge.event("BridgeCreate", 0),
            bridge.event("ConfbridgeStart", 1),
            device_state(f"confbridge:{bridge.name}", "INUSE"),
        ]
    bridge.members.append(channel)
    bridge.joined_at[channel.name] = now
    if marked:
        bridge.marked.add(channel.name)
    channel.bridge_id = bridge.uniqueid
    out.append(
        bridge.member_event("ConfbridgeJoin", channel, extra=(("Admin", "No"), ("Muted", "No")))
    )
    out.append(bridge.member_event("BridgeEnter", channel))
    for other in bridge.members:
        if other is not channel:
            out.append(other.varset("BRIDGEPEER", _peers(bridge, other)))
    out.append(channel.varset("BRIDGEPEER", _peers(bridge, channel)))
    return out


def conference_leave_start(bridge: Bridge, channel: Channel) -> list[AmiEvent]:
    """ConfbridgeLeave (and ConfbridgeEnd when the last member goes), before the hangup events."""
    out = [bridge.member_event("ConfbridgeLeave", channel, extra=(("Admin", "No"),))]
    if [m for m in bridge.members if m is not channel] == []:
        out.append(bridge.event("ConfbridgeEnd", bridge.count - 1))
    return out


def conference_leave_finish(bridge: Bridge, channel: Channel, *, hangup: bool) -> list[AmiEvent]:
    """The channel is out of the bridge; the others' BRIDGEPEER changes."""
    out = [channel.varset("BRIDGEPEER", "")]
    bridge.members = [m for m in bridge.members if m is not channel]
    bridge.marked.discard(channel.name)
    channel.bridge_id = ""
    out.append(bridge.member_event("BridgeLeave", channel))
    out += [other.varset("BRIDGEPEER", _peers(bridge, other)) for other in bridge.members]
    if hangup:
        out.append(channel.varset("CONFBRIDGE_RESULT", "HANGUP"))
    if not bridge.members:
        out += [
            device_state(f"confbridge:{bridge.name}", "NOT_INUSE"),
            device_state(f"CBAnn/{bridge.name}", "INUSE"),
        ]
    return out


def conference_destroy(bridge: Bridge) -> list[AmiEvent]:
    """The last member is gone: the announcer leaves and the bridge is destroyed."""
    bridge.announcer = ""
    return [bridge.event("BridgeDestroy", 0)]


def basic_enter(bridge: Bridge, one: Channel, two: Channel) -> list[AmiEvent]:
    """AMI `Bridge`: both channels leave their application (next priority) for a basic bridge."""
    out = [bridge.event("BridgeCreate", 0)]
    for channel in (one, two):
        channel.priority += 1
        bridge.members.append(channel)
        channel.bridge_id = bridge.uniqueid
        out.append(bridge.member_event("BridgeEnter", channel))
    out.append(one.varset("BRIDGEPEER", two.name))
    out.append(two.varset("BRIDGEPEER", one.name))
    out += [two.newconnectedline(), one.newconnectedline()]
    return out


def basic_leave(bridge: Bridge, channel: Channel) -> list[AmiEvent]:
    bridge.members = [m for m in bridge.members if m is not channel]
    channel.bridge_id = ""
    return [bridge.member_event("BridgeLeave", channel)]
