"""Rule kinds of the policy packs, and how each judges a contact at an instant."""

from campaigns.compliance.rules.base import WEEKDAYS, Describe, Probe, Rule, Verdict
from campaigns.compliance.rules.history import (
    CapRule,
    ChannelLockRule,
    CooloffRule,
    HistoryRule,
    MinGapRule,
)
from campaigns.compliance.rules.static import (
    CallerIdRule,
    ChannelAuthorizationRule,
    ChannelBlockRule,
    ConsentRule,
    PartyRule,
    ProvenanceRule,
    ScriptRule,
    StaticRule,
)
from campaigns.compliance.rules.windows import CalendarRule, HolidayRule, WindowRule

__all__ = [
    "WEEKDAYS",
    "CalendarRule",
    "CallerIdRule",
    "CapRule",
    "ChannelAuthorizationRule",
    "ChannelBlockRule",
    "ChannelLockRule",
    "ConsentRule",
    "CooloffRule",
    "Describe",
    "HistoryRule",
    "HolidayRule",
    "MinGapRule",
    "PartyRule",
    "Probe",
    "ProvenanceRule",
    "Rule",
    "ScriptRule",
    "StaticRule",
    "Verdict",
    "WindowRule",
]
