"""A local Twilio Voice REST API: the Calls resource, CPS queueing and signed webhooks.

It answers the requests the official SDK sends (`/2010-04-01/Accounts/{sid}/Calls.json` and
`/Calls/{CallSid}.json`) with Twilio-shaped JSON and errors, queues creates beyond the account's
calls per second like Twilio does, plays each call with the population model, and calls the
application's webhooks signed with `X-Twilio-Signature` exactly as Twilio signs them. Faults
(429s, 500s, slow answers) can be injected, and `time_scale` compresses ring and talk times.

Simplifications: TwiML is read only for a `<Gather>` action (one key is pressed there, and a
reply holding `<Hangup/>` ends the call) and for `<Conference>` names; the far end otherwise
hangs up when its script says so.
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import random
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from dialer.clock import Clock, SystemClock
from dialer.sim.population import CallScript, Fate, PopulationModel
from dialer.throttle import TokenBucket

__all__ = ["API_VERSION", "Delivery", "Fault", "SimulatedCall", "TwilioApiFake"]

API_VERSION = "2010-04-01"
_E164 = re.compile(r"\+[1-9]\d{6,14}")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_FINAL = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
# What a carrier answers Twilio for a far end's Q.850 cause (RFC 3398 §7.2.4.1, ISUP → SIP).
_SIP_FOR_CAUSE = {1: 404, 3: 404, 17: 486, 18: 408, 19: 480, 21: 603, 22: 410, 27: 502, 28: 484}
_SIP_FOR_CAUSE |= {34: 503, 38: 503, 41: 503, 42: 503}


@dataclass(frozen=True, slots=True)
class Fault:
    """A failure for the next create: an HTTP error instead of the call, or a late answer."""

    status: int | None = None  # answer with this error and create nothing
    code: int | None = None
    delay_seconds: float = 0.0  # with no status: create the call, then answer this late


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook request the fake made, as the application's server answered it."""

    url: str
    params: Mapping[str, str]
    status: int | None  # None: the request failed (connection refused, timeout)
    at: float


@dataclass(eq=False)
class SimulatedCall:
    """One call as the fake's Twilio sees it."""

    sid: str
    to: str
    from_: str
    call_id: str  # the application's id, read from the status callback URL's query
    params: Mapping[str, list[str]]
    script: CallScript
    created: datetime
    status: str = "queued"
    answered_by: str | None = None
    sip_code: int | None = None
    duration: int | None = None
    started: datetime | None = None
    ended: datetime | None = None
    conference: str | None = None
    said: list[str] = field(default_factory=list)  # <Say> texts of TwiML updates
    sequence: itertools.count[int] = field(default_factory=itertools.count)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    stop_status: str = ""
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def param(self, name: str, default: str = "") -> str:
        values = self.params.get(name)
        return values[0] if values else default

    @property
    def final(self) -> bool:
        return self.status in _FINAL


def _error(status: int, code: int, message: str) -> web.Response:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return web.json_response(body, status=status)


def _twiml_root(text: str | None) -> ElementTree.Element | None:
    """The `<Response>` of a TwiML document (None when there is none or it does not parse)."""
    if not text:
        return None
    try:
        return ElementTree.fromstring(text)
    except ElementTree.ParseError:
        return None


def _rfc2822(moment: datetime | None) -> str | None:
    return format_datetime(moment) if moment is not None else None


class TwilioApiFake:
    """The fake API server; `async with TwilioApiFake(sid, token) as fake: fake.base_url`."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        cps: float = 1.0,
        population: PopulationModel | None = None,
        scripts: Mapping[str, CallScript] | None = None,
        seed: int = 0,
        time_scale: float = 1.0,
        clock: Clock | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.account_sid = account_sid
        self._token = auth_token
        self._signer = RequestValidator(auth_token)
        self._authorization = aiohttp.encode_basic_auth(account_sid, auth_token)
        self._bucket = TokenBucket(cps, 1)
        self._population = population or PopulationModel()
        self._scripts = dict(scripts or {})
        self._rng = random.Random(seed)
        self._time_scale = time_scale
        self._clock = clock or SystemClock()
        self._monotonic = monotonic
        self._routes: dict[str, str] = {}
        self._faults: deque[Fault] = deque()
        self._queue: asyncio.Queue[SimulatedCall] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.base_url = ""
        self.calls: dict[str, SimulatedCall] = {}
        self.create_requests = 0  # every create that reached the API, faults included
        self.creates_by_call_id: Counter[str] = Counter()
        self.create_times: list[float] = []  # when each accepted create arrived (monotonic)
        self.dial_times: list[float] = []  # when each call left the CPS queue
        self.deliveries: list[Delivery] = []
        self.drop_webhooks = False  # lose every webhook (the application must reconcile)

    # --- lifecycle and test controls ------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen (port 0: any free port); returns the base URL to give the SDK."""
        app = web.Application()
        prefix = f"/{API_VERSION}/Accounts/{{account}}"
        app.add_routes(
            [
                web.get(prefix + ".json", self._fetch_account),
                web.post(prefix + "/Calls.json", self._create),
                web.get(prefix + "/Calls/{sid}.json", self._fetch),
                web.post(prefix + "/Calls/{sid}.json", self._update),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0]
        self.base_url = f"http://{host}:{bound[1]}"
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
        self._spawn(self._dial_queue())
        return self.base_url

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def route(self, public_prefix: str, local_prefix: str) -> None:
        """Deliver webhooks for URLs under `public_prefix` to `local_prefix` (a tunnel): the
        signature still covers the public URL, as it does behind a real proxy."""
        self._routes[public_prefix.rstrip("/")] = local_prefix.rstrip("/")

    def fail_next_creates(self, count: int, status: int = 429, code: int | None = None) -> None:
        """The next `count` creates get this HTTP error (429 → Twilio's 20429) and no call."""
        self._faults.extend([Fault(status, code or 20000 + status)] * count)

    def delay_next_creates(self, count: int, seconds: float) -> None:
        """The next `count` creates make the call, then answer `seconds` late."""
        self._faults.extend([Fault(delay_seconds=seconds)] * count)

    def by_call_id(self, call_id: str) -> list[SimulatedCall]:
        return [call for call in self.calls.values() if call.call_id == call_id]

    async def wait_finished(self) -> None:
        """Until every call created so far has ended and its last webhook has been sent."""
        for call in list(self.calls.values()):
            await call.done.wait()

    def cps_excess(self, rate: float, burst: int) -> float:
        """The worst excess of accepted creates over `burst + rate·t` in any window (≤ 0: the
        client kept to that rate); O(n), so benchmarks can check long runs."""
        worst = float("-inf")
        best_start = float("-inf")  # max over i ≤ j of rate·t_i − i
        for j, stamp in enumerate(self.create_times):
            best_start = max(best_start, rate * stamp - j)
            worst = max(worst, (j + 1) - rate * stamp + best_start - burst)
        return worst

    # --- REST API -------------------------------------------------------------------------

    def _unauthorized(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        if not hmac.compare_digest(header.encode(), self._authorization.encode()):
            return _error(401, 20003, "Authenticate")
        if request.match_info["account"] != self.account_sid:
            return _error(404, 20404, f"The requested resource {request.path} was not found")
        return None

    async def _fetch_account(self, request: web.Request) -> web.Response:
        refusal = self._unauthorized(request)
        if refusal is not None:
            return refusal
        body = {
            "sid": self.account_sid,
            "friendly_name": "Recaudo simulator",
            "status": "active",
            "type": "Full",
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}.json",
        }
        return web.json_response(body)

    async def _create(self, request: web.Request) -> web.Response:
        refusal = self._unauthorized(request)
        if refusal is not None:
            return refusal
        self.create_requests += 1
        fault = self._faults.popleft() if self._faults else None
        if fault is not None and fault.status is not None:
            message = "Too Many Requests" if fault.status == 429 else "Internal Server Error"
            return _error(fault.status, fault.code or 20500, message)
        form = await request.post()
        params = {key: [str(v) for v in form.getall(key)] for key in form}
        problem = self._invalid(params)
        if problem is not None:
            return problem
        call = self._new_call(params)
        self.calls[call.sid] = call
        self.creates_by_call_id[call.call_id] += 1
        self.create_times.append(self._monotonic())
        self._queue.put_nowait(call)
        if fault is not None and fault.delay_seconds > 0:
            await asyncio.sleep(fault.delay_seconds)
        return web.json_response(self._resource(call), status=201)

    @staticmethod
    def _invalid(params: Mapping[str, list[str]]) -> web.Response | None:
        """Twilio's validation of a create, with its error codes."""
        to = params.get("To", [""])[0]
        from_ = params.get("From", [""])[0]
        if not to:
            return _error(400, 21201, "No 'To' number is specified")
        if not from_:
            return _error(400, 21213, "No 'From' number is specified")
        if not _E164.fullmatch(to):
            return _error(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if not _E164.fullmatch(from_):
            return _error(400, 21212, f"Invalid 'From' Phone Number: {from_}")
        url = params.get("Url", [""])[0]
        if not url and not params.get("Twiml") and not params.get("ApplicationSid"):
            return _error(400, 21205, "Url parameter is required.")
        if url and not url.startswith(("http://", "https://")):
            return _error(400, 21205, f"Url is not a valid URL: {url}")
        timeout = params.get("Timeout", ["60"])[0]
        if not timeout.isdigit():
            return _error(400, 21216, f"Timeout must be an integer, not {timeout}")
        return None

    def _new_call(self, params: Mapping[str, list[str]]) -> SimulatedCall:
        to = params["To"][0]
        status_callback = params.get("StatusCallback", [""])[0]
        call_id = parse_qs(urlsplit(status_callback).query).get("call_id", [""])[0]
        now = self._clock.now()
        script = self._scripts.get(to) or self._population.script(to, now, self._rng)
        sid = "CA" + "".join(self._rng.choices("0123456789abcdef", k=32))
        return SimulatedCall(sid, to, params["From"][0], call_id, dict(params), script, now)

    def _resource(self, call: SimulatedCall) -> dict[str, Any]:
        return {
            "sid": call.sid,
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "to": call.to,
            "to_formatted": call.to,
            "from": call.from_,
            "from_formatted": call.from_,
            "status": call.status,
            "direction": "outbound-api",
            "answered_by": call.answered_by,
            "duration": str(call.duration) if call.duration is not None else None,
            "date_created": _rfc2822(call.created),
            "date_updated": _rfc2822(self._clock.now()),
            "start_time": _rfc2822(call.started),
            "end_time": _rfc2822(call.ended),
            "queue_time": "0",
            "price": None,
            "price_unit": "USD",
            "parent_call_sid": None,
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{call.sid}.json",
            "subresource_uris": {},
        }

    def _call_or_404(self, request: web.Request) -> SimulatedCall | web.Response:
        refusal = self._unauthorized(request)
        if refusal is not None:
            return refusal
        call = self.calls.get(request.match_info["sid"])
        if call is None:
            return _error(404, 20404, f"The requested resource {request.path} was not found")
        return call

    async def _fetch(self, request: web.Request) -> web.Response:
        call = self._call_or_404(request)
        if isinstance(call, web.Response):
            return call
        return web.json_response(self._resource(call))

    async def _update(self, request: web.Request) -> web.Response:
        call = self._call_or_404(request)
        if isinstance(call, web.Response):
            return call
        form = await request.post()
        status = str(form.get("Status", ""))
        twiml = str(form.get("Twiml", ""))
        if status and status not in ("canceled", "completed"):
            return _error(400, 20001, f"Status must be canceled or completed, not {status}")
        if status and not call.final:
            # `canceled` reaches only calls not yet answered; `completed` ends any call.
            if status == "completed" or call.status in ("queued", "ringing"):
                self._hang_up(call, status)
        elif twiml:
            if call.status != "in-progress":
                return _error(400, 21220, "Call is not in-progress. Cannot redirect.")
            root = _twiml_root(twiml)
            if root is None:
                return _error(400, 12100, "Document parse failure")
            conference = root.find(".//Conference")
            call.conference = (conference.text or "").strip() if conference is not None else None
            call.said += [(say.text or "").strip() for say in root.iter("Say")]
            if root.find(".//Hangup") is not None:
                self._hang_up(call, "completed")  # after what it says: the fake says it at once
        return web.json_response(self._resource(call))

    def _hang_up(self, call: SimulatedCall, status: str) -> None:
        if call.started is None:  # still in the CPS queue: it never leaves
            call.status = "canceled"
            self._spawn(self._finish(call, "canceled", 487))
            return
        call.stop_status = status
        call.stop.set()

    # --- playing calls out ----------------------------------------------------------------

    async def _dial_queue(self) -> None:
        """Take queued calls out at the account's CPS, like Twilio does."""
        while True:
            call = await self._queue.get()
            if call.status != "queued":
                continue
            while True:
                now = self._monotonic()
                if self._bucket.take(now):
                    break
                await asyncio.sleep(self._bucket.wait_time(now))
            if call.status != "queued":
                continue
            self.dial_times.append(self._monotonic())
            call.started = self._clock.now()
            self._spawn(self._play(call))

    async def _pause(self, call: SimulatedCall, seconds: float) -> bool:
        """Wait `seconds` of model time; True when the application hung up meanwhile."""
        try:
            async with asyncio.timeout(max(0.0, seconds) * self._time_scale):
                await call.stop.wait()
        except TimeoutError:
            return False
        return True

    async def _play(self, call: SimulatedCall) -> None:
        script, timeout = call.script, float(call.param("Timeout", "60"))
        await self._progress(call, "initiated")
        if script.fate in (Fate.INVALID, Fate.CONGESTION, Fate.BUSY) and script.ring_seconds <= 0:
            status = "busy" if script.fate is Fate.BUSY else "failed"
            await self._finish(call, status, _SIP_FOR_CAUSE.get(script.cause, 500))
            return
        call.status = "ringing"
        await self._progress(call, "ringing")
        answers = script.fate in (Fate.HUMAN, Fate.MACHINE)
        ring = min(script.ring_seconds, timeout)
        if await self._pause(call, ring):
            await self._finish(call, "canceled", 487)
        elif not answers or script.ring_seconds >= timeout:
            if script.fate in (Fate.REJECTED, Fate.BUSY) and script.ring_seconds < timeout:
                await self._finish(call, "busy", _SIP_FOR_CAUSE.get(script.cause, 486))
            elif script.fate in (Fate.INVALID, Fate.CONGESTION):
                await self._finish(call, "failed", _SIP_FOR_CAUSE.get(script.cause, 500))
            else:
                await self._finish(call, "no-answer", 487)
        else:
            await self._talk(call)

    async def _talk(self, call: SimulatedCall) -> None:
        script = call.script
        if call.stop_status == "canceled":  # the cancel came as the call was answered: no effect
            call.stop.clear()
            call.stop_status = ""
        call.status = "in-progress"
        answered = self._monotonic()
        await self._progress(call, "in-progress")
        detection = call.param("MachineDetection")
        verdict = "human"
        if script.fate is Fate.MACHINE:
            verdict = "machine_end_beep" if detection == "DetectMessageEnd" else "machine_start"
        async_amd = call.param("AsyncAmd").lower() == "true"
        # (model seconds after the answer, tie-break, step): the hang-up goes last on a tie.
        timeline: list[tuple[float, int, str]] = [(script.hangup_after_seconds, 9, "hangup")]
        if detection and not async_amd:  # synchronous AMD holds the TwiML until it decides
            if await self._pause(call, script.amd_seconds):
                await self._finish(call, "completed", answered=answered)
                return
            call.answered_by = verdict
        elif detection:
            timeline.append((script.amd_seconds, 0, "amd"))
        action = await self._fetch_twiml(call)
        if action and script.keys and script.fate is Fate.HUMAN:
            timeline.append((script.key_delay_seconds, 1, "key"))
        elapsed = 0.0
        for at, _, step in sorted(timeline):
            if await self._pause(call, at - elapsed) or step == "hangup":
                break
            elapsed = at
            if step == "amd":
                call.answered_by = verdict
                await self._webhook(
                    call.param("AsyncAmdStatusCallback"),
                    {
                        "AccountSid": self.account_sid,
                        "CallSid": call.sid,
                        "AnsweredBy": verdict,
                        "MachineDetectionDuration": str(round(script.amd_seconds * 1000)),
                    },
                )
            elif step == "key" and action and call.conference is None:
                reply = await self._webhook(action, self._call_params(call, Digits=script.keys[0]))
                root = _twiml_root(reply)
                if root is not None and root.find("Hangup") is not None:
                    break
        await self._finish(call, "completed", answered=answered)

    async def _fetch_twiml(self, call: SimulatedCall) -> str | None:
        """Run the call's TwiML as far as we model it; returns its `<Gather>` action URL."""
        url = call.param("Url")
        twiml = call.param("Twiml")
        if url:
            params = self._call_params(call)
            if call.answered_by:
                params["AnsweredBy"] = call.answered_by
            twiml = await self._webhook(url, params) or ""
        root = _twiml_root(twiml)
        gather = root.find("Gather") if root is not None else None
        if gather is None:
            return None
        return gather.get("action") or url or None

    async def _finish(
        self, call: SimulatedCall, status: str, sip: int | None = None, answered: float = 0.0
    ) -> None:
        call.status = status
        call.ended = self._clock.now()
        call.sip_code = sip
        extra: dict[str, str] = {}
        if status == "completed":
            seconds = (self._monotonic() - answered) / self._time_scale if answered else 0.0
            call.duration = round(seconds)
            extra["CallDuration"] = extra["Duration"] = str(call.duration)
            if call.answered_by:
                extra["AnsweredBy"] = call.answered_by
        else:
            call.duration = 0
            extra["CallDuration"] = "0"
        if sip is not None:
            extra["SipResponseCode"] = str(sip)
        await self._progress(call, status, extra, always=True)
        call.done.set()

    def _call_params(self, call: SimulatedCall, **extra: str) -> dict[str, str]:
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "CallSid": call.sid,
            "CallStatus": call.status,
            "Called": call.to,
            "Caller": call.from_,
            "Direction": "outbound-api",
            "From": call.from_,
            "To": call.to,
        }
        params.update(extra)
        return params

    async def _progress(
        self,
        call: SimulatedCall,
        status: str,
        extra: Mapping[str, str] | None = None,
        *,
        always: bool = False,
    ) -> None:
        """A status callback, if the application subscribed to this event."""
        event = {"in-progress": "answered"}.get(status, status)
        if not always and event not in call.params.get("StatusCallbackEvent", []):
            return
        url = call.param("StatusCallback")
        if not url:
            return
        params = self._call_params(call, CallStatus=status)
        params["CallbackSource"] = "call-progress-events"
        params["SequenceNumber"] = str(next(call.sequence))
        params["Timestamp"] = format_datetime(self._clock.now())
        params.update(extra or {})
        await self._webhook(url, params)

    async def _webhook(self, url: str, params: Mapping[str, str]) -> str | None:
        """POST a signed webhook; the body of a 2xx answer, None otherwise."""
        if not url or self._session is None:
            return None
        target = url
        for public, local in self._routes.items():
            if url.startswith(public):
                target = local + url[len(public) :]
                break
        if self.drop_webhooks or urlsplit(target).hostname not in _LOOPBACK:
            self.deliveries.append(Delivery(url, dict(params), None, self._monotonic()))
            return None  # lost, or not on this machine: the simulator never leaves it
        headers = {
            "X-Twilio-Signature": self._signer.compute_signature(url, dict(params)),
            "User-Agent": "TwilioProxy/1.1",
        }
        status: int | None = None
        body: str | None = None
        try:
            async with self._session.post(target, data=dict(params), headers=headers) as reply:
                status = reply.status
                text = await reply.text()
                body = text if reply.status < 300 else None
        except (aiohttp.ClientError, TimeoutError):
            body = None
        self.deliveries.append(Delivery(url, dict(params), status, self._monotonic()))
        return body

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
