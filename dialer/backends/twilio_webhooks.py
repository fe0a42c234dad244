"""Twilio's webhooks as aiohttp routes; nothing unsigned gets through.

Every request must carry an `X-Twilio-Signature` that the SDK's `RequestValidator` accepts for
the URL *Twilio* called: the configured public base URL plus the hook's path and the query as
sent, never the host this process listens on (a proxy or tunnel sits in between). A forged,
unsigned or misdirected request gets 403 and emits nothing.

The answer webhook's TwiML is a placeholder until the IVR exists: one Spanish prompt in a
one-digit `<Gather>`, a thank-you, and a hang-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog
from aiohttp import web
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]
from twilio.twiml.voice_response import VoiceResponse  # type: ignore[import-untyped]

from dialer.backends.twilio_config import Hook

if TYPE_CHECKING:
    from dialer.backends.twilio import TwilioBackend

__all__ = ["PLACEHOLDER_PROMPT", "SIGNATURE_HEADER", "twilio_app", "twilio_routes"]

log = structlog.get_logger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"
PLACEHOLDER_PROMPT = (
    "Hola. Le llamamos para tratar un asunto de su cuenta. Para continuar, oprima uno."
)
_GOODBYE = "Gracias. Hasta luego."
_TWIML = "text/xml"


class _Hooks:
    """The handlers of one backend, sharing its validator and public base URL."""

    def __init__(self, backend: TwilioBackend) -> None:
        self._backend = backend
        self._validator = RequestValidator(backend.config.auth_token)
        self._base = backend.config.public_base_url

    async def _verified(self, request: web.Request, hook: Hook) -> tuple[str, dict[str, str]]:
        """The call id and form of a genuine Twilio request; raises 403/400 otherwise."""
        posted = await request.post()
        form = {key: value for key, value in posted.items() if isinstance(value, str)}
        query = request.rel_url.raw_query_string
        url = f"{self._base}{hook.value}" + (f"?{query}" if query else "")
        signature = request.headers.get(SIGNATURE_HEADER, "")
        call_id = request.query.get("call_id", "")
        if not signature or not self._validator.validate(url, form, signature):
            log.warning(
                "twilio_webhook_forbidden",
                hook=hook.name.lower(),
                reason="bad signature" if signature else "no signature",
                remote=request.remote,
                call_id=call_id[:64],
            )
            raise web.HTTPForbidden(text="invalid Twilio signature")
        if not call_id:
            log.warning("twilio_webhook_without_call_id", hook=hook.name.lower())
            raise web.HTTPBadRequest(text="call_id missing from the webhook URL")
        return call_id, form

    async def status(self, request: web.Request) -> web.StreamResponse:
        call_id, form = await self._verified(request, Hook.STATUS)
        self._backend.on_status(call_id, form)
        return web.Response(status=204)

    async def amd(self, request: web.Request) -> web.StreamResponse:
        call_id, form = await self._verified(request, Hook.AMD)
        self._backend.on_amd(call_id, form)
        return web.Response(status=204)

    async def answer(self, request: web.Request) -> web.StreamResponse:
        call_id, form = await self._verified(request, Hook.ANSWER)
        self._backend.on_answer(call_id, form)
        return _twiml(self._placeholder(call_id))

    async def gather(self, request: web.Request) -> web.StreamResponse:
        call_id, form = await self._verified(request, Hook.GATHER)
        self._backend.on_digits(call_id, form)
        reply = VoiceResponse()
        reply.say(_GOODBYE, language=self._backend.config.language)
        reply.hangup()
        return _twiml(reply)

    def _placeholder(self, call_id: str) -> VoiceResponse:
        language = self._backend.config.language
        reply = VoiceResponse()
        gather = reply.gather(
            input="dtmf",
            num_digits=1,
            timeout=5,
            action=self._backend.config.hook_url(Hook.GATHER, call_id),
            method="POST",
        )
        gather.say(PLACEHOLDER_PROMPT, language=language)
        reply.say(_GOODBYE, language=language)
        reply.hangup()
        return reply


def _twiml(reply: VoiceResponse) -> web.Response:
    return web.Response(text=str(reply.to_xml()), content_type=_TWIML)


def twilio_routes(backend: TwilioBackend) -> list[web.RouteDef]:
    """The four webhook routes (POST) of `backend`, for any aiohttp application."""
    hooks = _Hooks(backend)
    return [
        web.post(Hook.STATUS.value, hooks.status),
        web.post(Hook.AMD.value, hooks.amd),
        web.post(Hook.ANSWER.value, hooks.answer),
        web.post(Hook.GATHER.value, hooks.gather),
    ]


def twilio_app(backend: TwilioBackend) -> web.Application:
    """A stand-alone application serving `backend`'s webhooks."""
    app = web.Application()
    app.add_routes(twilio_routes(backend))
    return app
