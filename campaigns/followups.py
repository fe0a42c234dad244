"""What an abandoned call leaves behind for the debtor: the apology heard and the SMS queued.

An answered debtor whom no agent took within 2 s hears a short message naming the agency and
its callback number (16 CFR 310.4(b)(4)(iii); never silence), and gets an SMS follow-up queued
for the SMS sender. Spanish (es-MX) first. The SMS's encoding and segment count follow GSM
03.38: the 7-bit alphabet (extension characters take two septets) fits 160 characters in one
segment and 153 per part when concatenated; anything else is UCS-2, 70 and 67 (characters
outside the BMP take two UTF-16 units).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["SmsText", "abandon_apology", "abandon_sms", "measure_sms"]

_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENSION = frozenset("^{}\\[~]|€\f")
_DEFAULT_AGENCY = "su despacho de cobranza"


@dataclass(frozen=True, slots=True)
class SmsText:
    """A message body with the encoding and number of segments it will be sent in."""

    body: str
    encoding: str  # "GSM-7" or "UCS-2"
    segments: int


def measure_sms(body: str) -> SmsText:
    """The encoding and segment count of `body` (GSM 03.38 / UCS-2)."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENSION for ch in body):
        units = sum(2 if ch in _GSM_EXTENSION else 1 for ch in body)
        single, part, encoding = 160, 153, "GSM-7"
    else:
        units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in body)
        single, part, encoding = 70, 67, "UCS-2"
    segments = 1 if units <= single else math.ceil(units / part)
    return SmsText(body, encoding, segments)


def _spoken_number(e164: str) -> str:
    """A callback number read digit by digit (TTS reads "5 5 1 2…", not "five billion")."""
    return " ".join(ch for ch in e164 if ch.isdigit())


def abandon_apology(agency: str, callback: str) -> str:
    """What the debtor hears when no agent is free: who calls and how to call back (es-MX)."""
    who = agency.strip() or _DEFAULT_AGENCY
    return (
        f"Le llamamos de parte de {who}. En este momento no hay un asesor disponible. "
        f"Por favor comuníquese al {_spoken_number(callback)}. Gracias."
    )


def abandon_sms(agency: str, callback: str) -> SmsText:
    """The SMS queued after an abandoned call (es-MX)."""
    who = agency.strip() or _DEFAULT_AGENCY
    return measure_sms(
        f"{who}: le llamamos y no pudimos atenderle en ese momento. "
        f"Llámenos al {callback} o responda a este mensaje."
    )
