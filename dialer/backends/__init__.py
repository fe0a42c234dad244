"""Telephony backends: one protocol, three implementations (asterisk, twilio, sim)."""

from dialer.backends.base import Backend, EventSink, OriginateRequest

__all__ = ["Backend", "EventSink", "OriginateRequest"]
