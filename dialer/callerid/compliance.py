"""Pool numbers against the policy packs' caller-ID rules (Chile's 600 prefix, never hidden).

The rules are the compliance engine's own `CallerIdRule` values, asked through their
`judge(contact, channel)` with a contact that carries only the caller ID: nothing about the
600 prefix or hidden numbers is re-encoded here. What is added is Recaudo's own floor, whatever
the packs say: a number that is empty, a withholding keyword, or not a valid E.164 number is
never presented (the rule lets an empty or malformed number through when it has no prefix).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from campaigns.compliance import CORE_PACK, Contact, Pack
from campaigns.compliance.rules import CallerIdRule
from dialer.callerid.values import HIDDEN_CALLER_IDS, PoolNumber, number_place

__all__ = ["CALL_CHANNELS", "PRESENTED_RULE", "CallerIdRules", "NumberProblem", "validate_pool"]

#: The channels on which a caller ID is shown (the packs' default for caller-ID rules).
CALL_CHANNELS: Final = ("voice_live", "voice_prerecorded", "voicemail")
#: Rule id of Recaudo's own floor: a real, presented number.
PRESENTED_RULE: Final = "caller-id-presented"


@dataclass(frozen=True, slots=True)
class NumberProblem:
    """Why a number may not be presented to debtors of `country` (only those of `subdivision`,
    an ISO 3166-2 suffix such as "MA", when the pack is that narrow)."""

    number_id: int
    e164: str
    country: str
    subdivision: str | None
    pack: str
    rule: str
    detail: str

    def blocks(self, country: str, subdivision: str | None) -> bool:
        """Whether this problem applies to a debtor of `country` / `subdivision` (a code)."""
        if country != self.country:
            return False
        return self.subdivision is None or (subdivision or "").split("-")[-1] == self.subdivision

    def __str__(self) -> str:
        scope = self.country + (f"-{self.subdivision}" if self.subdivision else "")
        return f"{self.e164} for {scope}: {self.detail} ({self.pack} {self.rule})"


@dataclass(frozen=True, slots=True)
class _Scoped:
    country: str | None
    subdivision: str | None
    pack: str
    rule: CallerIdRule
    channel: str


class CallerIdRules:
    """The caller-ID rules of some packs that decide `channels`, by the debtor country (and
    subdivision) their pack applies to. Abstract packs are skipped: their rules reach debtors
    through the packs that extend them."""

    def __init__(self, packs: Iterable[Pack], channels: Iterable[str] = CALL_CHANNELS) -> None:
        wanted = tuple(channels)
        scoped: list[_Scoped] = []
        seen: set[tuple[str | None, str | None, int]] = set()
        for pack in packs:
            if pack.abstract:
                continue
            country = pack.applies_when.get("debtor_country")
            subdivision = pack.applies_when.get("debtor_subdivision")
            for rule in pack.rules:
                if not isinstance(rule, CallerIdRule):
                    continue
                channel = next((c for c in wanted if rule.applies_to(c)), None)
                key = (country, subdivision, id(rule))
                if channel is None or key in seen:
                    continue  # another channel's rule, or inherited by a sibling pack: once
                seen.add(key)
                scoped.append(_Scoped(country, subdivision, pack.id, rule, channel))
        self._scoped = tuple(scoped)

    def problems(self, number: PoolNumber) -> tuple[NumberProblem, ...]:
        """Every rule `number` breaks for debtors of its own country (the only ones it calls)."""
        floor = _presented(number)
        if floor is not None:
            return (floor,)
        contact = Contact(country=number.country, caller_id=number.e164)
        found = []
        for s in self._scoped:
            if s.country is not None and s.country != number.country:
                continue
            verdict = s.rule.judge(contact, s.channel)
            if verdict is not None:
                found.append(
                    NumberProblem(
                        number.id,
                        number.e164,
                        number.country,
                        s.subdivision,
                        s.pack,
                        s.rule.id,
                        verdict.detail_en,
                    )
                )
        return tuple(found)


def _presented(number: PoolNumber) -> NumberProblem | None:
    """Recaudo's floor: a real number in E.164, of the country the pool says."""
    text = number.e164
    detail: str | None = None
    if text.strip().lower() in HIDDEN_CALLER_IDS:
        detail = f"the calling number must be presented, never hidden (it is {text!r})"
    else:
        try:
            place = number_place(text)
        except ValueError as exc:
            detail = str(exc)
        else:
            if place.country != number.country:
                detail = f"it is a number of {place.country}, not of {number.country}"
    if detail is None:
        return None
    return NumberProblem(
        number.id, number.e164, number.country, None, CORE_PACK, PRESENTED_RULE, detail
    )


def validate_pool(
    numbers: Iterable[PoolNumber],
    packs: Iterable[Pack] | CallerIdRules,
    channels: Iterable[str] = CALL_CHANNELS,
) -> Mapping[int, tuple[NumberProblem, ...]]:
    """The problems of each number that has any, by number id: hidden or malformed numbers,
    and the caller-ID rules of `packs` for debtors of the number's country."""
    rules = packs if isinstance(packs, CallerIdRules) else CallerIdRules(packs, channels)
    out: dict[int, tuple[NumberProblem, ...]] = {}
    for number in numbers:
        found = rules.problems(number)
        if found:
            out[number.id] = found
    return out
