"""Rule kinds of the policy packs, and how each judges a contact at an instant."""

from campaigns.compliance.rules.base import WEEKDAYS, Context, Rule, Verdict
from campaigns.compliance.rules.history import CapRule, ChannelLockRule, CooloffRule, MinGapRule
from campaigns.compliance.rules.static import (
    CallerIdRule,
    ChannelAuthorizationRule,
    ChannelBlockRule,
    ConsentRule,
    PartyRule,
    ProvenanceRule,
    ScriptRule,
)
from campaigns.compliance.rules.windows import HolidayRule, WindowRule

__all__ = [
    "WEEKDAYS",
    "CallerIdRule",
    "CapRule",
    "ChannelAuthorizationRule",
    "ChannelBlockRule",
    "ChannelLockRule",
    "ConsentRule",
    "Context",
    "CooloffRule",
    "HolidayRule",
    "MinGapRule",
    "PartyRule",
    "ProvenanceRule",
    "Rule",
    "ScriptRule",
    "Verdict",
    "WindowRule",
]
