"""Twilio's call vocabulary translated into `CallEvent`s, sans-I/O.

Status callbacks (`CallStatus`), async AMD callbacks (`AnsweredBy`) and the SIP response code
Twilio got from the carrier become the same signals and Q.850 causes the Asterisk backend
reports, so the call state machine and every report downstream see one vocabulary.

SIP → Q.850 follows Asterisk's `hangup_sip2cause()` (itself RFC 3398 §8.2.6.1 with Asterisk's
choices where they differ, e.g. 480 → 19 and 503 → 34), because the AMI backend reports
Asterisk's causes and the two backends must agree:

    SIP  Q.850  meaning
    200   16    normal clearing (an answered call that ended)
    401   21    unauthorised → call rejected
    403   21    forbidden → call rejected
    404    1    unallocated (unassigned) number
    407   21    proxy authentication required → call rejected
    408   18    request timeout → no user responding
    410   22    gone → number changed
    420    3    bad extension → no route to destination
    480   19    temporarily unavailable → no answer (RFC 3398 says 18)
    484   28    address incomplete → invalid number format
    485    1    ambiguous → unallocated number
    486   17    busy here → user busy
    487   —     request terminated: Twilio's own CANCEL (our hang-up or its ring timeout);
                the call status decides (canceled → 16, no-answer → 19)
    488   58    not acceptable here → bearer capability not available
    500   38    server internal error → network out of order
    502   27    bad gateway → destination out of order
    503   34    service unavailable → congestion
    504  102    server timeout → recovery on timer expiry
    600   17    busy everywhere → user busy
    603   21    decline → call rejected
    604    1    does not exist anywhere → unallocated number
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from campaigns.enums import AttemptOutcome
from dialer.calls import CallEvent, Signal

__all__ = [
    "ANSWERED_BY",
    "INVALID_NUMBER_ERRORS",
    "INVALID_NUMBER_SIP",
    "SIP_TO_Q850",
    "CallStatus",
    "LegView",
    "Verdict",
    "amd_events",
    "final_verdict",
    "q850_for_sip",
    "status_events",
]


class CallStatus(StrEnum):
    """`CallStatus` values of Twilio's status callbacks and Call resource."""

    QUEUED = "queued"
    INITIATED = "initiated"
    RINGING = "ringing"
    IN_PROGRESS = "in-progress"
    ANSWERED = "answered"
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def final(self) -> bool:
        return self in _FINAL


_FINAL = frozenset(
    {
        CallStatus.COMPLETED,
        CallStatus.BUSY,
        CallStatus.NO_ANSWER,
        CallStatus.FAILED,
        CallStatus.CANCELED,
    }
)

SIP_TO_Q850: dict[int, int] = {
    200: 16,
    401: 21,
    403: 21,
    404: 1,
    407: 21,
    408: 18,
    410: 22,
    420: 3,
    480: 19,
    484: 28,
    485: 1,
    486: 17,
    488: 58,
    500: 38,
    502: 27,
    503: 34,
    504: 102,
    600: 17,
    603: 21,
    604: 1,
}
# What a status means when the SIP code says nothing (absent, or 487: Twilio's own CANCEL).
_STATUS_CAUSE: dict[CallStatus, int] = {
    CallStatus.COMPLETED: 16,
    CallStatus.BUSY: 17,
    CallStatus.NO_ANSWER: 19,
    CallStatus.CANCELED: 16,
}
_STATUS_OUTCOME: dict[CallStatus, AttemptOutcome | None] = {
    CallStatus.COMPLETED: None,  # answered: the machine derives HUMAN/MACHINE from ANSWERED/AMD
    CallStatus.BUSY: AttemptOutcome.BUSY,
    CallStatus.NO_ANSWER: AttemptOutcome.NO_ANSWER,
    CallStatus.FAILED: AttemptOutcome.FAILED,
    CallStatus.CANCELED: AttemptOutcome.CANCELLED,
}
# The number itself is wrong: carriers answer 404/410/484/485/604; Twilio says so with
# 13223 (Dial: invalid phone number format), 13224 (Dial: invalid phone number),
# 21211 (invalid 'To' number) and 21217 (number does not appear to be valid).
INVALID_NUMBER_SIP = frozenset({404, 410, 484, 485, 604})
INVALID_NUMBER_ERRORS = frozenset({13223, 13224, 21211, 21217})
_REJECTED_CAUSE = 21

# Async AMD's `AnsweredBy` → the machine's AMD vocabulary. A fax is not a person either.
ANSWERED_BY: dict[str, str] = {
    "human": "HUMAN",
    "machine_start": "MACHINE",
    "machine_end_beep": "MACHINE",
    "machine_end_silence": "MACHINE",
    "machine_end_other": "MACHINE",
    "fax": "MACHINE",
    "unknown": "NOTSURE",
}


def _int(value: str | None) -> int | None:
    if value is None or not value.strip().lstrip("-").isdigit():
        return None
    return int(value)


def q850_for_sip(code: int | None) -> int | None:
    """The Q.850 cause a SIP final response means (None when the table has no entry)."""
    return None if code is None else SIP_TO_Q850.get(code)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a final status callback says: the outcome for an unanswered call and the cause."""

    outcome: AttemptOutcome | None
    cause: int | None


def final_verdict(status: CallStatus, sip_code: int | None, error_code: int | None) -> Verdict:
    """Outcome and Q.850 cause of a call Twilio reports as finished with `status`.

    busy → BUSY, no-answer → NO_ANSWER, canceled → CANCELLED, failed → FAILED, except that a
    SIP or Twilio error code saying the number is invalid makes it INVALID_NUMBER and a decline
    (cause 21) makes a busy or failed call REJECTED, as the Asterisk backend would report it.
    """
    cause = q850_for_sip(sip_code)
    if cause is None:
        cause = _STATUS_CAUSE.get(status)
    outcome = _STATUS_OUTCOME.get(status)
    if status in (CallStatus.FAILED, CallStatus.BUSY, CallStatus.NO_ANSWER):
        if sip_code in INVALID_NUMBER_SIP or error_code in INVALID_NUMBER_ERRORS:
            outcome = AttemptOutcome.INVALID_NUMBER
        elif cause == _REJECTED_CAUSE and status is not CallStatus.NO_ANSWER:
            outcome = AttemptOutcome.REJECTED
        elif cause == 34 and status is CallStatus.FAILED:
            outcome = AttemptOutcome.CONGESTION
    return Verdict(outcome, cause)


@dataclass(frozen=True, slots=True)
class LegView:
    """What the backend has already reported for a call, so translation adds only news."""

    queued: bool = False
    answered: bool = False
    amd: bool = False


def amd_events(call_id: str, answered_by: str, at: datetime, source: str) -> list[CallEvent]:
    """An `AnsweredBy` value as an AMD event (nothing for a value Twilio does not document)."""
    detail = ANSWERED_BY.get(answered_by.strip().lower())
    if detail is None:
        return []
    return [CallEvent(call_id, Signal.AMD, at, detail=detail, source=f"{source}:{answered_by}")]


def status_events(
    call_id: str, form: Mapping[str, str], at: datetime, seen: LegView
) -> list[CallEvent]:
    """The events one status callback adds to what `seen` already holds.

    `completed` means answered (Twilio: "answered and ended normally"), so when the earlier
    `in-progress` never arrived (Twilio promises neither order nor delivery) ANSWERED — and the
    AMD verdict if the callback carries `AnsweredBy` — precede FINAL; only an explicit
    `CallDuration` of 0 says the call never connected.
    """
    try:
        status = CallStatus(form.get("CallStatus", "").strip().lower())
    except ValueError:
        return []
    source = f"StatusCallback:{status.value}"
    if status in (CallStatus.QUEUED, CallStatus.INITIATED):
        return [] if seen.queued else [CallEvent(call_id, Signal.QUEUED, at, source=source)]
    if status is CallStatus.RINGING:
        return [CallEvent(call_id, Signal.RINGING, at, source=source)]
    if status in (CallStatus.IN_PROGRESS, CallStatus.ANSWERED):
        return [] if seen.answered else [CallEvent(call_id, Signal.ANSWERED, at, source=source)]
    events: list[CallEvent] = []
    answered_by = form.get("AnsweredBy", "")
    if status is CallStatus.COMPLETED and _int(form.get("CallDuration")) != 0:
        if not seen.answered:
            events.append(CallEvent(call_id, Signal.ANSWERED, at, source=source))
        if answered_by and not seen.amd:
            events.extend(amd_events(call_id, answered_by, at, source))
    sip_code = _int(form.get("SipResponseCode"))
    verdict = final_verdict(status, sip_code, _int(form.get("ErrorCode")))
    events.append(
        CallEvent(
            call_id,
            Signal.FINAL,
            at,
            cause=verdict.cause,
            reason=sip_code,
            detail=status.value,
            outcome=verdict.outcome,
            source=source,
        )
    )
    return events
