"""`main.py campaign …` as an agency runs it: a real process each time, on a SQLite file.

The database is built in-process (migrated, a small US portfolio, one campaign of 12 contacts)
so each case costs one process start; what a failed command must not change is read back from
the same file. The campaign is a first-party creditor's live calls, for which no pack sets
calling hours (outside Massachusetts), so calls go out whatever the hour the tests run.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from campaigns import db
from campaigns.enrolment import create_campaign, enrol
from campaigns.models import Attempt, CampaignContact
from campaigns.portfolio.generator import GeneratorOptions, write_portfolio
from campaigns.portfolio.importer import ImportOptions, import_portfolio
from dialer.sim.twilio_api import TwilioApiFake
from tests.cli import acli, cli

ROOT = Path(__file__).resolve().parents[1]
CONTACTS = 12
SID = "AC" + "0123456789abcdef" * 2
TOKEN = "t" * 32
PUBLIC = "https://recaudo.example.test/hooks"


@dataclass
class Db:
    url: str
    campaign_id: int

    @property
    def env(self) -> dict[str, str]:
        return {"RECAUDO_DATABASE_URL": self.url, "RECAUDO_COLLECTOR_ROLE": "first_party"}

    async def counts(self) -> tuple[int, int, int]:
        """(attempts, contacts leased, contacts pending and due now)."""
        engine = db.create_engine(self.url)
        try:
            async with engine.connect() as conn:
                attempts = await conn.scalar(select(func.count()).select_from(Attempt))
                leased = await conn.scalar(
                    select(func.count()).where(CampaignContact.lease_owner.is_not(None))
                )
                due = await conn.scalar(
                    select(func.count()).where(
                        CampaignContact.status == "pending",
                        CampaignContact.next_attempt_at <= datetime.now(UTC),
                    )
                )
        finally:
            await engine.dispose()
        return attempts or 0, leased or 0, due or 0


@pytest.fixture
async def database(tmp_path: Path) -> Db:
    url = f"sqlite+aiosqlite:///{tmp_path / 'campaign.db'}"
    engine = db.create_engine(url)
    await db.upgrade(engine)
    cartera = tmp_path / "us.csv"
    write_portfolio(GeneratorOptions(rows=30, country="US", seed=2, creditor="ACME"), cartera)
    await import_portfolio(engine, ImportOptions(path=cartera, country="US", creditor="ACME"))
    async with db.session_factory(engine)() as session, session.begin():
        campaign = await create_campaign(
            session, name="fixture", country="US", channels=["voice_live"]
        )
        await enrol(session, campaign, due_at=datetime.now(UTC), limit=CONTACTS)
        campaign_id = campaign.id
    await engine.dispose()
    return Db(url, campaign_id)


def test_create_enrol_list_and_status_after_db_upgrade(tmp_path: Path) -> None:
    env = {"RECAUDO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"}
    cartera = tmp_path / "mx.csv"
    write_portfolio(GeneratorOptions(rows=20, country="MX", seed=9, creditor="ACME"), cartera)
    refused = cli("campaign", "create", "--name", "nov", "--country", "MX", env=env)
    assert refused.returncode == 2
    assert "python main.py db upgrade" in refused.stderr
    assert cli("db", "upgrade", env=env).returncode == 0
    assert (
        cli("import", str(cartera), "--country", "MX", "--creditor", "ACME", env=env).returncode
        == 0
    )

    created = cli("campaign", "create", "--name", "nov", "--country", "MX", env=env)
    assert created.returncode == 0, created.stderr
    campaign_id = int(created.stdout.strip())
    assert "next: python main.py campaign enrol" in created.stderr
    enrolled = cli("campaign", "enrol", str(campaign_id), "--limit", "8", env=env)
    assert f"enrolled 8 contacts into campaign {campaign_id}" in enrolled.stdout
    later = cli(
        "campaign", "enrol", str(campaign_id), "--due", "2099-01-01T09:00:00-06:00", env=env
    )
    assert "enrolled 12 contacts" in later.stdout
    again = cli("campaign", "enrol", str(campaign_id), env=env)
    assert again.returncode == 0
    assert "nothing enrolled" in again.stdout

    listed = cli("campaign", "list", env=env)
    assert f"{campaign_id}  nov  · MX · voice_prerecorded · 20 contacts" in listed.stdout
    status = json.loads(cli("campaign", "status", str(campaign_id), "--json", env=env).stdout)
    assert status["campaign"]["name"] == "nov"
    assert status["contacts"]["total"] == 20
    assert status["contacts"]["pending"] == 20
    assert status["contacts"]["due_now"] == 8
    assert status["contacts"]["next_due"].startswith("2099-01-01T15:00:00")
    assert status["attempts"] == {"total": 0, "open": 0, "outcomes": {}, "last_at": None}
    text = cli("campaign", "status", str(campaign_id), env=env)
    assert "contacts: 20 · pending 20 (8 due now, next 2099-01-01 15:00 UTC)" in text.stdout


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["campaign", "status", "99"], {}, "campaign 99 does not exist; `python main.py campaign"),
        (["campaign", "enrol", "99"], {}, "campaign 99 does not exist"),
        (["campaign", "run", "99", "--backend", "sim"], {}, "campaign 99 does not exist"),
        (["campaign", "create", "--name", "fixture"], {}, "named 'fixture' exists already"),
        (["campaign", "create", "--name", "x", "--channel", "sms"], {}, "--channel 'sms'"),
        (["campaign", "create", "--name", "x", "--country", "AR"], {}, "--country AR"),
        (["campaign", "enrol", "{id}", "--due", "mañana"], {}, "--due 'mañana': use ISO 8601"),
        (["campaign", "run", "{id}", "--backend", "pbx"], {}, "--backend 'pbx': use one of"),
        (
            ["campaign", "run", "{id}", "--backend", "asterisk"],
            {"RECAUDO_DIALER__CALLER_ID": "+15125550100"},
            "needs the AMI secret of user 'recaudo' at 127.0.0.1:5038: set RECAUDO_AMI_PASSWORD",
        ),
        (
            ["campaign", "run", "{id}", "--backend", "asterisk"],
            {
                "RECAUDO_AMI_PASSWORD": "x",
                "RECAUDO_ASTERISK__PORT": "1",
                "RECAUDO_DIALER__CALLER_ID": "+15125550100",
            },
            "cannot reach the Asterisk Manager Interface at 127.0.0.1:1",
        ),
        (
            ["campaign", "run", "{id}", "--backend", "twilio"],
            {"RECAUDO_DIALER__CALLER_ID": "+15125550100"},
            "needs RECAUDO_TWILIO__ACCOUNT_SID, RECAUDO_TWILIO_AUTH_TOKEN, "
            "RECAUDO_TWILIO__STATUS_CALLBACK_BASE_URL",
        ),
        (
            ["campaign", "run", "{id}", "--backend", "sim"],
            {},
            "no caller ID to present: pass --caller-ids POOL.yaml",
        ),
        (
            ["campaign", "run", "{id}", "--backend", "sim", "--caller-ids", "nope.yaml"],
            {},
            "--caller-ids nope.yaml: no such file",
        ),
        (
            ["campaign", "run", "{id}", "--backend", "sim", "--until", "2001-01-01T00:00Z"],
            {},
            "is in the past",
        ),
        (
            ["campaign", "run", "{id}", "--backend", "sim", "--for-seconds", "5", "--until", "x"],
            {},
            "give one of them, not both",
        ),
        (
            ["campaign", "run", "{id}", "--backend", "sim"],
            {"RECAUDO_ASTERISK__PASSWORD": "x"},
            "the secret is read from RECAUDO_AMI_PASSWORD",
        ),
        (["campaign", "pace", "{id}", "turbo"], {}, "pacing mode 'turbo' is unknown; use one of"),
        (
            ["campaign", "pace", "{id}", "predictive", "--set", "abandon_target=0.05"],
            {},
            "abandon_target must be between 0 and 0.03, not 0.05 (the FTC safe harbour is 3 %)",
        ),
        (["campaign", "pace", "{id}", "ratio", "--set", "ratio"], {}, "write it as KEY=VALUE"),
        (["campaign", "pace", "{id}", "ratio", "--set", "speed=2"], {}, "unknown pacing setting"),
        (["campaign", "pace", "{id}", "ratio", "--set", "cps=fast"], {}, "must be a number"),
        (
            ["campaign", "run", "{id}", "--backend", "twilio", "--agents", "3"],
            {},
            "simulated agents answer only the sim backend",
        ),
    ],
)
async def test_bad_input_exits_2_names_the_fix_and_changes_nothing(
    database: Db, args: list[str], env: dict[str, str], message: str
) -> None:
    before = await database.counts()
    result = cli(*(a.format(id=database.campaign_id) for a in args), env=database.env | env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr.replace("\n", " ")
    assert result.stderr.count("error:") == 1
    assert await database.counts() == before == (0, 0, CONTACTS)


async def test_a_bad_caller_id_pool_file_is_refused_whole(database: Db, tmp_path: Path) -> None:
    pool = tmp_path / "pool.yaml"
    pool.write_text("pool: agencia\nnumbers:\n  - e164: '5512'\n", encoding="utf-8")
    args = ["campaign", "run", str(database.campaign_id), "--backend", "sim"]
    result = cli(*args, "--caller-ids", str(pool), env=database.env)
    assert result.returncode == 2
    assert "caller-ID pool file refused, nothing imported" in result.stderr
    assert await database.counts() == (0, 0, CONTACTS)


async def test_sim_backend_in_real_time_then_a_second_run_closes_what_the_first_left(
    database: Db, tmp_path: Path
) -> None:
    pool = tmp_path / "pool.yaml"
    pool.write_text(
        "pool: agencia\nnumbers:\n  - e164: '+15125550101'\n  - e164: '+13055550102'\n",
        encoding="utf-8",
    )
    env = database.env | {"RECAUDO_DIALER__STOP_GRACE_SECONDS": "0", "RECAUDO_DIALER__CPS": "20"}
    args = ["campaign", "run", str(database.campaign_id), "--backend", "sim"]
    first = cli(*args, "--caller-ids", str(pool), "--for-seconds", "2", env=env)
    assert first.returncode == 0, first.stderr
    assert "the built-in simulator" in first.stdout
    assert "caller ID pool agencia (2 numbers)" in first.stdout
    assert "stopped (--until" in first.stdout
    assert "calls placed" in first.stdout
    assert " 0 calls placed" not in first.stdout
    status = json.loads(
        cli("campaign", "status", str(database.campaign_id), "--json", env=env).stdout
    )
    assert status["campaign"]["caller_id_pool"] == "agencia"  # kept for the next runs
    left_open = status["attempts"]["open"]
    second = cli(*args, "--for-seconds", "1", env=env)
    assert second.returncode == 0, second.stderr
    if left_open:
        assert f"recovered {left_open} attempts" in second.stdout
    after = json.loads(
        cli("campaign", "status", str(database.campaign_id), "--json", env=env).stdout
    )
    assert after["contacts"]["in_progress"] == after["attempts"]["open"]
    assert after["contacts"]["total"] == CONTACTS


async def test_a_campaign_with_nothing_to_call_stops_by_itself(tmp_path: Path) -> None:
    env = {
        "RECAUDO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}",
        "RECAUDO_DIALER__CALLER_ID": "+15125550100",
    }
    assert cli("db", "upgrade", env=env).returncode == 0
    campaign_id = cli("campaign", "create", "--name", "vacía", env=env).stdout.strip()
    result = cli("campaign", "run", campaign_id, "--backend", "sim", env=env)
    assert result.returncode == 0, result.stderr
    assert "stopped (nothing left to call in this campaign)" in result.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_twilio_backend_against_the_local_api(database: Db) -> None:
    port = _free_port()
    async with TwilioApiFake(SID, TOKEN, cps=50.0, time_scale=0.02) as fake:
        fake.route(PUBLIC, f"http://127.0.0.1:{port}")
        env = database.env | {
            "RECAUDO_TWILIO__ACCOUNT_SID": SID,
            "RECAUDO_TWILIO_AUTH_TOKEN": TOKEN,
            "RECAUDO_TWILIO__API_BASE_URL": fake.base_url,
            "RECAUDO_TWILIO__STATUS_CALLBACK_BASE_URL": PUBLIC,
            "RECAUDO_TWILIO__LISTEN_PORT": str(port),
            "RECAUDO_TWILIO__CPS": "50",
            "RECAUDO_DIALER__CPS": "50",
            "RECAUDO_DIALER__CALLER_ID": "+15125550100",
            "RECAUDO_DIALER__STOP_GRACE_SECONDS": "10",
        }
        args = ["campaign", "run", str(database.campaign_id), "--backend", "twilio"]
        result = await acli(*args, "--for-seconds", "3", env=env)
        assert result.returncode == 0, result.stderr
        assert "twilio http://127.0.0.1:" in result.stdout
        assert "still in flight" not in result.stdout
        status = json.loads(
            (await acli("campaign", "status", str(database.campaign_id), "--json", env=env)).stdout
        )
    assert status["attempts"]["total"] > 0
    assert status["attempts"]["open"] == 0
    assert status["contacts"]["in_progress"] == 0
    assert set(fake.creates_by_call_id.values()) == {1}
    assert len(fake.creates_by_call_id) == status["attempts"]["total"]


async def test_pace_then_run_predictive_with_simulated_agents(database: Db, tmp_path: Path) -> None:
    env = database.env | {
        "RECAUDO_DIALER__STOP_GRACE_SECONDS": "0",
        "RECAUDO_DIALER__CALLER_ID": "+15125550101",
    }
    campaign = str(database.campaign_id)
    paced = cli("campaign", "pace", campaign, "predictive", "--set", "abandon_target=0.02", env=env)
    assert paced.returncode == 0, paced.stderr
    assert "now paces predictive with abandon_target=0.02" in paced.stdout
    status = json.loads(cli("campaign", "status", campaign, "--json", env=env).stdout)
    assert status["campaign"]["pacing"] == {"mode": "predictive", "abandon_target": 0.02}
    assert status["abandon"]["cumulative"] == {"live_answers": 0, "abandons": 0, "rate": 0.0}
    refused = cli("campaign", "run", campaign, "--backend", "sim", "--for-seconds", "1", env=env)
    assert refused.returncode == 2
    assert "needs agents" in refused.stderr.replace("\n", " ")
    assert await database.counts() == (0, 0, CONTACTS)
    run = cli(
        "campaign", "run", campaign, "--backend", "sim", "--agents", "3", "--for-seconds", "3",
        env=env,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "calls placed" in run.stdout
    attempts, _, _ = await database.counts()
    assert attempts > 0
