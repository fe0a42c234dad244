"""What every rule is: a frozen value that judges a contact (pure: no clock, no I/O).

A rule's "no" is a Verdict: the code, the zone it failed in, a sentence in Spanish and English,
and the earliest instant ≥ the instant asked about at which this rule alone would allow (None =
never, as far as this rule knows). Each kind of rule is asked in the way that lets the engine ask
it least often (see `campaigns.compliance.plan`): rules that ignore time once per kind of contact,
calendar rules (windows, holidays) once per stretch of a shared UTC timeline, and history rules
through a probe prepared once per decision."""

from __future__ import annotations

from abc import ABC
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from campaigns.compliance.model import Code

__all__ = ["WEEKDAYS", "Describe", "Probe", "Rule", "Verdict", "hhmm"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: Writes a verdict's sentences (es, en) for the instant it was asked about; only called when a
#: reason is returned (the search for the next allowed instant makes many verdicts nobody reads).
Describe = Callable[[datetime], tuple[str, str]]


class Verdict(NamedTuple):
    """A rule's "no". A NamedTuple, not a dataclass: the engine makes many of them, and a frozen
    dataclass costs about twice as much to build."""

    code: Code
    zone: str | None
    detail_es: str
    detail_en: str
    earliest: datetime | None
    describe: Describe | None = None

    def texts(self, t: datetime) -> tuple[str, str]:
        """The sentences, for the instant `t` this verdict was given at."""
        return self.describe(t) if self.describe is not None else (self.detail_es, self.detail_en)


#: A history rule prepared for one decision: the verdict at an instant (None = allowed).
Probe = Callable[[datetime], Verdict | None]


def hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule(ABC):
    id: str
    kind: str
    status: str
    source: str | None
    channels: frozenset[str] | None = None  # None = every channel
    note: str | None = None

    def applies_to(self, channel: str) -> bool:
        return self.channels is None or channel in self.channels
