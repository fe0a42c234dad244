"""The engine's database adapter on real databases: contacts and histories from rows, the
decision log, `why` explanations and the portfolio rehearsal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from campaigns.compliance import Code, load_policies
from campaigns.compliance.explain import allowed_windows, explain
from campaigns.compliance.rehearsal import rehearse
from campaigns.compliance.store import contacts_for, histories, record_decision
from campaigns.enums import AttemptOutcome, Channel, Direction
from campaigns.models import Attempt, DecisionLog, OptOut, SmsMessage
from campaigns.portfolio.importer import ImportOptions, import_portfolio

# Wednesday 2026-11-25 16:00 UTC = 10:00 in Mexico City and Chihuahua, 09:00 in Mazatlán.
AT = datetime(2026, 11, 25, 16, tzinfo=UTC)


async def load(engine: AsyncEngine, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "cuenta,nombre,telefono,telefono_referencia,saldo,estado,municipio\n"
        "A1,Ana Peña,6141234567,5512345670,100.00,Chihuahua,Chihuahua\n"
        "A2,Eva Sol,5512345678,,200.00,CDMX,\n",
        encoding="utf-8",
    )
    report = await import_portfolio(
        engine, ImportOptions(path=path, country="MX", creditor="ACME", max_balance={"MXN": 10**7})
    )
    assert report.imported == 2


async def test_contacts_and_explanations_from_the_database(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await load(engine, tmp_path)
    policies = load_policies()
    async with AsyncSession(engine) as session:
        by_phone = await contacts_for(session, "(614) 123-4567", "MX")
        assert [s.contact.debt for s in by_phone] == ["A1"]
        contact = by_phone[0].contact
        assert "America/Chihuahua" in contact.zones
        assert ("America/Chihuahua", "prefix_override:+52614") in contact.zone_sources
        by_account = await contacts_for(session, "A1", "MX")
        assert {s.contact.role for s in by_account} == {"debtor", "reference"}

        found = await explain(
            session,
            "A1",
            AT,
            policies,
            country="MX",
            creditor_sector="financial",
            collector_role="third_party",
        )
    roles = {e.stored.contact.role: e for e in found}
    assert [p.id for p in roles["debtor"].packs] == ["mx-condusef"]
    assert roles["debtor"].decisions["voice_live"].allowed
    reference = roles["reference"].decisions["voice_live"]
    assert not reference.allowed
    assert {r.code for r in reference.reasons} == {Code.THIRD_PARTY_FORBIDDEN}
    assert reference.next_allowed_at is None
    windows = allowed_windows(
        roles["debtor"].stored.contact, "voice_live", AT, 2, (), roles["debtor"].packs
    )
    assert windows[0][0] == AT
    # 22:00 comes first in Chihuahua (UTC-6, 04:00 UTC), before Mazatlán (UTC-7, 05:00 UTC):
    # the window, which must hold in every candidate zone, ends with the first to close.
    assert windows[0][1] == datetime(2026, 11, 26, 4, tzinfo=UTC)


async def test_history_opt_outs_and_the_decision_log(engine: AsyncEngine, tmp_path: Path) -> None:
    await load(engine, tmp_path)
    policies = load_policies()
    async with AsyncSession(engine, expire_on_commit=False) as session:
        stored = (await contacts_for(session, "5512345678", "MX"))[0]
        session.add_all(
            [
                Attempt(
                    account_id=stored.account.id,
                    phone_id=stored.phone.id,
                    channel=Channel.VOICE_PRERECORDED,
                    backend="sim",
                    outcome=AttemptOutcome.HUMAN,
                    created_at=AT - timedelta(hours=3),
                ),
                SmsMessage(
                    direction=Direction.OUTBOUND,
                    phone_id=stored.phone.id,
                    account_id=stored.account.id,
                    to_e164=stored.phone.e164,
                    from_e164="+525500000000",
                    body="Recordatorio",
                    encoding="GSM-7",
                    segments=1,
                    provider="outbox",
                    created_at=AT - timedelta(hours=2),
                ),
                OptOut(
                    debtor_id=stored.debtor.id,
                    phone_id=stored.phone.id,
                    channel=Channel.SMS,
                    source="sms_keyword",
                    created_at=AT - timedelta(hours=1),
                ),
            ]
        )
        await session.commit()
        trail = (await histories(session, AT - timedelta(days=1)))[stored.debtor.id]
        assert [e.kind.value for e in trail] == [
            "attempt",
            "two_way_contact",
            "message_sent",
            "opt_out",
        ]
        found = await explain(
            session,
            "A2",
            AT,
            policies,
            country="MX",
            creditor_sector="financial",
            collector_role="third_party",
        )
        sms = found[0].decisions["sms"]
        assert [r.code for r in sms.reasons] == [Code.OPTED_OUT]
        # The opt-out was for SMS only; the call is held back by mx-common's daily cap of one
        # connected call (the attempt this morning was answered), until 07:00 tomorrow.
        voice = found[0].decisions["voice_prerecorded"]
        assert [(r.code, r.rule) for r in voice.reasons] == [
            (Code.CAP_EXCEEDED, "daily-connected-cap")
        ]
        assert voice.next_allowed_at == datetime(2026, 11, 26, 13, tzinfo=UTC)
        row = record_decision(
            session,
            sms,
            debtor_id=stored.debtor.id,
            account_id=stored.account.id,
            phone_id=stored.phone.id,
        )
        await session.commit()
        logged = (
            await session.execute(select(DecisionLog).where(DecisionLog.id == row.id))
        ).scalar_one()
    assert logged.allowed is False
    assert logged.reasons[0]["code"] == "OPTED_OUT"
    assert logged.evaluated_at == AT
    assert logged.next_allowed_at is None


async def test_rehearsal_counts_what_may_happen_now(engine: AsyncEngine, tmp_path: Path) -> None:
    await load(engine, tmp_path)
    policies = load_policies()
    night = datetime(2026, 11, 26, 7, tzinfo=UTC)  # 01:00 in Mexico City: nobody may be called
    async with AsyncSession(engine) as session:
        day = await rehearse(
            session, AT, policies, creditor_sector="financial", collector_role="third_party"
        )
        late = await rehearse(
            session, night, policies, creditor_sector="financial", collector_role="third_party"
        )
    assert (day.countries["MX"].debtors, day.countries["MX"].callable_now) == (2, 2)
    mx = late.countries["MX"]
    assert mx.callable_now == 0
    assert mx.blocked_call["WINDOW_CLOSED"] == 2
    # A2 (Mexico City) opens at 07:00 local = 13:00 UTC; A1 must wait for its last candidate
    # zone, Mazatlán (UTC-7): 07:00 there = 14:00 UTC.
    assert mx.opens_at == {
        datetime(2026, 11, 26, 13, tzinfo=UTC): 1,
        datetime(2026, 11, 26, 14, tzinfo=UTC): 1,
    }
    assert mx.next_large_group() == (datetime(2026, 11, 26, 13, tzinfo=UTC), 1)
