"""Contacting debtors: campaigns, attempts and everything that happens in them (audit trail)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.enums import (
    AttemptOutcome,
    CallState,
    CampaignStatus,
    Channel,
    ContactStatus,
    Direction,
    PromiseStatus,
    SmsStatus,
    StaffRole,
)
from campaigns.models.base import Base, JsonType, enum_column, utcnow

__all__ = [
    "Agent",
    "Attempt",
    "CallEvent",
    "CallerIdNumber",
    "Campaign",
    "CampaignContact",
    "DecisionLog",
    "Keypress",
    "OptOut",
    "PromiseToPay",
    "SmsMessage",
]


class Campaign(Base):
    """A run over a segment of the portfolio: channels, policy packs, pacing and caller IDs."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    country: Mapped[str] = mapped_column(String(2))
    creditor: Mapped[str | None] = mapped_column(String(120))
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id"))
    status: Mapped[CampaignStatus] = enum_column(CampaignStatus, default=CampaignStatus.DRAFT)
    channels: Mapped[list[str]] = mapped_column(JsonType, default=list)
    policy_packs: Mapped[list[str]] = mapped_column(JsonType, default=list)
    end_margin_minutes: Mapped[int] = mapped_column(default=0)
    pacing_mode: Mapped[str] = mapped_column(String(20), default="blast")
    caller_id_pool: Mapped[str | None] = mapped_column(String(60))
    options: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CampaignContact(Base):
    """An account's place in a campaign: when it is next due, and who holds its lease.

    The (campaign, status, next_attempt_at) index answers "which contacts are due now" without
    one scheduler job per debtor.
    """

    __tablename__ = "campaign_contacts"
    __table_args__ = (
        UniqueConstraint("campaign_id", "account_id"),
        Index(None, "campaign_id", "status", "next_attempt_at"),
        Index(None, "lease_expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    status: Mapped[ContactStatus] = enum_column(ContactStatus, default=ContactStatus.PENDING)
    next_attempt_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_outcome: Mapped[AttemptOutcome | None] = enum_column(AttemptOutcome, nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CallerIdNumber(Base):
    """A number we present as caller ID, with its pool, limits and health."""

    __tablename__ = "caller_id_numbers"
    __table_args__ = (Index(None, "pool", "active"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    e164: Mapped[str] = mapped_column(String(16), unique=True)
    pool: Mapped[str] = mapped_column(String(60))
    country: Mapped[str] = mapped_column(String(2))
    area_code: Mapped[str | None] = mapped_column(String(8))
    subdivision: Mapped[str | None] = mapped_column(String(8))
    zone: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(default=True)
    daily_cap: Mapped[int] = mapped_column(default=300)
    cooldown_seconds: Mapped[int] = mapped_column(default=0)
    health_score: Mapped[float] = mapped_column(default=1.0)
    rest_until: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Agent(Base):
    """A person who logs into the console: live agent, supervisor or admin."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[StaffRole] = enum_column(StaffRole, default=StaffRole.AGENT)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DecisionLog(Base):
    """Every compliance decision acted upon: allowed or not, why, and when it may be retried."""

    __tablename__ = "decision_log"
    __table_args__ = (
        Index(None, "phone_id", "decided_at"),
        Index(None, "account_id", "decided_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    evaluated_at: Mapped[datetime]
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    phone_id: Mapped[int | None] = mapped_column(ForeignKey("phones.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    channel: Mapped[Channel] = enum_column(Channel)
    allowed: Mapped[bool]
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    packs: Mapped[list[str]] = mapped_column(JsonType, default=list)
    zones: Mapped[list[str]] = mapped_column(JsonType, default=list)
    next_allowed_at: Mapped[datetime | None]


class Attempt(Base):
    """One contact attempt on one channel: a call (or message) and its normalised outcome.

    Written, with its lease and decision, before the call leaves the process.
    """

    __tablename__ = "attempts"
    __table_args__ = (
        Index(None, "phone_id", "created_at"),
        Index(None, "account_id", "created_at"),
        Index(None, "backend_call_id"),
        Index(None, "state", "lease_expires_at"),
        Index(None, "caller_id_number_id", "created_at"),  # a number's calls today, its health
        Index(None, "contact_id", "outcome"),  # a contact's outcomes (retry limits)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("campaign_contacts.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    phone_id: Mapped[int] = mapped_column(ForeignKey("phones.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = enum_column(Channel)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decision_log.id"))
    caller_id_number_id: Mapped[int | None] = mapped_column(ForeignKey("caller_id_numbers.id"))
    caller_id_e164: Mapped[str | None] = mapped_column(String(16))
    caller_id_reason: Mapped[str | None] = mapped_column(String(120))
    backend: Mapped[str] = mapped_column(String(20))
    backend_call_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[CallState] = enum_column(CallState, default=CallState.QUEUED)
    outcome: Mapped[AttemptOutcome | None] = enum_column(AttemptOutcome, nullable=True)
    hangup_cause: Mapped[int | None]
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    originated_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]

    #: the compliance decision this attempt acted on (inserted with it, in one flush)
    decision: Mapped[DecisionLog | None] = relationship(lazy="raise")


class CallEvent(Base):
    """An event of an attempt as the backend reported it (append-only)."""

    __tablename__ = "call_events"
    __table_args__ = (Index(None, "attempt_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)


class Keypress(Base):
    """Digits a debtor pressed at one IVR step."""

    __tablename__ = "keypresses"
    __table_args__ = (Index(None, "attempt_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    node: Mapped[str] = mapped_column(String(40))
    digits: Mapped[str] = mapped_column(String(32))


class PromiseToPay(Base):
    """A promesa de pago: amount and date, from the IVR or an agent."""

    __tablename__ = "promises_to_pay"
    __table_args__ = (Index(None, "account_id", "promised_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    channel: Mapped[Channel] = enum_column(Channel)
    promised_date: Mapped[date]
    amount: Mapped[Decimal | None]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[PromiseStatus] = enum_column(PromiseStatus, default=PromiseStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SmsMessage(Base):
    """One SMS, outbound or inbound, with its provider id and delivery state."""

    __tablename__ = "sms_messages"
    __table_args__ = (Index(None, "phone_id", "created_at"), Index(None, "provider_message_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[Direction] = enum_column(Direction)
    phone_id: Mapped[int | None] = mapped_column(ForeignKey("phones.id", ondelete="SET NULL"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id"))
    to_e164: Mapped[str] = mapped_column(String(16))
    from_e164: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    encoding: Mapped[str] = mapped_column(String(8))
    segments: Mapped[int]
    provider: Mapped[str] = mapped_column(String(20))
    provider_message_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[SmsStatus] = enum_column(SmsStatus, default=SmsStatus.QUEUED)
    error_code: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]


class OptOut(Base):
    """A debtor's request to stop contact: one channel or all (channel NULL), one phone or all."""

    __tablename__ = "opt_outs"
    __table_args__ = (Index(None, "debtor_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"))
    phone_id: Mapped[int | None] = mapped_column(ForeignKey("phones.id", ondelete="SET NULL"))
    channel: Mapped[Channel | None] = enum_column(Channel, nullable=True)
    source: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
