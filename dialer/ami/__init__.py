"""Asterisk Manager Interface: frame codec and the sans-I/O tracker that turns events into calls."""

from dialer.ami.codec import AmiMessage, AmiParser, encode_action
from dialer.ami.tracker import AmiCallTracker

__all__ = ["AmiCallTracker", "AmiMessage", "AmiParser", "encode_action"]
