"""Pacing through the production dialer: agents, abandons with apology and SMS, live changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from campaigns import db
from campaigns.abandons import abandon_report
from campaigns.compliance import load_policies
from campaigns.enrolment import create_campaign, enrol
from campaigns.enums import AttemptOutcome, SmsStatus
from campaigns.manage import set_pacing
from campaigns.models import Attempt, CallEvent, SmsMessage
from campaigns.portfolio.generator import GeneratorOptions, write_portfolio
from campaigns.portfolio.importer import ImportOptions, import_portfolio
from dialer.backends.base import CallRoute
from dialer.clock import VirtualClock
from dialer.driver import run_virtual
from dialer.pacing import PacingMode, PacingSettings
from dialer.runner import Dialer, DialerOptions, FixedCallerId, PacingSetupError
from dialer.sim.backend import SimBackend
from dialer.sim.population import AgentCampaignModel
from dialer.sim.team import SimulatedTeam

# Wednesday 2026-11-25 15:00 UTC = 09:00 in Mexico City: the legal window is open.
START = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
CALLER = "+525555550100"


async def _campaign(
    engine: AsyncEngine, tmp_path: Path, pacing: str, settings: dict[str, float] | None = None
) -> int:
    path = tmp_path / "mx.csv"
    write_portfolio(GeneratorOptions(rows=150, country="MX", seed=8, creditor="ACME"), path)
    await import_portfolio(engine, ImportOptions(path=path, country="MX", creditor="ACME"))
    async with db.session_factory(engine)() as session, session.begin():
        campaign = await create_campaign(
            session,
            name=f"paced {pacing}",
            country="MX",
            channels=["voice_live"],
            creditor="ACME",
            pacing_mode=pacing,
            options={"pacing": settings} if settings else None,
        )
        assert await enrol(session, campaign, due_at=START) > 100
        return campaign.id


def _dialer(
    engine: AsyncEngine, campaign_id: int, *, agents: int = 0, seed: int = 2
) -> tuple[Dialer, SimBackend, VirtualClock]:
    clock = VirtualClock(START)
    sim = SimBackend(clock, model=AgentCampaignModel(), seed=seed)
    dialer = Dialer(
        db.session_factory(engine),
        sim,
        campaign_id,
        load_policies(),
        clock=clock,
        caller_ids=FixedCallerId(CALLER),
        options=DialerOptions(max_concurrent=40, cps=5.0, burst=5, caller_name="ACME Cobranza"),
        team=SimulatedTeam(agents, seed=seed) if agents else None,
    )
    return dialer, sim, clock


async def test_abandons_hear_the_apology_and_leave_an_sms(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    # Three lines per agent and one agent: answered debtors often find nobody.
    campaign_id = await _campaign(engine, tmp_path, "ratio", {"ratio": 3.0})
    dialer, sim, clock = _dialer(engine, campaign_id, agents=1)
    await dialer.start()
    assert dialer.pacing is not None
    assert dialer.pacing.mode is PacingMode.RATIO
    await run_virtual(dialer, sim, clock, START + timedelta(minutes=40))
    await dialer.close()

    stats = dialer.stats
    assert stats.bridged > 0
    assert stats.abandoned > 0
    assert set(sim.originations.values()) == {1}
    assert all(call.request.route is CallRoute.AGENT for call in sim._calls.values())
    async with db.session_factory(engine)() as session:
        abandoned = (
            (
                await session.execute(
                    select(Attempt).where(Attempt.outcome == AttemptOutcome.ABANDONED)
                )
            )
            .scalars()
            .all()
        )
        assert len(abandoned) == stats.abandoned == stats.followups_queued
        sms = (await session.execute(select(SmsMessage))).scalars().all()
        assert {m.attempt_id for m in sms} == {a.id for a in abandoned}
        for message in sms:
            assert message.status is SmsStatus.QUEUED
            assert message.from_e164 == CALLER
            assert message.body.startswith("ACME Cobranza:")
            assert message.segments >= 1
        apologies = (
            (await session.execute(select(CallEvent).where(CallEvent.kind == "ivr_started")))
            .scalars()
            .all()
        )
        apologised = {
            e.attempt_id for e in apologies if e.payload.get("detail") == "abandon-message"
        }
        assert apologised == {a.id for a in abandoned}
    rate = dialer.dispatch.stats.ledger.cumulative() if dialer.dispatch else None
    assert rate is not None
    assert rate.abandons == stats.abandoned

    # The campaign's rate is read back from its attempts (per hour, 30 days, cumulative) …
    async with db.session_factory(engine)() as session:
        report = await abandon_report(session, campaign_id, clock.now())
    assert report.cumulative.abandons == stats.abandoned
    assert report.cumulative.live_answers == rate.live_answers
    assert report.thirty_days == report.cumulative
    assert [at.hour for at, _ in report.by_hour] == [15]  # 15:00–15:40 UTC
    # … and a new run starts from it: the FTC measures the campaign, not one process.
    again, _, _ = _dialer(engine, campaign_id, agents=1)
    await again.start()
    assert again.dispatch is not None
    seeded = again.dispatch.stats.ledger.cumulative()
    assert (seeded.abandons, seeded.live_answers) == (stats.abandoned, rate.live_answers)
    await again.close()


async def test_predictive_sends_every_live_answer_to_an_agent_or_the_apology(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    campaign_id = await _campaign(engine, tmp_path, "predictive", {"warmup_live_answers": 10})
    dialer, sim, clock = _dialer(engine, campaign_id, agents=4, seed=5)
    await dialer.start()
    await run_virtual(dialer, sim, clock, START + timedelta(hours=1))
    await dialer.close()
    dispatch = dialer.dispatch
    assert dispatch is not None
    ledger = dispatch.stats.ledger.cumulative()
    assert ledger.live_answers > 20
    assert dialer.stats.bridged + dialer.stats.abandoned == ledger.live_answers
    assert ledger.rate <= 0.1  # 150 debtors: a small sample (the bound is bench/pacing_sim.py's)
    assert dispatch.floor.totals(dispatch.seconds(clock.now())).calls == dialer.stats.bridged


async def test_agent_pacing_without_agents_is_refused(engine: AsyncEngine, tmp_path: Path) -> None:
    campaign_id = await _campaign(engine, tmp_path, "predictive")
    dialer, _, _ = _dialer(engine, campaign_id, agents=0)
    with pytest.raises(PacingSetupError, match="needs agents") as caught:
        await dialer.start()
    assert f"campaign pace {campaign_id} blast" in str(caught.value)


async def test_a_managers_change_takes_effect_without_a_restart(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    campaign_id = await _campaign(engine, tmp_path, "progressive")
    dialer, sim, clock = _dialer(engine, campaign_id, agents=2)
    await dialer.start()
    await run_virtual(dialer, sim, clock, START + timedelta(seconds=20))
    assert dialer.pacing == PacingSettings.from_options(
        "progressive", {"cps": 5.0, "burst": 5, "max_channels": 40}
    )
    async with db.session_factory(engine)() as session, session.begin():
        await set_pacing(session, campaign_id, "ratio", ["ratio=1.5", "cps=2"])
    await run_virtual(dialer, sim, clock, START + timedelta(seconds=60))
    assert dialer.pacing.mode is PacingMode.RATIO
    assert dialer.pacing.ratio == 1.5
    assert dialer.dispatch is not None
    assert dialer.dispatch.mode is PacingMode.RATIO
    async with db.session_factory(engine)() as session, session.begin():
        await set_pacing(session, campaign_id, "blast", [])
    await run_virtual(dialer, sim, clock, START + timedelta(seconds=100))
    assert dialer.pacing.mode is PacingMode.RATIO  # agents to agentless needs a new run
    await dialer.close()


async def test_a_blast_campaigns_own_limits_apply(engine: AsyncEngine, tmp_path: Path) -> None:
    campaign_id = await _campaign(engine, tmp_path, "blast", {"cps": 2, "max_channels": 7})
    dialer, _, _ = _dialer(engine, campaign_id)
    await dialer.start()
    assert dialer.dispatch is None
    assert dialer.limiter.bucket.rate == 2.0
    assert dialer.limiter.max_concurrent == 7
    await dialer.close()
