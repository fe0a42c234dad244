"""Campaigns and who is in them: create a campaign, enrol a portfolio's accounts as contacts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.enums import AccountStatus, CampaignStatus, ContactStatus
from campaigns.models import Account, Campaign, CampaignContact, Debtor

__all__ = ["create_campaign", "enrol"]


async def create_campaign(
    session: AsyncSession,
    *,
    name: str,
    country: str,
    channels: Sequence[str],
    creditor: str | None = None,
    policy_packs: Sequence[str] = (),
    end_margin_minutes: int = 0,
    caller_id_pool: str | None = None,
    options: dict[str, Any] | None = None,
    pacing_mode: str = "blast",
) -> Campaign:
    """A new running campaign (the caller commits). Names are unique: reuse one and it fails."""
    if not channels:
        raise ValueError(f"campaign {name!r} needs at least one channel")
    campaign = Campaign(
        name=name,
        country=country.upper(),
        creditor=creditor,
        status=CampaignStatus.RUNNING,
        channels=list(channels),
        policy_packs=list(policy_packs),
        end_margin_minutes=end_margin_minutes,
        caller_id_pool=caller_id_pool,
        options=dict(options or {}),
        pacing_mode=pacing_mode,
    )
    session.add(campaign)
    await session.flush()
    return campaign


async def enrol(
    session: AsyncSession, campaign: Campaign, *, due_at: datetime, limit: int | None = None
) -> int:
    """Enrol every active account of the campaign's country (and creditor) not yet in it
    (the first `limit` by account id, when given).

    One INSERT … SELECT, so a portfolio of hundreds of thousands enrols in seconds; returns how
    many contacts were added.
    """
    conditions = [Debtor.country == campaign.country, Account.status == AccountStatus.ACTIVE]
    if campaign.creditor:
        conditions.append(Account.creditor == campaign.creditor)
    when = CampaignContact.__table__.c.next_attempt_at.type
    query = (
        select(
            literal(campaign.id),
            Account.id,
            literal(ContactStatus.PENDING.value),
            literal(due_at, type_=when),
            literal(0),
            literal(due_at, type_=when),
        )
        .join(Debtor, Debtor.id == Account.debtor_id)
        .where(and_(*conditions))
        .order_by(Account.id)
    )
    if limit is not None:
        query = query.limit(limit)
    columns = [
        "campaign_id",
        "account_id",
        "status",
        "next_attempt_at",
        "attempts",
        "updated_at",
    ]
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(CampaignContact)
        .from_select(columns, query)
        .on_conflict_do_nothing(index_elements=["campaign_id", "account_id"])
    )
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)
