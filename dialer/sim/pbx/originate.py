"""The Originate request, sans-I/O: its validation, its dial string, and the dialling plan.

`parse_originate` answers an Originate the way manager.c does (`Channel not specified` …);
`parse_dial` tells a debtor (`Local/<n>@debtor-sim`, `PJSIP/<n>@<trunk>`) from an agent's phone;
`plan_call` turns the far end's `CallScript` into when and how the dialling ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from dialer.ami.codec import AmiMessage
from dialer.sim.population import CallScript, Fate

__all__ = [
    "AGENT_PHONE_CONTEXT",
    "DEBTOR_CONTEXT",
    "CallPlan",
    "DialTarget",
    "Originate",
    "Outcome",
    "agent_phone_script",
    "missing_context_script",
    "parse_callerid",
    "parse_dial",
    "parse_originate",
    "plan_call",
    "reason_for",
]

AGENT_PHONE_CONTEXT = "agent-phone-sim"
DEBTOR_CONTEXT = "debtor-sim"
_CALLERID = re.compile(r'^\s*(?:"(?P<qname>[^"]*)"|(?P<name>[^<]*?))\s*<(?P<num>[^>]*)>\s*$')


class Outcome(StrEnum):
    """How the dialling phase ends; the Reason of OriginateResponse follows from it."""

    ANSWER = "answer"
    BUSY = "busy"
    CONGESTION = "congestion"
    REJECTED = "rejected"
    NO_ANSWER = "no_answer"
    INVALID = "invalid"
    CANCELLED = "cancelled"  # the dialer hung up the ringing call


def reason_for(outcome: Outcome, tech: str) -> int:
    """OriginateResponse `Reason`: 4 answered, 5 busy, 3 no answer, 8 congestion, else 0.

    With Local channels a callee rejecting (cause 21) came out as 0 in the lab; a trunk's rejection
    is reported as congestion (8) by Asterisk, as the README's caveat says.
    """
    if outcome is Outcome.REJECTED and tech == "PJSIP":
        return 8
    return {
        Outcome.ANSWER: 4,
        Outcome.BUSY: 5,
        Outcome.NO_ANSWER: 3,
        Outcome.CONGESTION: 8,
    }.get(outcome, 0)


@dataclass(frozen=True, slots=True)
class DialTarget:
    """A parsed Originate `Channel`: which technology, what the debtor's number is."""

    dial_string: str
    tech: str  # Local | PJSIP
    resource: str  # after "<tech>/": the DialString (5550001001@debtor-sim)
    number: str  # asked of the population model ("+5215550001001" or digits)
    exten: str  # Local: the extension as written; PJSIP: the digits
    context: str  # Local: the context; PJSIP: the endpoint (trunk)
    agent_phone: bool  # an agent's phone, not a debtor: answers at once and stays

    @property
    def device(self) -> str:
        return f"Local/{self.resource}" if self.tech == "Local" else f"PJSIP/{self.context}"


def _number(text: str) -> str:
    digits = "".join(ch for ch in text if ch.isdigit())
    return f"+{digits}" if text.lstrip().startswith("+") and digits else digits


def parse_dial(dial: str) -> DialTarget | None:
    """`Local/<n>@<ctx>`, `PJSIP/<n>@<trunk>`, `PJSIP/<trunk>/<n>`; None for other technologies."""
    tech, _, resource = dial.partition("/")
    if tech.lower() == "local" and resource:
        head = resource.split("/", 1)[0]  # drop Local channel options (/n)
        exten, _, context = head.partition("@")
        context = context or "default"
        return DialTarget(
            dial, "Local", head, _number(exten), exten, context, context == AGENT_PHONE_CONTEXT
        )
    if tech.lower() == "pjsip" and resource:
        if "@" in resource and "/" not in resource.split("@", 1)[0]:
            number, _, endpoint = resource.partition("@")
        elif "/" in resource:
            endpoint, _, uri = resource.partition("/")
            number = uri.removeprefix("sip:").removeprefix("sips:").split("@", 1)[0]
        else:
            return DialTarget(dial, "PJSIP", resource, "", resource, resource, True)
        key = _number(number)
        return DialTarget(dial, "PJSIP", resource, key, key.lstrip("+"), endpoint, not key)
    return None


@dataclass(frozen=True, slots=True)
class Originate:
    """An Originate action, validated the way manager.c validates it."""

    action_id: str | None
    channel: str
    context: str
    exten: str
    priority: int
    timeout_seconds: float
    caller_num: str | None
    caller_name: str | None
    variables: tuple[tuple[str, str], ...]
    channel_id: str | None
    other_channel_id: str | None
    is_async: bool
    application: str | None = None
    data: str = ""

    @property
    def callerid_all(self) -> str:
        """`${CALLERID(all)}`: `"Name" <num>`, or whichever part there is."""
        if self.caller_name and self.caller_num:
            return f'"{self.caller_name}" <{self.caller_num}>'
        return self.caller_num or self.caller_name or ""


def _split_variables(values: list[str]) -> tuple[tuple[str, str], ...]:
    """Each `Variable` header holds `NAME=value`, several separated by commas (quotes protect)."""
    pairs: list[tuple[str, str]] = []
    for value in values:
        part, quoted, parts = "", False, []
        for ch in value:
            if ch == '"':
                quoted = not quoted
            elif ch == "," and not quoted:
                parts.append(part)
                part = ""
            else:
                part += ch
        parts.append(part)
        for item in parts:
            name, sep, val = item.partition("=")
            if sep and name.strip():
                pairs.append((name.strip(), val))
    return tuple(pairs)


def parse_callerid(text: str) -> tuple[str | None, str | None]:
    """(name, number) of `"Name" <num>`, `Name <num>`, `<num>` or a bare number or name."""
    match = _CALLERID.match(text)
    if match:
        name = (match.group("qname") or match.group("name") or "").strip()
        return (name or None), (match.group("num").strip() or None)
    bare = text.strip().strip('"')
    if bare and all(ch.isdigit() or ch in "+*#" for ch in bare):
        return None, bare
    return (bare or None), None


def parse_originate(message: AmiMessage) -> Originate | str:
    """The Originate, or the `Message:` of the error Asterisk answers it with."""
    channel = (message.get("Channel") or "").strip()
    if not channel:
        return "Channel not specified"
    priority_text = (message.get("Priority") or "1").strip()
    if not priority_text.lstrip("-").isdigit():
        return "Invalid priority"
    timeout_text = (message.get("Timeout") or "30000").strip()
    try:
        timeout_ms = int(timeout_text)
    except ValueError:
        return "Invalid timeout"
    if "/" not in channel:
        return "Invalid channel"
    name, num = parse_callerid(message.get("CallerID") or "")
    return Originate(
        action_id=message.get("ActionID"),
        channel=channel,
        context=message.get("Context") or "default",
        exten=message.get("Exten") or "s",
        priority=int(priority_text),
        timeout_seconds=(timeout_ms if timeout_ms > 0 else 30000) / 1000,
        caller_num=num,
        caller_name=name,
        variables=_split_variables(message.getall("Variable")),
        channel_id=message.get("ChannelId") or None,
        other_channel_id=message.get("OtherChannelId") or None,
        is_async=(message.get("Async") or "").strip().lower() in ("true", "yes", "1", "on"),
        application=message.get("Application") or None,
        data=message.get("Data") or "",
    )


def missing_context_script() -> CallScript:
    """`Local/<n>@<context>` where the lab dialplan has no such context: nothing answers."""
    return CallScript(Fate.INVALID, ring_seconds=0.0, cause=0)


def agent_phone_script() -> CallScript:
    """An agent's phone (`[agent-phone-sim]`): answers at once and stays up for 300 s."""
    return CallScript(Fate.HUMAN, ring_seconds=0.0, hangup_after_seconds=300.0, cause=16)


@dataclass(frozen=True, slots=True)
class CallPlan:
    """When the dialling phase ends and how; `rings` is false when the far end never alerts."""

    outcome: Outcome
    at_seconds: float
    rings: bool


def plan_call(script: CallScript, timeout_seconds: float) -> CallPlan:
    """The dialling phase of a script under the Originate's `Timeout` (no answer after it)."""
    ring = max(0.0, script.ring_seconds)
    if script.fate is Fate.INVALID:
        return CallPlan(Outcome.INVALID, 0.0, rings=False)
    if script.fate is Fate.NO_ANSWER:
        return CallPlan(Outcome.NO_ANSWER, timeout_seconds, rings=True)
    if script.fate in (Fate.BUSY, Fate.CONGESTION):
        outcome = Outcome.BUSY if script.fate is Fate.BUSY else Outcome.CONGESTION
        if ring >= timeout_seconds:
            return CallPlan(Outcome.NO_ANSWER, timeout_seconds, rings=True)
        return CallPlan(outcome, ring, rings=ring > 0)
    if ring >= timeout_seconds:
        return CallPlan(Outcome.NO_ANSWER, timeout_seconds, rings=True)
    if script.fate is Fate.REJECTED:
        return CallPlan(Outcome.REJECTED, ring, rings=True)
    return CallPlan(Outcome.ANSWER, ring, rings=ring > 0)
