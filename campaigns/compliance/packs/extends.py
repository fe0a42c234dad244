"""`extends`: a pack inherits its parents' rules and may only tighten them; loading all packs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from campaigns.compliance.packs.model import POLICY_DIR, Pack, PolicyError, PolicySet
from campaigns.compliance.packs.reader import PackReader, RawPack
from campaigns.compliance.rules import (
    WEEKDAYS,
    CapRule,
    HolidayRule,
    Rule,
    WindowRule,
)

__all__ = ["load_policies"]


def _covers(wide: frozenset[str] | None, narrow: frozenset[str] | None) -> bool:
    """Whether channel set `wide` includes `narrow` (None = every channel)."""
    return wide is None or (narrow is not None and narrow <= wide)


def _inside(child: tuple[tuple[int, int], ...], parent: tuple[tuple[int, int], ...]) -> bool:
    return all(any(ps <= cs and ce <= pe for ps, pe in parent) for cs, ce in child)


def _looser(child: Rule, parent: Rule) -> str | None:
    """Why `child` would loosen `parent`, or None when it is at least as strict."""
    if type(child) is not type(parent):
        return f"it changes the rule kind ({parent.kind} → {child.kind})"
    if isinstance(child, WindowRule) and isinstance(parent, WindowRule):
        if not _covers(child.channels, parent.channels):
            return "it covers fewer channels"
        for index, day in enumerate(WEEKDAYS):
            if not _inside(child.days[index], parent.days[index]):
                return f"its {day} hours are not inside the parent's"
        return None
    if isinstance(child, CapRule) and isinstance(parent, CapRule):
        if child.counts != parent.counts or child.window_kind != parent.window_kind:
            return "it counts something else or over another kind of window"
        if child.max > parent.max:
            return f"its max {child.max} is above the parent's {parent.max}"
        if not _covers(child.channels, parent.channels) or not child.per <= parent.per:
            return "it covers fewer channels or a narrower scope"
        if child.length is not None and parent.length is not None and child.length < parent.length:
            return "its window is shorter"
        if child.unit == "day" and parent.unit == "week":
            return "its calendar unit is shorter"
        if child.exclude_not_connected and not parent.exclude_not_connected:
            return "it no longer counts calls that did not connect"
        if child.active_after and child.active_after != parent.active_after:
            return f"it applies only after {child.active_after}"
        if child.line_types is not None and (
            parent.line_types is None or not child.line_types >= parent.line_types
        ):
            return "it applies to fewer line types"
        if child.when_no_consent and not parent.when_no_consent:
            return "it applies only without consent"
        return None
    if isinstance(child, HolidayRule) and isinstance(parent, HolidayRule):
        same = (child.country, child.subdiv) == (parent.country, parent.subdiv)
        if not same or not child.extra >= parent.extra or not child.removed <= parent.removed:
            return "it drops holidays"
        if child.use_day is not None and child.use_day != parent.use_day:
            kept = f"{WEEKDAYS[child.use_day]}'s hours"
            was = "closes them" if parent.use_day is None else f"keeps {WEEKDAYS[parent.use_day]}'s"
            return f"it opens holidays with {kept} where the parent {was}"
        return None if _covers(child.channels, parent.channels) else "it covers fewer channels"
    if child == replace(parent, note=child.note, source=child.source, status=child.status):
        return None
    return (
        "only window, cap and holiday rules can be replaced (tightened); add a rule with a new id"
    )


def _holiday_hours(rules: dict[str, Rule], reader: PackReader, raw_rules: list[Any]) -> None:
    """Give each window rule of the pack the holiday rule (`on_holiday: {use_day: …}`) whose
    holidays keep another weekday's hours in it. A window rule that such a holiday rule covers
    only in part would need two answers for one channel set: refused."""
    keeps = [
        (r, r.use_day)
        for r in rules.values()
        if isinstance(r, HolidayRule) and r.use_day is not None
    ]
    for rule_id, rule in list(rules.items()):
        if not isinstance(rule, WindowRule):
            continue
        wanted: tuple[HolidayRule, int] | None = None
        for holiday, day in keeps:
            if _covers(holiday.channels, rule.channels):
                if wanted is not None and wanted[1] != day:
                    raise _at(
                        reader,
                        raw_rules,
                        holiday.id,
                        (
                            f"window {rule_id!r} would keep both {WEEKDAYS[wanted[1]]}'s and "
                            f"{WEEKDAYS[day]}'s hours on holidays; give one use_day for these "
                            "channels"
                        ),
                    )
                wanted = (holiday, day)
            elif (
                rule.channels is None
                or holiday.channels is None
                or (rule.channels & holiday.channels)
            ):
                raise _at(
                    reader,
                    raw_rules,
                    holiday.id,
                    (
                        f"on_holiday.use_day covers only some channels of window {rule_id!r}; give "
                        "both rules the same channels, or split the window by channel"
                    ),
                )
        keeper = None if wanted is None else wanted[0]
        if rule.holiday is not keeper:
            rules[rule_id] = replace(rule, holiday=keeper)


def _at(reader: PackReader, raw_rules: list[Any], rule_id: str, why: str) -> PolicyError:
    """A load error pointing at the pack's own rule `rule_id` (or at the pack, if inherited)."""
    for index, node in enumerate(raw_rules):
        if isinstance(node, Mapping) and node.get("id") == rule_id:
            return reader.fail(node, f"rules[{index}] (id {rule_id})", why)
    return PolicyError(f"{reader.path}: rule {rule_id!r} (inherited): {why}")


def _resolve(
    packs: dict[str, Pack],
    raw: dict[str, tuple[PackReader, RawPack]],
    pack_id: str,
    seen: tuple[str, ...],
) -> Pack:
    pack = packs[pack_id]
    if pack.rules or pack.own_rule_ids:
        return pack
    reader, (_, raw_rules, data) = raw[pack_id]
    inherited: dict[str, Rule] = {}
    sources: dict[str, Mapping[str, str]] = {}
    for parent_id in pack.extends:
        if parent_id in seen:
            cycle = " → ".join((*seen, parent_id))
            raise reader.fail(data, "extends", f"forms a cycle: {cycle}; remove one link")
        if parent_id not in packs:
            known = ", ".join(sorted(packs))
            raise reader.fail(data, "extends", f"unknown pack {parent_id!r}; known: {known}")
    if not pack.own_time and pack.extends:
        first = _resolve(packs, raw, pack.extends[0], (*seen, pack.extends[0]))
        pack = replace(pack, zones=first.zones, end_margin=first.end_margin)
    margin = pack.end_margin
    for parent_id in pack.extends:
        parent = _resolve(packs, raw, parent_id, (*seen, parent_id))
        inherited.update({r.id: r for r in parent.rules})
        sources.update(parent.sources)
        if margin < parent.end_margin:
            raise PolicyError(
                f"{pack.path}: time.end_margin is shorter than {parent_id}'s: it would loosen it"
            )
        if parent.zones.unknown == "deny" and pack.zones.unknown != "deny":
            raise PolicyError(f"{pack.path}: time.zones.unknown must stay deny, as in {parent_id}")
        if not pack.zones.use >= parent.zones.use and "fixed" not in parent.zones.use:
            raise PolicyError(f"{pack.path}: time.zones.use drops zone sources {parent_id} uses")
    sources.update(pack.sources)
    rules = dict(inherited)
    own: set[str] = set()
    for index, node in enumerate(raw_rules):
        rule = reader.rule(node, index, sources)
        if rule.id in own:
            raise reader.fail(node, f"rules[{index}]", f"rule id {rule.id!r} appears twice")
        own.add(rule.id)
        if rule.id in inherited:
            why = _looser(rule, inherited[rule.id])
            if why:
                raise reader.fail(
                    node,
                    f"rules[{index}] (id {rule.id})",
                    f"would loosen the inherited rule: {why}",
                )
        rules[rule.id] = rule
    _holiday_hours(rules, reader, raw_rules)
    resolved = replace(
        pack, rules=tuple(rules.values()), sources=sources, own_rule_ids=frozenset(own)
    )
    packs[pack_id] = resolved
    return resolved


def load_policies(directory: Path = POLICY_DIR, extra: Iterable[Path] = ()) -> PolicySet:
    """Load every `*.yaml` pack of `directory` plus `extra` files (an agency's own packs)."""
    paths = sorted(directory.glob("*.yaml")) + [Path(p) for p in extra]
    packs: dict[str, Pack] = {}
    raw: dict[str, tuple[PackReader, RawPack]] = {}
    for path in paths:
        reader = PackReader(path)
        pack, raw_rules, data = reader.pack()
        if pack.id in packs:
            raise PolicyError(
                f"{path}: pack id {pack.id!r} already loaded from {packs[pack.id].path}"
            )
        packs[pack.id] = pack
        raw[pack.id] = (reader, (pack, raw_rules, data))
    for pack_id in list(packs):
        _resolve(packs, raw, pack_id, (pack_id,))
    return PolicySet(packs)
