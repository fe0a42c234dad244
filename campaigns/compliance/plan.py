"""A decision plan: which rules of the selected packs decide one channel, in which zones and
with which margin — worked out once, then reused by every decision that shares them.

Worked out per call, this was most of `decide()`'s time: candidate zones per pack, the rules
that decide the channel, which inherited rules were already judged, every rule that ignores
time, and the wall-clock windows of every candidate zone. A plan is keyed by what those depend on
(the packs, the channel, the campaign's margin and the contact's zone facts), and keeps:

- the rules that ignore time (party, provenance, caller ID, consent, channels) with the zones a
  pack could not find, judged once per kind of contact (`StaticJudge`): the facts they read
  take few distinct values across a portfolio;
- the calendar rules on one shared `Timeline`;
- the history rules, which `decide()` prepares against each contact's history.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from operator import attrgetter
from zoneinfo import ZoneInfo

from campaigns import geography
from campaigns.compliance.clock import zone
from campaigns.compliance.model import Code, Contact, Reason
from campaigns.compliance.packs import Pack
from campaigns.compliance.rules import (
    CalendarRule,
    HistoryRule,
    Rule,
    ScriptRule,
    StaticRule,
    Verdict,
)
from campaigns.compliance.rules.history import Prober
from campaigns.compliance.timeline import Timeline, TimelineEntry

__all__ = [
    "CORE_PACK",
    "HistorySlot",
    "Plan",
    "StaticJudge",
    "Timed",
    "candidate_zones",
    "plan_for",
]

CORE_PACK = "recaudo-core"
_CLOSED = {
    "paid": ("la cuenta está pagada", "the account is paid"),
    "closed": ("la cuenta está cerrada", "the account is closed"),
    "disputed": (
        "la cuenta está en disputa: la cobranza se detiene hasta resolverla",
        "the account is disputed: collection pauses until it is resolved",
    ),
}
_MAX_ENTRIES = 65_536  # per cache; a long-running process starts afresh past this


def _source_kind(source: str) -> str:
    if source.startswith("prefix_override"):
        return "prefix_overrides"
    if source.startswith("address"):
        return "address"
    return source


def candidate_zones(contact: Contact, pack: Pack) -> tuple[tuple[ZoneInfo, ...], Verdict | None]:
    """The zones `pack` evaluates this contact in, or a ZONE_UNKNOWN verdict."""
    return _zones_for(pack, contact.zone_sources, contact.zones, contact.country)


@lru_cache(maxsize=65536)
def _zones_for(
    pack: Pack,
    zone_sources: tuple[tuple[str, str], ...],
    plain_zones: tuple[str, ...],
    country: str | None,
) -> tuple[tuple[ZoneInfo, ...], Verdict | None]:
    policy = pack.zones
    if "fixed" in policy.use and policy.fixed:
        return (zone(policy.fixed),), None
    if zone_sources:
        names = [z for z, src in zone_sources if _source_kind(src) in policy.use]
    else:
        names = list(plain_zones)
    names = list(dict.fromkeys(names))
    if not names and policy.unknown == "country_all_zones" and country:
        try:
            names = list(geography.country_zones(country))
        except geography.GeographyError:
            names = []
    if not names:
        return (), Verdict(
            Code.ZONE_UNKNOWN,
            None,
            "no se sabe en qué zona horaria está el contacto; no se contacta",
            "the contact's time zone is unknown; no contact",
            None,
        )
    return tuple(zone(n) for n in names), None


#: One failing rule that ignores time, in pack order: (pack id, rule or "zones", its status).
_StaticEntry = tuple[str, StaticRule | Verdict, str]
#: What a contact's kind gets from the rules that ignore time: the reasons of the packs' rules
#: (and unknown zones), and the reason of a paid, closed or disputed account (or None).
StaticReasons = tuple[tuple[Reason, ...], Reason | None]


class StaticJudge:
    """The rules that ignore time (and packs without zones), memoised per kind of contact: the
    facts they read — role, provenance, caller ID, line type, consent, authorised channels,
    account status — repeat across a portfolio far more than contacts do. The memo is keyed by
    the facts these rules read and no others (read in C by one `attrgetter`): fewer distinct
    keys, and cheaper to hash and compare."""

    __slots__ = ("_channel", "_entries", "_facts", "_memo")

    def __init__(self, channel: str, entries: tuple[_StaticEntry, ...]) -> None:
        self._channel = channel
        self._entries = entries
        facts = ["account_status"]  # Recaudo's own rule: paid, closed or disputed accounts
        for _, rule, _ in entries:
            if not isinstance(rule, Verdict):
                facts.extend(f for f in rule.reads if f not in facts)
        self._facts = attrgetter(*facts)
        self._memo: dict[object, StaticReasons] = {}

    def reasons(self, contact: Contact) -> StaticReasons:
        key = self._facts(contact)
        found = self._memo.get(key)
        if found is None:
            found = self._judge(contact)
            if len(self._memo) >= _MAX_ENTRIES:
                self._memo.clear()
            self._memo[key] = found
        return found

    def _judge(self, contact: Contact) -> StaticReasons:
        reasons = []
        for pack_id, rule, status in self._entries:
            if isinstance(rule, Verdict):  # the pack found no zone for this contact
                es, en = rule.detail_es, rule.detail_en
                reasons.append(Reason(rule.code, pack_id, "zones", None, es, en, status))
                continue
            verdict = rule.judge(contact, self._channel)
            if verdict is not None:
                es, en = verdict.detail_es, verdict.detail_en
                reasons.append(Reason(verdict.code, pack_id, rule.id, verdict.zone, es, en, status))
        closed = None
        if contact.account_status in _CLOSED:
            es, en = _CLOSED[contact.account_status]
            closed = Reason(Code.ACCOUNT_CLOSED, CORE_PACK, "account-status", None, es, en)
        return tuple(reasons), closed


#: A rule that depends on time, as one pack asks it (its place in `Plan.timed` orders reasons).
Timed = tuple[str, Rule]  # pack id, rule


#: A history rule of a plan: its place among the timed rules, its prober for the channel and
#: the pack's zones, and its reach (`HistoryRule.reach`).
HistorySlot = tuple[int, Prober, timedelta]


class Plan:
    """Everything `decide()` needs that does not depend on the instant, the history or the
    contact's own facts (beyond its zones)."""

    __slots__ = ("history", "pack_ids", "static", "timed", "timeline", "zone_names")

    def __init__(
        self,
        pack_ids: tuple[str, ...],
        zone_names: tuple[str, ...],
        static: StaticJudge,
        timed: tuple[Timed, ...],
        timeline: Timeline | None,
        history: tuple[HistorySlot, ...],
    ) -> None:
        self.pack_ids = pack_ids
        self.zone_names = zone_names
        self.static = static
        self.timed = timed
        self.timeline = timeline
        self.history = history


_PLANS: dict[tuple[object, ...], Plan] = {}
_JUDGES: dict[tuple[object, ...], StaticJudge] = {}
_TIMELINES: dict[tuple[TimelineEntry, ...], Timeline] = {}


def plan_for(
    packs: tuple[Pack, ...], channel: str, end_margin: timedelta, contact: Contact
) -> Plan:
    """The plan for `packs` deciding `channel` with the campaign's `end_margin`, for a contact
    with these zone facts (cached)."""
    # Zones given without their sources count only when there are no sources (`_zones_for`).
    key = (packs, channel, end_margin, contact.zone_sources or contact.zones, contact.country)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _compile(packs, channel, end_margin, contact)
        if len(_PLANS) >= _MAX_ENTRIES:
            _PLANS.clear()
        _PLANS[key] = plan
    return plan


@lru_cache(maxsize=4096)
def _rules_for(pack: Pack, channel: str) -> tuple[Rule, ...]:
    """Every rule of `pack` that decides `channel` (script rules are checked on scripts)."""
    return tuple(
        rule for rule in pack.rules if not isinstance(rule, ScriptRule) and rule.applies_to(channel)
    )


def _compile(
    packs: tuple[Pack, ...], channel: str, end_margin: timedelta, contact: Contact
) -> Plan:
    zone_names: list[str] = []
    static: list[_StaticEntry] = []
    timed: list[Timed] = []
    calendar: list[TimelineEntry] = []
    history: list[HistorySlot] = []
    # A rule that several selected packs inherit is judged once per distinct (zones, margin):
    # a child pack's longer margin or extra zones still apply to what it inherits. One pack
    # never holds the same rule twice.
    seen: set[tuple[int, tuple[ZoneInfo, ...], timedelta]] | None = (
        set() if len(packs) > 1 else None
    )
    for pack in packs:
        zones, unknown = candidate_zones(contact, pack)
        if unknown is not None:
            static.append((pack.id, unknown, "confirmed"))
            continue
        for z in zones:
            if z.key not in zone_names:
                zone_names.append(z.key)
        margin = pack.end_margin + end_margin
        for rule in _rules_for(pack, channel):
            if seen is not None:
                key = (id(rule), zones, margin)
                if key in seen:
                    continue
                seen.add(key)
            if isinstance(rule, StaticRule):
                static.append((pack.id, rule, rule.status))
                continue
            place = len(timed)
            timed.append((pack.id, rule))
            if isinstance(rule, CalendarRule):
                calendar.append((place, rule, zones, int(margin.total_seconds())))
            elif isinstance(rule, HistoryRule):
                history.append((place, rule.prober(channel, zones), rule.reach()))
            else:
                raise AssertionError(f"{type(rule).__name__} is not evaluated when deciding")
    # Plans that differ only in zone facts share their judge and, with the same zones, their
    # timeline: what those learn serves all of them.
    judge_key = (channel, tuple(static))
    judge = _JUDGES.get(judge_key)
    if judge is None:
        if len(_JUDGES) >= _MAX_ENTRIES:
            _JUDGES.clear()
        judge = _JUDGES[judge_key] = StaticJudge(channel, tuple(static))
    timeline = None
    if calendar:
        entries = tuple(calendar)
        timeline = _TIMELINES.get(entries)
        if timeline is None:
            if len(_TIMELINES) >= _MAX_ENTRIES:
                _TIMELINES.clear()
            timeline = _TIMELINES[entries] = Timeline(entries)
    return Plan(
        tuple(p.id for p in packs),
        tuple(zone_names),
        judge,
        tuple(timed),
        timeline,
        tuple(history),
    )
