"""The Twilio backend's configuration, webhook paths and errors (values only, no I/O)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlencode, urlsplit

from config.logging import mask_phone
from dialer.backends.twilio_status import INVALID_NUMBER_ERRORS
from dialer.errors import OriginateOutcomeUnknown, OriginateRejected
from dialer.throttle import TokenBucket

__all__ = ["Hook", "OriginateOutcomeUnknown", "TwilioConfig", "TwilioRejected", "masked"]

_ACCOUNT_SID = re.compile(r"AC[0-9a-f]{32}")
_PHONE_RUN = re.compile(r"\+?\d[\d ()-]{5,}\d")


class Hook(StrEnum):
    """Webhook paths under the public base URL; Twilio signs the full URL it calls."""

    STATUS = "/twilio/voice/status"
    AMD = "/twilio/voice/amd"
    ANSWER = "/twilio/voice/answer"
    GATHER = "/twilio/voice/gather"


def _base_url(value: str, name: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise ValueError(f"{name} must be an absolute http(s) URL without a query, not {value!r}")
    return value.rstrip("/")


@dataclass(frozen=True, slots=True)
class TwilioConfig:
    """Everything the Twilio backend needs; the auth token never appears in a repr.

    `public_base_url` is where Twilio reaches our webhooks (it signs URLs under it);
    `api_base_url` is the REST API (a regional edge, or the local fake in tests).
    Twilio's default account limit is 1 call per second without bursts, hence the defaults.
    """

    account_sid: str
    auth_token: str = field(repr=False)
    public_base_url: str
    api_base_url: str = "https://api.twilio.com"
    cps: float = 1.0
    burst: int = 1
    create_attempts: int = 4  # tries of one create while Twilio certainly did not create it
    backoff_seconds: float = 0.5
    backoff_max_seconds: float = 8.0
    retry_statuses: frozenset[int] = frozenset({429, 500, 503})
    connect_timeout_seconds: float = 3.0
    read_timeout_seconds: float = 10.0
    machine_detection: str = "Enable"  # or "DetectMessageEnd" to leave voicemail after the beep
    language: str = "es-MX"

    def __post_init__(self) -> None:
        if not _ACCOUNT_SID.fullmatch(self.account_sid):
            raise ValueError("account_sid must be AC followed by 32 lowercase hex digits")
        if not self.auth_token:
            raise ValueError("auth_token is empty; set RECAUDO_TWILIO_AUTH_TOKEN")
        object.__setattr__(
            self, "public_base_url", _base_url(self.public_base_url, "public_base_url")
        )
        object.__setattr__(self, "api_base_url", _base_url(self.api_base_url, "api_base_url"))
        if self.create_attempts < 1:
            raise ValueError(f"create_attempts must be at least 1, not {self.create_attempts}")
        if self.machine_detection not in ("Enable", "DetectMessageEnd"):
            raise ValueError("machine_detection must be Enable or DetectMessageEnd")
        if min(self.connect_timeout_seconds, self.read_timeout_seconds) <= 0:
            raise ValueError("API timeouts must be positive")
        TokenBucket(self.cps, self.burst)  # validates both

    def hook_url(self, hook: Hook, call_id: str) -> str:
        """The URL Twilio calls (and signs) for `hook` of one call of ours."""
        return f"{self.public_base_url}{hook.value}?{urlencode({'call_id': call_id})}"


def masked(text: str) -> str:
    """Twilio's error messages quote the number; logs and exceptions get its last four digits."""
    return _PHONE_RUN.sub(lambda m: mask_phone(re.sub(r"\D", "", m.group())), text)


class TwilioRejected(OriginateRejected):
    """Twilio's API answered the create with an error: the call was not placed."""

    def __init__(self, message: str, status: int, code: int | None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code

    @property
    def invalid_number(self) -> bool:
        """Twilio says the number itself is wrong (account it as INVALID_NUMBER, not FAILED)."""
        return self.code in INVALID_NUMBER_ERRORS
