"""Recaudo's settings: `RECAUDO_*` environment variables over an optional YAML file over defaults.

Secrets (passwords, tokens) are accepted only from the environment, never from the YAML file,
so a config file can be shared or committed without leaking them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

__all__ = ["SECRET_FIELDS", "ImportSettings", "Settings", "SettingsError", "load_settings"]

Country = Literal["MX", "CO", "PE", "CL", "US"]
SECRET_FIELDS = frozenset({"ami_password", "twilio_auth_token"})
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
    leaked = sorted(SECRET_FIELDS & set(data))
    if leaked:
        names = ", ".join(f"RECAUDO_{name.upper()}" for name in leaked)
        raise SettingsError(
            f"config file {path} holds secret setting(s) {', '.join(leaked)}: secrets are read "
            f"only from the environment; remove them from the file and set {names}"
        )
    return data


def _explain(exc: ValidationError, yaml_path: Path | None) -> str:
    lines = []
    for err in exc.errors():
        loc = [str(part) for part in err["loc"]]
        name = ".".join(loc) or "settings"
        env = "RECAUDO_" + "__".join(part.upper() for part in loc)
        where = f"{name} (env {env}" + (f" or {yaml_path}" if yaml_path else "") + ")"
        if err["type"] == "extra_forbidden":
            allowed = ", ".join(sorted(Settings.model_fields))
            lines.append(f"unknown setting {where}; known settings: {allowed}")
        else:
            lines.append(f"bad setting {where}: {err['msg']} (got {err.get('input')!r})")
    return "\n".join(lines)


_NON_SETTING_VARS = ("RECAUDO_CONFIG", "RECAUDO_TEST_", "RECAUDO_SIM_")  # SIM_: the simulator's own


def _unknown_env_vars() -> list[str]:
    known = {f"RECAUDO_{name.upper()}" for name in Settings.model_fields}
    unknown = []
    for var in os.environ:
        if not var.startswith("RECAUDO_") or var.startswith(_NON_SETTING_VARS):
            continue
        if var.split("__", 1)[0] not in known:
            unknown.append(var)
    return sorted(unknown)


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Build settings from defaults, the YAML file (argument or `RECAUDO_CONFIG`) and environment.

    Raises SettingsError naming the setting and what it allows when anything is wrong.
    """
    unknown = _unknown_env_vars()
    if unknown:
        allowed = ", ".join(f"RECAUDO_{name.upper()}" for name in sorted(Settings.model_fields))
        raise SettingsError(f"unknown setting(s) {', '.join(unknown)}; known settings: {allowed}")
    path_text = config_file if config_file is not None else os.environ.get("RECAUDO_CONFIG")
    yaml_path = Path(path_text) if path_text else None
    file_values = _read_yaml(yaml_path) if yaml_path else {}
    # Environment beats the file: pass the file's values only where no variable is set.
    values = {
        key: value
        for key, value in file_values.items()
        if not any(k.startswith(f"RECAUDO_{key.upper()}") for k in os.environ)
    }
    values.update(overrides)
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise SettingsError(_explain(exc, yaml_path)) from None
