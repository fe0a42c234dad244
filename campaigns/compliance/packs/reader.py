"""Reading one pack file: YAML with line numbers, every key checked, every rule built."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import yaml
from pydantic import TypeAdapter, ValidationError

from campaigns.compliance.model import CHANNELS
from campaigns.compliance.packs.model import Pack, PolicyError, ZonePolicy
from campaigns.compliance.rules import (
    WEEKDAYS,
    CallerIdRule,
    CapRule,
    ChannelAuthorizationRule,
    ChannelBlockRule,
    ChannelLockRule,
    ConsentRule,
    CooloffRule,
    HolidayRule,
    MinGapRule,
    PartyRule,
    ProvenanceRule,
    Rule,
    ScriptRule,
    WindowRule,
)

__all__ = ["ROLES", "SCRIPT_KINDS", "PackReader", "RawPack"]

SCHEMA = "recaudo.policy/v1"
ROLES = (
    "debtor", "spouse", "guardian", "executor", "aval", "obligado_solidario", "codeudor",
    "reference", "beneficiary", "family", "employer", "unknown", "other",
)  # fmt: skip
SCRIPT_KINDS = frozenset(
    {
        "disclosure",
        "disclosure_gate",
        "voicemail_content",
        "prerecorded",
        "opt_out_notice",
        "opt_out",
        "abandonment",
        "party_attribute",
        "retention",
    }
)
_DURATION: TypeAdapter[timedelta] = TypeAdapter(timedelta)
_OPTIONAL = frozenset({"source", "note"})
#: A caller ID is what a called phone shows: by default caller-ID rules are about calls.
_CALL_CHANNELS = ("voice_live", "voice_prerecorded", "voicemail")
_RANGE = re.compile(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})")


class _Map(dict[str, Any]):
    line: int = 0


class _Loader(yaml.SafeLoader):
    """A YAML loader whose mappings remember the line they start on."""


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _Map:
    mapping = _Map({str(k): v for k, v in loader.construct_mapping(node, deep=True).items()})
    mapping.line = node.start_mark.line + 1
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)


class PackReader:
    """Validates one pack file; every error names the file and line."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, node: Any, where: str, problem: str) -> PolicyError:
        line = getattr(node, "line", 0)
        return PolicyError(f"{self.path}:{line}: {where}: {problem}")

    def keys(self, node: _Map, where: str, required: set[str], optional: set[str]) -> None:
        optional = optional | _OPTIONAL
        missing = required - set(node)
        if missing:
            raise self.fail(node, where, f"missing key(s) {', '.join(sorted(missing))}")
        unknown = set(node) - required - optional
        if unknown:
            allowed = ", ".join(sorted(required | optional))
            raise self.fail(
                node, where, f"unknown key(s) {', '.join(sorted(unknown))}; allowed: {allowed}"
            )

    def duration(self, node: _Map, value: Any, where: str) -> timedelta:
        try:
            result = _DURATION.validate_python(value)
        except ValidationError:
            raise self.fail(
                node, where, f"{value!r} is not an ISO 8601 duration (PT5M, P7D)"
            ) from None
        if result < timedelta(0):
            raise self.fail(node, where, "a duration cannot be negative")
        return result

    def channels(self, node: _Map, value: Any, where: str) -> frozenset[str] | None:
        if value == "all":
            return None
        if not isinstance(value, list) or not value:
            raise self.fail(node, where, "give `all` or a non-empty list of channels")
        bad = [c for c in value if c not in CHANNELS]
        if bad:
            raise self.fail(
                node, where, f"unknown channel(s) {bad}; allowed: {', '.join(CHANNELS)}"
            )
        return frozenset(value)

    def names(self, node: _Map, value: Any, where: str, allowed: Sequence[str]) -> frozenset[str]:
        if not isinstance(value, list) or any(v not in allowed for v in value):
            raise self.fail(node, where, f"give a list of: {', '.join(allowed)} (got {value!r})")
        return frozenset(value)

    def on_holiday(self, node: _Map, value: Any, where: str) -> int | None:
        """`deny` (None) or `{use_day: sun}` (the weekday's index, 0 = Monday)."""
        if value == "deny":
            return None
        day = value.get("use_day") if isinstance(value, dict) and len(value) == 1 else None
        if day not in WEEKDAYS:
            raise self.fail(
                node,
                f"{where}.on_holiday",
                f"give deny or {{use_day: mon…sun}} (got {value!r}); use_day keeps that "
                "weekday's hours of the pack's windows on holidays",
            )
        return WEEKDAYS.index(day)

    def window_days(
        self, node: _Map, days: Any, where: str
    ) -> tuple[tuple[tuple[int, int], ...], ...]:
        if not isinstance(days, dict) or not days:
            raise self.fail(node, where, "days: give weekday keys (mon…sun or all) with ranges")
        out: list[list[tuple[int, int]]] = [[] for _ in WEEKDAYS]
        for key, ranges in days.items():
            if key != "all" and key not in WEEKDAYS:
                raise self.fail(
                    node, f"{where}.{key}", f"unknown day; use {', '.join(WEEKDAYS)} or all"
                )
            if not isinstance(ranges, list) or not ranges:
                raise self.fail(node, f"{where}.{key}", 'give a non-empty list of "HH:MM-HH:MM"')
            parsed = []
            for text in ranges:
                m = _RANGE.fullmatch(str(text))
                bad = f"bad time range {text!r}: use HH:MM-HH:MM within 00:00–24:00, start < end"
                if not m:
                    raise self.fail(node, f"{where}.{key}", bad)
                h1, m1, h2, m2 = (int(g) for g in m.groups())
                start, end = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
                if m1 > 59 or m2 > 59 or h1 > 23 or end > 86_400 or start >= end:
                    raise self.fail(node, f"{where}.{key}", bad)
                parsed.append((start, end))
            targets = range(7) if key == "all" else [WEEKDAYS.index(key)]
            for index in targets:
                out[index].extend(parsed)
        for index, ranges_of_day in enumerate(out):
            ranges_of_day.sort()
            for (_, e1), (s2, _) in itertools.pairwise(ranges_of_day):
                if s2 < e1:
                    raise self.fail(node, f"{where}.{WEEKDAYS[index]}", "ranges overlap")
        return tuple(tuple(r) for r in out)

    def rule(self, node: Any, index: int, sources: Mapping[str, Any]) -> Rule:
        where = f"rules[{index}]"
        if not isinstance(node, _Map):
            raise self.fail(node, where, "each rule is a mapping with id, kind, status…")
        rule_id, kind = node.get("id"), node.get("kind")
        where = f"rules[{index}] (id {rule_id})"
        if not isinstance(rule_id, str) or not rule_id:
            raise self.fail(node, where, "every rule needs an id")
        status = node.get("status")
        if status not in ("confirmed", "uncertain", "policy"):
            raise self.fail(node, where, "status must be confirmed, uncertain or policy")
        source = node.get("source")
        if source is None and status != "policy":
            raise self.fail(
                node, where, "a law rule needs a source (only policy rules may omit it)"
            )
        if source is not None and source not in sources:
            raise self.fail(node, where, f"source {source!r} is not among the pack's sources")
        base = {"id", "kind", "status"}
        common: dict[str, Any] = {"id": rule_id, "kind": kind, "status": status, "source": source}
        common["note"] = node.get("note")
        if kind in SCRIPT_KINDS:
            spec = tuple((k, v) for k, v in node.items() if k not in base | _OPTIONAL | {"check"})
            return ScriptRule(**common, check_at=str(node.get("check", "script")), spec=spec)
        if kind == "window":
            self.keys(node, where, base | {"channels", "days"}, set())
            return WindowRule(
                **common,
                channels=self.channels(node, node["channels"], where),
                days=self.window_days(node, node["days"], f"{where}.days"),
            )
        if kind == "holiday_block":
            self.keys(
                node,
                where,
                base | {"calendar", "channels"},
                {"extra_dates", "removed_dates", "on_holiday"},
            )
            calendar = node["calendar"]
            if not isinstance(calendar, dict) or "country" not in calendar:
                raise self.fail(node, where, "calendar: {country: XX, subdiv: YY?}")
            try:
                holidays.country_holidays(calendar["country"], subdiv=calendar.get("subdiv"))
            except NotImplementedError as exc:
                raise self.fail(node, where, f"no holiday calendar: {exc}") from None
            return HolidayRule(
                **common,
                channels=self.channels(node, node["channels"], where),
                country=calendar["country"],
                subdiv=calendar.get("subdiv"),
                extra=self.dates(node, node.get("extra_dates", []), where),
                removed=self.dates(node, node.get("removed_dates", []), where),
                use_day=self.on_holiday(node, node.get("on_holiday", "deny"), where),
            )
        if kind == "cap":
            self.keys(
                node,
                where,
                base | {"channels", "per", "counts", "max", "window"},
                {"exclude", "active_after", "line_types", "when_no_consent", "contact_point"},
            )
            limit = node["max"]
            if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
                raise self.fail(node, where, f"max must be a whole number ≥ 1 (got {limit!r})")
            counts = node["counts"]
            if counts not in ("attempts", "connected", "two_way", "messages", "communications"):
                raise self.fail(
                    node, where, "counts: attempts, connected, two_way, messages or communications"
                )
            window = node["window"]
            kwargs: dict[str, Any] = {}
            if not isinstance(window, dict) or window.get("type") not in ("rolling", "calendar"):
                raise self.fail(
                    node,
                    where,
                    "window: {type: rolling, length: P7D} or {type: calendar, unit: day|week}",
                )
            if window["type"] == "rolling":
                length = self.duration(node, window.get("length"), f"{where}.window.length")
                if length <= timedelta(0):
                    raise self.fail(node, where, "window.length must be positive")
                kwargs |= {"window_kind": "rolling", "length": length}
            else:
                unit = window.get("unit")
                if unit not in ("day", "week"):
                    raise self.fail(node, where, "window.unit: day or week")
                start = window.get("week_start", "mon")
                if start not in WEEKDAYS:
                    raise self.fail(node, where, f"week_start: one of {', '.join(WEEKDAYS)}")
                kwargs |= {
                    "window_kind": "calendar",
                    "unit": unit,
                    "week_start": WEEKDAYS.index(start),
                }
            exclude = node.get("exclude", [])
            unknown = set(exclude) - {"not_connected", "consented_within_7d"}
            if unknown:
                raise self.fail(
                    node, where, f"exclude: unknown {sorted(unknown)}; allowed: not_connected"
                )
            line_types = node.get("line_types")
            return CapRule(
                **common,
                channels=self.channels(node, node["channels"], where),
                per=self.names(node, node["per"], f"{where}.per", ("person", "debt", "phone")),
                counts=counts,
                max=limit,
                exclude_not_connected="not_connected" in exclude,
                active_after=node.get("active_after"),
                line_types=None if line_types is None else self.line_types(node, line_types, where),
                when_no_consent=bool(node.get("when_no_consent", False)),
                **kwargs,
            )
        if kind == "cooloff":
            self.keys(node, where, base | {"trigger", "per", "blocks", "until"}, set())
            until = node["until"]
            kwargs = {}
            if isinstance(until, dict) and until.get("type") == "rolling":
                kwargs = {
                    "until_kind": "rolling",
                    "length": self.duration(node, until.get("length"), where),
                }
            elif isinstance(until, dict) and until.get("type") == "calendar_days_inclusive":
                days = until.get("length")
                if not isinstance(days, int) or days < 1:
                    raise self.fail(node, where, "until.length: whole days ≥ 1")
                kwargs = {"until_kind": "calendar_days_inclusive", "days": days}
            else:
                raise self.fail(
                    node,
                    where,
                    "until: {type: rolling, length: P7D} or "
                    "{type: calendar_days_inclusive, length: 7}",
                )
            return CooloffRule(
                **common,
                channels=self.channels(node, node["blocks"], where),
                trigger=self.trigger(node, node["trigger"], where),
                per=self.names(node, node["per"], f"{where}.per", ("person", "debt", "phone")),
                **kwargs,
            )
        if kind == "channel_lock":
            self.keys(node, where, base | {"trigger", "per", "until"}, {"lock_to"})
            until = node["until"]
            if not isinstance(until, dict) or until.get("type") != "rolling":
                raise self.fail(node, where, "until: {type: rolling, length: P7D}")
            return ChannelLockRule(
                **common,
                trigger=self.trigger(node, node["trigger"], where),
                per=self.names(node, node["per"], f"{where}.per", ("person", "debt", "phone")),
                length=self.duration(node, until.get("length"), where),
            )
        if kind == "min_gap":
            self.keys(node, where, base | {"channels", "per", "gap"}, set())
            return MinGapRule(
                **common,
                channels=self.channels(node, node["channels"], where),
                per=self.names(node, node["per"], f"{where}.per", ("person", "debt", "phone")),
                gap=self.duration(node, node["gap"], where),
            )
        if kind == "party":
            self.keys(
                node, where, base | {"allowed_roles"}, {"forbidden_roles", "location_only_roles"}
            )
            return PartyRule(
                **common,
                allowed_roles=self.names(node, node["allowed_roles"], where, ROLES),
                forbidden_roles=self.names(node, node.get("forbidden_roles", []), where, ROLES),
                location_only_roles=self.names(
                    node, node.get("location_only_roles", []), where, ROLES
                ),
            )
        if kind == "contact_point_provenance":
            self.keys(node, where, base | {"allowed"}, set())
            return ProvenanceRule(
                **common,
                allowed=self.names(node, node["allowed"], where, ("provided", "skip_trace")),
            )
        if kind == "caller_id":
            self.keys(node, where, base, {"presentation", "prefix", "number_set", "channels"})
            prefix = node.get("prefix")
            if prefix is not None and not str(prefix).isdigit():
                raise self.fail(node, where, 'prefix: digits, e.g. "600"')
            return CallerIdRule(
                **common,
                channels=self.channels(node, node.get("channels", list(_CALL_CHANNELS)), where),
                prefix=None if prefix is None else str(prefix),
            )
        if kind == "consent":
            self.keys(node, where, base | {"channels"}, {"line_types", "technology", "requires"})
            line_types = node.get("line_types")
            return ConsentRule(
                **common,
                channels=self.channels(node, node["channels"], where),
                line_types=None if line_types is None else self.line_types(node, line_types, where),
            )
        if kind == "channel_authorization":
            self.keys(node, where, base, {"requires", "when_unknown"})
            unknown = node.get("when_unknown", "allow")
            if unknown not in ("allow", "deny"):
                raise self.fail(
                    node,
                    f"{where}.when_unknown",
                    f"allow or deny (got {unknown!r}): what a contact with no authorised "
                    "channels on record gets",
                )
            return ChannelAuthorizationRule(**common, unknown_allowed=unknown == "allow")
        if kind == "channel_block":
            self.keys(node, where, base | {"channels"}, set())
            return ChannelBlockRule(**common, channels=self.channels(node, node["channels"], where))
        kinds = "window, holiday_block, cap, cooloff, channel_lock, min_gap, party, "
        kinds += (
            "contact_point_provenance, caller_id, consent, channel_authorization, channel_block, "
        )
        kinds += ", ".join(sorted(SCRIPT_KINDS))
        raise self.fail(node, where, f"unknown rule kind {kind!r}; known kinds: {kinds}")

    def line_types(self, node: _Map, value: Any, where: str) -> frozenset[str]:
        aliases = {"landline": "fixed_line", "residential": "fixed_line"}
        if not isinstance(value, list):
            raise self.fail(node, where, "line_types: a list of mobile, fixed_line, voip, unknown")
        mapped = [aliases.get(v, v) for v in value]
        return self.names(node, mapped, where, ("mobile", "fixed_line", "voip", "unknown"))

    def trigger(self, node: _Map, value: Any, where: str) -> str:
        if value not in ("conversation", "two_way_contact"):
            raise self.fail(node, where, "trigger: conversation or two_way_contact")
        return str(value)

    def dates(self, node: _Map, values: Any, where: str) -> frozenset[date]:
        try:
            return frozenset(
                d if isinstance(d, date) else date.fromisoformat(str(d)) for d in values
            )
        except (TypeError, ValueError):
            raise self.fail(node, where, "dates are YYYY-MM-DD") from None

    def pack(self) -> RawPack:
        try:
            data = yaml.load(self.path.read_text(encoding="utf-8"), Loader=_Loader)
        except yaml.YAMLError as exc:
            raise PolicyError(f"{self.path}: not valid YAML: {exc}") from None
        if not isinstance(data, _Map):
            raise PolicyError(f"{self.path}:1: a pack is a mapping (schema, id, rules…)")
        self.keys(
            data,
            "pack",
            {"schema", "id", "rules"},
            {
                "version",
                "title",
                "abstract",
                "extends",
                "applies_when",
                "sources",
                "time",
                "retention_years",
            },
        )
        if data["schema"] != SCHEMA:
            raise self.fail(data, "schema", f"expected {SCHEMA}, got {data['schema']!r}")
        if data["id"] != self.path.stem:
            raise self.fail(
                data, "id", f"{data['id']!r} must equal the file name {self.path.stem!r}"
            )
        abstract = bool(data.get("abstract", False))
        when = data.get("applies_when") or {}
        if not abstract:
            if not isinstance(when, dict) or "debtor_country" not in when:
                raise self.fail(
                    data, "applies_when", "a selectable pack needs applies_when.debtor_country"
                )
            extra = set(when) - {
                "debtor_country",
                "debtor_subdivision",
                "creditor_sector",
                "collector_role",
            }
            if extra:
                raise self.fail(when, "applies_when", f"unknown key(s) {sorted(extra)}")
        sources = data.get("sources") or {}
        for key, value in sources.items():
            if not isinstance(value, dict) or "url" not in value:
                raise self.fail(sources, f"sources.{key}", "each source is {title?: …, url: …}")
        extends = tuple(data.get("extends") or ())
        raw_rules = data["rules"]
        if not isinstance(raw_rules, list):
            raise self.fail(data, "rules", "a list of rules")
        pack = Pack(
            id=data["id"],
            version=str(data.get("version", "0")),
            title=str(data.get("title", data["id"])),
            path=self.path,
            abstract=abstract,
            extends=extends,
            applies_when=dict(when),
            sources=dict(sources),
            zones=self.zone_policy(data.get("time") or {}),
            end_margin=self.duration(
                data, (data.get("time") or {}).get("end_margin", "PT0S"), "time.end_margin"
            ),
            rules=(),
            own_time="time" in data,
        )
        return pack, raw_rules, data

    def zone_policy(self, time_node: Any) -> ZonePolicy:
        zones = time_node.get("zones") if isinstance(time_node, dict) else None
        if zones is None:
            return ZonePolicy(use=frozenset({"address", "phone_prefix", "prefix_overrides"}))
        use = zones.get("use", [])
        allowed = ("address", "phone_prefix", "prefix_overrides", "fixed")
        if not isinstance(use, list) or not use or any(u not in allowed for u in use):
            raise self.fail(zones, "time.zones.use", f"a list of: {', '.join(allowed)}")
        fixed = zones.get("fixed")
        if "fixed" in use:
            try:
                ZoneInfo(str(fixed))
            except (ZoneInfoNotFoundError, ValueError):
                raise self.fail(zones, "time.zones.fixed", f"unknown time zone {fixed!r}") from None
        unknown = zones.get("unknown", "country_all_zones")
        if unknown not in ("country_all_zones", "deny"):
            raise self.fail(zones, "time.zones.unknown", "country_all_zones or deny")
        ambiguity = zones.get("ambiguity", "all_candidates")
        if ambiguity != "all_candidates":
            raise self.fail(zones, "time.zones.ambiguity", "only all_candidates (the safe reading)")
        return ZonePolicy(use=frozenset(use), fixed=fixed, unknown=unknown)


#: A pack as read, before `extends` is resolved: the pack, its rule nodes, its top mapping.
RawPack = tuple[Pack, list[Any], _Map]
