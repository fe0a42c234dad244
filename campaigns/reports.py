"""Read-only summaries of what is in the database, for the console and the demo."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from campaigns.models import Account, Debtor, Phone, Segment

__all__ = ["CountryLine", "PortfolioSummary", "SegmentLine", "portfolio_summary"]


@dataclass(frozen=True, slots=True)
class CountryLine:
    country: str
    debtors: int
    accounts: int
    phones: int
    balance: dict[str, Decimal]


@dataclass(frozen=True, slots=True)
class SegmentLine:
    country: str
    segment: str
    accounts: int
    balance: Decimal
    currency: str


@dataclass
class PortfolioSummary:
    countries: list[CountryLine] = field(default_factory=list)
    segments: list[SegmentLine] = field(default_factory=list)
    #: (country, zone) → phones for which the zone is a candidate
    zones: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: country → phones whose window must hold in more than one zone
    multi_zone: Counter[str] = field(default_factory=Counter)
    #: country → phones with no known zone
    no_zone: Counter[str] = field(default_factory=Counter)


async def portfolio_summary(engine: AsyncEngine) -> PortfolioSummary:
    summary = PortfolioSummary()
    async with engine.connect() as conn:
        debtors = dict(
            (
                await conn.execute(select(Debtor.country, func.count()).group_by(Debtor.country))
            ).all()
        )
        accounts = (
            await conn.execute(
                select(Debtor.country, Account.currency, func.count(), func.sum(Account.balance))
                .select_from(Account)
                .join(Debtor, Account.debtor_id == Debtor.id)
                .group_by(Debtor.country, Account.currency)
            )
        ).all()
        phones = dict(
            (
                await conn.execute(
                    select(Debtor.country, func.count())
                    .select_from(Phone)
                    .join(Debtor, Phone.debtor_id == Debtor.id)
                    .group_by(Debtor.country)
                )
            ).all()
        )
        per_country: dict[str, tuple[int, dict[str, Decimal]]] = {}
        for country, currency, count, total in accounts:
            n, balances = per_country.get(country, (0, {}))
            balances[currency] = Decimal(total or 0).scaleb(-2)
            per_country[country] = (n + count, balances)
        for country in sorted(debtors):
            n, balances = per_country.get(country, (0, {}))
            summary.countries.append(
                CountryLine(country, debtors[country], n, phones.get(country, 0), balances)
            )
        rows = await conn.execute(
            select(
                Debtor.country,
                func.coalesce(Segment.name, "(sin días de atraso)"),
                Segment.min_days_past_due,
                Account.currency,
                func.count(),
                func.sum(Account.balance),
            )
            .select_from(Account)
            .join(Debtor, Account.debtor_id == Debtor.id)
            .outerjoin(Segment, Account.segment_id == Segment.id)
            .group_by(Debtor.country, Segment.name, Segment.min_days_past_due, Account.currency)
            .order_by(Debtor.country, Segment.min_days_past_due)
        )
        for country, name, _, currency, count, total in rows:
            summary.segments.append(
                SegmentLine(country, name, count, Decimal(total or 0).scaleb(-2), currency)
            )
        stream = await conn.stream(
            select(Debtor.country, Phone.candidate_zones)
            .select_from(Phone)
            .join(Debtor, Phone.debtor_id == Debtor.id)
        )
        async for country, zones in stream:
            for zone in zones:
                summary.zones[(country, zone)] += 1
            if len(zones) > 1:
                summary.multi_zone[country] += 1
            elif not zones:
                summary.no_zone[country] += 1
    return summary
