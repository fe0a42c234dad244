"""The call state machine: outcomes and causes whatever the order, duplicates and late events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from campaigns.enums import AttemptOutcome, CallState
from dialer.calls import Call, CallEvent, Signal

T0 = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def ev(signal: Signal, **fields: object) -> CallEvent:
    return CallEvent("c1", signal, T0, **fields)  # type: ignore[arg-type]


# Unanswered calls as a real trunk reports them: the same events in any order.
UNANSWERED = {
    AttemptOutcome.BUSY: (
        [
            ev(Signal.DIAL_STATUS, detail="BUSY", source="DialEnd"),
            ev(Signal.LEG_HANGUP, cause=17, detail="u2", source="Hangup"),
            ev(Signal.HANGUP, cause=0, detail="u1", source="Hangup"),
            ev(Signal.ORIGINATE_RESULT, reason=5, source="OriginateResponse"),
        ],
        17,
    ),
    AttemptOutcome.CONGESTION: (
        [
            ev(Signal.DIAL_STATUS, detail="CONGESTION", source="DialEnd"),
            ev(Signal.HANGUP, cause=0, detail="u1", source="Hangup"),
            ev(Signal.LEG_HANGUP, cause=34, detail="u2", source="Hangup"),
            ev(Signal.ORIGINATE_RESULT, reason=8, source="OriginateResponse"),
        ],
        34,
    ),
    AttemptOutcome.NO_ANSWER: (
        [
            ev(Signal.RINGING, source="Newstate"),
            ev(Signal.ORIGINATE_RESULT, reason=3, source="OriginateResponse"),
            ev(Signal.HANGUP, cause=19, detail="u1", source="Hangup"),
        ],
        19,
    ),
    AttemptOutcome.REJECTED: (
        [
            ev(Signal.RINGING, source="Newstate"),
            ev(Signal.HANGUP, cause=21, detail="u1", source="Hangup"),
            ev(Signal.ORIGINATE_RESULT, reason=0, source="OriginateResponse"),
        ],
        21,
    ),
    AttemptOutcome.INVALID_NUMBER: (
        [
            ev(Signal.HANGUP, cause=1, detail="u1", source="Hangup"),
            ev(Signal.ORIGINATE_RESULT, reason=0, source="OriginateResponse"),
        ],
        1,
    ),
}


@given(
    st.sampled_from(sorted(UNANSWERED)),
    st.randoms(use_true_random=False),
    st.integers(min_value=0, max_value=3),
)
def test_outcome_does_not_depend_on_event_order_or_duplicates(
    outcome: AttemptOutcome, rnd: object, copies: int
) -> None:
    events, cause = UNANSWERED[outcome]
    stream = [ev(Signal.QUEUED, source="Response"), *events, *events[:copies]]
    rnd.shuffle(stream)  # type: ignore[attr-defined]
    call = Call("c1")
    for event in stream:
        call.feed(event)
    call.settle(T0 + timedelta(seconds=5))
    assert call.outcome is outcome
    assert call.cause == cause
    assert call.state is CallState.FAILED


def test_states_advance_in_order_and_never_back() -> None:
    call = Call("c1")
    seen = []
    for event in [
        ev(Signal.QUEUED),
        ev(Signal.RINGING),
        ev(Signal.ANSWERED),
        ev(Signal.AMD, detail="HUMAN"),
        ev(Signal.IVR_STARTED),
        ev(Signal.RINGING),  # late: ignored
        ev(Signal.BRIDGED, detail="agent-1001"),
        ev(Signal.HANGUP, cause=16, detail="u1"),
        ev(Signal.ANSWERED, source="late"),  # after the end: ignored
    ]:
        seen += [t.after for t in call.feed(event)]
    assert seen == [
        CallState.ORIGINATING,
        CallState.RINGING,
        CallState.ANSWERED,
        CallState.IN_IVR,
        CallState.BRIDGED,
        CallState.ENDED,
    ]
    assert call.outcome is AttemptOutcome.HUMAN
    assert call.cause == 16
    assert call.settled


def test_machine_and_abandoned() -> None:
    call = Call("c1")
    for event in [ev(Signal.QUEUED), ev(Signal.ANSWERED), ev(Signal.AMD, detail="MACHINE")]:
        call.feed(event)
    assert call.outcome is AttemptOutcome.MACHINE
    other = Call("c2")
    other.feed(CallEvent("c2", Signal.ANSWERED, T0))
    other.mark_abandoned()
    other.feed(CallEvent("c2", Signal.HANGUP, T0, cause=16))
    assert other.outcome is AttemptOutcome.ABANDONED


def test_cancel_while_ringing_is_cancelled_not_no_answer() -> None:
    call = Call("c1")
    for event in [
        ev(Signal.QUEUED),
        ev(Signal.RINGING),
        ev(Signal.CANCEL_REQUESTED),
        ev(Signal.DIAL_STATUS, detail="NOANSWER"),
        ev(Signal.HANGUP, cause=16, detail="u1"),
        ev(Signal.ORIGINATE_RESULT, reason=0),
    ]:
        call.feed(event)
    assert (call.outcome, call.cause, call.settled) == (AttemptOutcome.CANCELLED, 16, True)


def test_rejected_originate_settles_at_once_and_ignores_later_events() -> None:
    call = Call("c1")
    call.feed(ev(Signal.REJECTED, detail="Originate failed"))
    assert call.settled
    assert call.outcome is AttemptOutcome.FAILED
    assert call.feed(ev(Signal.ANSWERED)) == []
    assert call.outcome is AttemptOutcome.FAILED


def test_unsettled_call_waits_for_the_grace_then_settles() -> None:
    call = Call("c1")
    call.feed(ev(Signal.QUEUED))
    call.feed(CallEvent("c1", Signal.HANGUP, T0 + timedelta(seconds=3), cause=17, detail="u1"))
    assert not call.settled  # OriginateResponse may still bring a better reason
    due = call.settle_due(timedelta(seconds=2))
    assert due == T0 + timedelta(seconds=5)
    call.settle(due)
    assert (call.outcome, call.cause) == (AttemptOutcome.BUSY, 17)


def test_backend_verdict_wins_for_unanswered_calls() -> None:
    call = Call("c1")
    call.feed(ev(Signal.QUEUED))
    call.feed(ev(Signal.FINAL, outcome=AttemptOutcome.INVALID_NUMBER, cause=1))
    assert (call.outcome, call.cause, call.settled) == (AttemptOutcome.INVALID_NUMBER, 1, True)
