"""The engine's values: who is contacted, what happened before, and what the engine decides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

__all__ = [
    "CHANNELS",
    "Code",
    "Contact",
    "Decision",
    "Event",
    "EventKind",
    "Reason",
]

#: Every channel a rule may name (the engine decides for the first six).
CHANNELS = (
    "voice_live",
    "voice_prerecorded",
    "voicemail",
    "sms",
    "whatsapp",
    "email",
    "visit",
    "letter",
)
MESSAGE_CHANNELS = frozenset({"sms", "whatsapp", "email", "letter"})


class Code(StrEnum):
    """Why a contact is not allowed; stable codes shown to auditors and stored in the log."""

    WINDOW_CLOSED = "WINDOW_CLOSED"
    DAY_CLOSED = "DAY_CLOSED"
    HOLIDAY = "HOLIDAY"
    CAP_EXCEEDED = "CAP_EXCEEDED"
    COOLOFF_ACTIVE = "COOLOFF_ACTIVE"
    MIN_GAP = "MIN_GAP"
    THIRD_PARTY_FORBIDDEN = "THIRD_PARTY_FORBIDDEN"
    CONSENT_REQUIRED = "CONSENT_REQUIRED"
    CHANNEL_NOT_AUTHORIZED = "CHANNEL_NOT_AUTHORIZED"
    CONTACT_POINT_NOT_ALLOWED = "CONTACT_POINT_NOT_ALLOWED"
    CALLER_ID_INVALID = "CALLER_ID_INVALID"
    OPTED_OUT = "OPTED_OUT"
    ZONE_UNKNOWN = "ZONE_UNKNOWN"
    ACCOUNT_CLOSED = "ACCOUNT_CLOSED"


class EventKind(StrEnum):
    ATTEMPT = "attempt"
    TWO_WAY_CONTACT = "two_way_contact"
    CONVERSATION = "conversation"
    MESSAGE_SENT = "message_sent"
    OPT_OUT = "opt_out"


@dataclass(frozen=True, slots=True)
class Event:
    """Something that already happened with this person (the audit trail, as the engine sees it).

    `connected` (attempts): the call reached the line; None = not known (counted as connected).
    `channel` None on an opt-out means every channel. `debt`/`phone` None = not known.
    """

    kind: EventKind
    at: datetime
    channel: str | None = None
    debt: str | None = None
    phone: str | None = None
    connected: bool | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    """One phone (or address) of one person about one debt, with every fact the rules read.

    `zones` are the candidate IANA zones with `zone_sources` saying where each came from; an
    empty `zones` means unknown. Unknown facts are None: each rule says what unknown means.
    """

    country: str | None
    subdivision: str | None = None
    phone: str | None = None
    zones: tuple[str, ...] = ()
    zone_sources: tuple[tuple[str, str], ...] = ()
    role: str | None = None
    line_type: str | None = None
    provenance: str | None = None
    consent: frozenset[str] = frozenset()
    authorized_channels: frozenset[str] | None = None
    debt: str | None = None
    caller_id: str | None = None
    account_status: str | None = None


class Reason(NamedTuple):
    """One failing rule: its code, where it comes from, in which zone, and a sentence (es, en)."""

    code: Code
    pack: str
    rule: str
    zone: str | None
    detail_es: str
    detail_en: str
    status: str = "confirmed"

    def to_json(self) -> dict[str, str | None]:
        return {
            "code": self.code.value,
            "pack": self.pack,
            "rule": self.rule,
            "zone": self.zone,
            "detail": self.detail_en,
            "detail_es": self.detail_es,
            "status": self.status,
        }


class Decision(NamedTuple):
    """`allowed` at `at`; else every reason, and the earliest instant ≥ `at` at which every rule
    allows (None: never, or not within the search horizon)."""

    allowed: bool
    at: datetime
    channel: str
    reasons: tuple[Reason, ...] = ()
    next_allowed_at: datetime | None = None
    packs: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "allowed": self.allowed,
            "channel": self.channel,
            "at": self.at.isoformat(),
            "reasons": [r.to_json() for r in self.reasons],
            "next_allowed_at": self.next_allowed_at.isoformat() if self.next_allowed_at else None,
            "packs": list(self.packs),
            "zones": list(self.zones),
        }
