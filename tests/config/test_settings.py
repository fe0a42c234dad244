"""Settings: defaults, environment over file, and errors that name the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import SettingsError, load_settings


def test_defaults_use_sqlite_under_var() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///./var/recaudo.db"
    assert settings.default_country == "MX"
    assert settings.importer.batch_rows == 5000


def test_environment_beats_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "recaudo.yaml"
    path.write_text("default_country: CO\nlog_level: debug\nimporter:\n  workers: 3\n")
    monkeypatch.setenv("RECAUDO_LOG_LEVEL", "warning")
    settings = load_settings(path)
    assert settings.default_country == "CO"
    assert settings.log_level == "warning"
    assert settings.importer.workers == 3


def test_plain_database_urls_get_the_async_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECAUDO_DATABASE_URL", "postgresql://postgres@127.0.0.1/recaudo")
    assert load_settings().database_url == "postgresql+asyncpg://postgres@127.0.0.1/recaudo"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("RECAUDO_DATABASE_URL", "mysql://x", "database_url.*RECAUDO_DATABASE_URL.*sqlite"),
        ("RECAUDO_DEFAULT_COUNTRY", "AR", "default_country.*'MX'"),
        ("RECAUDO_IMPORTER__BATCH_ROWS", "5", "importer.batch_rows.*greater than or equal to 100"),
        ("RECAUDO_LOG_LEVL", "debug", "unknown setting.*RECAUDO_LOG_LEVL.*RECAUDO_LOG_LEVEL"),
    ],
)
def test_bad_settings_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=message):
        load_settings()


def test_secrets_only_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "recaudo.yaml"
    path.write_text("twilio_auth_token: s3cr3t\n")
    with pytest.raises(SettingsError, match="RECAUDO_TWILIO_AUTH_TOKEN"):
        load_settings(path)
    monkeypatch.setenv("RECAUDO_TWILIO_AUTH_TOKEN", "s3cr3t")
    settings = load_settings()
    assert settings.twilio_auth_token is not None
    assert "s3cr3t" not in repr(settings)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n- b\n", "must hold a mapping"),
        ("a: [\n", "not valid YAML"),
        ("colour: red\n", "unknown setting colour"),
    ],
)
def test_bad_config_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "recaudo.yaml"
    path.write_text(text)
    with pytest.raises(SettingsError, match=message):
        load_settings(path)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml")
