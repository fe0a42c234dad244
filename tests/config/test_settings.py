"""Settings: defaults, environment over file, and errors that name the setting."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from config.settings import SettingsError, load_settings
from dialer.backends.asterisk import AsteriskConfig
from dialer.backends.twilio_config import TwilioConfig
from dialer.runner import DialerOptions


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


def test_dialer_and_backend_groups_default_to_the_codes_defaults() -> None:
    settings = load_settings()
    code = DialerOptions()
    d = settings.dialer
    assert (d.node, d.max_concurrent, d.cps, d.burst) == (
        code.node,
        code.max_concurrent,
        code.cps,
        code.burst,
    )
    assert (d.ring_timeout_seconds, d.detect_machine) == (
        code.ring_timeout_seconds,
        code.detect_machine,
    )
    assert d.caller_name == code.caller_name
    ami, asterisk = AsteriskConfig(username="u", secret="s"), settings.asterisk
    assert (asterisk.host, asterisk.port, asterisk.username) == (ami.host, ami.port, "recaudo")
    assert asterisk.dial_template == ami.dial_template
    assert (asterisk.context, asterisk.amd_context, asterisk.bridge_context) == (
        ami.context,
        ami.amd_context,
        ami.bridge_context,
    )
    twilio = {f.name: f.default for f in fields(TwilioConfig)}
    assert settings.twilio.api_base_url == twilio["api_base_url"]
    assert settings.twilio.cps == twilio["cps"] == 1.0
    assert settings.twilio.account_sid is None
    assert settings.ami_password is None


def test_groups_merge_file_and_environment_setting_by_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "recaudo.yaml"
    path.write_text(
        "asterisk:\n  host: 10.0.0.5\n  port: 5039\n"
        "twilio:\n  account_sid: AC0123456789abcdef0123456789abcdef\n"
        "dialer:\n  node: caja-1\n  cps: 2.5\n  detect_machine: false\n"
    )
    monkeypatch.setenv("RECAUDO_ASTERISK__PORT", "6038")
    monkeypatch.setenv("RECAUDO_AMI_PASSWORD", "s3cr3t")
    monkeypatch.setenv("RECAUDO_TWILIO_AUTH_TOKEN", "t0k3n")  # must not hide the file's twilio
    monkeypatch.setenv("RECAUDO_DIALER__MAX_CONCURRENT", "12")
    settings = load_settings(path)
    assert (settings.asterisk.host, settings.asterisk.port) == ("10.0.0.5", 6038)
    assert settings.twilio.account_sid == "AC0123456789abcdef0123456789abcdef"
    assert settings.dialer.node == "caja-1"
    assert settings.dialer.max_concurrent == 12
    assert settings.dialer.cps == 2.5
    assert settings.dialer.detect_machine is False
    assert settings.ami_password is not None
    assert settings.ami_password.get_secret_value() == "s3cr3t"
    assert "s3cr3t" not in repr(settings)


@pytest.mark.parametrize(
    ("text", "variable"),
    [
        ("asterisk:\n  secret: x\n", "RECAUDO_AMI_PASSWORD"),
        ("asterisk:\n  password: x\n", "RECAUDO_AMI_PASSWORD"),
        ("twilio:\n  auth_token: x\n", "RECAUDO_TWILIO_AUTH_TOKEN"),
        ("ami_password: x\n", "RECAUDO_AMI_PASSWORD"),
    ],
)
def test_backend_secrets_are_refused_in_the_file(tmp_path: Path, text: str, variable: str) -> None:
    path = tmp_path / "recaudo.yaml"
    path.write_text(text)
    with pytest.raises(SettingsError, match=f"only from the environment.*set {variable}"):
        load_settings(path)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("RECAUDO_ASTERISK__PORT", "0", "asterisk.port.*RECAUDO_ASTERISK__PORT.*greater than"),
        ("RECAUDO_ASTERISK__DIAL_TEMPLATE", "SIP/{exten}", "dial_template.*use {number}"),
        ("RECAUDO_ASTERISK__SECRET", "x", "the secret is read from RECAUDO_AMI_PASSWORD"),
        ("RECAUDO_TWILIO__ACCOUNT_SID", "AB12", "twilio.account_sid.*AC followed by 32"),
        ("RECAUDO_TWILIO__STATUS_CALLBACK_BASE_URL", "ftp://x", "absolute http\\(s\\) URL"),
        ("RECAUDO_TWILIO__CPS", "0", "twilio.cps.*greater than 0"),
        ("RECAUDO_DIALER__NODE", "nodo uno", "dialer.node.*RECAUDO_DIALER__NODE"),
        ("RECAUDO_DIALER__MAX_CONCURRENT", "0", "dialer.max_concurrent"),
        ("RECAUDO_DIALER__CALLER_ID", "5512345678", "E.164 number with its \\+"),
        (
            "RECAUDO_DIALER__COLOUR",
            "red",
            "unknown setting dialer.colour.*known dialer settings: burst, caller_id",
        ),
    ],
)
def test_bad_group_settings_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=message):
        load_settings()
