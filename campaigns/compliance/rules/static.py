"""Rules that do not depend on time: parties, contact points, caller ID, consent, channels;
and script-time rules, kept for the IVR and SMS checks.

`judge(contact, channel)` reads only the contact's own facts, never the instant or the history:
the engine memoises the answers per kind of contact (see `campaigns.compliance.plan`)."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import phonenumbers

from campaigns.compliance.model import Code, Contact
from campaigns.compliance.rules.base import Rule, Verdict

__all__ = [
    "CallerIdRule",
    "ChannelAuthorizationRule",
    "ChannelBlockRule",
    "ConsentRule",
    "PartyRule",
    "ProvenanceRule",
    "ScriptRule",
    "StaticRule",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class StaticRule(Rule):
    """A rule that ignores the instant and the history: its answer depends on the channel and
    on the contact's facts named in `reads` only (the engine memoises answers by them)."""

    reads: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def judge(self, contact: Contact, channel: str) -> Verdict | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class PartyRule(StaticRule):
    reads: ClassVar[tuple[str, ...]] = ("role",)
    allowed_roles: frozenset[str]
    forbidden_roles: frozenset[str]
    location_only_roles: frozenset[str]

    def judge(self, contact: Contact, channel: str) -> Verdict | None:
        role = contact.role or "unknown"
        if role in self.allowed_roles and role not in self.forbidden_roles:
            return None
        if role in self.location_only_roles:
            es = f"con un(a) {role} solo se permite pedir datos de localización, no cobrar"
            en = f"a {role} may only be asked for location information, not about the debt"
        else:
            allowed = ", ".join(sorted(self.allowed_roles))
            es = f"no se permite contactar a un(a) {role}; solo: {allowed}"
            en = f"contacting a {role} is not allowed; only: {allowed}"
        return Verdict(Code.THIRD_PARTY_FORBIDDEN, None, es, en, None)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProvenanceRule(StaticRule):
    reads: ClassVar[tuple[str, ...]] = ("provenance",)
    allowed: frozenset[str]

    def judge(self, contact: Contact, channel: str) -> Verdict | None:
        provenance = contact.provenance
        if provenance in self.allowed:
            return None
        what = provenance or "unknown"
        return Verdict(
            Code.CONTACT_POINT_NOT_ALLOWED,
            None,
            f"solo se permiten los datos de contacto proporcionados (este: {what})",
            f"only contact points the debtor or creditor provided may be used (this one: {what})",
            None,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CallerIdRule(StaticRule):
    reads: ClassVar[tuple[str, ...]] = ("caller_id",)
    prefix: str | None = None

    def judge(self, contact: Contact, channel: str) -> Verdict | None:
        caller = contact.caller_id
        if caller is None:
            return None  # chosen later by the dialer, which checks its pool against this rule
        if caller.lower() in ("restricted", "anonymous", "private", "hidden"):
            return Verdict(
                Code.CALLER_ID_INVALID,
                None,
                "el número que llama debe mostrarse (no oculto)",
                "the calling number must be presented, never hidden",
                None,
            )
        if self.prefix and not _national_starts_with(caller, self.prefix):
            return Verdict(
                Code.CALLER_ID_INVALID,
                None,
                f"el número que llama debe empezar con {self.prefix} (es {caller})",
                f"the calling number must start with {self.prefix} (it is {caller})",
                None,
            )
        return None


def _national_starts_with(e164: str, prefix: str) -> bool:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    return str(number.national_number).startswith(prefix)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentRule(StaticRule):
    reads: ClassVar[tuple[str, ...]] = ("line_type", "consent")
    line_types: frozenset[str] | None

    def judge(self, contact: Contact, channel: str) -> Verdict | None:
        line = contact.line_type or "unknown"
        if self.line_types is not None and line not in self.line_types:
            return None
        if channel in contact.consent:
            return None
        return Verdict(
            Code.CONSENT_REQUIRED,
            None,
            f"se requiere consentimiento previo para {channel} a una línea {line}",
            f"prior express consent is needed for {channel} to a {line} line",
            None,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelAuthorizationRule(StaticRule):
    """Only the channels the debtor authorised. With no authorisations on record the contact is
    not restricted (the contact format's meaning of an absent list) unless `unknown_allowed` is
    False (`when_unknown: deny`, for an agency that wants the authorisation on file first)."""

    reads: ClassVar[tuple[str, ...]] = ("authorized_channels",)
    unknown_allowed: bool = True

    def judge(self, contact: Contact, channel: str) -> Verdict | None:
        allowed = contact.authorized_channels
        if allowed is None:
            if self.unknown_allowed:
                return None
            return Verdict(
                Code.CHANNEL_NOT_AUTHORIZED,
                None,
                f"no consta qué canales autorizó el deudor; no se usa {channel}",
                f"no record of the channels the debtor authorised; {channel} is not used",
                None,
            )
        if channel in allowed:
            return None
        shown = ", ".join(sorted(allowed)) or "ninguno"
        return Verdict(
            Code.CHANNEL_NOT_AUTHORIZED,
            None,
            f"el deudor no autorizó {channel} (autorizó: {shown})",
            f"the debtor did not authorise {channel} (authorised: {shown})",
            None,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelBlockRule(StaticRule):
    def judge(self, contact: Contact, channel: str) -> Verdict | None:
        return Verdict(
            Code.CHANNEL_NOT_AUTHORIZED,
            None,
            f"el canal {channel} no se permite en esta jurisdicción",
            f"channel {channel} is not allowed in this jurisdiction",
            None,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ScriptRule(Rule):
    """A rule on what is said (disclosures, voicemail content…): checked on scripts and
    templates, not when deciding whether a contact may happen. Kept with its keys."""

    check_at: str
    spec: tuple[tuple[str, object], ...]
