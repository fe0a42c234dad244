"""The asterisk backend against the PBX simulator's AMI face, over loopback TCP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from campaigns.enums import AttemptOutcome, CallState
from dialer.backends.asterisk import AsteriskBackend, AsteriskConfig
from dialer.backends.base import CallRoute, OriginateRequest
from dialer.calls import Call, CallEvent
from dialer.errors import AmiProtocolError, BackendError, BackendUnavailable
from dialer.sim.pbx import PbxSimulator

SECRET = "s3cret-for-tests"


@pytest.fixture
async def pbx() -> AsyncIterator[PbxSimulator]:
    simulator = PbxSimulator(users={"dialer": SECRET}, ami_port=0, seed=1, time_scale=40.0)
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.close()


class Recorder:
    """The dialer side: one state machine per call, fed by the backend's events."""

    def __init__(self) -> None:
        self.calls: dict[str, Call] = {}
        self.changed = asyncio.Event()

    def __call__(self, event: CallEvent) -> None:
        self.calls.setdefault(event.call_id, Call(event.call_id)).feed(event)
        self.changed.set()

    async def until_settled(self, *call_ids: str, within: float = 10.0) -> None:
        async def wait() -> None:
            while True:
                calls = [self.calls.get(c) for c in call_ids]
                if all(c is not None and (c.settled or c.terminal) for c in calls):
                    return
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(wait(), within)
        await asyncio.sleep(0.2)  # late events must change nothing
        for call_id in call_ids:
            call = self.calls[call_id]
            if not call.settled:
                call.settle(call.ended_at or call.originated_at)  # type: ignore[arg-type]


def _backend(pbx: PbxSimulator, secret: str = SECRET) -> AsteriskBackend:
    return AsteriskBackend(
        AsteriskConfig(
            username="dialer",
            secret=secret,
            port=pbx.ami_port,
            dial_template="Local/{digits}@debtor-sim",
            connect_timeout=3.0,
        )
    )


@pytest.mark.parametrize(
    ("number", "outcome", "cause"),
    [
        ("5550001001", AttemptOutcome.HUMAN, None),
        ("5550002001", AttemptOutcome.BUSY, 17),
        ("5550004001", AttemptOutcome.CONGESTION, 34),
        ("5550008001", AttemptOutcome.REJECTED, 21),
        ("5550003001", AttemptOutcome.NO_ANSWER, 19),
        ("5550005001", AttemptOutcome.MACHINE, None),
    ],
)
async def test_each_lab_number_ends_as_recorded(
    pbx: PbxSimulator, number: str, outcome: AttemptOutcome, cause: int | None
) -> None:
    recorder = Recorder()
    backend = _backend(pbx)
    await backend.start(recorder)
    try:
        call_id = f"t-{number}"
        await backend.originate(
            OriginateRequest(call_id, number, "+525555500101", "Cobranza Peña", timeout_seconds=30)
        )
        await recorder.until_settled(call_id)
        call = recorder.calls[call_id]
        assert call.outcome is outcome
        if cause is not None:
            assert call.cause == cause
        assert pbx.originations[call_id] == 1
    finally:
        await backend.close()


async def test_utf8_names_survive_and_many_calls_interleave(pbx: PbxSimulator) -> None:
    recorder = Recorder()
    backend = _backend(pbx)
    await backend.start(recorder)
    try:
        ids = []
        for index, number in enumerate(["5550001002", "5550002002", "5550004002", "5550001003"]):
            call_id = f"many-{index}"
            ids.append(call_id)
            await backend.originate(
                OriginateRequest(
                    call_id,
                    number,
                    "+525555500101",
                    "Señora Peña Núñez",
                    variables={"DEBTOR_NAME": "José Peña"},
                )
            )
        await recorder.until_settled(*ids)
        outcomes = [recorder.calls[c].outcome for c in ids]
        assert outcomes == [
            AttemptOutcome.HUMAN,
            AttemptOutcome.BUSY,
            AttemptOutcome.CONGESTION,
            AttemptOutcome.HUMAN,
        ]
        assert all(pbx.originations[c] == 1 for c in ids)
    finally:
        await backend.close()


async def test_cancel_a_ringing_call(pbx: PbxSimulator) -> None:
    recorder = Recorder()
    backend = _backend(pbx)
    await backend.start(recorder)
    try:
        await backend.originate(OriginateRequest("cancel-1", "5550003009", "+525555500101"))
        for _ in range(100):
            call = recorder.calls.get("cancel-1")
            if call is not None and call.state is CallState.RINGING:
                break
            await asyncio.sleep(0.02)
        await backend.hangup("cancel-1")
        await recorder.until_settled("cancel-1")
        assert recorder.calls["cancel-1"].outcome is AttemptOutcome.CANCELLED
    finally:
        await backend.close()


async def test_wrong_secret_is_a_clear_error(pbx: PbxSimulator) -> None:
    backend = _backend(pbx, secret="wrong")
    with pytest.raises(BackendUnavailable, match="refused user 'dialer'"):
        await backend.start(Recorder())


async def test_unreachable_ami_is_a_clear_error() -> None:
    backend = AsteriskBackend(
        AsteriskConfig(username="dialer", secret="x", port=1, connect_timeout=1.0)
    )
    with pytest.raises(BackendUnavailable, match="cannot reach"):
        await backend.start(Recorder())


async def test_header_injection_is_refused_before_anything_is_sent(pbx: PbxSimulator) -> None:
    backend = _backend(pbx)
    await backend.start(Recorder())
    try:
        with pytest.raises(AmiProtocolError, match="line break"):
            await backend.originate(
                OriginateRequest("evil", "5550001001", "+525555500101", "x\r\nAction: Hangup")
            )
        assert pbx.originations["evil"] == 0
        assert not backend.tracker.knows("evil")
    finally:
        await backend.close()


async def test_ami_drop_mid_call_reconnects_and_never_redials(pbx: PbxSimulator) -> None:
    recorder = Recorder()
    backend = _backend(pbx)
    await backend.start(recorder)
    try:
        await backend.originate(OriginateRequest("drop-1", "5550001004", "+525555500101"))
        for _ in range(100):
            call = recorder.calls.get("drop-1")
            if call is not None and call.state in (CallState.ANSWERED, CallState.IN_IVR):
                break
            await asyncio.sleep(0.02)
        await pbx.drop_clients()
        for _ in range(300):
            if backend.reconnects:
                break
            await asyncio.sleep(0.02)
        assert backend.reconnects == 1
        await recorder.until_settled("drop-1", within=15)
        assert pbx.originations["drop-1"] == 1
        assert recorder.calls["drop-1"].answered_at is not None
    finally:
        await backend.close()


async def test_the_apology_redirects_to_the_abandon_context(
    pbx: PbxSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    moved: list[tuple[str, str]] = []
    redirect = pbx.redirect

    def spy(channel: object, context: str, exten: str, priority: int) -> None:
        moved.append((context, exten))
        redirect(channel, context, exten, priority)  # type: ignore[arg-type]

    monkeypatch.setattr(pbx, "redirect", spy)
    recorder = Recorder()
    backend = _backend(pbx)
    await backend.start(recorder)
    try:
        await backend.originate(OriginateRequest("apo-1", "5550001010", "+525555500101"))
        for _ in range(200):
            call = recorder.calls.get("apo-1")
            if call is not None and call.answered_at is not None:
                break
            await asyncio.sleep(0.01)
        await backend.apologise("apo-1", "Le llamamos de parte de ACME…")
        await recorder.until_settled("apo-1")
        assert moved == [("recaudo-abandon", "s")]
        assert recorder.calls["apo-1"].outcome is AttemptOutcome.HUMAN
        with pytest.raises(BackendError, match="could not play the apology"):
            await backend.apologise("never-originated", "…")
    finally:
        await backend.close()


async def test_an_agent_campaigns_call_holds_for_the_dialer_then_hears_the_apology(
    pbx: PbxSimulator,
) -> None:
    recorder = Recorder()
    backend = _backend(pbx)
    await backend.start(recorder)
    try:
        request = OriginateRequest("hold-1", "5550001011", "+525555500101", route=CallRoute.AGENT)
        await backend.originate(request)
        for _ in range(300):
            call = recorder.calls.get("hold-1")
            if call is not None and call.amd == "HUMAN":
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.02)
        call = recorder.calls["hold-1"]
        # Held in silence (an IVR call is in the IVR by now, or over: no AGI server here).
        assert call.state is CallState.ANSWERED
        assert call.ended_at is None
        await backend.apologise("hold-1", "…")
        await recorder.until_settled("hold-1")
        assert recorder.calls["hold-1"].outcome is AttemptOutcome.HUMAN
    finally:
        await backend.close()
