"""A restart mid-campaign: `main.py campaign run --backend asterisk` killed (SIGKILL) or stopped
(SIGTERM) while calls are in flight, against the PBX simulator over loopback AMI.

The dialer runs on the wall clock, so the compliance engine judges the real "now". The campaign
is a first-party US creditor's live-voice campaign: of the packs, only `us-tcpa` applies to it,
and it sets no calling hours (FDCPA's 8–21 binds third-party collectors), so the calls are legal
at any hour the test runs. A Massachusetts debtor (state law sets hours) may be parked until
their window; the assertions accept that as "legitimately scheduled".
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from campaigns import db
from campaigns.enums import AttemptOutcome, ContactStatus
from campaigns.models import Attempt, CampaignContact, DecisionLog
from campaigns.portfolio.generator import GeneratorOptions, write_portfolio
from campaigns.portfolio.importer import ImportOptions, import_portfolio
from dialer.retry import DEFAULT_RULES
from dialer.sim.pbx import PbxSimulator
from tests.cli import acli

ROOT = Path(__file__).resolve().parents[2]
SECRET = "restart-test-secret"
NODE = "restart-node"
CONTACTS = 60
BURST = 2


@dataclass
class Rig:
    """A migrated SQLite file with an enrolled campaign, and the simulator the dialer calls."""

    engine: AsyncEngine
    url: str
    campaign_id: int
    pbx: PbxSimulator
    #: every instant the simulator was sampled: the call ids (ChannelId) it had live
    samples: list[frozenset[str]] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("RECAUDO_")}
        environ.update(
            COLUMNS="200",
            RECAUDO_DATABASE_URL=self.url,
            RECAUDO_AMI_PASSWORD=SECRET,
            RECAUDO_ASTERISK__PORT=str(self.pbx.ami_port),
            RECAUDO_COLLECTOR_ROLE="first_party",
            RECAUDO_DIALER__NODE=NODE,
            RECAUDO_DIALER__CALLER_ID="+15125550100",
            RECAUDO_DIALER__MAX_CONCURRENT="8",
            RECAUDO_DIALER__CPS="15",
            RECAUDO_DIALER__BURST=str(BURST),
        )
        return environ

    def originated(self) -> dict[str, int]:
        """The simulator's Originate count per ChannelId (our call id) of this test's dialer."""
        return {k: n for k, n in self.pbx.originations.items() if k.startswith(f"{NODE}-")}

    async def run(self) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "main.py"),
            "campaign",
            "run",
            str(self.campaign_id),
            "--backend",
            "asterisk",
            env=self.env(),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )

    async def attempts(self) -> list[Attempt]:
        async with db.session_factory(self.engine)() as session:
            rows = await session.scalars(
                select(Attempt).where(Attempt.campaign_id == self.campaign_id).order_by(Attempt.id)
            )
            return list(rows)

    async def contacts(self) -> list[CampaignContact]:
        async with db.session_factory(self.engine)() as session:
            rows = await session.scalars(
                select(CampaignContact).where(CampaignContact.campaign_id == self.campaign_id)
            )
            return list(rows)


async def _cli(env: dict[str, str], *args: str) -> str:
    result = await acli(*args, env=env, within=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


async def _sample(rig: Rig) -> None:
    """Record which of our calls the simulator has live, every 20 ms, until cancelled."""
    while True:
        live = {info.uniqueid for info in rig.pbx.channels if info.uniqueid.startswith(NODE)}
        rig.samples.append(frozenset(live))
        await asyncio.sleep(0.02)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'restart.db'}"
    engine = db.create_engine(url)
    await db.upgrade(engine)
    cartera = tmp_path / "us.csv"
    write_portfolio(
        GeneratorOptions(rows=CONTACTS, country="US", seed=11, creditor="ACME"), cartera
    )
    await import_portfolio(engine, ImportOptions(path=cartera, country="US", creditor="ACME"))
    pbx = PbxSimulator(users={"recaudo": SECRET}, ami_port=0, seed=4, time_scale=30.0)
    await pbx.start()
    rig = Rig(engine, url, 0, pbx)
    created = await _cli(
        rig.env(),
        *("campaign", "create", "--name", "restart", "--country", "US"),
        *("--channel", "voice_live", "--creditor", "ACME"),
    )
    rig.campaign_id = int(created.strip())
    enrolled = await _cli(rig.env(), "campaign", "enrol", str(rig.campaign_id))
    assert f"enrolled {CONTACTS} contacts" in enrolled
    sampler = asyncio.create_task(_sample(rig))
    try:
        yield rig
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
        await pbx.close()
        await engine.dispose()


async def _until(check: Callable[[], object], within: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if check():
            return
        await asyncio.sleep(0.02)
    pytest.fail(f"not within {within} s: {what}")


async def _campaign_done(rig: Rig, within: float) -> datetime:
    """Wait until no attempt is open and no contact is leased or due; returns that instant."""

    async def done() -> datetime | None:
        now = datetime.now(UTC)
        if any(a.outcome is None for a in await rig.attempts()):
            return None
        for contact in await rig.contacts():
            if contact.status is ContactStatus.IN_PROGRESS:
                return None
            due = contact.next_attempt_at
            if contact.status is ContactStatus.PENDING and (due is None or _utc(due) <= now):
                return None
        return now

    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        finished = await done()
        if finished is not None:
            return finished
        await asyncio.sleep(0.2)
    pytest.fail(f"the campaign was not done within {within} s")


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def _assert_never_two_lines_at_once(rig: Rig, attempts: list[Attempt]) -> None:
    """Per contact, attempts follow one another in the database, and the simulator never had
    two live calls of one contact in any sample."""
    contact_of = {a.backend_call_id: a.contact_id for a in attempts}
    for sample in rig.samples:
        contacts = [contact_of[call_id] for call_id in sample]
        assert len(contacts) == len(set(contacts)), sample
    by_contact = sorted(attempts, key=lambda a: (a.contact_id or 0, a.created_at))
    for _, rows in itertools.groupby(by_contact, key=lambda a: a.contact_id):
        for before, after in itertools.pairwise(rows):
            assert before.ended_at is not None
            assert before.ended_at <= after.created_at


async def _assert_contacts_settled(rig: Rig, attempts: list[Attempt], at: datetime) -> None:
    """Each contact is done or blocked, or waits for a retry its last outcome allows, or for the
    window compliance gave it; none is left leased."""
    async with db.session_factory(rig.engine)() as session:
        denied = set(
            await session.scalars(
                select(DecisionLog.account_id).where(
                    DecisionLog.campaign_id == rig.campaign_id, DecisionLog.allowed.is_(False)
                )
            )
        )
    attempted = {a.contact_id for a in attempts}
    for contact in await rig.contacts():
        assert contact.lease_owner is None
        assert contact.lease_expires_at is None
        assert contact.status is not ContactStatus.IN_PROGRESS
        if contact.status is ContactStatus.PENDING:
            assert contact.next_attempt_at is not None
            assert _utc(contact.next_attempt_at) > at
            if contact.last_outcome is not None:
                assert DEFAULT_RULES[contact.last_outcome].limit > 0, contact.last_outcome
            else:
                assert contact.account_id in denied  # parked until its window opens
        elif contact.status is ContactStatus.DONE:
            assert contact.id in attempted
            assert contact.last_outcome is not None
    assert len(attempted) >= CONTACTS - len(denied)


async def test_sigkill_mid_campaign_then_restart_loses_nothing_and_dials_nothing_twice(
    rig: Rig,
) -> None:
    first = await rig.run()
    # At 25 calls the dialer has leased the next batch of contacts (20 at a time) too.
    await _until(
        lambda: len(rig.originated()) >= 25 and rig.pbx.current_calls() >= 3,
        within=25,
        what="25 calls placed with 3 in flight",
    )
    first.kill()
    await first.wait()
    assert first.returncode == -signal.SIGKILL
    placed_before_kill = dict(rig.originated())
    open_at_kill = {a.id: a for a in await rig.attempts() if a.outcome is None}
    assert open_at_kill, "the kill must leave calls in flight"
    assert len(placed_before_kill) < CONTACTS
    open_contacts = {a.contact_id for a in open_at_kill.values()}
    leased_not_dialled = [
        c
        for c in await rig.contacts()
        if c.status is ContactStatus.IN_PROGRESS and c.id not in open_contacts
    ]
    assert leased_not_dialled
    assert all(c.lease_owner == NODE for c in leased_not_dialled)

    second = await rig.run()
    try:
        done_at = await _campaign_done(rig, within=40)
    finally:
        second.send_signal(signal.SIGTERM)
        out, errors = await asyncio.wait_for(second.communicate(), 30)
    assert second.returncode == 0, errors.decode()
    text = out.decode()
    assert f"recovered {len(open_at_kill)} attempts an earlier run left open" in text
    # Contacts leased but not dialled are handed back at once, not after the 10-minute lease.
    assert f"released {len(leased_not_dialled)} contacts" in text
    assert "stopped (SIGTERM)" in text

    attempts = await rig.attempts()
    originated = rig.originated()
    # No lost outcome: every attempt is closed; those open at the kill were closed by the
    # restarted dialer as the code closes a call it did not hear end (failed, or human once
    # answered) — not left open, not dialled again.
    assert all(a.outcome is not None and a.lease_owner is None for a in attempts)
    for attempt_id, before in open_at_kill.items():
        after = next(a for a in attempts if a.id == attempt_id)
        answered = before.answered_at is not None
        assert after.outcome is (AttemptOutcome.HUMAN if answered else AttemptOutcome.FAILED)
    # No double dial: one Originate per attempt that left the process; an attempt the kill
    # caught between its commit and its Originate was never sent (and is closed, not re-sent).
    calls = {a.backend_call_id: a for a in attempts}
    assert set(originated) <= set(calls), "every call the PBX saw has its attempt row"
    assert set(originated.values()) == {1}
    unsent = set(calls) - set(originated)
    assert all(calls[call_id].id in open_at_kill for call_id in unsent)
    assert all(call_id in originated for call_id, a in calls.items() if a.originated_at)
    # Both runs dialled, and the restarted one never re-placed a call of the first.
    after_restart = set(originated) - set(placed_before_kill)
    assert placed_before_kill
    assert after_restart
    assert all(calls[c].id not in open_at_kill for c in after_restart)
    await _assert_never_two_lines_at_once(rig, attempts)
    await _assert_contacts_settled(rig, attempts, done_at)


async def test_sigterm_stops_cleanly_after_the_calls_in_flight(rig: Rig) -> None:
    process = await rig.run()
    await _until(
        lambda: len(rig.originated()) >= 15 and rig.pbx.current_calls() >= 3,
        within=25,
        what="15 calls placed with 3 in flight",
    )
    placed_at_signal = len(rig.originated())
    in_flight_at_signal = rig.pbx.current_calls()
    process.send_signal(signal.SIGTERM)
    out, errors = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, errors.decode()
    text = out.decode()
    assert "stopped (SIGTERM)" in text
    assert "stopping (SIGTERM): no new calls; waiting up to 60 s for" in errors.decode()
    assert "still in flight" not in text

    attempts = await rig.attempts()
    originated = rig.originated()
    assert in_flight_at_signal >= 1
    # Nothing new after the signal (a step already launching may finish its burst) …
    assert len(attempts) <= placed_at_signal + BURST
    # … the calls in flight were followed to their end and recorded: none is left open …
    assert all(a.outcome is not None and a.ended_at is not None for a in attempts)
    assert all(a.lease_owner is None for a in attempts)
    assert {a.backend_call_id for a in attempts} == set(originated)
    assert set(originated.values()) == {1}
    total = re.search(r"total\W+(\d+)", text)
    assert total is not None
    assert int(total.group(1)) == len(attempts)
    # … and the contacts not reached yet are due again (none waits for a lease to expire).
    contacts = await rig.contacts()
    assert all(c.lease_owner is None for c in contacts)
    assert not [c for c in contacts if c.status is ContactStatus.IN_PROGRESS]
    waiting = [c for c in contacts if c.attempts == 0 and c.status is ContactStatus.PENDING]
    now = datetime.now(UTC)
    due_now = [c for c in waiting if c.next_attempt_at and _utc(c.next_attempt_at) <= now]
    assert len(due_now) >= CONTACTS - len(attempts) - 5  # a few may be parked by compliance
    await _assert_never_two_lines_at_once(rig, attempts)
