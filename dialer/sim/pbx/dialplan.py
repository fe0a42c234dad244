"""A call's dialling phase, sans-I/O: the exact event batches Asterisk 22 emits for each step.

The simulator plays the lab dialplan of the recordings (README of `tests/dialer/transcripts`):
`Local/<n>@debtor-sim` is a debtor whose behaviour comes from the population model, `;2` runs the
debtor side, `;1` is the call. `PJSIP/<n>@<trunk>` is one channel carrying the Q.850 cause itself.
Each batch mutates the channels it reports on and marks where the `OriginateResponse` goes with
`ORIGINATE_RESULT` (the runner drops the marker for a synchronous Originate).
"""

from __future__ import annotations

from dialer.sim.pbx.model import AmiEvent, Channel, ChannelState, Ids, local_bridge
from dialer.sim.pbx.originate import CallPlan, DialTarget, Originate, Outcome, reason_for
from dialer.sim.population import CallScript, Fate

__all__ = ["ORIGINATE_RESULT", "Legs", "failed_originate_response"]

ORIGINATE_RESULT = AmiEvent("OriginateResponse", None, ())  # marker, replaced by the runner


def _secs(value: float) -> str:
    return f"{value:g}"


class Legs:
    """The channels of one originated call and the batches of its dialling phase."""

    def __init__(
        self,
        spec: Originate,
        target: DialTarget,
        script: CallScript,
        plan: CallPlan,
        ids: Ids,
        epoch: float,
        now: float,
    ) -> None:
        self.spec, self.target, self.script, self.plan = spec, target, script, plan
        seq = ids.sequence()
        uid1 = spec.channel_id or ids.uniqueid(epoch)
        if target.tech == "Local":
            base = f"Local/{target.resource}-{seq}"
            # unreal.c: with only ChannelId given, the `;2` half gets it with ";2" appended
            uid2 = spec.other_channel_id or (
                f"{spec.channel_id};2" if spec.channel_id else ids.uniqueid(epoch)
            )
            one = Channel(
                name=f"{base};1",
                uniqueid=uid1,
                linkedid=uid1,
                tech="Local",
                device=target.device,
                context=target.context,
                exten=target.exten,
                created_at=now,
            )
            self.two: Channel | None = Channel(
                name=f"{base};2",
                uniqueid=uid2,
                linkedid=uid1,
                tech="Local",
                device=target.device,
                context=target.context,
                exten=target.exten,
                created_at=now,
                state=ChannelState.RING,
            )
        else:
            one = Channel(
                name=f"PJSIP/{target.context}-{seq}",
                uniqueid=uid1,
                linkedid=uid1,
                tech="PJSIP",
                device=target.device,
                context=spec.context,
                exten=spec.exten,
                created_at=now,
            )
            self.two = None
        self.one = one
        self.two_priority = 0

    # -- helpers -----------------------------------------------------------------------------

    def step(self, application: str, data: str = "") -> AmiEvent:
        """The debtor side (`;2`) runs its next priority of the lab `[debtor-sim]` context."""
        assert self.two is not None
        self.two_priority += 1
        return self.two.newexten(self.two_priority, application, data)

    def label(self) -> str:
        """The NoOp text of the debtor side's first priority, as the lab dialplan prints it."""
        if self.target.agent_phone:
            return f"agent phone {self.target.exten} answers"
        ctx, exten, fate = self.target.context, self.target.exten, self.script.fate
        digits = self.target.number.lstrip("+")
        if fate is Fate.HUMAN:
            if digits[-10:].startswith("5550006"):
                what = "human hello for AMD"
            elif self.plan.rings:
                what = "human answers and presses keys"
            else:
                what = "hangs up mid-prompt"
        else:
            what = {
                Fate.MACHINE: "answering machine",
                Fate.BUSY: "busy",
                Fate.CONGESTION: "congestion",
                Fate.REJECTED: "rejected",
                Fate.NO_ANSWER: "no answer",
                Fate.INVALID: "invalid",
            }[fate]
        return f"{ctx}: {what} {exten}"

    def _callerid(self, channel: Channel, connected_too: bool) -> None:
        if self.spec.caller_num is not None:
            channel.caller_num = self.spec.caller_num
        if self.spec.caller_name is not None:
            channel.caller_name = self.spec.caller_name
        if connected_too:
            channel.connected_num, channel.connected_name = channel.caller_num, channel.caller_name

    def _hangups_done(self, *states: str) -> list[AmiEvent]:
        return [self.one.device_state(state) for state in states]

    # -- batches -----------------------------------------------------------------------------

    def start(self) -> list[AmiEvent]:
        """Originate accepted: channels appear; then ringing, or the immediate outcome."""
        one, two = self.one, self.two
        out = [one.newchannel()]
        if two is not None:
            out.append(two.newchannel())
            out.append(one.newexten(1, "AppDial2", "(Outgoing Line)"))
        for name, value in reversed(self.spec.variables):
            out.append(one.varset(name, value))
        has_cid = self.spec.caller_num is not None or self.spec.caller_name is not None
        if has_cid:
            self._callerid(one, connected_too=False)
            out.append(one.newcallerid())
            one.connected_num, one.connected_name = one.caller_num, one.caller_name
            out.append(one.newconnectedline())
        if two is not None:
            for name, value in self.spec.variables:
                out.append(two.varset(name, value))
            if has_cid:
                self._callerid(two, connected_too=True)
                out += [two.newcallerid(), two.newconnectedline()]
            if self.plan.outcome is Outcome.INVALID:
                return out + self.invalid()
            out.append(local_bridge(one, two, self.target.context, self.target.exten))
        out.append(one.dial_event("DialBegin", ("DialString", self.target.resource)))
        if self.plan.outcome is Outcome.INVALID:
            return out + self.invalid()
        if two is not None:
            out.append(self.step("NoOp", self.label()))
        if self.plan.rings:
            out += self._ringing()
        elif self.plan.outcome is Outcome.ANSWER:
            out += self.answer()
        elif self.plan.outcome is Outcome.BUSY:
            out += self.busy()
        elif self.plan.outcome is Outcome.CONGESTION:
            out += self.congestion()
        return out

    def _ringing(self) -> list[AmiEvent]:
        one, two = self.one, self.two
        if two is None:
            return [
                one.newstate(ChannelState.RINGING),
                one.device_state("RINGING"),
                one.dial_event("DialState", ("DialStatus", "RINGING")),
            ]
        no_answer = self.plan.outcome is Outcome.NO_ANSWER
        wait = _secs(self.script.ring_seconds if no_answer else self.plan.at_seconds)
        return [
            self.step("Ringing"),
            one.newstate(ChannelState.RINGING),
            self.step("Wait", wait),
            one.device_state("INUSE"),
            one.dial_event("DialState", ("DialStatus", "RINGING")),
        ]

    def finish(self) -> list[AmiEvent]:
        """The dialling phase's planned end (answer, rejection, busy … or the Originate timeout)."""
        return {
            Outcome.ANSWER: self.answer,
            Outcome.BUSY: self.busy,
            Outcome.CONGESTION: self.congestion,
            Outcome.REJECTED: self.rejected,
            Outcome.NO_ANSWER: self.no_answer,
            Outcome.INVALID: self.invalid,
        }[self.plan.outcome]()

    def answer(self) -> list[AmiEvent]:
        one, two = self.one, self.two
        out: list[AmiEvent] = []
        if two is not None:
            out += [self.step("Answer"), two.newstate(ChannelState.UP), one.device_state("INUSE")]
        out.append(one.newstate(ChannelState.UP))
        out.append(one.dial_event("DialEnd", ("DialStatus", "ANSWER")))
        out.append(ORIGINATE_RESULT)
        return out

    def debtor_settles(self) -> list[AmiEvent]:
        """After answering, the debtor side waits to press its key, or to hang up (`;2` Wait)."""
        if self.two is None:
            return []
        script = self.script
        wait = script.key_delay_seconds if script.keys else script.hangup_after_seconds
        return [self.step("Wait", _secs(wait))]

    def busy(self) -> list[AmiEvent]:
        one, two = self.one, self.two
        if two is None:
            return [
                one.dial_event("DialEnd", ("DialStatus", "BUSY")),
                one.hangup_request(17),
                one.hangup(17),
                ORIGINATE_RESULT,
                one.device_state("NOT_INUSE"),
            ]
        return [
            self.step("Busy", "20"),
            two.newstate(ChannelState.BUSY),
            one.device_state("INUSE"),
            one.dial_event("DialEnd", ("DialStatus", "BUSY")),
            two.hangup_request(0),
            two.soft_hangup_request(16),
            two.hangup(17),
            one.hangup(0),
            ORIGINATE_RESULT,
            *self._hangups_done("NOT_INUSE", "NOT_INUSE"),
        ]

    def congestion(self) -> list[AmiEvent]:
        one, two = self.one, self.two
        if two is None:
            return [
                one.dial_event("DialEnd", ("DialStatus", "CONGESTION")),
                one.hangup_request(34),
                one.hangup(34),
                ORIGINATE_RESULT,
                one.device_state("NOT_INUSE"),
            ]
        return [
            self.step("Congestion", "20"),
            two.newstate(ChannelState.BUSY),
            one.dial_event("DialEnd", ("DialStatus", "CONGESTION")),
            two.hangup_request(0),
            one.device_state("NOT_INUSE"),
            two.soft_hangup_request(16),
            one.hangup(0),
            two.hangup(34),
            one.device_state("NOT_INUSE"),
            ORIGINATE_RESULT,
            one.device_state("NOT_INUSE"),
        ]

    def rejected(self) -> list[AmiEvent]:
        one, two, cause = self.one, self.two, self.script.cause
        if two is None:
            return [
                one.hangup_request(cause),
                one.dial_event("DialEnd", ("DialStatus", "NOANSWER")),
                ORIGINATE_RESULT,
                one.hangup(cause),
                one.device_state("NOT_INUSE"),
            ]
        return [
            self.step("Hangup", str(cause)),
            two.soft_hangup_request(16),
            one.hangup_request(cause),
            two.hangup(cause),
            one.dial_event("DialEnd", ("DialStatus", "NOANSWER")),
            ORIGINATE_RESULT,
            one.hangup(cause),
            *self._hangups_done("NOT_INUSE", "NOT_INUSE"),
        ]

    def no_answer(self) -> list[AmiEvent]:
        one, two = self.one, self.two
        if two is None:
            return [ORIGINATE_RESULT, one.hangup(19), one.device_state("NOT_INUSE")]
        return [
            two.hangup_request(19),
            ORIGINATE_RESULT,
            one.hangup(19),
            two.soft_hangup_request(16),
            two.hangup(19),
            *self._hangups_done("NOT_INUSE", "NOT_INUSE"),
        ]

    def invalid(self) -> list[AmiEvent]:
        one, two = self.one, self.two
        if two is None:
            cause = self.script.cause or 1
            return [
                one.hangup_request(cause),
                one.dial_event("DialEnd", ("DialStatus", "NOANSWER")),
                one.hangup(cause),
                ORIGINATE_RESULT,
                one.device_state("NOT_INUSE"),
            ]
        return [
            two.hangup(0),
            ORIGINATE_RESULT,
            one.hangup(0),
            *self._hangups_done("INVALID", "INVALID"),
        ]

    def cancel(self, cause: int) -> list[AmiEvent]:
        """The dialer hung up the call before it was answered (AMI `Hangup` of the ringing `;1`)."""
        one, two = self.one, self.two
        out = [one.dial_event("DialEnd", ("DialStatus", "NOANSWER"))]
        if two is None:
            return [*out, one.hangup(cause), ORIGINATE_RESULT, one.device_state("NOT_INUSE")]
        return [
            *out,
            two.hangup_request(cause),
            two.soft_hangup_request(16),
            two.hangup(cause),
            one.hangup(cause),
            ORIGINATE_RESULT,
            *self._hangups_done("NOT_INUSE", "NOT_INUSE"),
        ]

    def originate_response(self, outcome: Outcome) -> AmiEvent:
        """OriginateResponse: the channel and Uniqueid on success, the dial string on failure."""
        ok = outcome is Outcome.ANSWER
        fields: list[tuple[str, str]] = []
        if self.spec.action_id is not None:
            fields.append(("ActionID", self.spec.action_id))
        fields += [
            ("Response", "Success" if ok else "Failure"),
            ("Channel", self.one.name if ok else self.spec.channel),
            ("Context", self.spec.context),
            ("Exten", self.spec.exten),
            ("Reason", str(reason_for(outcome, self.target.tech))),
            ("Uniqueid", self.one.uniqueid if ok else (self.spec.channel_id or "<unknown>")),
            ("CallerIDNum", self.spec.caller_num or "<unknown>"),
            ("CallerIDName", self.spec.caller_name or "<unknown>"),
        ]
        return AmiEvent("OriginateResponse", "call,all", tuple(fields))


def failed_originate_response(spec: Originate) -> AmiEvent:
    """OriginateResponse for a channel that could not even be created (unknown technology)."""
    fields: list[tuple[str, str]] = []
    if spec.action_id is not None:
        fields.append(("ActionID", spec.action_id))
    fields += [
        ("Response", "Failure"),
        ("Channel", spec.channel),
        ("Context", spec.context),
        ("Exten", spec.exten),
        ("Reason", "0"),
        ("Uniqueid", spec.channel_id or "<unknown>"),
        ("CallerIDNum", spec.caller_num or "<unknown>"),
        ("CallerIDName", spec.caller_name or "<unknown>"),
    ]
    return AmiEvent("OriginateResponse", "call,all", tuple(fields))
