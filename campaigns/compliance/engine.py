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
from campaigns.compliance.rules import Context, Rule, ScriptRule, Verdict

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


def _core(contact: Contact, channel: str, history: Sequence[Event], t: datetime) -> list[Verdict]:
    out = []
    for event in history:
        if event.kind is not EventKind.OPT_OUT or event.at > t:
            continue
        if event.phone is not None and contact.phone is not None and event.phone != contact.phone:
            continue
        if event.channel is None or _same_family(event.channel, channel):
            scope = "todos los canales" if event.channel is None else event.channel
            out.append(
                Verdict(
                    Code.OPTED_OUT,
                    None,
                    f"pidió no ser contactado ({scope}) el {event.at.date().isoformat()}",
                    f"asked not to be contacted ({event.channel or 'all channels'}) on "
                    f"{event.at.date().isoformat()}",
                    None,
                )
            )
            break
    if contact.account_status in _CLOSED:
        es, en = _CLOSED[contact.account_status]
        out.append(Verdict(Code.ACCOUNT_CLOSED, None, es, en, None))
    return out


@lru_cache(maxsize=4096)
def _evaluated(pack: Pack, channel: str) -> tuple[Rule, ...]:
    """The rules of `pack` that decide `channel` (script-time rules are not)."""
    return tuple(r for r in pack.rules if not isinstance(r, ScriptRule) and r.applies_to(channel))


class _Plan:
    """The packs' rules for one (contact, channel), each with its context, evaluated at any t."""

    def __init__(
        self,
        contact: Contact,
        channel: str,
        history: tuple[Event, ...],
        packs: Iterable[Pack],
        end_margin: timedelta,
    ) -> None:
        self.contact, self.channel, self.history = contact, channel, history
        self.checks: list[tuple[str, Rule, Context]] = []
        self.permanent: list[tuple[str, str, Verdict, str]] = []
        self.pack_ids: list[str] = []
        self.zone_names: list[str] = []
        seen: set[int] = set()
        for pack in packs:
            self.pack_ids.append(pack.id)
            zones, unknown = candidate_zones(contact, pack)
            if unknown is not None:
                self.permanent.append((pack.id, "zones", unknown, "confirmed"))
                continue
            self.zone_names.extend(z.key for z in zones if z.key not in self.zone_names)
            ctx = Context(contact, channel, zones, history, pack.end_margin + end_margin)
            for rule in _evaluated(pack, channel):
                if id(rule) in seen:
                    continue
                seen.add(id(rule))
                self.checks.append((pack.id, rule, ctx))

    def failing(self, t: datetime) -> list[tuple[str, str, Verdict, str]]:
        out = list(self.permanent)
        out.extend(
            (CORE_PACK, "opt-out" if v.code is Code.OPTED_OUT else "account-status", v, "confirmed")
            for v in _core(self.contact, self.channel, self.history, t)
        )
        for pack_id, rule, ctx in self.checks:
            verdict = rule.check(ctx, t)
            if verdict is not None:
                out.append((pack_id, rule.id, verdict, rule.status))
        return out


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
    plan = _Plan(contact, channel, tuple(history), tuple(packs), end_margin)
    failing = plan.failing(at)
    reasons = tuple(
        Reason(v.code, pack_id, rule_id, v.zone, v.detail_es, v.detail_en, status)
        for pack_id, rule_id, v, status in failing
    )
    base = {
        "at": at,
        "channel": channel,
        "packs": tuple(plan.pack_ids),
        "zones": tuple(plan.zone_names),
    }
    if not failing:
        return Decision(allowed=True, next_allowed_at=at, **base)  # type: ignore[arg-type]
    return Decision(
        allowed=False,
        reasons=reasons,
        next_allowed_at=_next_allowed(plan, at, failing, horizon),
        **base,  # type: ignore[arg-type]
    )


def _next_allowed(
    plan: _Plan, at: datetime, failing: list[tuple[str, str, Verdict, str]], horizon: timedelta
) -> datetime | None:
    limit = at + horizon
    t = at
    for _ in range(200):
        earliest = [v.earliest for _, _, v, _ in failing]
        if any(e is None for e in earliest):
            return None
        moved = max(e for e in earliest if e is not None)
        t = moved if moved > t else t + timedelta(minutes=1)
        if t > limit:
            return None
        failing = plan.failing(t)
        if not failing:
            return t
    return None
