"""Recaudo's settings: `RECAUDO_*` environment variables over an optional YAML file over defaults.

Secrets (passwords, tokens) are accepted only from the environment, never from the YAML file,
so a config file can be shared or committed without leaking them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

__all__ = [
    "SECRET_FIELDS",
    "AsteriskSettings",
    "DialerSettings",
    "ImportSettings",
    "Settings",
    "SettingsError",
    "TwilioSettings",
    "load_settings",
]

Country = Literal["MX", "CO", "PE", "CL", "US"]
SECRET_FIELDS = frozenset({"ami_password", "twilio_auth_token"})
# Where a secret might be looked for inside a group, and the one variable that holds it.
_GROUP_SECRETS = {
    ("asterisk", "secret"): "ami_password",
    ("asterisk", "password"): "ami_password",
    ("twilio", "auth_token"): "twilio_auth_token",
    ("twilio", "token"): "twilio_auth_token",
}
_DB_SCHEMES = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


class SettingsError(Exception):
    """A setting is missing, malformed or in the wrong place; the message names it."""


class ImportSettings(BaseModel):
    """Portfolio import tuning and sanity limits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    batch_rows: int = Field(5000, ge=100, le=100_000)
    workers: int = Field(0, ge=0, le=64, description="validation processes; 0 = one per CPU")
    parallel_from_rows: int = Field(20_000, ge=0)
    max_balance: dict[str, int] = Field(
        default_factory=lambda: {
            "MXN": 20_000_000,
            "USD": 5_000_000,
            "COP": 5_000_000_000,
            "PEN": 10_000_000,
            "CLP": 3_000_000_000,
        },
        description="largest believable balance per currency; above it a row is rejected",
    )


class AsteriskSettings(BaseModel):
    """Where the Asterisk Manager Interface is and how calls enter the dialplan (config/asterisk/).

    The AMI secret is not here: it is read only from RECAUDO_AMI_PASSWORD.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field("127.0.0.1", min_length=1)
    port: int = Field(5038, ge=1, le=65535)
    username: str = Field("recaudo", min_length=1, max_length=80)
    dial_template: str = Field(
        "PJSIP/{number}@trunk", description="{number}: E.164 as given, {digits}: digits only"
    )
    context: str = Field("ivr", min_length=1)
    amd_context: str = Field("ivr-amd", min_length=1)
    bridge_context: str = Field("agent-bridge", min_length=1)
    abandon_context: str = Field("recaudo-abandon", min_length=1)

    @field_validator("dial_template")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        names = set(re.findall(r"{([^{}]*)}", value))
        if not names or names - {"number", "digits"}:
            raise ValueError(
                "use {number} (E.164) or {digits} and no other placeholder, "
                "e.g. PJSIP/{number}@trunk"
            )
        return value


class TwilioSettings(BaseModel):
    """The Twilio account and where Twilio reaches our webhooks.

    The auth token is not here: it is read only from RECAUDO_TWILIO_AUTH_TOKEN.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    account_sid: str | None = Field(None, description="AC followed by 32 lowercase hex digits")
    api_base_url: str = "https://api.twilio.com"
    status_callback_base_url: str | None = Field(
        None, description="public https URL Twilio calls back (a proxy or tunnel to listen_*)"
    )
    listen_host: str = "127.0.0.1"
    listen_port: int = Field(8080, ge=1, le=65535)
    cps: float = Field(1.0, gt=0, le=100, description="calls per second your account allows")

    @field_validator("account_sid")
    @classmethod
    def _sid(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"AC[0-9a-f]{32}", value):
            raise ValueError(
                "AC followed by 32 lowercase hex digits (Twilio console, Account Info)"
            )
        return value

    @field_validator("api_base_url", "status_callback_base_url")
    @classmethod
    def _absolute_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ValueError("an absolute http(s) URL without a query")
        return value.rstrip("/")


class DialerSettings(BaseModel):
    """What an agency tunes in the dialer of `campaign run` (defaults: `DialerOptions`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    node: str = Field(
        "node-1",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$",
        description="this dialer's name in leases; one running process per name",
    )
    max_concurrent: int = Field(30, ge=1, le=2000)
    cps: float = Field(5.0, gt=0, le=500)
    burst: int = Field(1, ge=1, le=500)
    ring_timeout_seconds: float = Field(30.0, ge=5, le=300)
    detect_machine: bool = True
    caller_id: str | None = Field(
        None, description="the one number shown when no caller-ID pool is used (E.164)"
    )
    caller_name: str = Field("", max_length=40)
    stop_grace_seconds: float = Field(
        60.0, ge=0, le=3600, description="on Ctrl-C/SIGTERM, how long calls in flight may finish"
    )

    @field_validator("caller_id")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\+[1-9]\d{6,14}", value):
            raise ValueError("an E.164 number with its +, e.g. +525555500101")
        return value


class Settings(BaseSettings):
    """Every setting Recaudo reads. Environment: `RECAUDO_<NAME>`, nested with `__`."""

    model_config = SettingsConfigDict(
        env_prefix="RECAUDO_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    database_url: str = "sqlite+aiosqlite:///./var/recaudo.db"
    default_country: Country = "MX"
    default_creditor: str = Field("ACME Financiera", min_length=1, max_length=120)
    log_level: Literal["debug", "info", "warning", "error"] = "warning"
    log_format: Literal["console", "json"] = "console"
    var_dir: Path = Path("var")
    importer: ImportSettings = ImportSettings()
    asterisk: AsteriskSettings = AsteriskSettings()
    twilio: TwilioSettings = TwilioSettings()
    dialer: DialerSettings = DialerSettings()
    creditor_sector: Literal["financial", "commercial"] = "financial"
    collector_role: Literal["first_party", "third_party"] = "third_party"
    policy_files: list[Path] = Field(
        default_factory=list, description="agency packs loaded besides config/policies"
    )
    ami_password: SecretStr | None = None
    twilio_auth_token: SecretStr | None = None

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        scheme, sep, rest = value.partition("://")
        if not sep or scheme not in _DB_SCHEMES:
            allowed = "sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST:PORT/DB"
            raise ValueError(f"unsupported database URL {scheme!r}; use {allowed}")
        return f"{_DB_SCHEMES[scheme]}://{rest}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings)


def _env_name(*path: str) -> str:
    return "RECAUDO_" + "__".join(part.upper() for part in path)


def _secrets_in_file(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(where in the file, setting it belongs to) of every secret the file holds."""
    found = [(name, name) for name in sorted(SECRET_FIELDS & set(data))]
    for (group, key), setting in _GROUP_SECRETS.items():
        section = data.get(group)
        if isinstance(section, Mapping) and key in section:
            found.append((f"{group}.{key}", setting))
    return found


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SettingsError(
            f"config file {path} does not exist (RECAUDO_CONFIG / --config)"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SettingsError(f"config file {path} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(f"config file {path} must hold a mapping of setting: value")
    leaked = _secrets_in_file(data)
    if leaked:
        where = ", ".join(place for place, _ in leaked)
        names = ", ".join(sorted({_env_name(setting) for _, setting in leaked}))
        raise SettingsError(
            f"config file {path} holds secret setting(s) {where}: secrets are read "
            f"only from the environment; remove them from the file and set {names}"
        )
    return data


def _group_fields(loc: list[str]) -> list[str]:
    """The settings allowed where `loc` (a path ending in an unknown name) points."""
    model: type[BaseModel] = Settings
    for part in loc[:-1]:
        field = model.model_fields.get(part)
        annotation = field.annotation if field is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            break
        model = annotation
    return sorted(model.model_fields)


def _explain(exc: ValidationError, yaml_path: Path | None) -> str:
    lines = []
    for err in exc.errors():
        loc = [str(part) for part in err["loc"]]
        name = ".".join(loc) or "settings"
        env = _env_name(*loc)
        where = f"{name} (env {env}" + (f" or {yaml_path}" if yaml_path else "") + ")"
        if err["type"] == "extra_forbidden":
            secret = _GROUP_SECRETS.get((loc[0], loc[-1])) if len(loc) == 2 else None
            if secret is not None:
                lines.append(
                    f"unknown setting {where}; the secret is read from {_env_name(secret)}"
                )
                continue
            group = " ".join(loc[:-1])
            allowed = ", ".join(_group_fields(loc))
            known = f"known {group} settings" if group else "known settings"
            lines.append(f"unknown setting {where}; {known}: {allowed}")
        else:
            lines.append(f"bad setting {where}: {err['msg']} (got {err.get('input')!r})")
    return "\n".join(lines)


_NON_SETTING_VARS = ("RECAUDO_CONFIG", "RECAUDO_TEST_", "RECAUDO_SIM_")  # SIM_: the simulator's own


def _unknown_env_vars() -> list[str]:
    known = {_env_name(name) for name in Settings.model_fields}
    unknown = []
    for var in os.environ:
        if not var.startswith("RECAUDO_") or var.startswith(_NON_SETTING_VARS):
            continue
        if var.split("__", 1)[0] not in known:
            unknown.append(var)
    return sorted(unknown)


def _file_values(data: Mapping[str, Any], path: tuple[str, ...] = ()) -> dict[str, Any]:
    """The file's values the environment does not set, setting by setting (groups merge)."""
    kept: dict[str, Any] = {}
    for key, value in data.items():
        name = _env_name(*path, str(key))
        if name in os.environ:
            continue
        if isinstance(value, Mapping):
            kept[key] = _file_values(value, (*path, str(key)))
        elif not any(var.startswith(name + "__") for var in os.environ):
            kept[key] = value
    return kept


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Build settings from defaults, the YAML file (argument or `RECAUDO_CONFIG`) and environment.

    Raises SettingsError naming the setting and what it allows when anything is wrong.
    """
    unknown = _unknown_env_vars()
    if unknown:
        allowed = ", ".join(_env_name(name) for name in sorted(Settings.model_fields))
        raise SettingsError(f"unknown setting(s) {', '.join(unknown)}; known settings: {allowed}")
    path_text = config_file if config_file is not None else os.environ.get("RECAUDO_CONFIG")
    yaml_path = Path(path_text) if path_text else None
    # Environment beats the file: the file's values count only where no variable is set.
    values = _file_values(_read_yaml(yaml_path)) if yaml_path else {}
    values.update(overrides)
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise SettingsError(_explain(exc, yaml_path)) from None
