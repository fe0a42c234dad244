"""AMI events → `CallEvent`s, sans-I/O.

Which call does a message belong to? Our Originate always carries `ChannelId` = our call id, so
the originated channel's `Uniqueid` and every related channel's `Linkedid` are known before the
first event. Two fallbacks cover originates without it (the lab transcripts): the
`OriginateResponse` `Uniqueid`, and a Local channel named after the dial string
(`Local/5550001001@debtor-sim-00000025;1`). Events of a linked id not yet known are held briefly
and replayed once it is. The originated channel (its `Uniqueid` equals the `Linkedid`) is the
call; other channels are legs, whose hang-up causes still count as evidence.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from dialer.ami.codec import AmiMessage
from dialer.calls import CallEvent, Signal

__all__ = ["AmiCallTracker"]

_RINGING_STATE = "5"
_UP_STATE = "6"
_INTERESTING = frozenset(
    {
        "newchannel",
        "newstate",
        "dialstate",
        "dialend",
        "hangup",
        "varset",
        "agiexecstart",
        "dtmfend",
        "confbridgejoin",
        "bridgeenter",
    }
)


@dataclass(slots=True)
class _Originate:
    call_id: str
    action_id: str
    dial_string: str
    linked: bool = False


class AmiCallTracker:
    """Attributes AMI messages to our calls and normalises them.

    `originate()` before sending the action; `feed()` every message from the socket; `forget()`
    once a call is settled so memory stays flat over a campaign.
    """

    def __init__(self, *, hold_limit: int = 2_000) -> None:
        self._by_action: dict[str, _Originate] = {}
        self._by_call: dict[str, _Originate] = {}
        self._linked: dict[str, str] = {}  # Linkedid → call id
        # Uniqueid → (call id, is the originated channel). A channel keeps its call even when
        # bridging later gives it another Linkedid.
        self._channels: dict[str, tuple[str, bool]] = {}
        # The keys each call owns in the two maps above, so forgetting a call is O(its keys).
        self._linked_of: dict[str, set[str]] = {}
        self._channels_of: dict[str, set[str]] = {}
        self._names: dict[str, str] = {}  # call id → originated channel's name
        self._held: OrderedDict[str, list[AmiMessage]] = OrderedDict()
        self._hold_limit = hold_limit
        self.unattributed = 0  # call-related messages that never matched a call (dropped)

    def originate(self, call_id: str, action_id: str, dial_string: str) -> None:
        """Register a call about to be originated with `ChannelId: call_id`."""
        entry = _Originate(call_id, action_id, dial_string)
        self._by_action[action_id] = entry
        self._by_call[call_id] = entry
        self._link(call_id, call_id)  # ChannelId: the originated channel's Uniqueid
        entry.linked = False  # only a Local-channel name match or an event proves the link

    def knows(self, call_id: str) -> bool:
        return call_id in self._by_call

    def channel_of(self, call_id: str) -> str:
        """The originated channel's name once seen (Asterisk also accepts the Uniqueid)."""
        return self._names.get(call_id, call_id)

    def call_of(self, uniqueid: str) -> str | None:
        """Our call id for a channel's Uniqueid, if the channel is one of ours."""
        known = self._channels.get(uniqueid)
        return known[0] if known is not None else None

    def forget(self, call_id: str) -> None:
        entry = self._by_call.pop(call_id, None)
        if entry is not None:
            self._by_action.pop(entry.action_id, None)
        self._names.pop(call_id, None)
        for linked in self._linked_of.pop(call_id, ()):
            self._linked.pop(linked, None)
        for uniqueid in self._channels_of.pop(call_id, ()):
            self._channels.pop(uniqueid, None)

    def feed(self, message: AmiMessage, at: datetime) -> list[CallEvent]:
        """Normalise one message; returns the events it (and any held messages it unlocked) mean."""
        if message.event is None:
            return self._response(message, at) if message.response is not None else []
        name = message.event.lower()
        if name == "originateresponse":
            return self._originate_response(message, at)
        if name not in _INTERESTING:
            return []
        uniqueid = message.get("Uniqueid") or message.get("DestUniqueid") or ""
        known = self._channels.get(uniqueid)
        if known is not None:
            return self._events(known[0], known[1], message, at)
        linkedid = message.get("Linkedid") or message.get("DestLinkedid")
        if not linkedid:
            return []
        call_id = self._linked.get(linkedid)
        if call_id is None and name == "newchannel":
            call_id = self._match_local_channel(message.get("Channel") or "", linkedid)
            if call_id is not None:
                return self._release(linkedid, message, at)
        if call_id is None:
            self._hold(linkedid, message)
            return []
        return self._attach(call_id, linkedid, message, at)

    def _attach(
        self, call_id: str, linkedid: str, message: AmiMessage, at: datetime
    ) -> list[CallEvent]:
        """First sight of a channel of a known call: remember it by its Uniqueid."""
        entry = self._by_call.get(call_id)
        if entry is not None:
            entry.linked = True
        uniqueid = message.get("Uniqueid") or message.get("DestUniqueid") or ""
        primary = uniqueid == linkedid
        if uniqueid:
            self._channels[uniqueid] = (call_id, primary)
            self._channels_of.setdefault(call_id, set()).add(uniqueid)
        channel = message.get("Channel")
        if primary and channel and call_id not in self._names:
            self._names[call_id] = channel
        return self._events(call_id, primary, message, at)

    # --- correlation ---------------------------------------------------------------------

    def _link(self, linkedid: str, call_id: str) -> None:
        self._linked[linkedid] = call_id
        self._linked_of.setdefault(call_id, set()).add(linkedid)
        entry = self._by_call.get(call_id)
        if entry is not None:
            entry.linked = True

    def _match_local_channel(self, channel: str, linkedid: str) -> str | None:
        for entry in self._by_call.values():
            if not entry.linked and channel.startswith(entry.dial_string + "-"):
                self._link(linkedid, entry.call_id)
                return entry.call_id
        return None

    def _hold(self, linkedid: str, message: AmiMessage) -> None:
        self._held.setdefault(linkedid, []).append(message)
        self._held.move_to_end(linkedid)
        while len(self._held) > self._hold_limit:
            _, dropped = self._held.popitem(last=False)
            self.unattributed += len(dropped)

    def _release(self, linkedid: str, message: AmiMessage | None, at: datetime) -> list[CallEvent]:
        call_id = self._linked[linkedid]
        pending = self._held.pop(linkedid, [])
        if message is not None:
            pending.append(message)
        events: list[CallEvent] = []
        for held in pending:
            uniqueid = held.get("Uniqueid") or held.get("DestUniqueid") or ""
            known = self._channels.get(uniqueid)
            if known is not None:
                events += self._events(known[0], known[1], held, at)
            else:
                events += self._attach(call_id, linkedid, held, at)
        return events

    # --- normalisation -------------------------------------------------------------------

    def _response(self, message: AmiMessage, at: datetime) -> list[CallEvent]:
        entry = self._by_action.get(message.action_id or "")
        if entry is None:
            return []
        if (message.response or "").lower() == "success":
            return [CallEvent(entry.call_id, Signal.QUEUED, at, source="Response")]
        return [
            CallEvent(
                entry.call_id,
                Signal.REJECTED,
                at,
                detail=message.get("Message") or message.response,
                source="Response",
            )
        ]

    def _originate_response(self, message: AmiMessage, at: datetime) -> list[CallEvent]:
        entry = self._by_action.get(message.action_id or "")
        if entry is None:
            return []
        events: list[CallEvent] = []
        uniqueid = message.get("Uniqueid") or ""
        if uniqueid and not uniqueid.startswith("<") and uniqueid not in self._linked:
            self._link(uniqueid, entry.call_id)
            events += self._release(uniqueid, None, at)
        reason = _int(message.get("Reason"))
        events.append(
            CallEvent(
                entry.call_id,
                Signal.ORIGINATE_RESULT,
                at,
                reason=reason,
                source="OriginateResponse",
            )
        )
        return events

    def _events(
        self, call_id: str, primary: bool, message: AmiMessage, at: datetime
    ) -> list[CallEvent]:
        name = (message.event or "").lower()
        uniqueid = message.get("Uniqueid") or message.get("DestUniqueid")
        source = message.event or ""
        if name == "newstate":
            state = message.get("ChannelState")
            if primary and state == _RINGING_STATE:
                return [CallEvent(call_id, Signal.RINGING, at, source=source)]
            if primary and state == _UP_STATE:
                return [CallEvent(call_id, Signal.ANSWERED, at, source=source)]
        elif name == "dialstate":
            if (message.get("DialStatus") or "").upper() == "RINGING":
                return [CallEvent(call_id, Signal.RINGING, at, source=source)]
        elif name == "dialend":
            status = (message.get("DialStatus") or "").upper()
            return [CallEvent(call_id, Signal.DIAL_STATUS, at, detail=status, source=source)]
        elif name == "hangup":
            cause = _int(message.get("Cause"))
            signal = Signal.HANGUP if primary else Signal.LEG_HANGUP
            return [CallEvent(call_id, signal, at, cause=cause, detail=uniqueid, source=source)]
        elif name == "varset" and primary:
            if (message.get("Variable") or "").upper() == "AMDSTATUS":
                status = (message.get("Value") or "").upper()
                return [CallEvent(call_id, Signal.AMD, at, detail=status, source=source)]
        elif name == "agiexecstart" and primary:
            return [CallEvent(call_id, Signal.IVR_STARTED, at, source=source)]
        elif name == "dtmfend" and primary:
            if (message.get("Direction") or "Received").lower() == "received":
                digit = message.get("Digit")
                return [CallEvent(call_id, Signal.DTMF, at, detail=digit, source=source)]
        elif name == "confbridgejoin" and primary:
            conference = message.get("Conference")
            return [CallEvent(call_id, Signal.BRIDGED, at, detail=conference, source=source)]
        elif (
            name == "bridgeenter"
            and primary
            and (message.get("BridgeCreator") or "").lower() != "confbridge"
        ):
            bridge = message.get("BridgeUniqueid")
            return [CallEvent(call_id, Signal.BRIDGED, at, detail=bridge, source=source)]
        return []


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None
