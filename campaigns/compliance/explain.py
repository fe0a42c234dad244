""" "Why (not) called": every decision for a phone or account, and the allowed windows ahead."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.compliance.engine import HORIZON, decide
from campaigns.compliance.model import Contact, Decision, Event
from campaigns.compliance.packs import Pack, PolicySet
from campaigns.compliance.store import StoredContact, contacts_for, history_for

__all__ = ["DECIDED_CHANNELS", "Explanation", "allowed_windows", "explain"]

DECIDED_CHANNELS = ("voice_live", "voice_prerecorded", "voicemail", "sms", "whatsapp", "email")


@dataclass(frozen=True, slots=True)
class Explanation:
    stored: StoredContact
    packs: tuple[Pack, ...]
    history: tuple[Event, ...]
    decisions: dict[str, Decision]

    def to_json(self) -> dict[str, object]:
        contact = self.stored.contact
        zones: dict[str, list[str]] = {}
        for zone, source in contact.zone_sources:
            zones.setdefault(zone, []).append(source)
        return {
            "account": self.stored.account.account_number,
            "creditor": self.stored.account.creditor,
            "phone": contact.phone,
            "role": contact.role,
            "line_type": contact.line_type,
            "provenance": contact.provenance,
            "zones": zones,
            "packs": [{"id": p.id, "version": p.version, "title": p.title} for p in self.packs],
            "history_events": len(self.history),
            "decisions": {channel: d.to_json() for channel, d in self.decisions.items()},
        }


async def explain(
    session: AsyncSession,
    key: str,
    at: datetime,
    policies: PolicySet,
    *,
    country: str,
    creditor_sector: str | None,
    collector_role: str | None,
    channels: Sequence[str] = DECIDED_CHANNELS,
) -> list[Explanation]:
    """Decide every channel for every contact matching `key` (phone or account number)."""
    out = []
    histories: dict[int, tuple[Event, ...]] = {}
    for stored in await contacts_for(session, key, country):
        contact = stored.contact
        packs = policies.for_contact(
            contact.country, contact.subdivision, creditor_sector, collector_role
        )
        if stored.debtor.id not in histories:
            histories[stored.debtor.id] = await history_for(
                session, stored.debtor.id, at - timedelta(days=60)
            )
        history = histories[stored.debtor.id]
        decisions = {c: decide(contact, c, at, history, packs) for c in channels}
        out.append(Explanation(stored, packs, history, decisions))
    return out


def allowed_windows(
    contact: Contact,
    channel: str,
    start: datetime,
    days: int,
    history: Iterable[Event],
    packs: Sequence[Pack],
    *,
    end_margin: timedelta = timedelta(0),
) -> list[tuple[datetime, datetime]]:
    """The intervals in [start, start + days) during which a contact may start, to the minute."""
    events = tuple(history)
    end = start + timedelta(days=days)
    windows: list[tuple[datetime, datetime]] = []
    t = start.replace(second=0, microsecond=0)
    coarse, fine = timedelta(minutes=15), timedelta(minutes=1)

    def allowed(moment: datetime) -> bool:
        return decide(contact, channel, moment, events, packs, end_margin=end_margin).allowed

    while t < end:
        decision = decide(
            contact, channel, t, events, packs, end_margin=end_margin, horizon=HORIZON
        )
        if not decision.allowed:
            if decision.next_allowed_at is None or decision.next_allowed_at >= end:
                break
            t = decision.next_allowed_at
            continue
        opened, probe = t, t
        while probe < end and allowed(probe + coarse):
            probe += coarse
        while probe < end and allowed(probe + fine):
            probe += fine
        closed = min(probe + fine, end)
        windows.append((opened, closed))
        t = closed
    return windows
