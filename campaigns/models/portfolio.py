"""The portfolio (*cartera*): debtors, their debts, phones and addresses, as imported."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.enums import AccountStatus, ImportStatus, LineType, PhoneRole, Provenance
from campaigns.models.base import Base, JsonType, enum_column, utcnow

__all__ = ["Account", "Address", "Debtor", "ImportRun", "Phone", "Segment"]


class Debtor(Base):
    """A person who owes (or guarantees) one or more debts; one row per person."""

    __tablename__ = "debtors"
    __table_args__ = (UniqueConstraint("country", "national_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    country: Mapped[str] = mapped_column(String(2))
    national_id: Mapped[str | None] = mapped_column(String(32))
    national_id_kind: Mapped[str | None] = mapped_column(String(16))
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    accounts: Mapped[list[Account]] = relationship(back_populates="debtor")
    phones: Mapped[list[Phone]] = relationship(back_populates="debtor")
    addresses: Mapped[list[Address]] = relationship(back_populates="debtor")


class Segment(Base):
    """A bucket of accounts by days past due (e.g. 1–30, 31–60); campaigns target segments."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    min_days_past_due: Mapped[int]
    max_days_past_due: Mapped[int | None]


class ImportRun(Base):
    """One run of `main.py import`: what file, what it did; accounts point to their last run."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_name: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    country: Mapped[str] = mapped_column(String(2))
    strict: Mapped[bool]
    status: Mapped[ImportStatus] = enum_column(ImportStatus)
    rows_total: Mapped[int] = mapped_column(default=0)
    imported: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    vanished: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class Account(Base):
    """One debt: creditor, product, balance and delinquency. Upserted by (creditor, number)."""

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("creditor", "account_number"),
        Index(None, "debtor_id"),
        Index(None, "segment_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="RESTRICT"))
    creditor: Mapped[str] = mapped_column(String(120))
    account_number: Mapped[str] = mapped_column(String(64))
    product: Mapped[str | None] = mapped_column(String(120))
    balance: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    due_date: Mapped[date | None]
    days_past_due: Mapped[int | None]
    status: Mapped[AccountStatus] = enum_column(AccountStatus, default=AccountStatus.ACTIVE)
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id"))
    last_import_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    debtor: Mapped[Debtor] = relationship(back_populates="accounts")
    segment: Mapped[Segment | None] = relationship()


class Phone(Base):
    """A number at which a debtor (or their aval, codeudor…) may be reached, in E.164.

    `candidate_zones` is every IANA zone the holder may be in; a call window must hold in all.
    `zone_sources` says where each candidate came from (phone prefix, override table, address).
    """

    __tablename__ = "phones"
    __table_args__ = (UniqueConstraint("debtor_id", "e164"), Index(None, "e164"))

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"))
    e164: Mapped[str] = mapped_column(String(16))
    line_type: Mapped[LineType] = enum_column(LineType)
    role: Mapped[PhoneRole] = enum_column(PhoneRole)
    provenance: Mapped[Provenance] = enum_column(Provenance)
    consent_channels: Mapped[list[str]] = mapped_column(JsonType, default=list)
    authorized_channels: Mapped[list[str] | None] = mapped_column(JsonType)
    candidate_zones: Mapped[list[str]] = mapped_column(JsonType)
    zone_sources: Mapped[dict[str, Any]] = mapped_column(JsonType)
    source_column: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    debtor: Mapped[Debtor] = relationship(back_populates="phones")


class Address(Base):
    """A postal address; its zone is one more candidate for every phone of the debtor."""

    __tablename__ = "addresses"
    __table_args__ = (UniqueConstraint("debtor_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default="home")
    country: Mapped[str] = mapped_column(String(2))
    subdivision: Mapped[str | None] = mapped_column(String(8))
    municipality: Mapped[str | None] = mapped_column(String(120))
    postal_code: Mapped[str | None] = mapped_column(String(12))
    street: Mapped[str | None] = mapped_column(Text)
    zones: Mapped[list[str]] = mapped_column(JsonType, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    debtor: Mapped[Debtor] = relationship(back_populates="addresses")
