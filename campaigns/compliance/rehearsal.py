"""A compliance rehearsal of a whole portfolio at one instant: who may be called or texted now,
who may not and why, and when the next large group opens. Used by `demo` and the console."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.compliance.engine import decide
from campaigns.compliance.model import Event
from campaigns.compliance.packs import PolicySet
from campaigns.compliance.store import contact_query, histories, stored_contact

__all__ = ["CountryRehearsal", "Rehearsal", "rehearse"]


@dataclass
class CountryRehearsal:
    debtors: int = 0
    callable_now: int = 0
    textable_now: int = 0
    blocked_call: Counter[str] = field(default_factory=Counter)
    #: hour (UTC) → debtors whose first call becomes possible then
    opens_at: Counter[datetime] = field(default_factory=Counter)
    never: int = 0

    def next_large_group(self) -> tuple[datetime, int] | None:
        if not self.opens_at:
            return None
        hour, count = max(self.opens_at.items(), key=lambda item: (item[1], -item[0].timestamp()))
        return hour, count


@dataclass
class Rehearsal:
    at: datetime
    call_channel: str
    text_channel: str
    countries: dict[str, CountryRehearsal] = field(default_factory=dict)


async def rehearse(
    session: AsyncSession,
    at: datetime,
    policies: PolicySet,
    *,
    creditor_sector: str | None,
    collector_role: str | None,
    call_channel: str = "voice_prerecorded",
    text_channel: str = "sms",
) -> Rehearsal:
    """Decide every phone of every debtor at `at` for one call and one text channel."""
    result = Rehearsal(at, call_channel, text_channel)
    per_debtor: dict[int, dict[str, object]] = defaultdict(dict)
    trails = await histories(session, at.replace(year=at.year - 1))
    stream = await session.stream(contact_query())
    async for phone, debtor, account, address in stream:
        stored = stored_contact(phone, debtor, account, address)
        contact = stored.contact
        history: tuple[Event, ...] = trails.get(debtor.id, ())
        packs = policies.for_contact(
            contact.country, contact.subdivision, creditor_sector, collector_role
        )
        state = per_debtor[debtor.id]
        state["country"] = debtor.country
        call = decide(contact, call_channel, at, history, packs)
        text = decide(contact, text_channel, at, history, packs)
        state["call"] = bool(state.get("call")) or call.allowed
        state["text"] = bool(state.get("text")) or text.allowed
        if not call.allowed:
            codes = state.setdefault("codes", set())
            assert isinstance(codes, set)
            codes.update(r.code.value for r in call.reasons)
            opens = state.get("opens")
            if call.next_allowed_at is not None and (
                opens is None or (isinstance(opens, datetime) and call.next_allowed_at < opens)
            ):
                state["opens"] = call.next_allowed_at
    for state in per_debtor.values():
        country = str(state["country"])
        line = result.countries.setdefault(country, CountryRehearsal())
        line.debtors += 1
        line.callable_now += bool(state.get("call"))
        line.textable_now += bool(state.get("text"))
        if state.get("call"):
            continue
        codes = state.get("codes")
        if isinstance(codes, set):
            line.blocked_call.update(codes)
        opens = state.get("opens")
        if isinstance(opens, datetime):
            line.opens_at[opens.replace(minute=0, second=0, microsecond=0)] += 1
        else:
            line.never += 1
    return result
