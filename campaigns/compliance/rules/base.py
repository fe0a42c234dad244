"""What every rule is: a frozen value that judges a contact at an instant (pure: no clock, no
I/O), answering `check(ctx, t)` with None (allowed) or a Verdict: the code, the zone it failed
in, a sentence in Spanish and English, and the earliest instant ≥ `t` at which this rule alone
would allow (None = never, as far as this rule knows)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from campaigns.compliance.model import Code, Contact, Event

__all__ = ["WEEKDAYS", "Context", "Rule", "Verdict", "hhmm"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class Verdict:
    """A rule's "no": `describe`, when given, writes the sentences only if someone reads them
    (the search for the next allowed instant makes many verdicts nobody reads)."""

    code: Code
    zone: str | None
    detail_es: str
    detail_en: str
    earliest: datetime | None
    describe: Callable[[], tuple[str, str]] | None = None

    def texts(self) -> tuple[str, str]:
        return self.describe() if self.describe is not None else (self.detail_es, self.detail_en)


@dataclass(slots=True)
class Context:
    """What every rule of one pack sees for one decision."""

    contact: Contact
    channel: str
    zones: tuple[ZoneInfo, ...]
    history: tuple[Event, ...]
    end_margin: timedelta


def hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    id: str
    kind: str
    status: str
    source: str | None
    channels: frozenset[str] | None = None  # None = every channel
    note: str | None = None

    def applies_to(self, channel: str) -> bool:
        return self.channels is None or channel in self.channels

    def check(self, ctx: Context, t: datetime) -> Verdict | None:
        raise AssertionError(f"{type(self).__name__} is not evaluated when deciding")
