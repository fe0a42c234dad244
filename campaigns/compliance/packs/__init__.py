"""Policy packs: versioned YAML in `config/policies/`, validated at load (file, line, what is
allowed), with `extends` that may only tighten the pack it extends."""

from campaigns.compliance.packs.extends import load_policies
from campaigns.compliance.packs.model import POLICY_DIR, Pack, PolicyError, PolicySet, ZonePolicy
from campaigns.compliance.packs.reader import ROLES, SCRIPT_KINDS

__all__ = [
    "POLICY_DIR",
    "ROLES",
    "SCRIPT_KINDS",
    "Pack",
    "PolicyError",
    "PolicySet",
    "ZonePolicy",
    "load_policies",
]
