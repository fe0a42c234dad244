"""The data model (SQLAlchemy 2 typed ORM). Every instant is stored in UTC."""

from campaigns.models.base import Base, Money, UTCDateTime
from campaigns.models.contact import (
    Agent,
    Attempt,
    CallerIdNumber,
    CallEvent,
    Campaign,
    CampaignContact,
    DecisionLog,
    Keypress,
    OptOut,
    PromiseToPay,
    SmsMessage,
)
from campaigns.models.portfolio import Account, Address, Debtor, ImportRun, Phone, Segment

__all__ = [
    "Account",
    "Address",
    "Agent",
    "Attempt",
    "Base",
    "CallEvent",
    "CallerIdNumber",
    "Campaign",
    "CampaignContact",
    "Debtor",
    "DecisionLog",
    "ImportRun",
    "Keypress",
    "Money",
    "OptOut",
    "Phone",
    "PromiseToPay",
    "Segment",
    "SmsMessage",
    "UTCDateTime",
]
