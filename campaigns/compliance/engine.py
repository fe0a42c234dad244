"""`decide()`: may this contact be reached on this channel at this instant, why not, and when.

Pure: the contact, its history and the instant are inputs; packs are loaded data. Every rule of
every selected pack must allow (the most restrictive wins); `next_allowed_at` is found by moving
to the latest "earliest allowed" instant of the failing rules until every rule agrees.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from campaigns import geography
from campaigns.compliance.clock import zone
from campaigns.compliance.model import Code, Contact, Decision, Event, EventKind, Reason
from campaigns.compliance.packs import Pack
from campaigns.compliance.rules import (
    CallerIdRule,
    ChannelAuthorizationRule,
    ChannelBlockRule,
    ConsentRule,
    Context,
    PartyRule,
    ProvenanceRule,
    Rule,
    ScriptRule,
    Verdict,
)

__all__ = ["CORE_PACK", "HORIZON", "candidate_zones", "decide"]

HORIZON = timedelta(days=30)
CORE_PACK = "recaudo-core"
_VOICE = frozenset({"voice_live", "voice_prerecorded", "voicemail"})
_CLOSED = {
    "paid": ("la cuenta está pagada", "the account is paid"),
    "closed": ("la cuenta está cerrada", "the account is closed"),
    "disputed": (
        "la cuenta está en disputa: la cobranza se detiene hasta resolverla",
        "the account is disputed: collection pauses until it is resolved",
    ),
}


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


def _same_family(a: str, b: str) -> bool:
    return a == b or (a in _VOICE and b in _VOICE)


def _core(contact: Contact, channel: str, opt_outs: Sequence[Event], t: datetime) -> list[Verdict]:
    """Recaudo's own rules, whatever the packs: opt-outs (`opt_outs`: the history's opt-out
    events) and accounts that are paid, closed or disputed."""
    out = []
    opt_outs = [
        e
        for e in opt_outs
        if e.at <= t
        and (e.phone is None or contact.phone is None or e.phone == contact.phone)
        and (e.channel is None or _same_family(e.channel, channel))
    ]
    if opt_outs:
        first = min(opt_outs, key=lambda e: (e.at, e.channel or ""))
        scope_es = "todos los canales" if first.channel is None else first.channel
        scope_en = first.channel or "all channels"
        day = first.at.date().isoformat()
        out.append(
            Verdict(
                Code.OPTED_OUT,
                None,
                f"pidió no ser contactado ({scope_es}) el {day}",
                f"asked not to be contacted ({scope_en}) on {day}",
                None,
            )
        )
    if contact.account_status in _CLOSED:
        es, en = _CLOSED[contact.account_status]
        out.append(Verdict(Code.ACCOUNT_CLOSED, None, es, en, None))
    return out


_STATIC = (
    PartyRule,
    ProvenanceRule,
    CallerIdRule,
    ConsentRule,
    ChannelAuthorizationRule,
    ChannelBlockRule,
)
_Failure = tuple[str, str, Verdict, str]  # pack id, rule id, verdict, rule status


@lru_cache(maxsize=4096)
def _rules_for(pack: Pack, channel: str) -> tuple[tuple[Rule, bool], ...]:
    """(rule, whether it ignores time) for every rule of `pack` that decides `channel`."""
    return tuple(
        (rule, isinstance(rule, _STATIC))
        for rule in pack.rules
        if not isinstance(rule, ScriptRule) and rule.applies_to(channel)
    )


def decide(
    contact: Contact,
    channel: str,
    at: datetime,
    history: Iterable[Event] = (),
    packs: Iterable[Pack] = (),
    *,
    end_margin: timedelta = timedelta(0),
    horizon: timedelta = HORIZON,
) -> Decision:
    """Decide one contact attempt. `at` must be timezone-aware; `end_margin` is the campaign's
    own margin before a window closes, added to each pack's."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"decide() needs an aware instant, got naive {at.isoformat()}")
    packs = packs if isinstance(packs, tuple) else tuple(packs)
    history = history if isinstance(history, tuple) else tuple(history)
    opt_out = EventKind.OPT_OUT
    opt_outs = [e for e in history if e.kind is opt_out]
    zone_names: list[str] = []
    permanent: list[_Failure] = []
    timed: list[tuple[str, Rule, Context]] = []
    failing: list[_Failure] = []
    # A rule that several selected packs inherit is judged once per distinct (zones, margin):
    # a child pack's longer margin or extra zones still apply to what it inherits. One pack
    # never holds the same rule twice.
    seen: set[tuple[int, tuple[ZoneInfo, ...], timedelta]] | None = (
        set() if len(packs) > 1 else None
    )
    for pack in packs:
        zones, unknown = candidate_zones(contact, pack)
        if unknown is not None:
            permanent.append((pack.id, "zones", unknown, "confirmed"))
            continue
        for z in zones:
            if z.key not in zone_names:
                zone_names.append(z.key)
        margin = pack.end_margin + end_margin
        ctx = Context(contact, channel, zones, history, margin)
        for rule, static in _rules_for(pack, channel):
            if seen is not None:
                key = (id(rule), zones, margin)
                if key in seen:
                    continue
                seen.add(key)
            found = rule.check(ctx, at)
            if not static:
                timed.append((pack.id, rule, ctx))
            if found is not None:
                (permanent if static else failing).append((pack.id, rule.id, found, rule.status))
    for core in _core(contact, channel, opt_outs, at):
        rule_id = "opt-out" if core.code is Code.OPTED_OUT else "account-status"
        permanent.append((CORE_PACK, rule_id, core, "confirmed"))
    everything = permanent + failing
    pack_ids = _pack_ids(packs)
    if not everything:
        return Decision(True, at, channel, (), at, pack_ids, tuple(zone_names))
    reasons = tuple(
        Reason(v.code, pack_id, rule_id, v.zone, *v.texts(), status)
        for pack_id, rule_id, v, status in everything
    )
    upcoming = (
        None
        if permanent
        else _next_allowed(contact, channel, opt_outs, timed, at, failing, horizon)
    )
    return Decision(False, at, channel, reasons, upcoming, pack_ids, tuple(zone_names))


@lru_cache(maxsize=4096)
def _pack_ids(packs: tuple[Pack, ...]) -> tuple[str, ...]:
    return tuple(p.id for p in packs)


def _next_allowed(
    contact: Contact,
    channel: str,
    opt_outs: Sequence[Event],
    timed: list[tuple[str, Rule, Context]],
    at: datetime,
    failing: list[_Failure],
    horizon: timedelta,
) -> datetime | None:
    """Jump to the latest "earliest allowed" of the failing rules until every rule agrees."""
    limit = at + horizon
    t = at
    for _ in range(200):
        moved = t
        for _, _, last, _ in failing:
            if last.earliest is None:
                return None
            moved = max(moved, last.earliest)
        t = moved if moved > t else t + timedelta(minutes=1)
        if t > limit or (opt_outs and _core(contact, channel, opt_outs, t)):
            return None  # over the horizon, or an opt-out recorded after `at` now applies
        failing = []
        for pack_id, rule, ctx in timed:
            verdict = rule.check(ctx, t)
            if verdict is not None:
                failing.append((pack_id, rule.id, verdict, rule.status))
        if not failing:
            return t
    return None
