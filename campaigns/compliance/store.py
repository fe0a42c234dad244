"""The engine's I/O adapter: contacts and histories from the database, and the decision log."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.compliance.model import Contact, Decision, Event, EventKind
from campaigns.enums import AttemptOutcome, Direction
from campaigns.models import (
    Account,
    Address,
    Attempt,
    Debtor,
    DecisionLog,
    OptOut,
    Phone,
    SmsMessage,
)
from campaigns.portfolio.phones import PhoneNormaliser
from campaigns.portfolio.values import ValueProblem

__all__ = [
    "StoredContact",
    "contact_query",
    "contacts_for",
    "histories",
    "history_for",
    "record_decision",
    "stored_contact",
]

_NOT_CONNECTED = {
    AttemptOutcome.BUSY,
    AttemptOutcome.CONGESTION,
    AttemptOutcome.INVALID_NUMBER,
    AttemptOutcome.FAILED,
    AttemptOutcome.CANCELLED,
    AttemptOutcome.REJECTED,
}


@dataclass(frozen=True, slots=True)
class StoredContact:
    """A Contact with the database rows it was built from."""

    contact: Contact
    debtor: Debtor
    account: Account
    phone: Phone
    address: Address | None


async def contacts_for(session: AsyncSession, key: str, country: str) -> list[StoredContact]:
    """Every (account, phone) pair matching a phone number (any format) or an account number."""
    phone_filter = None
    try:
        e164 = (
            PhoneNormaliser(country).normalise(key).e164 if any(c.isdigit() for c in key) else None
        )
    except (ValueProblem, ValueError):
        e164 = None
    if e164 is not None:
        phone_filter = Phone.e164 == e164
    accounts_by_number = select(Account.debtor_id).where(Account.account_number == key)
    query = contact_query()
    conditions: list[ColumnElement[bool]] = [Phone.debtor_id.in_(accounts_by_number)]
    if phone_filter is not None:
        conditions.append(phone_filter)
    rows = await session.execute(query.where(or_(*conditions)).order_by(Account.id, Phone.id))
    return [
        stored_contact(phone, debtor, account, address)
        for phone, debtor, account, address in rows
        if phone_filter is not None or account.account_number == key
    ]


def stored_contact(
    phone: Phone, debtor: Debtor, account: Account, address: Address | None
) -> StoredContact:
    """The engine's view of one phone of one account's debtor."""
    sources = tuple(
        (zone, source) for zone, names in phone.zone_sources.items() for source in names
    )
    contact = Contact(
        country=debtor.country,
        subdivision=address.subdivision if address else None,
        phone=phone.e164,
        zones=tuple(phone.candidate_zones),
        zone_sources=sources,
        role=phone.role.value,
        line_type=phone.line_type.value,
        provenance=phone.provenance.value,
        consent=frozenset(phone.consent_channels),
        authorized_channels=(
            None if phone.authorized_channels is None else frozenset(phone.authorized_channels)
        ),
        debt=account.account_number,
        account_status=account.status.value,
    )
    return StoredContact(contact, debtor, account, phone, address)


def contact_query() -> Select[Phone, Debtor, Account, Address]:
    """Every (phone, debtor, account, home address) row: the contacts a campaign could make."""
    return (
        select(Phone, Debtor, Account, Address)
        .join(Debtor, Phone.debtor_id == Debtor.id)
        .join(Account, Account.debtor_id == Debtor.id)
        .outerjoin(Address, (Address.debtor_id == Debtor.id) & (Address.kind == "home"))
    )


async def history_for(session: AsyncSession, debtor_id: int, since: datetime) -> tuple[Event, ...]:
    """The person's audit trail as engine events: attempts, conversations, messages, opt-outs."""
    return (await histories(session, since, [debtor_id])).get(debtor_id, ())


async def histories(
    session: AsyncSession, since: datetime, debtor_ids: Sequence[int] | None = None
) -> dict[int, tuple[Event, ...]]:
    """Audit trails of many people at once (all of them when `debtor_ids` is None)."""
    found: dict[int, list[Event]] = defaultdict(list)

    def only(column: Any) -> Any:
        return true() if debtor_ids is None else column.in_(debtor_ids)

    attempts = await session.execute(
        select(Attempt, Account.debtor_id, Account.account_number, Phone.e164)
        .join(Account, Attempt.account_id == Account.id)
        .join(Phone, Attempt.phone_id == Phone.id)
        .where(only(Account.debtor_id), Attempt.created_at >= since)
    )
    for attempt, debtor_id, debt, e164 in attempts:
        at = attempt.originated_at or attempt.created_at
        connected = None if attempt.outcome is None else attempt.outcome not in _NOT_CONNECTED
        channel = attempt.channel.value
        events = found[debtor_id]
        events.append(Event(EventKind.ATTEMPT, at, channel, debt, e164, connected))
        if attempt.outcome is AttemptOutcome.HUMAN:
            events.append(Event(EventKind.TWO_WAY_CONTACT, at, channel, debt, e164))
            if attempt.agent_id is not None:
                events.append(Event(EventKind.CONVERSATION, at, channel, debt, e164))
    messages = await session.execute(
        select(SmsMessage, Phone.debtor_id, Phone.e164, Account.account_number)
        .join(Phone, SmsMessage.phone_id == Phone.id)
        .outerjoin(Account, SmsMessage.account_id == Account.id)
        .where(only(Phone.debtor_id), SmsMessage.created_at >= since)
    )
    for message, debtor_id, e164, debt in messages:
        kind = (
            EventKind.MESSAGE_SENT
            if message.direction is Direction.OUTBOUND
            else EventKind.TWO_WAY_CONTACT
        )
        found[debtor_id].append(
            Event(kind, message.sent_at or message.created_at, "sms", debt, e164)
        )
    opt_outs = await session.execute(
        select(OptOut, Phone.e164)
        .outerjoin(Phone, OptOut.phone_id == Phone.id)
        .where(only(OptOut.debtor_id), OptOut.revoked_at.is_(None))
    )
    for opt_out, e164 in opt_outs:
        scope: str | None = None if opt_out.channel is None else opt_out.channel.value
        found[opt_out.debtor_id].append(
            Event(EventKind.OPT_OUT, opt_out.created_at, scope, None, e164)
        )
    return {k: tuple(sorted(v, key=lambda e: e.at)) for k, v in found.items()}


def record_decision(
    session: AsyncSession,
    decision: Decision,
    *,
    debtor_id: int,
    account_id: int | None,
    phone_id: int | None,
    campaign_id: int | None = None,
) -> DecisionLog:
    """Add a decision the dialer or SMS sender acts on to the log (the caller commits)."""
    row = DecisionLog(
        evaluated_at=decision.at,
        debtor_id=debtor_id,
        account_id=account_id,
        phone_id=phone_id,
        campaign_id=campaign_id,
        channel=decision.channel,
        allowed=decision.allowed,
        reasons=[r.to_json() for r in decision.reasons],
        packs=list(decision.packs),
        zones=list(decision.zones),
        next_allowed_at=decision.next_allowed_at,
    )
    session.add(row)
    return row
