"""A loaded policy pack, the set of them, and how a pack is chosen for a contact."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from campaigns.compliance.rules import (
    Rule,
)

__all__ = ["POLICY_DIR", "Pack", "PolicyError", "PolicySet", "ZonePolicy"]

POLICY_DIR = Path(__file__).resolve().parents[3] / "config" / "policies"


class PolicyError(Exception):
    """A pack that cannot be used: the message says file, line, key and what is allowed."""


@dataclass(frozen=True, slots=True)
class ZonePolicy:
    """Where a contact's candidate zones come from, and what to do when there are none."""

    use: frozenset[str]
    fixed: str | None = None
    unknown: str = "country_all_zones"  # or deny


@dataclass(frozen=True, slots=True, eq=False)
class Pack:
    id: str
    version: str
    title: str
    path: Path
    abstract: bool
    extends: tuple[str, ...]
    applies_when: Mapping[str, Any]
    sources: Mapping[str, Mapping[str, str]]
    zones: ZonePolicy
    end_margin: timedelta
    rules: tuple[Rule, ...]
    own_rule_ids: frozenset[str] = field(default=frozenset())
    own_time: bool = True  # False: `time` is inherited from the first pack it extends

    def applies(
        self,
        country: str | None,
        subdivision: str | None,
        creditor_sector: str | None,
        collector_role: str | None,
    ) -> bool:
        when = self.applies_when
        if self.abstract or not when:
            return False
        if when.get("debtor_country") != country:
            return False
        wanted_sub = when.get("debtor_subdivision")
        if wanted_sub is not None:
            short = (subdivision or "").split("-")[-1]
            if short != wanted_sub:
                return False
        sectors = when.get("creditor_sector")
        if sectors and creditor_sector is not None and creditor_sector not in sectors:
            return False
        roles = when.get("collector_role")
        return not (roles and collector_role is not None and collector_role not in roles)


class PolicySet:
    """Every loaded pack by id; picks the packs that apply to a contact."""

    def __init__(self, packs: Mapping[str, Pack]) -> None:
        self.packs = dict(packs)

    def select(self, ids: Iterable[str]) -> tuple[Pack, ...]:
        chosen = []
        for pack_id in ids:
            pack = self.packs.get(pack_id)
            if pack is None:
                known = ", ".join(sorted(p for p, v in self.packs.items() if not v.abstract))
                raise PolicyError(f"unknown pack {pack_id!r}; known packs: {known}")
            if pack.abstract:
                raise PolicyError(f"pack {pack_id!r} is abstract: it is only for extends")
            chosen.append(pack)
        return tuple(chosen)

    def for_contact(
        self,
        country: str | None,
        subdivision: str | None = None,
        creditor_sector: str | None = None,
        collector_role: str | None = None,
    ) -> tuple[Pack, ...]:
        return tuple(
            pack
            for pack in sorted(self.packs.values(), key=lambda p: p.id)
            if pack.applies(country, subdivision, creditor_sector, collector_role)
        )
