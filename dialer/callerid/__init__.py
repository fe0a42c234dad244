"""Caller-ID rotation: which of a campaign's numbers to present to each debtor, and why.

Number pools per campaign; local presence (area code, else subdivision, else zone, else
country); a daily cap and a cool-down per number; a health score per number from answer rate,
short calls and rejections, with automatic rest and an alert when it falls; never a hidden
number; pools checked against the policy packs' caller-ID rules. Sans-I/O: the instant is an
argument and nothing here touches the database (`dialer.callerid_store` does).
"""

from dialer.callerid.compliance import (
    CALL_CHANNELS,
    PRESENTED_RULE,
    CallerIdRules,
    NumberProblem,
    validate_pool,
)
from dialer.callerid.health import HealthAlert, HealthConfig, HealthStats
from dialer.callerid.picker import (
    CallerIdPicker,
    CallerIdUnavailable,
    NumberStatus,
    NumberUpdate,
    local_day_start,
)
from dialer.callerid.values import Choice, NumberPlace, PoolNumber, Target, Tier, number_place
from dialer.errors import CallerIdError

__all__ = [
    "CALL_CHANNELS",
    "PRESENTED_RULE",
    "CallerIdError",
    "CallerIdPicker",
    "CallerIdRules",
    "CallerIdUnavailable",
    "Choice",
    "HealthAlert",
    "HealthConfig",
    "HealthStats",
    "NumberPlace",
    "NumberProblem",
    "NumberStatus",
    "NumberUpdate",
    "PoolNumber",
    "Target",
    "Tier",
    "local_day_start",
    "number_place",
    "validate_pool",
]
