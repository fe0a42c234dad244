"""The engine's I/O adapter: contacts and histories from the database, and the decision log."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    String,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.compliance.model import Contact, Decision, Event, EventKind
from campaigns.enums import AttemptOutcome, Direction, PhoneRole
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
    "ContactRow",
    "StoredContact",
    "contact_query",
    "contact_rows",
    "contacts_for",
    "decision_values",
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


@dataclass(frozen=True, slots=True)
class ContactRow:
    """A Contact with the ids it was built from: plain columns, no ORM objects (hot paths)."""

    contact: Contact
    debtor_id: int
    account_id: int
    phone_id: int
    role: PhoneRole


async def contact_rows(session: AsyncSession, account_ids: Sequence[int]) -> list[ContactRow]:
    """Every phone of the debtors of these accounts as a Contact, in one query of columns."""
    if not account_ids:
        return []
    query = (
        select(
            Phone.id,
            Phone.debtor_id,
            Phone.e164,
            Phone.role,
            Phone.line_type,
            Phone.provenance,
            Phone.consent_channels,
            Phone.authorized_channels,
            Phone.candidate_zones,
            Phone.zone_sources,
            Debtor.country,
            Account.id,
            Account.account_number,
            Account.status,
            Address.subdivision,
        )
        .join(Debtor, Phone.debtor_id == Debtor.id)
        .join(Account, Account.debtor_id == Debtor.id)
        .outerjoin(Address, (Address.debtor_id == Debtor.id) & (Address.kind == "home"))
        .where(Account.id.in_(account_ids))
    )
    found: list[ContactRow] = []
    for (
        phone_id,
        debtor_id,
        e164,
        role,
        line_type,
        provenance,
        consent,
        authorized,
        zones,
        zone_sources,
        country,
        account_id,
        debt,
        status,
        subdivision,
    ) in await session.execute(query):
        contact = Contact(
            country=country,
            subdivision=subdivision,
            phone=e164,
            zones=tuple(zones),
            zone_sources=tuple(
                (zone, source) for zone, names in zone_sources.items() for source in names
            ),
            role=role.value,
            line_type=line_type.value,
            provenance=provenance.value,
            consent=frozenset(consent),
            authorized_channels=None if authorized is None else frozenset(authorized),
            debt=debt,
            account_status=status.value,
        )
        found.append(ContactRow(contact, debtor_id, account_id, phone_id, role))
    return found


async def history_for(session: AsyncSession, debtor_id: int, since: datetime) -> tuple[Event, ...]:
    """The person's audit trail as engine events: attempts, conversations, messages, opt-outs."""
    return (await histories(session, since, [debtor_id])).get(debtor_id, ())


async def histories(
    session: AsyncSession, since: datetime, debtor_ids: Sequence[int] | None = None
) -> dict[int, tuple[Event, ...]]:
    """Audit trails of many people at once (all of them when `debtor_ids` is None).

    One statement (attempts, messages and opt-outs as one UNION ALL of plain columns), so the
    dialer pays one round trip per claim, not three, and no ORM objects are built.
    """
    found: dict[int, list[tuple[int, Event]]] = defaultdict(list)
    rows = sorted(  # attempts, then messages, then opt-outs (a stable sort keeps each's order)
        (await session.execute(_history_query(since, debtor_ids))).all(), key=lambda r: r[0]
    )
    for order, (
        part,
        debtor_id,
        at,
        channel,
        debt,
        e164,
        outcome,
        agent_id,
        direction,
    ) in enumerate(rows):
        events = found[debtor_id]
        if part == 0:
            result = None if outcome is None else AttemptOutcome(outcome)
            connected = None if result is None else result not in _NOT_CONNECTED
            events.append((order, Event(EventKind.ATTEMPT, at, channel, debt, e164, connected)))
            if result is AttemptOutcome.HUMAN:
                events.append((order, Event(EventKind.TWO_WAY_CONTACT, at, channel, debt, e164)))
                if agent_id is not None:
                    events.append((order, Event(EventKind.CONVERSATION, at, channel, debt, e164)))
        elif part == 1:
            kind = (
                EventKind.MESSAGE_SENT
                if direction == Direction.OUTBOUND.value
                else EventKind.TWO_WAY_CONTACT
            )
            events.append((order, Event(kind, at, "sms", debt, e164)))
        else:
            events.append((order, Event(EventKind.OPT_OUT, at, channel, None, e164)))
    return {
        k: tuple(e for _, e in sorted(v, key=lambda pair: (pair[1].at, pair[0])))
        for k, v in found.items()
    }


def _history_query(since: datetime, debtor_ids: Sequence[int] | None) -> CompoundSelect[Any]:
    """(part, debtor, at, channel, debt, phone, outcome, agent, direction) of every event."""

    def only(column: Any) -> Any:
        return true() if debtor_ids is None else column.in_(debtor_ids)

    text_null = cast(null(), String)
    attempts = (
        select(
            literal(0).label("part"),
            Account.debtor_id,
            func.coalesce(Attempt.originated_at, Attempt.created_at).label("at"),
            type_coerce(Attempt.channel, String).label("channel"),
            Account.account_number.label("debt"),
            Phone.e164,
            type_coerce(Attempt.outcome, String).label("outcome"),
            Attempt.agent_id,
            text_null.label("direction"),
        )
        .join(Account, Attempt.account_id == Account.id)
        .join(Phone, Attempt.phone_id == Phone.id)
        .where(only(Account.debtor_id), Attempt.created_at >= since)
    )
    messages = (
        select(
            literal(1),
            Phone.debtor_id,
            func.coalesce(SmsMessage.sent_at, SmsMessage.created_at),
            text_null,
            Account.account_number,
            Phone.e164,
            text_null,
            cast(null(), Attempt.agent_id.type),
            type_coerce(SmsMessage.direction, String),
        )
        .join(Phone, SmsMessage.phone_id == Phone.id)
        .outerjoin(Account, SmsMessage.account_id == Account.id)
        .where(only(Phone.debtor_id), SmsMessage.created_at >= since)
    )
    opt_outs = (
        select(
            literal(2),
            OptOut.debtor_id,
            OptOut.created_at,
            type_coerce(OptOut.channel, String),
            text_null,
            Phone.e164,
            text_null,
            cast(null(), Attempt.agent_id.type),
            text_null,
        )
        .outerjoin(Phone, OptOut.phone_id == Phone.id)
        .where(only(OptOut.debtor_id), OptOut.revoked_at.is_(None))
    )
    return union_all(attempts, messages, opt_outs)


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
        **decision_values(
            decision,
            debtor_id=debtor_id,
            account_id=account_id,
            phone_id=phone_id,
            campaign_id=campaign_id,
        )
    )
    session.add(row)
    return row


def decision_values(
    decision: Decision,
    *,
    debtor_id: int,
    account_id: int | None,
    phone_id: int | None,
    campaign_id: int | None = None,
) -> dict[str, Any]:
    """A decision-log row as column values, for batched Core inserts (the dialer's hot path)."""
    return {
        "evaluated_at": decision.at,
        "debtor_id": debtor_id,
        "account_id": account_id,
        "phone_id": phone_id,
        "campaign_id": campaign_id,
        "channel": decision.channel,
        "allowed": decision.allowed,
        "reasons": [r.to_json() for r in decision.reasons],
        "packs": list(decision.packs),
        "zones": list(decision.zones),
        "next_allowed_at": decision.next_allowed_at,
    }
