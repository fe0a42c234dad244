"""One exception hierarchy for the dialer; every message says what happened and what to do."""

from __future__ import annotations

__all__ = [
    "AmiProtocolError",
    "BackendError",
    "BackendUnavailable",
    "CallerIdError",
    "DialerError",
    "OriginateOutcomeUnknown",
    "OriginateRejected",
]


class DialerError(Exception):
    """Base of every error the dialer raises on purpose."""


class BackendError(DialerError):
    """A telephony backend refused or failed an action."""


class BackendUnavailable(BackendError):
    """The backend cannot be reached or refused our credentials; nothing was dialled."""


class OriginateRejected(BackendError):
    """The backend answered an originate with an error: the call never left."""


class OriginateOutcomeUnknown(BackendError):
    """The originate request may have left (the reply was lost): never re-send it; the call's
    events, if any, still arrive under our call id."""


class AmiProtocolError(BackendError):
    """A frame on the AMI socket could not be understood."""


class CallerIdError(DialerError):
    """No caller-ID number may be presented for this call (empty, hidden or non-compliant pool)."""
