"""The compliance engine: policy packs as data, `decide()` with reasons and the next allowed time.

Sans-I/O: nothing here reads the clock or the database (see `campaigns.compliance.store` for
that); everything is a value in and a value out.
"""

from campaigns.compliance.engine import CORE_PACK, HORIZON, candidate_zones, decide
from campaigns.compliance.model import CHANNELS, Code, Contact, Decision, Event, EventKind, Reason
from campaigns.compliance.packs import POLICY_DIR, Pack, PolicyError, PolicySet, load_policies

__all__ = [
    "CHANNELS",
    "CORE_PACK",
    "HORIZON",
    "POLICY_DIR",
    "Code",
    "Contact",
    "Decision",
    "Event",
    "EventKind",
    "Pack",
    "PolicyError",
    "PolicySet",
    "Reason",
    "candidate_zones",
    "decide",
    "load_policies",
]
