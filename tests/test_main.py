"""The command line as a user runs it: a real `python main.py …` process each time."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from campaigns import db
from tests.cli import cli
from tests.conftest import PG_URL, require_postgres

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    return {"RECAUDO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}


@pytest.fixture
async def postgres_env() -> AsyncIterator[dict[str, str]]:
    await require_postgres()
    name = f"recaudo_cli_{uuid.uuid4().hex[:10]}"
    admin = db.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f"CREATE DATABASE {name}"))
    url = PG_URL.rsplit("/", 1)[0] + "/" + name
    try:
        yield {"RECAUDO_DATABASE_URL": url}
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        await admin.dispose()


def _migrations_up_and_down(env: dict[str, str]) -> None:
    assert "database: empty" in cli("db", "current", env=env).stdout
    up = cli("db", "upgrade", env=env)
    assert up.returncode == 0, up.stderr
    assert f"revision {db.head_revision()}" in up.stdout
    down = cli("db", "downgrade", "base", env=env)
    assert down.returncode == 0, down.stderr
    assert "revision None" in down.stdout
    assert cli("db", "upgrade", env=env).returncode == 0


def test_migrations_up_and_down_on_sqlite(sqlite_env: dict[str, str]) -> None:
    _migrations_up_and_down(sqlite_env)


@pytest.mark.postgres
def test_migrations_up_and_down_on_postgresql(postgres_env: dict[str, str]) -> None:
    _migrations_up_and_down(postgres_env)


def test_generate_then_import_json(tmp_path: Path, sqlite_env: dict[str, str]) -> None:
    path = tmp_path / "cartera.csv"
    made = cli(
        "portfolio",
        "generate",
        "--rows",
        "400",
        "--country",
        "MX",
        "--out",
        str(path),
        "--bad-rows",
        "0.05",
        "--seed",
        "5",
    )
    assert made.returncode == 0, made.stderr
    assert cli("db", "upgrade", env=sqlite_env).returncode == 0
    # 20 rows are broken; a "duplicated account" row also takes its original down with it.
    accounts = [line.split(",", 1)[0] for line in path.read_text(encoding="utf-8").splitlines()[1:]]
    originals = {a for a in accounts if a and accounts.count(a) > 1}
    expected_rejected = 20 + len(originals)

    strict = cli("import", str(path), "--country", "MX", "--strict", "--json", env=sqlite_env)
    assert strict.returncode == 1
    refused = json.loads(strict.stdout)
    assert refused["committed"] is False
    assert refused["rejected"] == expected_rejected

    done = cli("import", str(path), "--country", "MX", "--json", env=sqlite_env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["imported"] + report["rejected"] == 400
    assert report["rejected"] == expected_rejected
    assert {"row", "column", "reason"} == set(report["errors"][0])

    again = json.loads(cli("import", str(path), "--json", env=sqlite_env).stdout)
    assert (again["imported"], again["updated"]) == (0, 0)
    assert again["unchanged"] == 400 - expected_rejected

    table = cli("import", str(path), env=sqlite_env)
    assert table.returncode == 0
    assert "Rejected rows in" in table.stdout
    assert f"unchanged {400 - expected_rejected}" in table.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import", "/nonexistent/cartera.csv"], "no such file"),
        (["import", "README.md", "--country", "AR"], "--country AR: not supported"),
        (["import", "README.md", "--decimal", "x"], "--decimal 'x': use . or ,"),
        (["portfolio", "generate", "--rows", "0", "--out", "/tmp/x.csv"], "rows"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    args: list[str], message: str, sqlite_env: dict[str, str]
) -> None:
    result = cli(*args, env=sqlite_env)
    assert result.returncode == 2
    assert message in result.stderr


def test_import_into_an_unmigrated_database_says_how_to_fix_it(
    tmp_path: Path, sqlite_env: dict[str, str]
) -> None:
    path = tmp_path / "c.csv"
    path.write_text("cuenta,nombre,telefono,saldo\nA1,Ana Peña,5512345678,100\n", encoding="utf-8")
    result = cli("import", str(path), env=sqlite_env)
    assert result.returncode == 2
    assert "python main.py db upgrade" in result.stderr


def test_a_bad_setting_stops_every_command() -> None:
    result = cli("db", "current", env={"RECAUDO_DEFAULT_COUNTRY": "XX"})
    assert result.returncode == 2
    assert "default_country" in result.stderr


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    result = cli("demo", "--rows", "150", env={"RECAUDO_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    for country in ("MX", "CO", "PE", "CL", "US"):
        assert f"{country}: 150 rows →" in result.stdout
    assert "0 imported, 0 updated, 147 unchanged" in result.stdout
    assert "America/Chihuahua" in result.stdout
    assert "7. Predictive dialling to agents" in result.stdout
    assert "Abandon rate by hour (FTC" in result.stdout
    assert "pacing predictive: 5 agents busy" in result.stdout.replace("\n", " ")
    assert (tmp_path / "demo" / "recaudo-demo.db").exists()


def test_logs_hold_no_debtor_pii(tmp_path: Path, sqlite_env: dict[str, str]) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "cuenta,nombre,telefono,saldo\nA1,Ana Peña Ruiz,5512345678,100\nA2,Eva Sol,12,5\n",
        encoding="utf-8",
    )
    env = {**sqlite_env, "RECAUDO_LOG_LEVEL": "debug", "RECAUDO_LOG_FORMAT": "json"}
    assert cli("db", "upgrade", env=env).returncode == 0
    result = cli("import", str(path), "--json", env=env)
    assert result.returncode == 0
    events = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert {e["event"] for e in events} >= {"import.started", "import.finished"}
    assert all(e["level"] in {"info", "debug", "warning"} for e in events)
    for secret in ("Ana", "Peña", "5512345678", "12345678", "100"):
        assert secret not in result.stderr


def _contact_files(tmp_path: Path, **overrides: object) -> tuple[Path, Path]:
    contact = {
        "country": "US",
        "subdivision": "FL",
        "phone": "+18503211234",
        "role": "debtor",
        "line_type": "mobile",
        "provenance": "provided",
        "consent": ["sms"],
        "debt": "D1",
        "caller_id": "+13055550100",
        **overrides,
    }
    history = [
        {
            "event": "attempt",
            "channel": "voice_live",
            "debt": "D1",
            "at": "2026-11-24T15:00:00Z",
            "connected": True,
        }
    ]
    c, h = tmp_path / "contact.json", tmp_path / "history.json"
    c.write_text(json.dumps(contact), encoding="utf-8")
    h.write_text(json.dumps(history), encoding="utf-8")
    return c, h


def test_compliance_check_json(tmp_path: Path) -> None:
    contact, history = _contact_files(tmp_path)
    # 13:30 UTC = 08:30 in New York but 07:30 in Chicago: +1 850 may be either, so not yet.
    result = cli(
        "compliance",
        "check",
        "--packs",
        "us-fdcpa-regf,us-tcpa",
        "--channel",
        "voice_live",
        "--at",
        "2026-11-25T13:30:00Z",
        "--contact",
        str(contact),
        "--history",
        str(history),
        "--json",
    )
    assert result.returncode == 0, result.stderr
    decision = json.loads(result.stdout)
    assert decision["allowed"] is False
    assert [(r["code"], r["zone"]) for r in decision["reasons"]] == [
        ("WINDOW_CLOSED", "America/Chicago")
    ]
    assert decision["next_allowed_at"] == "2026-11-25T14:00:00+00:00"
    assert set(decision["zones"]) == {"America/Chicago", "America/New_York"}
    prerecorded = cli(
        "compliance",
        "check",
        "--packs",
        "us-tcpa",
        "--channel",
        "voice_prerecorded",
        "--at",
        "2026-11-25T16:00:00Z",
        "--contact",
        str(contact),
        "--json",
    )
    reasons = json.loads(prerecorded.stdout)["reasons"]
    assert {r["code"] for r in reasons} == {"CONSENT_REQUIRED"}


@pytest.mark.parametrize(
    ("override", "option", "message"),
    [
        ({"role": "primo"}, [], "contact.json.role: 'primo' is not one of"),
        ({"phone": "5512345678"}, [], "not a valid E.164"),
        ({"colour": "red"}, [], "unknown key(s) colour"),
        ({}, ["--packs", "xx-nada"], "unknown pack 'xx-nada'"),
        ({}, ["--at", "2026-11-25T13:30:00"], "add the offset"),
        ({}, ["--channel", "paloma"], "--channel 'paloma'"),
    ],
)
def test_compliance_check_bad_input(
    tmp_path: Path, override: dict[str, object], option: list[str], message: str
) -> None:
    contact, _ = _contact_files(tmp_path, **override)
    args = {"--packs": "us-tcpa", "--channel": "sms", "--at": "2026-11-25T16:00:00Z"}
    args.update(zip(option[::2], option[1::2], strict=True))
    flat = [item for pair in args.items() for item in pair]
    result = cli("compliance", "check", *flat, "--contact", str(contact))
    assert result.returncode == 2
    assert message in result.stderr


def test_why_explains_a_phone_from_the_database(tmp_path: Path, sqlite_env: dict[str, str]) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "cuenta,nombre,telefono,saldo,estado,municipio\nA1,Ana Peña,6141234567,100,Chihuahua,Juárez\n",
        encoding="utf-8",
    )
    assert cli("db", "upgrade", env=sqlite_env).returncode == 0
    assert cli("import", str(path), env=sqlite_env).returncode == 0
    # Wednesday 03:30 UTC = 21:30 in Chihuahua (UTC-6) but 20:30 in Juárez/Mazatlán.
    text = cli("why", "614 123 4567", "--at", "2026-11-26T03:30:00Z", env=sqlite_env)
    assert text.returncode == 0, text.stderr
    assert "zone America/Chihuahua: from prefix_override:+52614" in text.stdout
    assert "address:MX-CHH/Juárez" in text.stdout
    data = json.loads(
        cli("why", "A1", "--at", "2026-11-26T03:30:00Z", "--json", env=sqlite_env).stdout
    )
    voice = data[0]["decisions"]["voice_live"]
    assert voice["allowed"] is True
    assert data[0]["packs"][0]["id"] == "mx-condusef"
    late = json.loads(
        cli("why", "A1", "--at", "2026-11-26T04:30:00Z", "--json", env=sqlite_env).stdout
    )[0]["decisions"]["voice_live"]
    assert late["allowed"] is False
    assert late["reasons"][0]["zone"] == "America/Chihuahua"
    missing = cli("why", "ZZ999", env=sqlite_env)
    assert missing.returncode == 2
    assert "no phone or account matches 'ZZ999'" in missing.stderr


def test_calendar_lists_the_windows_in_every_zone(
    tmp_path: Path, sqlite_env: dict[str, str]
) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "cuenta,nombre,telefono,saldo,estado,municipio\nA1,Ana Peña,6561234567,100,CDMX,\n",
        encoding="utf-8",
    )
    assert cli("db", "upgrade", env=sqlite_env).returncode == 0
    assert cli("import", str(path), env=sqlite_env).returncode == 0
    result = cli(
        "compliance",
        "calendar",
        "656 123 4567",
        "--days",
        "2",
        "--channel",
        "voice_live",
        "--at",
        "2026-11-25T12:00:00Z",
        env=sqlite_env,
    )
    assert result.returncode == 0, result.stderr
    # Juárez (UTC-7) opens last at 07:00 = 14:00 UTC; Mexico City (UTC-6) closes first at
    # 22:00 = 04:00 UTC: the window must hold in both zones of this phone.
    assert "2026-11-25 14:00–04:00 UTC" in result.stdout
    assert "2026-11-26 14:00–04:00 UTC" in result.stdout
    assert "America/Ciudad_Juarez" in result.stdout
