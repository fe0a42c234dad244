"""The HTTP transport under the Twilio SDK: our aiohttp session, and whether a request left.

The SDK builds, authenticates and parses every request itself; this client only carries it.
We bring our own because the SDK's `AsyncTwilioHttpClient` (9.13) passes `timeout=None` to
aiohttp on every request, which disables all timeouts, and because originate must tell "the
request never reached Twilio" (safe to retry) from "it may have been processed" (never retry:
that could dial the debtor twice).
"""

from __future__ import annotations

import logging

import aiohttp
from twilio.http import AsyncHttpClient  # type: ignore[import-untyped]
from twilio.http.response import Response  # type: ignore[import-untyped]

__all__ = ["RequestNotSent", "RequestOutcomeUnknown", "SessionHttpClient"]

_sdk_log = logging.getLogger("twilio.http_client")


class RequestNotSent(Exception):
    """The request never reached the API (no connection): nothing happened on Twilio's side."""


class RequestOutcomeUnknown(Exception):
    """The request was (or may have been) sent and no answer came back: it may have acted."""


def _form(data: dict[str, object] | None) -> list[tuple[str, str]] | None:
    """The SDK's body as form pairs; list values (`StatusCallbackEvent`) become repeated keys."""
    if data is None:
        return None
    pairs: list[tuple[str, str]] = []
    for key, value in data.items():
        pairs.extend((key, str(item)) for item in (value if isinstance(value, list) else [value]))
    return pairs


class SessionHttpClient(AsyncHttpClient):  # type: ignore[misc]
    """An async SDK transport on a shared `aiohttp.ClientSession` with real timeouts."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        super().__init__(_sdk_log, True, None)
        self._session = session

    async def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (the SDK's signature)
        allow_redirects: bool = False,
    ) -> Response:
        """Send one SDK request; raises `RequestNotSent` or `RequestOutcomeUnknown` on failure.

        `timeout` is ignored: the session's connect and read timeouts apply to every request
        (the SDK passes none for the resources we use).
        """
        sent_headers = dict(headers or {})
        if auth is not None:
            sent_headers["Authorization"] = aiohttp.encode_basic_auth(auth[0], auth[1])
        query = {k: str(v) for k, v in params.items()} if params else None
        try:
            async with self._session.request(
                method.upper(),
                uri,
                params=query,
                data=_form(data),
                headers=sent_headers,
                allow_redirects=allow_redirects,
            ) as reply:
                text = await reply.text()
                return Response(reply.status, text, dict(reply.headers))
        except (aiohttp.ConnectionTimeoutError, aiohttp.ClientConnectorError) as exc:
            raise RequestNotSent(f"{method.upper()} {uri}: {type(exc).__name__}: {exc}") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RequestOutcomeUnknown(
                f"{method.upper()} {uri}: {type(exc).__name__}: {exc}"
            ) from exc
