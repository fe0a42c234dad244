"""Telephony backends built from the settings, for the dialer process (`campaign run`).

Each backend checks its own settings group (and its secret, only ever from the environment)
and says which variable to set when one is missing; Twilio's webhook server comes with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aiohttp import web

from config.settings import Settings
from dialer.backends.base import Backend
from dialer.clock import Clock
from dialer.errors import DialerError
from dialer.sim.backend import SimBackend

__all__ = [
    "BACKENDS",
    "BackendName",
    "BackendSetupError",
    "ConfiguredBackend",
    "configured_backend",
]

BackendName = Literal["asterisk", "twilio", "sim"]
BACKENDS: tuple[BackendName, ...] = ("asterisk", "twilio", "sim")


class BackendSetupError(DialerError):
    """The settings do not describe a usable backend; the message names what to set."""


@dataclass
class ConfiguredBackend:
    """A backend built from the settings, and what runs beside it."""

    backend: Backend
    where: str
    sim: SimBackend | None = None
    webhooks: web.AppRunner | None = None
    webhook_site: tuple[str, int] | None = None

    async def open(self) -> None:
        """Start what must listen before the first call (Twilio's webhooks)."""
        if self.webhooks is None or self.webhook_site is None:
            return
        host, port = self.webhook_site
        await self.webhooks.setup()
        try:
            await web.TCPSite(self.webhooks, host, port).start()
        except OSError as exc:
            await self.webhooks.cleanup()
            raise BackendSetupError(
                f"cannot listen for Twilio's webhooks on {host}:{port} ({exc.strerror}); "
                "free the port or set RECAUDO_TWILIO__LISTEN_PORT"
            ) from None

    async def close(self) -> None:
        """Stop what `open` started (the backend itself is closed by the dialer)."""
        if self.webhooks is not None:
            await self.webhooks.cleanup()


def _asterisk(settings: Settings, clock: Clock) -> ConfiguredBackend:
    from dialer.backends.asterisk import AsteriskBackend, AsteriskConfig

    ami = settings.asterisk
    where = f"{ami.host}:{ami.port}"
    if settings.ami_password is None or not settings.ami_password.get_secret_value():
        raise BackendSetupError(
            f"--backend asterisk needs the AMI secret of user {ami.username!r} at {where}: set "
            "RECAUDO_AMI_PASSWORD (and RECAUDO_ASTERISK__HOST/__PORT/__USERNAME if they differ)"
        )
    config = AsteriskConfig(
        username=ami.username,
        secret=settings.ami_password.get_secret_value(),
        host=ami.host,
        port=ami.port,
        dial_template=ami.dial_template,
        context=ami.context,
        amd_context=ami.amd_context,
        bridge_context=ami.bridge_context,
        abandon_context=ami.abandon_context,
    )
    return ConfiguredBackend(
        AsteriskBackend(config, clock=clock), f"asterisk AMI {where} as {ami.username}"
    )


def _twilio(settings: Settings, clock: Clock) -> ConfiguredBackend:
    from dialer.backends.twilio import TwilioBackend, TwilioConfig
    from dialer.backends.twilio_webhooks import twilio_app

    tw = settings.twilio
    missing = [
        name
        for name, value in (
            ("RECAUDO_TWILIO__ACCOUNT_SID", tw.account_sid),
            ("RECAUDO_TWILIO_AUTH_TOKEN", settings.twilio_auth_token),
            ("RECAUDO_TWILIO__STATUS_CALLBACK_BASE_URL", tw.status_callback_base_url),
        )
        if not value
    ]
    if missing or tw.account_sid is None or tw.status_callback_base_url is None:
        raise BackendSetupError(
            f"--backend twilio needs {', '.join(missing)}: set them (the auth token only in the "
            "environment; the callback URL is the public https address that reaches "
            f"{tw.listen_host}:{tw.listen_port})"
        )
    token = settings.twilio_auth_token
    try:
        config = TwilioConfig(
            account_sid=tw.account_sid,
            auth_token=token.get_secret_value() if token is not None else "",
            public_base_url=tw.status_callback_base_url,
            api_base_url=tw.api_base_url,
            cps=tw.cps,
        )
    except ValueError as exc:
        raise BackendSetupError(f"--backend twilio: {exc}") from None
    backend = TwilioBackend(config, clock=clock)
    return ConfiguredBackend(
        backend,
        f"twilio {tw.api_base_url} (webhooks on {tw.listen_host}:{tw.listen_port})",
        webhooks=web.AppRunner(twilio_app(backend), access_log=None),
        webhook_site=(tw.listen_host, tw.listen_port),
    )


def configured_backend(settings: Settings, name: BackendName, clock: Clock) -> ConfiguredBackend:
    """Backend `name` from its settings group; BackendSetupError names what is missing."""
    if name == "asterisk":
        return _asterisk(settings, clock)
    if name == "twilio":
        return _twilio(settings, clock)
    sim = SimBackend(clock)
    return ConfiguredBackend(sim, "the built-in simulator (population model, real time)", sim=sim)
