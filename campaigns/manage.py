"""What the `campaign` commands do to the database: create, enrol, list, and report status.

Each function is one transaction on a migrated database and raises `CampaignError` with a
message that names the campaign and the fix, so the command line only prints it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.abandons import AbandonReport, abandon_report
from campaigns.enrolment import create_campaign, enrol
from campaigns.enums import Channel, ContactStatus
from campaigns.models import Attempt, Campaign, CampaignContact
from dialer.pacing import PacingError, PacingSettings

__all__ = [
    "CALL_CHANNELS",
    "CampaignError",
    "CampaignStatusReport",
    "call_channel",
    "campaign_status",
    "enrol_contacts",
    "get_campaign",
    "list_campaigns",
    "new_campaign",
    "pacing_options",
    "print_status",
    "set_pacing",
]

#: Channels the dialer places calls on (the others are messages).
CALL_CHANNELS = (Channel.VOICE_PRERECORDED, Channel.VOICE_LIVE, Channel.VOICEMAIL)


class CampaignError(Exception):
    """A campaign command cannot be done as asked; the message says what and how to fix it."""


async def get_campaign(session: AsyncSession, campaign_id: int) -> Campaign:
    """The campaign, or CampaignError pointing at `campaign list`."""
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignError(
            f"campaign {campaign_id} does not exist; `python main.py campaign list` shows the ids"
        )
    return campaign


def call_channel(campaign: Campaign) -> Channel:
    """The channel the dialer calls on: the campaign's first call channel."""
    for name in campaign.channels:
        if name in {channel.value for channel in CALL_CHANNELS}:
            return Channel(name)
    raise CampaignError(
        f"campaign {campaign.id} has no call channel (channels: {', '.join(campaign.channels)}); "
        "create a campaign with --channel voice_prerecorded or voice_live"
    )


def pacing_options(
    mode: str, pairs: list[str], base: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`KEY=VALUE` pacing settings (e.g. `abandon_target=0.02`) over `base`, checked against
    `mode`: the mapping a campaign stores in `options["pacing"]`."""
    values: dict[str, Any] = dict(base or {})
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise CampaignError(f"pacing setting {pair!r}: write it as KEY=VALUE, e.g. cps=10")
        try:
            number = float(text)
        except ValueError:
            raise CampaignError(
                f"pacing setting {key.strip()}={text!r}: the value must be a number"
            ) from None
        values[key.strip()] = int(number) if number.is_integer() and "." not in text else number
    try:
        PacingSettings.from_options(mode, values)
    except PacingError as exc:
        raise CampaignError(str(exc)) from None
    return values


async def set_pacing(
    session: AsyncSession, campaign_id: int, mode: str, pairs: list[str], *, reset: bool = False
) -> Campaign:
    """Change a campaign's pacing (a running dialer picks it up within 30 s); `reset` drops
    the settings given before."""
    campaign = await get_campaign(session, campaign_id)
    base = None if reset else (campaign.options or {}).get("pacing")
    values = pacing_options(mode, pairs, base)
    campaign.pacing_mode = mode
    campaign.options = {**(campaign.options or {}), "pacing": values}
    return campaign


async def new_campaign(
    session: AsyncSession,
    *,
    name: str,
    country: str,
    channel: str,
    creditor: str | None,
    pacing: str = "blast",
    pacing_settings: list[str] | None = None,
) -> Campaign:
    """Create a running campaign; a name already taken is refused with the campaign using it."""
    values = pacing_options(pacing, pacing_settings or [])
    taken = await session.scalar(select(Campaign.id).where(Campaign.name == name))
    if taken is not None:
        raise CampaignError(
            f"a campaign named {name!r} exists already (id {taken}); choose another --name"
        )
    try:
        return await create_campaign(
            session,
            name=name,
            country=country,
            channels=[channel],
            creditor=creditor,
            pacing_mode=pacing,
            options={"pacing": values} if values else None,
        )
    except IntegrityError:
        raise CampaignError(
            f"a campaign named {name!r} was created meanwhile; choose another --name"
        ) from None


async def enrol_contacts(
    session: AsyncSession, campaign_id: int, *, due_at: datetime, limit: int | None
) -> tuple[Campaign, int]:
    """Enrol the campaign's active accounts not yet in it; returns the campaign and how many."""
    campaign = await get_campaign(session, campaign_id)
    return campaign, await enrol(session, campaign, due_at=due_at, limit=limit)


async def list_campaigns(session: AsyncSession) -> list[tuple[Campaign, int]]:
    """Every campaign with its number of contacts, newest first."""
    sizes = (
        select(CampaignContact.campaign_id, func.count().label("contacts"))
        .group_by(CampaignContact.campaign_id)
        .subquery()
    )
    rows = await session.execute(
        select(Campaign, func.coalesce(sizes.c.contacts, 0))
        .outerjoin(sizes, sizes.c.campaign_id == Campaign.id)
        .order_by(Campaign.id.desc())
    )
    return [(campaign, int(count)) for campaign, count in rows.tuples()]


@dataclass
class CampaignStatusReport:
    """Where a campaign stands: its contacts by state and its attempts by outcome."""

    campaign_id: int
    name: str
    country: str
    creditor: str | None
    channels: list[str]
    caller_id_pool: str | None
    at: datetime
    pacing: str = "blast"
    pacing_settings: dict[str, Any] = field(default_factory=dict)
    abandons: AbandonReport = field(default_factory=AbandonReport)
    contacts: Counter[str] = field(default_factory=Counter)
    due_now: int = 0
    next_due: datetime | None = None
    outcomes: Counter[str] = field(default_factory=Counter)
    open_attempts: int = 0
    last_attempt_at: datetime | None = None

    @property
    def attempts(self) -> int:
        return sum(self.outcomes.values()) + self.open_attempts

    def to_json(self) -> dict[str, Any]:
        def instant(value: datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "campaign": {
                "id": self.campaign_id,
                "name": self.name,
                "country": self.country,
                "creditor": self.creditor,
                "channels": self.channels,
                "caller_id_pool": self.caller_id_pool,
                "pacing": {"mode": self.pacing, **self.pacing_settings},
            },
            "at": self.at.isoformat(),
            "contacts": {
                "total": sum(self.contacts.values()),
                **{status.value: self.contacts[status.value] for status in ContactStatus},
                "due_now": self.due_now,
                "next_due": instant(self.next_due),
            },
            "attempts": {
                "total": self.attempts,
                "open": self.open_attempts,
                "outcomes": dict(self.outcomes.most_common()),
                "last_at": instant(self.last_attempt_at),
            },
            "abandon": self.abandons.to_json(),
        }


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive UTC instants; PostgreSQL aware ones."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


async def campaign_status(
    session: AsyncSession, campaign_id: int, now: datetime
) -> CampaignStatusReport:
    """Count the campaign's contacts per state (and how many are due at `now`) and its attempts
    per outcome; an attempt without an outcome is open (in flight, or left by a stopped run)."""
    campaign = await get_campaign(session, campaign_id)
    report = CampaignStatusReport(
        campaign.id,
        campaign.name,
        campaign.country,
        campaign.creditor,
        list(campaign.channels),
        campaign.caller_id_pool,
        now,
        campaign.pacing_mode,
        dict((campaign.options or {}).get("pacing") or {}),
    )
    contacts = CampaignContact.campaign_id == campaign_id
    for status, count in await session.execute(
        select(CampaignContact.status, func.count())
        .where(contacts)
        .group_by(CampaignContact.status)
    ):
        report.contacts[status.value] += count
    pending = contacts & (CampaignContact.status == ContactStatus.PENDING)
    report.due_now = (
        await session.scalar(
            select(func.count()).where(pending, CampaignContact.next_attempt_at <= now)
        )
        or 0
    )
    report.next_due = _aware(
        await session.scalar(
            select(func.min(CampaignContact.next_attempt_at)).where(
                pending, CampaignContact.next_attempt_at > now
            )
        )
    )
    for outcome, count in await session.execute(
        select(Attempt.outcome, func.count())
        .where(Attempt.campaign_id == campaign_id)
        .group_by(Attempt.outcome)
    ):
        if outcome is None:
            report.open_attempts += count
        else:
            report.outcomes[outcome.value] += count
    report.abandons = await abandon_report(session, campaign_id, now)
    report.last_attempt_at = _aware(
        await session.scalar(
            select(func.max(Attempt.created_at)).where(Attempt.campaign_id == campaign_id)
        )
    )
    return report


def print_status(report: CampaignStatusReport, console: Console) -> None:
    """The status as a person reads it: one line per state, one table of outcomes."""
    c = report.contacts
    console.print(
        f"campaign {report.campaign_id} {report.name!r} · {report.country} · "
        f"{', '.join(report.channels)} · creditor {report.creditor or 'any'} · "
        f"caller IDs {report.caller_id_pool or 'not set'} · pacing {report.pacing}"
        + "".join(f" {k}={v}" for k, v in sorted(report.pacing_settings.items())),
        highlight=False,
    )
    next_due = f"{report.next_due:%Y-%m-%d %H:%M} UTC" if report.next_due else "—"
    console.print(
        f"contacts: {sum(c.values()):,} · pending {c['pending']:,} ({report.due_now:,} due now, "
        f"next {next_due}) · in progress {c['in_progress']:,} · done {c['done']:,} · "
        f"blocked {c['blocked']:,}",
        highlight=False,
    )
    console.print(
        f"attempts: {report.attempts:,} · open {report.open_attempts:,}"
        + (" (in flight, or closed by the next run)" if report.open_attempts else ""),
        highlight=False,
    )
    if report.outcomes:
        table = Table(title="Attempts per outcome", title_justify="left")
        table.add_column("outcome")
        table.add_column("attempts", justify="right")
        table.add_column("share", justify="right")
        closed = sum(report.outcomes.values())
        for outcome, count in report.outcomes.most_common():
            table.add_row(outcome, f"{count:,}", f"{count / closed:.0%}")
        console.print(table)
    abandons = report.abandons
    if abandons.cumulative.live_answers:
        worst = abandons.worst_hour
        console.print(
            f"abandoned (FTC: of live answers): {abandons.cumulative.rate:.2%} over the campaign "
            f"({abandons.cumulative.abandons:,} of {abandons.cumulative.live_answers:,}), "
            f"{abandons.thirty_days.rate:.2%} over the last 30 days"
            + (
                f", worst hour {worst[1].rate:.1%} ({worst[0]:%Y-%m-%d %H:00} UTC)"
                if worst is not None
                else ""
            ),
            highlight=False,
        )
