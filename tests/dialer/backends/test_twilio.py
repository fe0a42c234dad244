"""The Twilio backend against the local Twilio API fake, over loopback only.

The fake signs webhooks for the public URL `PUBLIC` and delivers them to the local webhook
server (a tunnel), so the signature checks see exactly what they would behind a real proxy.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree

import aiohttp
import pytest
from aiohttp import web
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from campaigns.enums import AttemptOutcome, CallState
from dialer.backends.base import OriginateRequest
from dialer.backends.twilio import (
    OriginateOutcomeUnknown,
    TwilioBackend,
    TwilioConfig,
    TwilioRejected,
)
from dialer.backends.twilio_legs import LegBook
from dialer.backends.twilio_status import (
    CallStatus,
    LegView,
    final_verdict,
    q850_for_sip,
    status_events,
)
from dialer.backends.twilio_webhooks import PLACEHOLDER_PROMPT, twilio_app
from dialer.calls import Call, CallEvent, Signal
from dialer.clock import VirtualClock
from dialer.errors import BackendError, BackendUnavailable
from dialer.sim.population import CallScript, Fate
from dialer.sim.twilio_api import TwilioApiFake

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "f" * 32
PUBLIC = "https://recaudo.example.test/hooks"
CALLER = "+525512340000"
HUMAN = "+525550001234"  # lab numbers (dialer.sim.population.LAB_PREFIXES)
BUSY = "+525550002000"
NO_ANSWER = "+525550003000"
CONGESTION = "+525550004000"
MACHINE = "+525550005000"
REJECTED = "+525550008000"
UNALLOCATED = "+525559990000"
TALKER = "+525559990001"
SCRIPTS = {
    UNALLOCATED: CallScript(Fate.INVALID, ring_seconds=0.0, cause=1),
    TALKER: CallScript(Fate.HUMAN, ring_seconds=1.0, hangup_after_seconds=300.0),
}
S = Signal


@dataclass
class Rig:
    fake: TwilioApiFake
    backend: TwilioBackend
    events: list[CallEvent]
    local: str  # where the webhook server really listens
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def of(self, call_id: str) -> list[CallEvent]:
        return [event for event in self.events if event.call_id == call_id]

    def signals(self, call_id: str) -> list[Signal]:
        return [event.signal for event in self.of(call_id)]

    def sink(self, event: CallEvent) -> None:
        self.events.append(event)
        self.changed.set()

    async def wait_for(self, call_id: str, signal: Signal) -> None:
        async with asyncio.timeout(5):
            while signal not in self.signals(call_id):
                self.changed.clear()
                await self.changed.wait()

    async def send(
        self, path_qs: str, form: Mapping[str, str], signature: str | None
    ) -> tuple[int, str, str]:
        """POST to the webhook server as Twilio would: status, body and content type."""
        headers = {} if signature is None else {"X-Twilio-Signature": signature}
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.local + path_qs, data=dict(form), headers=headers) as reply,
        ):
            return reply.status, await reply.text(), reply.content_type

    async def post(self, path_qs: str, form: Mapping[str, str], signature: str | None) -> int:
        return (await self.send(path_qs, form, signature))[0]


@asynccontextmanager
async def make_rig(*, fake_cps: float = 100.0, **config: Any) -> AsyncIterator[Rig]:
    """The fake API, the backend on it and its webhook server, wired through `PUBLIC`."""
    async with TwilioApiFake(SID, TOKEN, cps=fake_cps, scripts=SCRIPTS, time_scale=0.01) as fake:
        settings: dict[str, Any] = {"cps": 100.0, "backoff_seconds": 0.01} | config
        backend = TwilioBackend(
            TwilioConfig(SID, TOKEN, PUBLIC, api_base_url=fake.base_url, **settings)
        )
        runner = web.AppRunner(twilio_app(backend), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        local = f"http://127.0.0.1:{runner.addresses[0][1]}"
        fake.route(PUBLIC, local)
        rig = Rig(fake, backend, [], local)
        await backend.start(rig.sink)
        try:
            yield rig
        finally:
            await backend.close()
            await runner.cleanup()


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    async with make_rig() as built:
        yield built


def _request(call_id: str, to: str, **kw: Any) -> OriginateRequest:
    return OriginateRequest(call_id=call_id, to=to, caller_id=kw.pop("caller_id", CALLER), **kw)


def _machine(events: list[CallEvent]) -> Call:
    call = Call(events[0].call_id)
    for event in events:
        call.feed(event)
    return call


# --- call flows ---------------------------------------------------------------------------

ANSWERED_FLOW = [S.QUEUED, S.RINGING, S.ANSWERED, S.IVR_STARTED, S.AMD]
FLOWS = [
    pytest.param(HUMAN, [*ANSWERED_FLOW, S.DTMF, S.FINAL], AttemptOutcome.HUMAN, 16, id="human"),
    pytest.param(MACHINE, [*ANSWERED_FLOW, S.FINAL], AttemptOutcome.MACHINE, 16, id="machine"),
    pytest.param(BUSY, [S.QUEUED, S.FINAL], AttemptOutcome.BUSY, 17, id="busy"),
    pytest.param(
        NO_ANSWER, [S.QUEUED, S.RINGING, S.FINAL], AttemptOutcome.NO_ANSWER, 19, id="no-answer"
    ),
    pytest.param(UNALLOCATED, [S.QUEUED, S.FINAL], AttemptOutcome.INVALID_NUMBER, 1, id="invalid"),
    pytest.param(
        REJECTED, [S.QUEUED, S.RINGING, S.FINAL], AttemptOutcome.REJECTED, 21, id="rejected"
    ),
    pytest.param(CONGESTION, [S.QUEUED, S.FINAL], AttemptOutcome.CONGESTION, 34, id="congestion"),
]


@pytest.mark.parametrize(("number", "signals", "outcome", "cause"), FLOWS)
async def test_a_call_plays_out_as_events_in_order(
    rig: Rig, number: str, signals: list[Signal], outcome: AttemptOutcome, cause: int
) -> None:
    await rig.backend.originate(_request("c1", number, timeout_seconds=20))
    await rig.fake.wait_finished()

    assert rig.signals("c1") == signals
    final = rig.of("c1")[-1]
    assert final.cause == cause
    call = _machine(rig.of("c1"))
    assert call.settled
    assert call.outcome is outcome
    assert call.cause == cause
    answered = outcome in (AttemptOutcome.HUMAN, AttemptOutcome.MACHINE)
    assert call.state is (CallState.ENDED if answered else CallState.FAILED)
    assert rig.fake.creates_by_call_id["c1"] == 1
    assert await rig.backend.live_calls() == set()


async def test_the_human_call_carries_amd_and_the_key_pressed(rig: Rig) -> None:
    await rig.backend.originate(_request("c1", HUMAN))
    await rig.fake.wait_finished()

    by_signal = {event.signal: event for event in rig.of("c1")}
    assert by_signal[S.AMD].detail == "HUMAN"
    assert by_signal[S.AMD].source == "AmdCallback:human"
    assert by_signal[S.DTMF].detail == "1"
    assert by_signal[S.FINAL].outcome is None  # answered: the machine decides HUMAN/MACHINE
    assert by_signal[S.FINAL].detail == "completed"
    assert _machine(rig.of("c1")).digits == "1"


async def test_the_call_sid_maps_both_ways(rig: Rig) -> None:
    await rig.backend.originate(_request("c1", BUSY))
    await rig.backend.originate(_request("c2", BUSY))
    await rig.fake.wait_finished()

    for call_id in ("c1", "c2"):
        (simulated,) = rig.fake.by_call_id(call_id)
        assert rig.backend.sid_of(call_id) == simulated.sid
        assert rig.backend.call_id_of(simulated.sid) == call_id
    assert rig.backend.sid_of("c1") != rig.backend.sid_of("c2")


async def test_the_create_request_is_what_twilio_expects(rig: Rig) -> None:
    await rig.backend.originate(_request("c1", BUSY, timeout_seconds=25))
    await rig.backend.originate(_request("c2", BUSY, detect_machine=False))
    await rig.fake.wait_finished()

    (first,) = rig.fake.by_call_id("c1")
    assert first.params["StatusCallback"] == [f"{PUBLIC}/twilio/voice/status?call_id=c1"]
    assert first.params["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert first.params["Url"] == [f"{PUBLIC}/twilio/voice/answer?call_id=c1"]
    assert first.params["MachineDetection"] == ["Enable"]
    assert first.params["AsyncAmd"] == ["true"]
    assert first.params["AsyncAmdStatusCallback"] == [f"{PUBLIC}/twilio/voice/amd?call_id=c1"]
    assert first.params["Timeout"] == ["25"]
    assert first.from_ == CALLER
    (second,) = rig.fake.by_call_id("c2")
    assert "MachineDetection" not in second.params


async def test_hanging_up_a_ringing_call_cancels_it(rig: Rig) -> None:
    await rig.backend.originate(_request("c1", NO_ANSWER, timeout_seconds=60))
    await rig.wait_for("c1", S.RINGING)
    await rig.backend.hangup("c1")
    await rig.fake.wait_finished()

    assert rig.signals("c1") == [S.QUEUED, S.RINGING, S.CANCEL_REQUESTED, S.FINAL]
    assert rig.of("c1")[-1].detail == "canceled"
    (simulated,) = rig.fake.by_call_id("c1")
    assert simulated.status == "canceled"
    call = _machine(rig.of("c1"))
    assert call.outcome is AttemptOutcome.CANCELLED
    assert call.state is CallState.FAILED
    await rig.backend.hangup("c1")  # a finished call is left be


async def test_a_hangup_before_twilio_names_the_call_cancels_it_once_named() -> None:
    async with make_rig() as rig:
        rig.fake.drop_webhooks = True  # the CallSid can only come from the API's late answer
        rig.fake.delay_next_creates(1, 0.3)
        request = _request("c1", NO_ANSWER, timeout_seconds=90)
        originating = asyncio.create_task(rig.backend.originate(request))
        await asyncio.sleep(0.05)
        assert rig.backend.sid_of("c1") is None
        await rig.backend.hangup("c1")
        await originating
        await rig.fake.wait_finished()
        (simulated,) = rig.fake.by_call_id("c1")
        assert simulated.status == "canceled"
        assert await rig.backend.live_calls() == set()  # the lost final callback, fetched

    assert rig.signals("c1") == [S.CANCEL_REQUESTED, S.QUEUED, S.FINAL]
    assert rig.of("c1")[-1].detail == "canceled"
    assert _machine(rig.of("c1")).outcome is AttemptOutcome.CANCELLED


async def test_an_answered_call_is_bridged_then_hung_up(rig: Rig) -> None:
    await rig.backend.originate(_request("c1", TALKER, detect_machine=False))
    await rig.wait_for("c1", S.IVR_STARTED)
    await rig.backend.bridge("c1", "agente-7")
    assert "c1" in await rig.backend.live_calls()
    await rig.backend.hangup("c1")
    await rig.fake.wait_finished()

    (simulated,) = rig.fake.by_call_id("c1")
    assert simulated.conference == "agente-7"
    assert simulated.status == "completed"
    assert rig.signals("c1")[-3:] == [S.BRIDGED, S.CANCEL_REQUESTED, S.FINAL]
    call = _machine(rig.of("c1"))
    assert call.bridged_to == "agente-7"
    assert call.outcome is AttemptOutcome.HUMAN


async def test_the_apology_is_said_in_spanish_then_the_call_ends(rig: Rig) -> None:
    await rig.backend.originate(_request("c1", TALKER, detect_machine=False))
    await rig.wait_for("c1", S.IVR_STARTED)
    await rig.backend.apologise("c1", "Le llamamos de parte de ACME. Gracias.")
    await rig.fake.wait_finished()
    (simulated,) = rig.fake.by_call_id("c1")
    assert simulated.said == ["Le llamamos de parte de ACME. Gracias."]
    assert simulated.status == "completed"
    assert _machine(rig.of("c1")).outcome is AttemptOutcome.HUMAN
    with pytest.raises(BackendError, match="not a live Twilio call"):
        await rig.backend.apologise("c1", "…")


async def test_a_lost_final_callback_is_healed_by_live_calls(rig: Rig) -> None:
    rig.fake.drop_webhooks = True
    await rig.backend.originate(_request("c1", BUSY))
    await rig.fake.wait_finished()
    assert rig.signals("c1") == [S.QUEUED]

    assert await rig.backend.live_calls() == set()
    final = rig.of("c1")[-1]
    assert (final.signal, final.outcome) == (S.FINAL, AttemptOutcome.BUSY)
    assert final.source == "calls.fetch"


# --- webhook security ---------------------------------------------------------------------

RINGING_FORM = {"CallSid": "CA" + "1" * 32, "CallStatus": "ringing", "AccountSid": SID}
STATUS_PATH = "/twilio/voice/status?call_id=c9"


def _sign(url: str, form: Mapping[str, str], token: str = TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url, dict(form)))


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(None, id="unsigned"),
        pytest.param("bm90IGEgc2lnbmF0dXJl", id="forged"),
        pytest.param(
            _sign(PUBLIC + "/twilio/voice/status?call_id=c8", RINGING_FORM), id="other-url"
        ),
        pytest.param(_sign(PUBLIC + STATUS_PATH, RINGING_FORM, "e" * 32), id="other-token"),
        pytest.param(_sign("http://127.0.0.1" + STATUS_PATH, RINGING_FORM), id="internal-url"),
    ],
)
async def test_a_callback_twilio_did_not_sign_is_refused(rig: Rig, signature: str | None) -> None:
    assert await rig.post(STATUS_PATH, RINGING_FORM, signature) == 403
    assert rig.events == []


async def test_a_signed_callback_is_accepted_and_a_tampered_one_is_not(rig: Rig) -> None:
    signature = _sign(PUBLIC + STATUS_PATH, RINGING_FORM)
    tampered = RINGING_FORM | {"CallStatus": "completed"}
    assert await rig.post(STATUS_PATH, tampered, signature) == 403
    assert rig.events == []

    assert await rig.post(STATUS_PATH, RINGING_FORM, signature) == 204
    assert rig.signals("c9") == [S.RINGING]
    assert rig.backend.sid_of("c9") == RINGING_FORM["CallSid"]


async def test_the_answer_webhook_hands_the_call_a_spanish_placeholder(rig: Rig) -> None:
    path = "/twilio/voice/answer?call_id=c5"
    form = {"CallSid": "CA" + "5" * 32, "CallStatus": "in-progress", "AnsweredBy": "human"}
    status, body, content_type = await rig.send(path, form, _sign(PUBLIC + path, form))

    assert (status, content_type) == (200, "text/xml")
    root = ElementTree.fromstring(body)
    gather = root.find("Gather")
    assert gather is not None
    assert gather.get("action") == f"{PUBLIC}/twilio/voice/gather?call_id=c5"
    assert gather.get("numDigits") == "1"
    say = gather.find("Say")
    assert say is not None
    assert say.get("language") == "es-MX"
    assert say.text == PLACEHOLDER_PROMPT
    assert root.find("Hangup") is not None
    assert rig.signals("c5") == [S.IVR_STARTED, S.AMD]  # a synchronous AMD verdict rides along


async def test_repeated_callbacks_emit_nothing_new(rig: Rig) -> None:
    await rig.backend.originate(_request("c1", HUMAN))
    await rig.fake.wait_finished()
    before = list(rig.events)

    for delivery in rig.fake.deliveries:
        path = delivery.url.removeprefix(PUBLIC)
        assert await rig.post(path, delivery.params, _sign(delivery.url, delivery.params)) in (
            200,
            204,
        )
    assert rig.events == before  # nothing after the final word, nothing twice


# --- the Calls API's errors ---------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_a_create_twilio_certainly_refused_is_retried_once_created(
    rig: Rig, status: int
) -> None:
    rig.fake.fail_next_creates(2, status)
    await rig.backend.originate(_request("c1", BUSY))
    await rig.fake.wait_finished()

    assert rig.fake.create_requests == 3
    assert rig.fake.creates_by_call_id == {"c1": 1}
    assert rig.signals("c1") == [S.QUEUED, S.FINAL]


async def test_retries_are_bounded() -> None:
    async with make_rig(create_attempts=3) as rig:
        rig.fake.fail_next_creates(5, 429)
        with pytest.raises(TwilioRejected) as caught:
            await rig.backend.originate(_request("c1", BUSY))

    assert caught.value.status == 429
    assert caught.value.code == 20429
    assert rig.fake.create_requests == 3
    assert rig.fake.creates_by_call_id == {}
    assert rig.signals("c1") == [S.REJECTED]


async def test_a_create_that_times_out_is_never_retried() -> None:
    async with make_rig(read_timeout_seconds=0.3) as rig:
        rig.fake.delay_next_creates(1, 1.0)
        with pytest.raises(OriginateOutcomeUnknown):
            await rig.backend.originate(_request("c1", BUSY))
        await rig.fake.wait_finished()
        await asyncio.sleep(0.8)  # the late answer comes and goes

    assert rig.fake.create_requests == 1
    assert rig.fake.creates_by_call_id == {"c1": 1}
    # The call did go out; its webhooks still name it.
    assert rig.signals("c1") == [S.QUEUED, S.FINAL]
    assert rig.of("c1")[-1].outcome is AttemptOutcome.BUSY


@pytest.mark.parametrize(
    ("to", "caller_id", "code"),
    [("5550001234", CALLER, 21211), (HUMAN, "", 21213), (HUMAN, "12", 21212)],
)
async def test_an_invalid_create_is_rejected_with_twilios_code(
    rig: Rig, to: str, caller_id: str, code: int
) -> None:
    with pytest.raises(TwilioRejected) as caught:
        await rig.backend.originate(_request("c1", to, caller_id=caller_id))

    assert caught.value.status == 400
    assert caught.value.code == code
    assert f"error {code}" in str(caught.value)
    assert "5550001234" not in str(caught.value)  # Twilio quotes the number; we mask it
    assert caught.value.invalid_number is (code == 21211)
    (rejected,) = rig.of("c1")
    assert rejected.signal is S.REJECTED
    assert rejected.reason == code
    assert rig.fake.create_requests == 1
    assert rig.fake.creates_by_call_id == {}
    with pytest.raises(Exception, match="already originated"):
        await rig.backend.originate(_request("c1", HUMAN))


async def test_wrong_credentials_fail_at_start() -> None:
    async with TwilioApiFake(SID, TOKEN) as fake:
        backend = TwilioBackend(TwilioConfig(SID, "x" * 32, PUBLIC, api_base_url=fake.base_url))
        with pytest.raises(BackendUnavailable, match="20003"):
            await backend.start(lambda event: None)
        with pytest.raises(BackendUnavailable, match="not started"):
            await backend.originate(_request("c1", HUMAN))


# --- calls per second ---------------------------------------------------------------------


async def test_originate_keeps_to_the_calls_per_second() -> None:
    async with make_rig(cps=5.0, burst=1) as rig:
        began = time.monotonic()
        await asyncio.gather(*(rig.backend.originate(_request(f"c{i}", BUSY)) for i in range(10)))
        took = time.monotonic() - began
        await rig.fake.wait_finished()

    assert took >= 1.75
    assert len(rig.fake.create_times) == 10
    assert rig.fake.cps_excess(5.0, 1) <= 0.25  # ≤ 50 ms of loopback jitter; a burst is ≥ 1


async def test_the_fake_queues_creates_beyond_the_account_cps() -> None:
    async with make_rig(fake_cps=10.0) as rig:
        await asyncio.gather(*(rig.backend.originate(_request(f"c{i}", BUSY)) for i in range(5)))
        await rig.fake.wait_finished()

    gaps = [b - a for a, b in zip(rig.fake.dial_times, rig.fake.dial_times[1:], strict=False)]
    assert min(gaps) >= 0.09
    assert rig.fake.create_times[-1] - rig.fake.create_times[0] < 0.3  # accepted at once


# --- the translation tables ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "sip", "error", "outcome", "cause"),
    [
        (CallStatus.BUSY, 486, None, AttemptOutcome.BUSY, 17),
        (CallStatus.BUSY, None, None, AttemptOutcome.BUSY, 17),
        (CallStatus.BUSY, 603, None, AttemptOutcome.REJECTED, 21),
        (CallStatus.NO_ANSWER, 487, None, AttemptOutcome.NO_ANSWER, 19),
        (CallStatus.NO_ANSWER, 480, None, AttemptOutcome.NO_ANSWER, 19),
        (CallStatus.FAILED, 404, None, AttemptOutcome.INVALID_NUMBER, 1),
        (CallStatus.FAILED, 484, None, AttemptOutcome.INVALID_NUMBER, 28),
        (CallStatus.FAILED, None, 13224, AttemptOutcome.INVALID_NUMBER, None),
        (CallStatus.FAILED, 503, None, AttemptOutcome.CONGESTION, 34),
        (CallStatus.FAILED, 500, None, AttemptOutcome.FAILED, 38),
        (CallStatus.CANCELED, 487, None, AttemptOutcome.CANCELLED, 16),
        (CallStatus.COMPLETED, None, None, None, 16),
    ],
)
def test_final_statuses_map_to_outcomes_and_causes(
    status: CallStatus,
    sip: int | None,
    error: int | None,
    outcome: AttemptOutcome | None,
    cause: int | None,
) -> None:
    verdict = final_verdict(status, sip, error)
    assert (verdict.outcome, verdict.cause) == (outcome, cause)


def test_a_completed_callback_alone_still_says_answered() -> None:
    at = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    form = {"CallStatus": "completed", "CallDuration": "42", "AnsweredBy": "machine_end_beep"}
    events = status_events("c1", form, at, LegView(queued=True))
    assert [(e.signal, e.detail) for e in events] == [
        (S.ANSWERED, None),
        (S.AMD, "MACHINE"),
        (S.FINAL, "completed"),
    ]
    assert _machine(events).outcome is AttemptOutcome.MACHINE

    seen = LegView(queued=True, answered=True, amd=True)
    assert [e.signal for e in status_events("c1", form, at, seen)] == [S.FINAL]
    never = status_events("c1", {"CallStatus": "completed", "CallDuration": "0"}, at, LegView())
    assert [e.signal for e in never] == [S.FINAL]


def test_finished_calls_are_forgotten_after_the_retention() -> None:
    clock = VirtualClock(datetime(2026, 11, 25, 15, 0, tzinfo=UTC))
    book = LegBook(clock, retention=timedelta(minutes=15))
    sent: list[CallEvent] = []
    book.sink = sent.append
    old = book.open("c1", HUMAN)
    book.bind(old, "CA" + "1" * 32)
    book.emit(old, [book.event(old, S.FINAL, detail="busy", source="t")])
    book.emit(old, [book.event(old, S.FINAL, detail="busy", source="t")])
    assert len(sent) == 1
    clock.advance_to(clock.now() + timedelta(minutes=16))
    book.open("c2", HUMAN)
    assert "c1" not in book
    assert book.call_id_of("CA" + "1" * 32) is None
    assert len(book) == 1


def test_sip_codes_map_to_q850_as_asterisk_does() -> None:
    table = {404: 1, 480: 19, 484: 28, 486: 17, 503: 34, 603: 21, 408: 18, 410: 22, 600: 17}
    assert {sip: q850_for_sip(sip) for sip in table} == table
    assert q850_for_sip(487) is None
    assert q850_for_sip(None) is None


async def test_every_answered_by_value_is_understood(rig: Rig) -> None:
    expected = {
        "human": "HUMAN",
        "machine_start": "MACHINE",
        "machine_end_beep": "MACHINE",
        "machine_end_silence": "MACHINE",
        "machine_end_other": "MACHINE",
        "fax": "MACHINE",
        "unknown": "NOTSURE",
    }
    for index, (answered_by, detail) in enumerate(expected.items()):
        path = f"/twilio/voice/amd?call_id=a{index}"
        form = {"CallSid": f"CA{index:032d}", "AnsweredBy": answered_by}
        assert await rig.post(path, form, _sign(PUBLIC + path, form)) == 204
        assert [e.detail for e in rig.of(f"a{index}")] == [detail]
