"""`decide()`: may this contact be reached on this channel at this instant, why not, and when.

Pure: the contact, its history and the instant are inputs; packs are loaded data. Every rule of
every selected pack must allow (the most restrictive wins); `next_allowed_at` is found by moving
to the latest "earliest allowed" instant of the failing rules until every rule agrees.

What does not depend on the instant or the history is worked out once and reused
(`campaigns.compliance.plan`): the rules per pack and channel, the candidate zones, the verdicts
of the rules that ignore time, and the calendar rules' answers along a shared UTC timeline
(`campaigns.compliance.timeline`). Per decision remain the contact's history — put in time
order once; each history rule looks only at the events within its reach of the instant, picks and
sorts those that can count, then answers any instant by bisection (`HistoryRule.prober`) — and
the reasons.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from operator import attrgetter, itemgetter

from campaigns.compliance.model import Code, Contact, Decision, Event, EventKind, Reason
from campaigns.compliance.packs import Pack
from campaigns.compliance.plan import CORE_PACK, candidate_zones, plan_for
from campaigns.compliance.rules import Probe, Verdict
from campaigns.compliance.timeline import SEARCH_STEPS, Failures, Timeline

__all__ = ["CORE_PACK", "HORIZON", "candidate_zones", "decide"]

HORIZON = timedelta(days=30)
_VOICE = frozenset({"voice_live", "voice_prerecorded", "voicemail"})
_MINUTE = timedelta(minutes=1)
_PLACE = itemgetter(0)
_AT = attrgetter("at")
_OPT_OUT = EventKind.OPT_OUT
# Decision and Reason built from a tuple of every field, in C: the NamedTuple's own __new__ is a
# Python function, a noticeable share of a decision that makes one or two of them.
_decision = partial(tuple.__new__, Decision)
_reason = partial(tuple.__new__, Reason)
_Probes = list[tuple[int, Probe]]  # (place among the plan's timed rules, probe)


def _same_family(a: str, b: str) -> bool:
    return a == b or (a in _VOICE and b in _VOICE)


def _opt_out(
    contact: Contact, channel: str, history: Sequence[Event], at: datetime
) -> tuple[Reason | None, datetime | None]:
    """Recaudo's own rule, whatever the packs: an opt-out of this phone and channel family.
    Returns the reason at `at` (if one applies by then), and the instant from which one applies
    (it blocks the search for the next allowed instant from there on)."""
    applicable = [
        e
        for e in history
        if e.kind is _OPT_OUT
        and (e.phone is None or contact.phone is None or e.phone == contact.phone)
        and (e.channel is None or _same_family(e.channel, channel))
    ]
    if not applicable:
        return None, None
    since = min(e.at for e in applicable)
    already = [e for e in applicable if e.at <= at]
    if not already:
        return None, since
    first = min(already, key=lambda e: (e.at, e.channel or ""))
    scope_es = "todos los canales" if first.channel is None else first.channel
    scope_en = first.channel or "all channels"
    day = first.at.date().isoformat()
    reason = Reason(
        Code.OPTED_OUT,
        CORE_PACK,
        "opt-out",
        None,
        f"pidió no ser contactado ({scope_es}) el {day}",
        f"asked not to be contacted ({scope_en}) on {day}",
    )
    return reason, since


def _merged(found: Failures, more: list[tuple[int, Verdict]]) -> Failures:
    """The calendar's failures `found` and the history rules' `more`, in the plan's order (the
    order of the reasons)."""
    if not more:
        return found
    if not found:
        return tuple(more)
    return tuple(sorted((*found, *more), key=_PLACE))


def _with_history(found: Failures, probes: _Probes, t: datetime) -> Failures:
    """`found` (the calendar's failures at `t`) with the history rules' that fail at `t`."""
    more = []
    for place, probe in probes:
        verdict = probe(t)
        if verdict is not None:
            more.append((place, verdict))
    return _merged(found, more) if more else found


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
    tz = at.tzinfo
    if tz is not UTC and (tz is None or at.utcoffset() is None):
        raise ValueError(f"decide() needs an aware instant, got naive {at.isoformat()}")
    if not isinstance(packs, tuple):
        packs = tuple(packs)
    if not isinstance(history, tuple):
        history = tuple(history)
    plan = plan_for(packs, channel, end_margin, contact)
    static, closed = plan.static.reasons(contact)
    opted: Reason | None = None
    opted_since: datetime | None = None
    probes: _Probes = []  # the history rules that can fail, prepared for this history
    timeline = plan.timeline
    failing = timeline.failures(at) if timeline is not None else ()
    if history:
        for event in history:  # a loop, not a comprehension: no function object per decision
            if event.kind is _OPT_OUT:
                opted, opted_since = _opt_out(contact, channel, history, at)
                break
        more = []
        slots = plan.history
        if slots:
            # In time order (stable: equal instants keep their order), so that each rule counts
            # only the events within its reach of `at` — found by bisection.
            times = list(map(_AT, history))
            ordered = sorted(times)
            if times != ordered:
                history = tuple(sorted(history, key=_AT))
            times = ordered
        for place, prepare, reach in slots:
            probe = prepare(contact, history, bisect_right(times, at - reach))
            if probe is not None:  # None: this rule cannot fail with this history
                probes.append((place, probe))
                verdict = probe(at)
                if verdict is not None:
                    more.append((place, verdict))
        if more:
            failing = _merged(failing, more)
    if not failing and not static and opted is None and closed is None:
        return _decision((True, at, channel, (), at, plan.pack_ids, plan.zone_names))
    reasons = list(static)
    if opted is not None:
        reasons.append(opted)
    if closed is not None:
        reasons.append(closed)
    permanent = bool(reasons)
    timed = plan.timed
    for place, (code, zone, es, en, _, describe) in failing:  # unpacked: no attribute lookups
        pack_id, rule = timed[place]
        if describe is not None:
            es, en = describe(at)
        reasons.append(_reason((code, pack_id, rule.id, zone, es, en, rule.status)))
    upcoming = (
        None if permanent else _next_allowed(timeline, probes, opted_since, at, failing, horizon)
    )
    return _decision((False, at, channel, tuple(reasons), upcoming, plan.pack_ids, plan.zone_names))


def _next_allowed(
    timeline: Timeline | None,
    probes: _Probes,
    opted_since: datetime | None,
    at: datetime,
    failing: Iterable[tuple[int, Verdict]],
    horizon: timedelta,
) -> datetime | None:
    """Jump to the latest "earliest allowed" of the failing rules until every rule agrees."""
    limit = at + horizon
    if not probes and timeline is not None:  # only the calendar says no: its search is shared
        found = timeline.reopens(at)
        if found is None or found > limit or (opted_since is not None and opted_since <= found):
            return None  # as below: never, over the horizon, or after an opt-out
        return found
    t = at
    for _ in range(SEARCH_STEPS):
        moved = t
        for _, (_, _, _, _, earliest, _) in failing:
            if earliest is None:
                return None
            if earliest > moved:  # as max(): of equal instants, the first one found
                moved = earliest
        t = moved if moved > t else t + _MINUTE
        if t > limit or (opted_since is not None and opted_since <= t):
            return None  # over the horizon, or an opt-out recorded after `at` now applies
        failing = timeline.failures(t) if timeline is not None else ()
        if probes:
            failing = _with_history(failing, probes, t)
        if not failing:
            return t
    return None
