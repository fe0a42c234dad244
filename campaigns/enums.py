"""The domain's closed vocabularies. Stored as their string values, shared by every layer."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "AccountStatus",
    "AttemptOutcome",
    "CallState",
    "CampaignStatus",
    "Channel",
    "ContactStatus",
    "Direction",
    "ImportStatus",
    "LineType",
    "PhoneRole",
    "PromiseStatus",
    "Provenance",
    "SmsStatus",
    "StaffRole",
]


class AccountStatus(StrEnum):
    ACTIVE = "active"
    PAID = "paid"
    DISPUTED = "disputed"
    CLOSED = "closed"


class LineType(StrEnum):
    MOBILE = "mobile"
    FIXED_LINE = "fixed_line"
    VOIP = "voip"
    UNKNOWN = "unknown"


class PhoneRole(StrEnum):
    """Who answers this number, relative to the debt (references may not be called in MX/CO)."""

    DEBTOR = "debtor"
    AVAL = "aval"
    OBLIGADO_SOLIDARIO = "obligado_solidario"
    CODEUDOR = "codeudor"
    REFERENCE = "reference"
    OTHER = "other"


class Provenance(StrEnum):
    PROVIDED = "provided"
    SKIP_TRACE = "skip_trace"


class Channel(StrEnum):
    VOICE_LIVE = "voice_live"
    VOICE_PRERECORDED = "voice_prerecorded"
    VOICEMAIL = "voicemail"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    EMAIL = "email"


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"


class ContactStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    BLOCKED = "blocked"


class CallState(StrEnum):
    QUEUED = "queued"
    ORIGINATING = "originating"
    RINGING = "ringing"
    ANSWERED = "answered"
    IN_IVR = "in_ivr"
    BRIDGED = "bridged"
    ENDED = "ended"
    FAILED = "failed"


class AttemptOutcome(StrEnum):
    HUMAN = "human"
    MACHINE = "machine"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CONGESTION = "congestion"
    REJECTED = "rejected"
    INVALID_NUMBER = "invalid_number"
    CANCELLED = "cancelled"
    ABANDONED = "abandoned"
    FAILED = "failed"


class PromiseStatus(StrEnum):
    PENDING = "pending"
    KEPT = "kept"
    BROKEN = "broken"
    CANCELLED = "cancelled"


class Direction(StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class SmsStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    RECEIVED = "received"


class StaffRole(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class ImportStatus(StrEnum):
    RUNNING = "running"
    COMMITTED = "committed"
    REJECTED = "rejected"
    FAILED = "failed"
