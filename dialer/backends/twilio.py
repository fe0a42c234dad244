"""Twilio Programmable Voice as a dialer backend: the Calls API out, signed webhooks in.

`originate` creates a call through the official SDK (async, on our own aiohttp session, see
`twilio_http`) at no more than the configured calls per second; Twilio then reports the call's
progress to the status, AMD and answer webhooks (`twilio_webhooks`), which feed `on_*` here,
and each callback becomes `CallEvent`s (`twilio_status`). Our call id rides in every webhook
URL, so events are attributed even before Twilio's CallSid is known.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any, NoReturn

import aiohttp
import structlog
from twilio.base.exceptions import (  # type: ignore[import-untyped]
    TwilioRestException,
    TwilioServiceException,
)
from twilio.rest import Client  # type: ignore[import-untyped]
from twilio.twiml.voice_response import VoiceResponse  # type: ignore[import-untyped]

from config.logging import mask_phone
from dialer.backends.base import EventSink, OriginateRequest
from dialer.backends.twilio_config import (
    Hook,
    OriginateOutcomeUnknown,
    TwilioConfig,
    TwilioRejected,
    masked,
)
from dialer.backends.twilio_http import RequestNotSent, RequestOutcomeUnknown, SessionHttpClient
from dialer.backends.twilio_legs import Leg, LegBook
from dialer.backends.twilio_status import (
    INVALID_NUMBER_ERRORS,
    CallStatus,
    amd_events,
    status_events,
)
from dialer.calls import CallEvent, Signal
from dialer.clock import Clock, SystemClock
from dialer.errors import BackendError, BackendUnavailable
from dialer.throttle import TokenBucket

__all__ = [
    "Hook",
    "OriginateOutcomeUnknown",
    "TwilioBackend",
    "TwilioConfig",
    "TwilioRejected",
]

log = structlog.get_logger(__name__)

_API_ERRORS = (TwilioRestException, TwilioServiceException)
_INVALID_NUMBER_Q850 = 28  # invalid number format
_FINAL_STATUSES = frozenset(status.value for status in CallStatus if status.final)
_PROGRESS_EVENTS = ["initiated", "ringing", "answered", "completed"]


def _api_error(exc: Any) -> tuple[int, int | None, str]:
    """HTTP status, Twilio error code and (number-masked) message of an SDK API exception."""
    if isinstance(exc, TwilioServiceException):
        return int(exc.status), exc.code, masked(str(exc.detail or exc.title))
    return int(exc.status), exc.code, masked(str(exc.msg))


class TwilioBackend:
    """The `Backend` protocol on Twilio's Calls API; webhooks come in through `on_*`."""

    name = "twilio"

    def __init__(
        self,
        config: TwilioConfig,
        *,
        clock: Clock | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self._monotonic = monotonic
        self._bucket = TokenBucket(config.cps, config.burst)
        self._cps_lock = asyncio.Lock()
        self._book = LegBook(clock or SystemClock())
        self._session: aiohttp.ClientSession | None = None
        self._client: Any = None  # twilio.rest.Client (the SDK ships no type information)
        self._tasks: set[asyncio.Task[None]] = set()

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self, sink: EventSink) -> None:
        """Open the API session and check the credentials with one account fetch."""
        if self._client is not None:
            raise BackendError("the Twilio backend is already started")
        cfg = self.config
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=cfg.connect_timeout_seconds,
            sock_connect=cfg.connect_timeout_seconds,
            sock_read=cfg.read_timeout_seconds,
        )
        self._session = aiohttp.ClientSession(timeout=timeout)
        # A non-empty `environment` keeps TWILIO_EDGE/TWILIO_REGION in the process environment
        # from rewriting the API host (the SDK's `get_hostname`) behind our back.
        client = Client(
            username=cfg.account_sid,
            password=cfg.auth_token,
            account_sid=cfg.account_sid,
            http_client=SessionHttpClient(self._session),
            environment={"TWILIO_ACCOUNT_SID": cfg.account_sid},
        )
        client.api.base_url = cfg.api_base_url
        self._client = client
        try:
            await self._api("log in", client.api.v2010.account.fetch_async)
        except _API_ERRORS as exc:
            await self.close()
            status, code, message = _api_error(exc)
            raise BackendUnavailable(
                f"Twilio at {cfg.api_base_url} refused the login (HTTP {status}, error {code}): "
                f"{message}; check the account SID and RECAUDO_TWILIO_AUTH_TOKEN"
            ) from exc
        except BackendError as exc:
            await self.close()
            raise BackendUnavailable(f"Twilio at {cfg.api_base_url}: {exc}") from exc
        self._book.sink = sink
        log.info("twilio_started", api=cfg.api_base_url, cps=cfg.cps)

    async def close(self) -> None:
        """Close the API session; calls in flight go on at Twilio and their webhooks stop."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        self._session = None
        self._client = None
        self._book.sink = None

    def _require_client(self) -> Any:
        if self._client is None:
            raise BackendUnavailable("the Twilio backend is not started (call start() first)")
        return self._client

    async def _api(self, what: str, call: Callable[[], Awaitable[Any]]) -> Any:
        """One SDK call, transport failures as `BackendError`s (API errors pass through)."""
        try:
            return await call()
        except RequestNotSent as exc:
            raise BackendUnavailable(f"{what}: Twilio unreachable ({exc})") from exc
        except RequestOutcomeUnknown as exc:
            raise BackendError(f"{what}: no answer from Twilio ({exc})") from exc

    # --- originate ------------------------------------------------------------------------

    async def _take_token(self) -> None:
        """Wait for a CPS token; callers queue in order, so nobody bursts past the limit."""
        async with self._cps_lock:
            while True:
                now = self._monotonic()
                if self._bucket.take(now):
                    return
                await asyncio.sleep(self._bucket.wait_time(now))

    def _create_params(self, request: OriginateRequest) -> dict[str, Any]:
        # No CNAM parameter exists for PSTN calls (`caller_name` is registered with carriers,
        # not sent per call), and `variables` stay here (`variables_of`), out of Twilio's logs.
        cfg = self.config
        params: dict[str, Any] = {
            "to": request.to,
            "from_": request.caller_id,
            "url": cfg.hook_url(Hook.ANSWER, request.call_id),
            "method": "POST",
            "status_callback": cfg.hook_url(Hook.STATUS, request.call_id),
            "status_callback_event": _PROGRESS_EVENTS,
            "status_callback_method": "POST",
            "timeout": max(1, min(600, round(request.timeout_seconds))),
        }
        if request.detect_machine:
            params["machine_detection"] = cfg.machine_detection
            params["async_amd"] = "true"
            params["async_amd_status_callback"] = cfg.hook_url(Hook.AMD, request.call_id)
            params["async_amd_status_callback_method"] = "POST"
        return params

    async def originate(self, request: OriginateRequest) -> None:
        """Create the call at Twilio, at most `cps` per second; returns once Twilio has it.

        Retries only while Twilio certainly did not create the call (an HTTP 429/500/503
        answer, no connection). Raises `TwilioRejected` for other API errors,
        `BackendUnavailable` when the API stays unreachable or refuses our credentials, and
        `OriginateOutcomeUnknown` when the request may have acted (never retried).
        """
        client = self._require_client()
        if request.call_id in self._book:
            raise BackendError(f"call {request.call_id} was already originated; ids dial once")
        leg = self._book.open(request.call_id, request.to, request.variables)
        params = self._create_params(request)
        calls = client.api.v2010.account.calls
        attempt = 0
        while True:
            attempt += 1
            await self._take_token()
            try:
                created = await calls.create_async(**params)
                break
            except _API_ERRORS as exc:
                status, code, message = _api_error(exc)
                if status in self.config.retry_statuses and attempt < self.config.create_attempts:
                    await self._retry_later(leg, attempt, f"HTTP {status} error {code}")
                    continue
                self._refuse(leg, status, code, message)
            except RequestNotSent as exc:
                if attempt < self.config.create_attempts:
                    await self._retry_later(leg, attempt, "unreachable")
                    continue
                unreachable = self._book.event(
                    leg, Signal.REJECTED, detail="unreachable", source="calls.create"
                )
                self._book.emit(leg, [unreachable])
                raise BackendUnavailable(
                    f"call {leg.call_id}: Twilio unreachable after {attempt} tries ({exc})"
                ) from exc
            except RequestOutcomeUnknown as exc:
                log.warning("twilio_originate_unknown", call_id=leg.call_id, error=str(exc))
                raise OriginateOutcomeUnknown(
                    f"call {leg.call_id} to {mask_phone(leg.to)}: the create request got no "
                    f"answer ({exc}); it may have been placed, so it is not retried"
                ) from exc
        self._book.bind(leg, str(created.sid))
        self._book.emit(leg, [self._book.event(leg, Signal.QUEUED, source="calls.create")])
        log.info("twilio_originated", call_id=leg.call_id, sid=leg.sid, to=mask_phone(leg.to))
        if leg.cancel_requested and not leg.final:
            await self._send_hangup(leg)

    async def _retry_later(self, leg: Leg, attempt: int, why: str) -> None:
        cfg = self.config
        ceiling = min(cfg.backoff_max_seconds, cfg.backoff_seconds * 2.0 ** (attempt - 1))
        delay = ceiling * random.uniform(0.5, 1.0)
        log.info("twilio_create_retry", call_id=leg.call_id, attempt=attempt, why=why, delay=delay)
        await asyncio.sleep(delay)

    def _refuse(self, leg: Leg, status: int, code: int | None, message: str) -> NoReturn:
        invalid = code in INVALID_NUMBER_ERRORS
        event = self._book.event(
            leg,
            Signal.REJECTED,
            cause=_INVALID_NUMBER_Q850 if invalid else None,
            reason=code,
            detail=f"HTTP {status}",
            source="calls.create",
        )
        self._book.emit(leg, [event])
        log.warning(
            "twilio_originate_rejected",
            call_id=leg.call_id,
            to=mask_phone(leg.to),
            status=status,
            code=code,
            message=message,
        )
        text = f"Twilio refused call {leg.call_id} (HTTP {status}, error {code}): {message}"
        if status in (401, 403):
            raise BackendUnavailable(f"{text}; check the account SID and auth token")
        raise TwilioRejected(text, status, code)

    # --- lookups --------------------------------------------------------------------------

    def sid_of(self, call_id: str) -> str | None:
        """Twilio's CallSid of a call of ours (None until Twilio has named it)."""
        leg = self._book.get(call_id)
        return leg.sid if leg is not None else None

    def call_id_of(self, sid: str) -> str | None:
        """Our call id for a Twilio CallSid."""
        return self._book.call_id_of(sid)

    def variables_of(self, call_id: str) -> Mapping[str, str]:
        """The originate request's variables, kept here rather than in URLs Twilio logs."""
        leg = self._book.get(call_id)
        return leg.variables if leg is not None else {}

    # --- hangup, bridge, reconciliation ---------------------------------------------------

    def _context(self, leg: Leg) -> Any:
        return self._require_client().api.v2010.account.calls(leg.sid)

    async def hangup(self, call_id: str) -> None:
        """Cancel a queued or ringing call, end an answered one; a finished call is left be."""
        leg = self._book.get(call_id)
        if leg is None:
            raise BackendError(f"no Twilio call {call_id} to hang up")
        if leg.final:
            return
        if not leg.cancel_requested:
            leg.cancel_requested = True
            self._book.emit(leg, [self._book.event(leg, Signal.CANCEL_REQUESTED, source="hangup")])
        if leg.sid is not None:  # else: hung up as soon as Twilio names the call
            await self._send_hangup(leg)

    async def _send_hangup(self, leg: Leg) -> None:
        status = CallStatus.COMPLETED if leg.answered else CallStatus.CANCELED
        context = self._context(leg)
        what = f"hang up {leg.call_id}"
        try:
            call = await self._api(what, lambda: context.update_async(status=status.value))
            # `canceled` does nothing to a call answered meanwhile; `completed` ends it.
            if status is CallStatus.CANCELED and call.status == CallStatus.IN_PROGRESS.value:
                await self._api(what, lambda: context.update_async(status="completed"))
        except _API_ERRORS as exc:
            http_status, code, message = _api_error(exc)
            if http_status == 404:
                return  # Twilio no longer has the call: it is over
            raise BackendError(
                f"{what}: Twilio said HTTP {http_status} error {code}: {message}"
            ) from exc
        log.info("twilio_hangup", call_id=leg.call_id, sid=leg.sid, status=status.value)

    async def _update_twiml(self, call_id: str, what: str, twiml: VoiceResponse) -> Leg:
        """Replace a live call's TwiML (`what` names the action in errors)."""
        leg = self._book.get(call_id)
        if leg is None or leg.sid is None or leg.final:
            raise BackendError(f"call {call_id} is not a live Twilio call; cannot {what}")
        context = self._context(leg)
        try:
            await self._api(
                f"{what} {call_id}", lambda: context.update_async(twiml=str(twiml.to_xml()))
            )
        except _API_ERRORS as exc:
            status, code, message = _api_error(exc)
            raise BackendError(
                f"{what} {call_id}: Twilio said HTTP {status} error {code}: {message}"
            ) from exc
        return leg

    async def bridge(self, call_id: str, target: str) -> None:
        """Move an answered call into the conference `target` (an agent's room)."""
        twiml = VoiceResponse()
        twiml.dial().conference(target)
        leg = await self._update_twiml(call_id, f"bridge it to {target}", twiml)
        self._book.emit(
            leg, [self._book.event(leg, Signal.BRIDGED, detail=target, source="calls.update")]
        )

    async def apologise(self, call_id: str, message: str) -> None:
        """Replace the call's TwiML with the apology (es-MX) and a hang-up."""
        twiml = VoiceResponse()
        twiml.say(message, language="es-MX")
        twiml.hangup()
        await self._update_twiml(call_id, "play the apology on it", twiml)

    async def live_calls(self) -> set[str]:
        """Calls not yet final, each checked with Twilio so a lost final callback is healed."""
        gate = asyncio.Semaphore(8)

        async def check(leg: Leg) -> None:
            context = self._context(leg)
            async with gate:
                try:
                    call = await self._api(f"fetch {leg.call_id}", context.fetch_async)
                except (BackendError, *_API_ERRORS) as exc:
                    log.warning("twilio_fetch_failed", call_id=leg.call_id, error=str(exc))
                    return
            status = str(call.status or "")
            if status in _FINAL_STATUSES:
                form = {"CallStatus": status, "AnsweredBy": str(call.answered_by or "")}
                if call.duration is not None:
                    form["CallDuration"] = str(call.duration)
                events = status_events(leg.call_id, form, self._book.clock.now(), leg.view())
                self._book.emit(leg, [replace(event, source="calls.fetch") for event in events])

        await asyncio.gather(*(check(leg) for leg in self._book.live() if leg.sid is not None))
        return {leg.call_id for leg in self._book.live()}

    # --- webhooks (called by twilio_webhooks once the signature checks out) ---------------

    def _adopt(self, call_id: str, form: Mapping[str, str]) -> Leg:
        leg, learned = self._book.adopt(call_id, form)
        if learned and leg.cancel_requested and not leg.final:
            self._spawn(self._send_hangup(leg))  # hung up before Twilio had named the call
        return leg

    def on_status(self, call_id: str, form: Mapping[str, str]) -> None:
        """A status callback (initiated, ringing, answered, completed/busy/…)."""
        leg = self._adopt(call_id, form)
        self._book.emit(leg, status_events(call_id, form, self._book.clock.now(), leg.view()))

    def on_amd(self, call_id: str, form: Mapping[str, str]) -> None:
        """The async AMD verdict (`AnsweredBy`)."""
        leg = self._adopt(call_id, form)
        now = self._book.clock.now()
        self._book.emit(leg, amd_events(call_id, form.get("AnsweredBy", ""), now, "AmdCallback"))

    def on_answer(self, call_id: str, form: Mapping[str, str]) -> None:
        """Twilio fetched the call's TwiML: the call is answered and handed to the IVR (with
        synchronous AMD the request also carries the verdict)."""
        leg = self._adopt(call_id, form)
        events = [self._book.event(leg, Signal.IVR_STARTED, source="AnswerWebhook")]
        if form.get("AnsweredBy") and not leg.amd:
            now = self._book.clock.now()
            events += amd_events(call_id, form["AnsweredBy"], now, "AnswerWebhook")
        self._book.emit(leg, events)

    def on_digits(self, call_id: str, form: Mapping[str, str]) -> None:
        """Keys the callee pressed at a `<Gather>`."""
        leg = self._adopt(call_id, form)
        now = self._book.clock.now()
        digits = form.get("Digits", "")
        self._book.emit(
            leg, [CallEvent(call_id, Signal.DTMF, now, detail=d, source="Gather") for d in digits]
        )

    def _spawn(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await work
            except BackendError as exc:
                log.warning("twilio_background_failed", error=str(exc))

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
