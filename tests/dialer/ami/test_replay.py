"""Every lab transcript, replayed through the AMI parser, the tracker and the call state machine.

The recordings come from a real Asterisk 22; each must end in the outcome and cause a collection
agency would report for it, however the events were interleaved.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from campaigns.enums import AttemptOutcome, CallState
from dialer.ami import AmiCallTracker, AmiParser
from dialer.calls import Call, CallEvent, Signal
from tests.dialer.transcripts import records

T0 = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Expected:
    outcome: AttemptOutcome
    state: CallState
    cause: int | None
    digits: str = ""
    bridged: bool = False


CASES: dict[str, dict[str, Expected]] = {
    "answered-human-dtmf.txt": {
        "orig-answered-human-dtmf-5550001001": Expected(
            AttemptOutcome.HUMAN, CallState.ENDED, None, digits="1"
        )
    },
    "busy.txt": {"orig-busy-5550002001": Expected(AttemptOutcome.BUSY, CallState.FAILED, 17)},
    "no-answer.txt": {
        "orig-no-answer-5550003001": Expected(AttemptOutcome.NO_ANSWER, CallState.FAILED, 19)
    },
    "congestion.txt": {
        "orig-congestion-5550004001": Expected(AttemptOutcome.CONGESTION, CallState.FAILED, 34)
    },
    "rejected.txt": {
        "orig-rejected-5550008001": Expected(AttemptOutcome.REJECTED, CallState.FAILED, 21)
    },
    "cancel-ringing.txt": {
        "dialer-call-0001": Expected(AttemptOutcome.CANCELLED, CallState.FAILED, 16)
    },
    "busy-sync.txt": {
        "orig-busy-sync-5550002002": Expected(AttemptOutcome.FAILED, CallState.FAILED, None)
    },
    "invalid-number.txt": {
        "orig-invalid-exten": Expected(AttemptOutcome.INVALID_NUMBER, CallState.FAILED, None),
        "orig-invalid-context": Expected(AttemptOutcome.INVALID_NUMBER, CallState.FAILED, None),
        "orig-invalid-tech": Expected(AttemptOutcome.FAILED, CallState.FAILED, None),
        "orig-invalid-sync": Expected(AttemptOutcome.FAILED, CallState.FAILED, None),
    },
    "answering-machine-amd.txt": {
        "orig-answering-machine-amd-5550005001": Expected(
            AttemptOutcome.MACHINE,
            CallState.ENDED,
            None,  # the IVR hung up: cause 0 on both legs
        )
    },
    "human-amd.txt": {
        "orig-human-amd-5550006001": Expected(
            AttemptOutcome.HUMAN, CallState.ENDED, None, digits="2"
        )
    },
    "hangup-mid-ivr.txt": {
        "orig-hangup-mid-ivr-5550007001": Expected(AttemptOutcome.HUMAN, CallState.ENDED, 16)
    },
    "dtmf-timeout-and-interrupt.txt": {
        "orig-dtmf-timeout-and-interrupt-5550001004": Expected(
            AttemptOutcome.HUMAN, CallState.ENDED, 16, digits="23"
        )
    },
    "agent-bridge.txt": {
        "orig-debtor-5550001002": Expected(
            AttemptOutcome.HUMAN, CallState.ENDED, 16, digits="1", bridged=True
        ),
        "orig-agent-1001": Expected(AttemptOutcome.HUMAN, CallState.ENDED, 16, bridged=True),
    },
    "agent-bridge-action.txt": {
        "orig-debtor-5550001003": Expected(
            AttemptOutcome.HUMAN, CallState.ENDED, 16, digits="1", bridged=True
        ),
        "orig-agent-1002": Expected(AttemptOutcome.HUMAN, CallState.ENDED, 16, bridged=True),
    },
}


def replay(name: str, chunk: int | None = None) -> tuple[dict[str, Call], AmiCallTracker]:
    """Feed one transcript to a tracker and state machines, as the asterisk backend would."""
    tracker = AmiCallTracker()
    parser = AmiParser()
    calls: dict[str, Call] = {}
    rng = random.Random(len(name))
    for record in records(name):
        at = T0 + timedelta(seconds=record.offset)
        if record.channel != "AMI":
            continue
        headers = record.headers()
        if not record.from_asterisk:
            action = headers.get("Action", [""])[0]
            if action == "Originate" and "Channel" in headers:
                call_id = headers.get("ChannelId", headers["ActionID"])[0]
                tracker.originate(call_id, headers["ActionID"][0], headers["Channel"][0])
                calls[call_id] = Call(call_id)
            elif action == "Hangup":
                for call in calls.values():
                    call.feed(CallEvent(call.call_id, Signal.CANCEL_REQUESTED, at))
            continue
        if "<-- banner line" in record.text:
            data = record.text.split("   <--")[0].strip().encode() + b"\r\n"
        else:
            data = (record.text.replace("\n", "\r\n") + "\r\n\r\n").encode()
        pieces = (
            [data] if chunk is None else [data[i : i + chunk] for i in range(0, len(data), chunk)]
        )
        for piece in pieces:
            for message in parser.feed(piece):
                for event in tracker.feed(message, at):
                    calls[event.call_id].feed(event)
        if chunk is not None:
            chunk = rng.randint(1, 64)
    end = T0 + timedelta(minutes=5)
    for call in calls.values():
        if not call.settled:
            call.settle(end)
    return calls, tracker


@pytest.mark.parametrize("name", sorted(CASES))
def test_transcript_outcome(name: str) -> None:
    calls, _ = replay(name)
    expected = CASES[name]
    assert set(calls) == set(expected)
    for call_id, want in expected.items():
        call = calls[call_id]
        assert (call.outcome, call.state) == (want.outcome, want.state), call_id
        assert call.cause == want.cause, call_id
        assert call.digits == want.digits, call_id
        assert (call.bridged_to is not None) == want.bridged, call_id
        assert call.settled


@pytest.mark.parametrize("name", sorted(CASES))
def test_transcript_split_reads_change_nothing(name: str) -> None:
    """TCP delivers arbitrary pieces; outcomes must not depend on where the reads split."""
    whole, _ = replay(name)
    split, _ = replay(name, chunk=7)
    assert {k: (c.outcome, c.cause, c.digits) for k, c in whole.items()} == {
        k: (c.outcome, c.cause, c.digits) for k, c in split.items()
    }


def test_answered_call_passes_through_every_state() -> None:
    calls, _ = replay("answered-human-dtmf.txt")
    call = calls["orig-answered-human-dtmf-5550001001"]
    assert call.rang
    assert call.answered_at is not None
    assert call.ended_at is not None
    assert call.ringing_at is not None
    assert call.ringing_at <= call.answered_at <= call.ended_at


def test_amd_status_is_read_from_varset() -> None:
    calls, _ = replay("answering-machine-amd.txt")
    assert calls["orig-answering-machine-amd-5550005001"].amd == "MACHINE"
    calls, _ = replay("human-amd.txt")
    assert calls["orig-human-amd-5550006001"].amd == "HUMAN"


def test_nothing_left_unattributed_in_single_call_scenarios() -> None:
    for name in ("busy.txt", "answered-human-dtmf.txt", "cancel-ringing.txt"):
        _, tracker = replay(name)
        assert tracker.unattributed == 0
