"""The dialer's production path on the in-process simulator, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from campaigns import db
from campaigns.compliance import load_policies
from campaigns.enrolment import create_campaign, enrol
from campaigns.enums import AttemptOutcome, ContactStatus
from campaigns.models import Attempt, CallEvent, CampaignContact, DecisionLog
from campaigns.portfolio.generator import GeneratorOptions, write_portfolio
from campaigns.portfolio.importer import ImportOptions, import_portfolio
from dialer.clock import VirtualClock
from dialer.driver import run_virtual
from dialer.runner import Dialer, DialerOptions, FixedCallerId
from dialer.sim.backend import SimBackend

# Wednesday 2026-11-25 15:00 UTC = 09:00 in Mexico City: the legal window is open.
START = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


async def _portfolio(engine: AsyncEngine, tmp_path: Path, rows: int) -> None:
    path = tmp_path / "mx.csv"
    write_portfolio(GeneratorOptions(rows=rows, country="MX", seed=3, creditor="ACME"), path)
    await import_portfolio(engine, ImportOptions(path=path, country="MX", creditor="ACME"))


async def _campaign(engine: AsyncEngine) -> int:
    async with db.session_factory(engine)() as session, session.begin():
        campaign = await create_campaign(
            session, name="test", country="MX", channels=["voice_prerecorded"], creditor="ACME"
        )
        added = await enrol(session, campaign, due_at=START)
        assert added > 0
        return campaign.id


def _dialer(
    engine: AsyncEngine, campaign_id: int, at: datetime, seed: int, **options: object
) -> tuple[Dialer, SimBackend, VirtualClock]:
    clock = VirtualClock(at)
    sim = SimBackend(clock, seed=seed)
    dialer = Dialer(
        db.session_factory(engine),
        sim,
        campaign_id,
        load_policies(),
        clock=clock,
        caller_ids=FixedCallerId("+525555550100"),
        options=DialerOptions(**options),  # type: ignore[arg-type]
    )
    return dialer, sim, clock


async def test_a_campaign_day_on_the_simulator(engine: AsyncEngine, tmp_path: Path) -> None:
    await _portfolio(engine, tmp_path, 120)
    campaign_id = await _campaign(engine)
    dialer, sim, clock = _dialer(engine, campaign_id, START, 5, max_concurrent=10, cps=2.0)
    await dialer.start()
    peak = 0

    def progress(d: Dialer) -> None:
        nonlocal peak
        peak = max(peak, d.in_flight)

    await run_virtual(dialer, sim, clock, START + timedelta(hours=10), on_progress=progress)
    await dialer.close()

    # Every call originated exactly once, every attempt has its outcome, nothing is in flight.
    assert sim.originations
    assert set(sim.originations.values()) == {1}
    async with db.session_factory(engine)() as session:
        attempts = (await session.execute(select(Attempt))).scalars().all()
        assert len(attempts) == len(sim.originations) == dialer.stats.originated
        assert all(a.outcome is not None and a.lease_owner is None for a in attempts)
        assert all(a.decision_id is not None for a in attempts)
        outcomes = Counter(a.outcome for a in attempts)
        assert outcomes[AttemptOutcome.HUMAN] > 0
        assert outcomes[AttemptOutcome.NO_ANSWER] > 0
        # The simulator's fate and the recorded outcome agree.
        by_call = {a.backend_call_id: a for a in attempts}
        for call_id, fate in sim.fates.items():
            outcome = by_call[call_id].outcome
            assert outcome is not None
            assert fate.value in (outcome.value, "invalid") or (
                fate.value in ("human", "machine") and outcome is AttemptOutcome.NO_ANSWER
            ), (fate, outcome)
        in_progress = await session.scalar(
            select(func.count()).where(CampaignContact.status == ContactStatus.IN_PROGRESS)
        )
        assert in_progress == 0
        events = await session.scalar(select(func.count()).select_from(CallEvent))
        assert events == dialer.stats.events
        decisions = await session.scalar(select(func.count()).select_from(DecisionLog))
        assert decisions is not None
        assert decisions >= len(attempts)
        # Never two calls at once to one contact: attempts of a contact do not overlap.
        per_contact: dict[int, list[Attempt]] = {}
        for attempt in attempts:
            per_contact.setdefault(attempt.contact_id or 0, []).append(attempt)
        for rows in per_contact.values():
            rows.sort(key=lambda a: a.created_at)
            for before, after in itertools.pairwise(rows):
                assert before.ended_at is not None
                assert before.ended_at <= after.created_at
    assert 0 < peak <= 10


@pytest.mark.parametrize("hour", [3])
async def test_nobody_is_called_outside_the_window(
    engine: AsyncEngine, tmp_path: Path, hour: int
) -> None:
    await _portfolio(engine, tmp_path, 30)
    campaign_id = await _campaign(engine)
    night = START.replace(hour=hour)  # 21:00 in Mexico City the day before
    dialer, sim, clock = _dialer(engine, campaign_id, night, 1)
    await dialer.start()
    await run_virtual(dialer, sim, clock, night + timedelta(hours=1))
    assert sim.originations == {}
    async with db.session_factory(engine)() as session:
        parked = (await session.execute(select(CampaignContact))).scalars().all()
        assert all(c.status is ContactStatus.PENDING for c in parked)
        assert all(c.next_attempt_at is not None and c.next_attempt_at > night for c in parked)
