"""Case tables per jurisdiction, built from compliance.md §0–§3 and the packs in config/policies.

Every instant is written in UTC; the comment on each row gives the local wall-clock time it stands
for and the rule it probes. A row expects either "allowed" (no reasons) or the exact set of reasons,
each written `CODE pack/rule@zone` (`@zone` left out when the engine gives no zone, `@*` when the
zone does not matter), and — for a refusal — the exact `next_allowed_at` (None: never).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from campaigns.compliance import (
    Code,
    Contact,
    Decision,
    Event,
    EventKind,
    PolicySet,
    decide,
    load_policies,
)
from campaigns.compliance.inputs import contact_from_json

POLICIES: PolicySet = load_policies()
ZERO = timedelta(0)

NY, CHI = "America/New_York", "America/Chicago"
CDMX, TIJ, MAT, CJS = (
    "America/Mexico_City",
    "America/Tijuana",
    "America/Matamoros",
    "America/Ciudad_Juarez",
)
MZT, CHIH = "America/Mazatlan", "America/Chihuahua"
BOG, LIM, SCL, PUQ, SAO = (
    "America/Bogota",
    "America/Lima",
    "America/Santiago",
    "America/Punta_Arenas",
    "America/Sao_Paulo",
)

US = ("us-fdcpa-regf", "us-tcpa")
MA = ("us-fdcpa-regf", "us-ma", "us-tcpa")
MXF = ("mx-condusef",)
MXC = ("mx-profeco",)
CO = ("co-l2300",)
PE = ("pe-cpdc",)
CL = ("cl-l19496",)
BR = ("br-sp",)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def attempt(
    at: datetime,
    channel: str = "voice_live",
    debt: str | None = "D1",
    connected: bool | None = True,
) -> Event:
    return Event(EventKind.ATTEMPT, at, channel, debt, connected=connected)


def event(
    kind: EventKind,
    at: datetime,
    channel: str | None = "voice_live",
    debt: str | None = "D1",
    phone: str | None = None,
) -> Event:
    return Event(kind, at, channel, debt, phone=phone)


def local(contact: Contact, **changes: Any) -> Contact:
    return replace(contact, **changes)


def from_json(**data: Any) -> Contact:
    base = {"role": "debtor", "provenance": "provided", "debt": "D1", "account_status": "active"}
    return contact_from_json(base | data)


# -- contacts --------------------------------------------------------------------------------------

US_NY = Contact(
    country="US",
    subdivision="NY",
    phone="+12125550123",
    zones=(NY,),
    zone_sources=((NY, "phone_prefix"),),
    role="debtor",
    line_type="mobile",
    provenance="provided",
    consent=frozenset({"sms"}),
    authorized_channels=None,
    debt="D1",
    caller_id="+12125550100",
    account_status="active",
)
US_CHI = local(
    US_NY,
    subdivision="IL",
    phone="+13125550123",
    zones=(CHI,),
    zone_sources=((CHI, "phone_prefix"),),
)
US_MA = local(US_NY, subdivision="MA", phone="+16175550123")
US_NO_ZONE = local(US_NY, phone=None, zones=(), zone_sources=())
US_850 = from_json(
    country="US", subdivision="FL", phone="+18505550123", line_type="mobile", consent=["sms"]
)

MX_CDMX = Contact(
    country="MX",
    phone="+525512345678",
    zones=(CDMX,),
    zone_sources=((CDMX, "phone_prefix"),),
    role="debtor",
    line_type="mobile",
    provenance="provided",
    debt="D1",
    caller_id="+525511112222",
    account_status="active",
)
MX_TIJ = from_json(country="MX", phone="+526641234567", caller_id="+525511112222")
MX_868 = from_json(country="MX", phone="+528681234567", caller_id="+525511112222")
MX_JUAREZ = from_json(country="MX", phone="+526561234567", caller_id="+525511112222")
MX_614 = from_json(country="MX", phone="+526141234567", caller_id="+525511112222")
MX_ADDR_TIJ = from_json(
    country="MX", phone="+525512345678", address_zone=TIJ, caller_id="+525511112222"
)
MX_NO_ZONE = local(MX_CDMX, phone=None, zones=(), zone_sources=())

CO_BOG = Contact(
    country="CO",
    phone="+573001234567",
    zones=(BOG,),
    zone_sources=((BOG, "phone_prefix"),),
    role="debtor",
    line_type="mobile",
    provenance="provided",
    authorized_channels=frozenset({"voice_live", "voice_prerecorded", "sms", "email"}),
    debt="D1",
    caller_id="+576011234567",
    account_status="active",
)
PE_LIM = Contact(
    country="PE",
    phone="+51912345678",
    zones=(LIM,),
    zone_sources=((LIM, "phone_prefix"),),
    role="debtor",
    line_type="mobile",
    provenance="provided",
    debt="D1",
    caller_id="+5114567890",
    account_status="active",
)
CL_SCL = Contact(
    country="CL",
    phone="+56221234567",
    zones=(SCL,),
    zone_sources=((SCL, "phone_prefix"),),
    role="debtor",
    line_type="fixed_line",
    provenance="provided",
    debt="D1",
    caller_id="+566001234567",
    account_status="active",
)
CL_PUQ = from_json(country="CL", phone="+56612123456", caller_id="+566001234567")
BR_SP = Contact(
    country="BR",
    subdivision="SP",
    phone="+5511987654321",
    zones=(SAO,),
    zone_sources=((SAO, "phone_prefix"),),
    role="debtor",
    line_type="mobile",
    provenance="provided",
    debt="D1",
    caller_id="+551133334444",
    account_status="active",
)
NOBODY = Contact(country=None, role="debtor", provenance="provided", account_status="active")

# -- histories -------------------------------------------------------------------------------------

# Reg F: one connected call a day, Mon 1 – Sun 7 June 2026 at 14:00 UTC (10:00 EDT).
SEVEN_CALLS = tuple(attempt(utc(2026, 6, day, 14, 0)) for day in range(1, 8))
# Reg F: the same seven calls, placed to another number of the same person.
OTHER_NUMBER_CALLS = tuple(replace(e, phone="+12125559999") for e in SEVEN_CALLS)
# Reg F: a phone conversation on Tue 3 Mar 2026 20:30 EST — already Wed 4 Mar in UTC.
CONVERSATION = (event(EventKind.CONVERSATION, utc(2026, 3, 4, 1, 30)),)
# TCPA: three prerecorded calls to a landline in 30 days.
THREE_ROBOCALLS = tuple(
    attempt(utc(2026, m, d, 14, 0), "voice_prerecorded") for m, d in ((5, 10), (5, 20), (6, 1))
)
# MA: two calls in the week (Mon 1 and Wed 3 June, 10:00 EDT).
TWO_CALLS = (attempt(utc(2026, 6, 1, 14, 0)), attempt(utc(2026, 6, 3, 14, 0)))
# CO: a call answered by the debtor on Tue 2 June 2026 10:00 COT (a two-way contact).
CO_TWO_WAY = (
    attempt(utc(2026, 6, 2, 15, 0)),
    event(EventKind.TWO_WAY_CONTACT, utc(2026, 6, 2, 15, 0)),
)
# MX: three unanswered calls on Tue 2 June (07:30, 08:30, 09:30 CDMX).
MX_THREE_UNANSWERED = tuple(attempt(utc(2026, 6, 2, h, 30), connected=False) for h in (13, 14, 15))
# CL: one message on Mon 1 June 10:00 -04, and a second on Wed 3 June 10:00 -04.
CL_ONE_MESSAGE = (event(EventKind.MESSAGE_SENT, utc(2026, 6, 1, 14, 0), "sms"),)
CL_TWO_MESSAGES = (*CL_ONE_MESSAGE, event(EventKind.MESSAGE_SENT, utc(2026, 6, 3, 14, 0), "email"))
OPT_OUT_ALL = (event(EventKind.OPT_OUT, utc(2026, 5, 20, 12, 0), None),)
OPT_OUT_SMS = (event(EventKind.OPT_OUT, utc(2026, 5, 20, 12, 0), "sms"),)
OPT_OUT_VOICE = (event(EventKind.OPT_OUT, utc(2026, 5, 20, 12, 0), "voice_live"),)


def case(
    case_id: str,
    packs: Sequence[str],
    contact: Contact,
    channel: str,
    at: datetime,
    *reasons: str,
    next_at: datetime | None = None,
    history: Sequence[Event] = (),
    margin: timedelta = ZERO,
) -> Any:
    return pytest.param(
        tuple(packs),
        contact,
        channel,
        at,
        frozenset(reasons),
        next_at,
        tuple(history),
        margin,
        id=case_id,
    )


def rendered(decision: Decision, expected: frozenset[str]) -> list[str]:
    out = []
    for r in decision.reasons:
        bare = f"{r.code.value} {r.pack}/{r.rule}"
        if f"{bare}@*" in expected:
            out.append(f"{bare}@*")
        else:
            out.append(bare if r.zone is None else f"{bare}@{r.zone}")
    return out


def check(packs, contact, channel, at, reasons, next_at, history, margin) -> Decision:
    decision = decide(contact, channel, at, history, POLICIES.select(packs), end_margin=margin)
    got = rendered(decision, reasons)
    assert sorted(got) == sorted(reasons), decision.to_json()
    assert len(got) == len(set(got)), f"a reason is repeated: {got}"
    assert decision.allowed is (not reasons)
    if reasons:
        assert decision.next_allowed_at == next_at, decision.to_json()
    else:
        assert decision.next_allowed_at == at
    return decision


ARGS = "packs, contact, channel, at, reasons, next_at, history, margin"

# fmt: off
US_CASES = [
    # Reg F 1006.6(b)(1): 08:00–21:00 at the consumer's location, any day (New York, EDT = UTC-4).
    case("us-ny-0759-edt-denied", US, US_NY, "voice_live", utc(2026, 6, 2, 11, 59), "WINDOW_CLOSED us-fdcpa-regf/hours@America/New_York", next_at=utc(2026, 6, 2, 12, 0)),  # Tue 07:59 EDT
    case("us-ny-0800-edt-first-allowed", US, US_NY, "voice_live", utc(2026, 6, 2, 12, 0)),  # Tue 08:00 EDT
    case("us-ny-2059-edt-last-allowed", US, US_NY, "voice_live", utc(2026, 6, 3, 0, 59)),  # Tue 20:59 EDT
    case("us-ny-2100-edt-first-denied", US, US_NY, "voice_live", utc(2026, 6, 3, 1, 0), "WINDOW_CLOSED us-fdcpa-regf/hours@America/New_York", next_at=utc(2026, 6, 3, 12, 0)),  # Tue 21:00 EDT
    case("us-ny-sms-2100-edt-denied", US, US_NY, "sms", utc(2026, 6, 3, 1, 0), "WINDOW_CLOSED us-fdcpa-regf/hours@America/New_York", next_at=utc(2026, 6, 3, 12, 0)),  # Tue 21:00 EDT: texts too (§2.3.1)
    case("us-ny-email-0700-edt-denied", US, US_NY, "email", utc(2026, 6, 2, 11, 0), "WINDOW_CLOSED us-fdcpa-regf/hours@America/New_York", next_at=utc(2026, 6, 2, 12, 0)),  # Tue 07:00 EDT: e-mail too
    case("us-ny-sunday-allowed", US, US_NY, "voice_live", utc(2026, 6, 7, 14, 0)),  # Sun 10:00 EDT: no federal Sunday rule
    # Campaign end margin (packs carry PT0S): 5 min → the last start is 20:54:59.
    case("us-ny-2054-edt-margin-5-allowed", US, US_NY, "voice_live", utc(2026, 6, 3, 0, 54), margin=timedelta(minutes=5)),  # 20:54 EDT
    case("us-ny-2055-edt-margin-5-denied", US, US_NY, "voice_live", utc(2026, 6, 3, 0, 55), "WINDOW_CLOSED us-fdcpa-regf/hours@America/New_York", next_at=utc(2026, 6, 3, 12, 0), margin=timedelta(minutes=5)),  # 20:55 EDT
    # DST starts Sun 8 Mar 2026 02:00 (New York −5 → −4).
    case("us-ny-sat-0759-est-denied", US, US_NY, "voice_live", utc(2026, 3, 7, 12, 59), "WINDOW_CLOSED us-fdcpa-regf/hours@America/New_York", next_at=utc(2026, 3, 7, 13, 0)),  # Sat 07:59 EST
    case("us-ny-sat-0800-est-allowed", US, US_NY, "voice_live", utc(2026, 3, 7, 13, 0)),  # Sat 08:00 EST
    case("us-ny-sat-2100-est-next-is-0800-edt", US, US_NY, "voice_live", utc(2026, 3, 8, 2, 0), "WINDOW_CLOSED us-fdcpa-regf/hours@America/New_York", next_at=utc(2026, 3, 8, 12, 0)),  # Sat 21:00 EST → Sun 08:00 EDT
    case("us-ny-dst-sunday-0759-edt-denied", US, US_NY, "voice_live", utc(2026, 3, 8, 11, 59), "WINDOW_CLOSED us-fdcpa-regf/hours@America/New_York", next_at=utc(2026, 3, 8, 12, 0)),  # Sun 07:59 EDT
    case("us-ny-dst-sunday-0800-edt-allowed", US, US_NY, "voice_live", utc(2026, 3, 8, 12, 0)),  # Sun 08:00 EDT
    # DST ends Sun 1 Nov 2026 02:00 (New York −4 → −5).
    case("us-ny-sat-2100-edt-next-is-0800-est", US, US_NY, "voice_live", utc(2026, 11, 1, 1, 0), "WINDOW_CLOSED us-fdcpa-regf/hours@America/New_York", next_at=utc(2026, 11, 1, 13, 0)),  # Sat 31 Oct 21:00 EDT
    case("us-ny-fall-sunday-0759-est-denied", US, US_NY, "voice_live", utc(2026, 11, 1, 12, 59), "WINDOW_CLOSED us-fdcpa-regf/hours@America/New_York", next_at=utc(2026, 11, 1, 13, 0)),  # Sun 07:59 EST
    case("us-ny-fall-sunday-0800-est-allowed", US, US_NY, "voice_live", utc(2026, 11, 1, 13, 0)),  # Sun 08:00 EST
    case("us-ny-fall-sunday-2059-est-allowed", US, US_NY, "voice_live", utc(2026, 11, 2, 1, 59)),  # Sun 20:59 EST
    case("us-ny-fall-sunday-2100-est-denied", US, US_NY, "voice_live", utc(2026, 11, 2, 2, 0), "WINDOW_CLOSED us-fdcpa-regf/hours@America/New_York", next_at=utc(2026, 11, 2, 13, 0)),  # Sun 21:00 EST
    # Chicago: the same changes an hour later in UTC (−6 → −5 → −6).
    case("us-chi-sat-0759-cst-denied", US, US_CHI, "voice_live", utc(2026, 3, 7, 13, 59), "WINDOW_CLOSED us-fdcpa-regf/hours@America/Chicago", next_at=utc(2026, 3, 7, 14, 0)),  # Sat 07:59 CST
    case("us-chi-sat-0800-cst-allowed", US, US_CHI, "voice_live", utc(2026, 3, 7, 14, 0)),  # Sat 08:00 CST
    case("us-chi-dst-sunday-0759-cdt-denied", US, US_CHI, "voice_live", utc(2026, 3, 8, 12, 59), "WINDOW_CLOSED us-fdcpa-regf/hours@America/Chicago", next_at=utc(2026, 3, 8, 13, 0)),  # Sun 07:59 CDT
    case("us-chi-dst-sunday-0800-cdt-allowed", US, US_CHI, "voice_live", utc(2026, 3, 8, 13, 0)),  # Sun 08:00 CDT
    case("us-chi-fall-sunday-0759-cst-denied", US, US_CHI, "voice_live", utc(2026, 11, 1, 13, 59), "WINDOW_CLOSED us-fdcpa-regf/hours@America/Chicago", next_at=utc(2026, 11, 1, 14, 0)),  # Sun 07:59 CST
    case("us-chi-fall-sunday-0800-cst-allowed", US, US_CHI, "voice_live", utc(2026, 11, 1, 14, 0)),  # Sun 08:00 CST
    # +1 850: Chicago and New York candidates (zone_overrides.yaml) — the window must hold in both.
    case("us-850-0830-edt-is-0730-cdt-denied", US, US_850, "voice_live", utc(2026, 6, 2, 12, 30), "WINDOW_CLOSED us-fdcpa-regf/hours@America/Chicago", next_at=utc(2026, 6, 2, 13, 0)),  # 08:30 EDT / 07:30 CDT
    case("us-850-0800-cdt-allowed", US, US_850, "voice_live", utc(2026, 6, 2, 13, 0)),  # 09:00 EDT / 08:00 CDT
    case("us-850-2059-edt-allowed", US, US_850, "voice_live", utc(2026, 6, 3, 0, 59)),  # 20:59 EDT / 19:59 CDT
    case("us-850-2100-edt-is-2000-cdt-denied", US, US_850, "voice_live", utc(2026, 6, 3, 1, 0), "WINDOW_CLOSED us-fdcpa-regf/hours@America/New_York", next_at=utc(2026, 6, 3, 13, 0)),  # 21:00 EDT / 20:00 CDT
    # Nothing known but "US": every US zone, Honolulu included — about 14:00–21:00 Eastern in summer
    # (§3.3).
    case("us-unknown-zone-summer-1359-edt-denied", US, US_NO_ZONE, "voice_live", utc(2026, 6, 2, 17, 59), "WINDOW_CLOSED us-fdcpa-regf/hours@Pacific/Honolulu", next_at=utc(2026, 6, 2, 18, 0)),  # 07:59 HST
    case("us-unknown-zone-summer-1400-edt-allowed", US, US_NO_ZONE, "voice_live", utc(2026, 6, 2, 18, 0)),  # 08:00 HST
    case("us-unknown-zone-summer-2059-edt-allowed", US, US_NO_ZONE, "voice_live", utc(2026, 6, 3, 0, 59)),  # Tue 02 Jun 20:59 EDT
    case("us-unknown-zone-summer-2100-edt-denied", US, US_NO_ZONE, "voice_live", utc(2026, 6, 3, 1, 0), "WINDOW_CLOSED us-fdcpa-regf/hours@*", next_at=utc(2026, 6, 3, 18, 0)),  # Tue 02 Jun 21:00 EDT
    # Reg F 1006.14(b)(2)(A): not more than 7 calls in 7 consecutive days (rolling), per person and
    # debt.
    case("us-regf-8th-call-in-7-days-denied", US, US_NY, "voice_live", utc(2026, 6, 7, 18, 0), "CAP_EXCEEDED us-fdcpa-regf/seven-in-seven", next_at=utc(2026, 6, 8, 14, 0), history=SEVEN_CALLS),  # Sun 14:00 EDT; oldest leaves Mon 10:00 EDT
    case("us-regf-8th-call-a-minute-early-denied", US, US_NY, "voice_live", utc(2026, 6, 8, 13, 59), "CAP_EXCEEDED us-fdcpa-regf/seven-in-seven", next_at=utc(2026, 6, 8, 14, 0), history=SEVEN_CALLS),  # Mon 09:59 EDT
    case("us-regf-8th-call-when-oldest-leaves-allowed", US, US_NY, "voice_live", utc(2026, 6, 8, 14, 0), history=SEVEN_CALLS),  # Mon 10:00 EDT
    case("us-regf-8th-prerecorded-call-denied", US, local(US_NY, consent=frozenset({"voice_prerecorded"})), "voice_prerecorded", utc(2026, 6, 7, 18, 0), "CAP_EXCEEDED us-fdcpa-regf/seven-in-seven", next_at=utc(2026, 6, 8, 14, 0), history=SEVEN_CALLS),  # Sun 07 Jun 14:00 EDT
    case("us-regf-calls-to-other-numbers-count", US, US_NY, "voice_live", utc(2026, 6, 7, 18, 0), "CAP_EXCEEDED us-fdcpa-regf/seven-in-seven", next_at=utc(2026, 6, 8, 14, 0), history=OTHER_NUMBER_CALLS),  # Sun 14:00 EDT: all the person's numbers
    case("us-regf-unconnected-call-not-counted", US, US_NY, "voice_live", utc(2026, 6, 7, 18, 0), history=(attempt(utc(2026, 6, 1, 14, 0), connected=False), *SEVEN_CALLS[1:])),  # Sun 07 Jun 14:00 EDT
    case("us-regf-cap-is-per-debt", US, local(US_NY, debt="D2"), "voice_live", utc(2026, 6, 7, 18, 0), history=SEVEN_CALLS),  # Sun 07 Jun 14:00 EDT
    case("us-regf-texts-not-capped", US, US_NY, "sms", utc(2026, 6, 7, 18, 0), history=SEVEN_CALLS),  # Sun 07 Jun 14:00 EDT
    # Reg F 1006.14(b)(2)(B): no call for 7 days after a conversation; its local date is day 1.
    # Conversation Tue 3 Mar 20:30 EST (Wed 4 Mar in UTC): days 1–7 = 3–9 Mar; free from Tue 10 Mar
    # 00:00 local.
    case("us-regf-cooloff-day-7-denied", US, US_NY, "voice_live", utc(2026, 3, 9, 16, 0), "COOLOFF_ACTIVE us-fdcpa-regf/post-conversation@America/New_York", next_at=utc(2026, 3, 10, 12, 0), history=CONVERSATION),  # Mon 9 Mar 12:00 EDT
    case("us-regf-cooloff-last-minute-of-day-7", US, US_NY, "voice_live", utc(2026, 3, 10, 3, 59), "COOLOFF_ACTIVE us-fdcpa-regf/post-conversation@America/New_York", "WINDOW_CLOSED us-fdcpa-regf/hours@America/New_York", next_at=utc(2026, 3, 10, 12, 0), history=CONVERSATION),  # Mon 23:59 EDT
    case("us-regf-cooloff-over-at-local-midnight-of-day-8", US, US_NY, "voice_live", utc(2026, 3, 10, 4, 0), "WINDOW_CLOSED us-fdcpa-regf/hours@America/New_York", next_at=utc(2026, 3, 10, 12, 0), history=CONVERSATION),  # Tue 00:00 EDT
    case("us-regf-cooloff-day-8-0800-edt-allowed", US, US_NY, "voice_live", utc(2026, 3, 10, 12, 0), history=CONVERSATION),  # Tue 08:00 EDT
    case("us-regf-cooloff-blocks-prerecorded", US, local(US_NY, consent=frozenset({"voice_prerecorded"})), "voice_prerecorded", utc(2026, 3, 9, 16, 0), "COOLOFF_ACTIVE us-fdcpa-regf/post-conversation@America/New_York", next_at=utc(2026, 3, 10, 12, 0), history=CONVERSATION),  # Mon 09 Mar 12:00 EDT
    # A conversation in the repeated hour of Sun 1 Nov 2026 (01:30 EST, second pass) is on 1 Nov:
    # day 8 is Sun 8 Nov.
    case("us-regf-cooloff-after-repeated-hour-day-7", US, US_NY, "voice_live", utc(2026, 11, 7, 16, 0), "COOLOFF_ACTIVE us-fdcpa-regf/post-conversation@America/New_York", next_at=utc(2026, 11, 8, 13, 0), history=(event(EventKind.CONVERSATION, utc(2026, 11, 1, 6, 30)),)),  # Sat 11:00 EST → Sun 08:00 EST
    case("us-regf-cooloff-not-for-texts", US, US_NY, "sms", utc(2026, 3, 9, 16, 0), history=CONVERSATION),  # Mon 09 Mar 12:00 EDT
    case("us-regf-cooloff-is-per-debt", US, local(US_NY, debt="D2"), "voice_live", utc(2026, 3, 9, 16, 0), history=CONVERSATION),  # Mon 09 Mar 12:00 EDT
    # TCPA: artificial/prerecorded voice (incl. TTS), ringless voicemail and texts to a mobile need
    # consent.
    case("us-tcpa-prerecorded-mobile-no-consent-denied", US, US_NY, "voice_prerecorded", utc(2026, 6, 2, 14, 0), "CONSENT_REQUIRED us-tcpa/consent-mobile-voice"),  # 10:00 EDT
    case("us-tcpa-prerecorded-mobile-with-consent-allowed", US, local(US_NY, consent=frozenset({"voice_prerecorded"})), "voice_prerecorded", utc(2026, 6, 2, 14, 0)),  # Tue 02 Jun 10:00 EDT
    case("us-tcpa-prerecorded-unknown-line-no-consent-denied", US, local(US_NY, line_type=None), "voice_prerecorded", utc(2026, 6, 2, 14, 0), "CONSENT_REQUIRED us-tcpa/consent-mobile-voice"),  # Tue 02 Jun 10:00 EDT
    case("us-tcpa-ringless-voicemail-mobile-no-consent-denied", US, US_NY, "voicemail", utc(2026, 6, 2, 14, 0), "CONSENT_REQUIRED us-tcpa/consent-mobile-rvm"),  # Tue 02 Jun 10:00 EDT
    case("us-tcpa-sms-mobile-no-consent-denied", US, local(US_NY, consent=frozenset()), "sms", utc(2026, 6, 2, 14, 0), "CONSENT_REQUIRED us-tcpa/consent-mobile-sms"),  # Tue 02 Jun 10:00 EDT
    case("us-tcpa-live-call-mobile-no-consent-allowed", US, local(US_NY, consent=frozenset()), "voice_live", utc(2026, 6, 2, 14, 0)),  # Tue 02 Jun 10:00 EDT
    case("us-tcpa-prerecorded-landline-no-consent-allowed", US, local(US_NY, line_type="fixed_line"), "voice_prerecorded", utc(2026, 6, 2, 14, 0)),  # Tue 02 Jun 10:00 EDT
    # FCC 20-186: ≤ 3 exempt prerecorded calls in 30 days to a residential line (no consent); next =
    # oldest + 30 days.
    case("us-tcpa-4th-robocall-landline-in-30-days-denied", US, local(US_NY, line_type="fixed_line"), "voice_prerecorded", utc(2026, 6, 2, 14, 0), "CAP_EXCEEDED us-tcpa/residential-exempt-cap", next_at=utc(2026, 6, 9, 14, 0), history=THREE_ROBOCALLS),  # Tue 02 Jun 10:00 EDT
    case("us-tcpa-robocalls-to-another-line-not-counted", US, local(US_NY, line_type="fixed_line"), "voice_prerecorded", utc(2026, 6, 2, 14, 0), history=tuple(replace(e, phone="+12125559999") for e in THREE_ROBOCALLS)),  # Tue 10:00 EDT: per line
    case("us-tcpa-4th-robocall-landline-with-consent-allowed", US, local(US_NY, line_type="fixed_line", consent=frozenset({"voice_prerecorded"})), "voice_prerecorded", utc(2026, 6, 2, 14, 0), history=THREE_ROBOCALLS),  # Tue 02 Jun 10:00 EDT
    # Parties (1006.6(a), 805(b)): consumer incl. spouse; family only for location information.
    case("us-spouse-allowed", US, local(US_NY, role="spouse"), "voice_live", utc(2026, 6, 2, 14, 0)),  # Tue 02 Jun 10:00 EDT
    case("us-family-location-only-denied", US, local(US_NY, role="family"), "voice_live", utc(2026, 6, 2, 14, 0), "THIRD_PARTY_FORBIDDEN us-fdcpa-regf/parties"),  # Tue 02 Jun 10:00 EDT
    # Massachusetts 209 CMR 18.16 / 940 CMR 7.04(1)(f): 2 telephone communications per 7 days per
    # debt.
    case("us-ma-3rd-call-in-7-days-denied", MA, US_MA, "voice_live", utc(2026, 6, 5, 14, 0), "CAP_EXCEEDED us-ma/two-per-seven", next_at=utc(2026, 6, 8, 14, 0), history=TWO_CALLS),  # Fri 10:00 EDT → Mon 10:00
    case("us-ma-3rd-call-when-oldest-leaves-allowed", MA, US_MA, "voice_live", utc(2026, 6, 8, 14, 0), history=TWO_CALLS),  # Mon 10:00 EDT
    case("us-ma-recorded-message-counts-too", MA, local(US_MA, consent=frozenset({"voice_prerecorded"})), "voice_prerecorded", utc(2026, 6, 5, 14, 0), "CAP_EXCEEDED us-ma/two-per-seven", next_at=utc(2026, 6, 8, 14, 0), history=TWO_CALLS),  # Fri 05 Jun 10:00 EDT
    case("us-ma-cap-is-per-debt", MA, local(US_MA, debt="D2"), "voice_live", utc(2026, 6, 5, 14, 0), history=TWO_CALLS),  # Fri 05 Jun 10:00 EDT
    case("us-ma-federal-window-reported-once", MA, US_MA, "voice_live", utc(2026, 6, 3, 1, 0), "WINDOW_CLOSED us-fdcpa-regf/hours@America/New_York", next_at=utc(2026, 6, 3, 12, 0)),  # 21:00 EDT
]

MX_CASES = [
    # CONDUSEF: 07:00–22:00 in the debtor's zone, every day (Mexico City, UTC-6 all year).
    case("mx-condusef-0659-denied", MXF, MX_CDMX, "voice_live", utc(2026, 6, 2, 12, 59), "WINDOW_CLOSED mx-condusef/hours@America/Mexico_City", next_at=utc(2026, 6, 2, 13, 0)),  # Tue 06:59
    case("mx-condusef-0700-first-allowed", MXF, MX_CDMX, "voice_live", utc(2026, 6, 2, 13, 0)),  # Tue 07:00
    case("mx-condusef-2159-last-allowed", MXF, MX_CDMX, "voice_live", utc(2026, 6, 3, 3, 59)),  # Tue 21:59
    case("mx-condusef-2200-first-denied", MXF, MX_CDMX, "voice_live", utc(2026, 6, 3, 4, 0), "WINDOW_CLOSED mx-condusef/hours@America/Mexico_City", next_at=utc(2026, 6, 3, 13, 0)),  # Tue 22:00
    case("mx-condusef-2144-margin-15-allowed", MXF, MX_CDMX, "voice_live", utc(2026, 6, 3, 3, 44), margin=timedelta(minutes=15)),  # 21:44
    case("mx-condusef-2145-margin-15-denied", MXF, MX_CDMX, "voice_live", utc(2026, 6, 3, 3, 45), "WINDOW_CLOSED mx-condusef/hours@America/Mexico_City", next_at=utc(2026, 6, 3, 13, 0), margin=timedelta(minutes=15)),  # 21:45
    case("mx-condusef-sunday-allowed", MXF, MX_CDMX, "voice_live", utc(2026, 6, 7, 16, 0)),  # Sun 10:00
    case("mx-condusef-holiday-allowed", MXF, MX_CDMX, "voice_live", utc(2026, 3, 16, 16, 0)),  # Mon 16 Mar (Benito Juárez) 10:00: no holiday rule
    case("mx-condusef-email-2200-denied", MXF, MX_CDMX, "email", utc(2026, 6, 3, 4, 0), "WINDOW_CLOSED mx-condusef/hours@America/Mexico_City", next_at=utc(2026, 6, 3, 13, 0)),  # Tue 22:00: "comunicarse" = every medium
    # PROFECO: Mon–Fri 07:00–22:00 (⚠️ days), no holidays; forbidden "entre las 22:01 y las 06:59",
    # so the 22:00 minute is allowed and 06:59 is not.
    case("mx-profeco-fri-2159-allowed", MXC, MX_CDMX, "voice_live", utc(2026, 6, 6, 3, 59)),  # Fri 21:59
    case("mx-profeco-fri-2200-allowed", MXC, MX_CDMX, "voice_live", utc(2026, 6, 6, 4, 0)),  # Fri 22:00
    case("mx-profeco-fri-220059-allowed", MXC, MX_CDMX, "voice_live", utc(2026, 6, 6, 4, 0, 59)),  # Fri 22:00:59
    case("mx-profeco-fri-2201-next-monday", MXC, MX_CDMX, "voice_live", utc(2026, 6, 6, 4, 1), "WINDOW_CLOSED mx-profeco/hours@America/Mexico_City", next_at=utc(2026, 6, 8, 13, 0)),  # Fri 22:01 → Mon 07:00
    case("mx-profeco-mon-0659-denied", MXC, MX_CDMX, "voice_live", utc(2026, 6, 8, 12, 59), "WINDOW_CLOSED mx-profeco/hours@America/Mexico_City", next_at=utc(2026, 6, 8, 13, 0)),  # Mon 06:59 → 07:00
    case("mx-profeco-saturday-denied", MXC, MX_CDMX, "voice_live", utc(2026, 6, 6, 16, 0), "DAY_CLOSED mx-profeco/hours@America/Mexico_City", next_at=utc(2026, 6, 8, 13, 0)),  # Sat 10:00
    case("mx-profeco-sunday-denied", MXC, MX_CDMX, "voice_live", utc(2026, 6, 7, 16, 0), "DAY_CLOSED mx-profeco/hours@America/Mexico_City", next_at=utc(2026, 6, 8, 13, 0)),  # Sun 10:00
    case("mx-profeco-holiday-denied", MXC, MX_CDMX, "voice_live", utc(2026, 3, 16, 16, 0), "HOLIDAY mx-profeco/holidays@America/Mexico_City", next_at=utc(2026, 3, 17, 13, 0)),  # Mon 16 Mar 10:00 → Tue 07:00
    # Border strip follows US DST (Tijuana −8 → −7 on Sun 8 Mar 2026, back on Sun 1 Nov); Mexico
    # City does not.
    case("mx-tijuana-sat-0659-pst-denied", MXF, MX_TIJ, "voice_live", utc(2026, 3, 7, 14, 59), "WINDOW_CLOSED mx-condusef/hours@America/Tijuana", next_at=utc(2026, 3, 7, 15, 0)),  # Sat 06:59 PST
    case("mx-tijuana-sat-0700-pst-allowed", MXF, MX_TIJ, "voice_live", utc(2026, 3, 7, 15, 0)),  # Sat 07:00 PST
    case("mx-tijuana-sat-2200-pst-next-is-0700-pdt", MXF, MX_TIJ, "voice_live", utc(2026, 3, 8, 6, 0), "WINDOW_CLOSED mx-condusef/hours@America/Tijuana", next_at=utc(2026, 3, 8, 14, 0)),  # Sat 22:00 PST → Sun 07:00 PDT
    case("mx-tijuana-dst-sunday-0659-pdt-denied", MXF, MX_TIJ, "voice_live", utc(2026, 3, 8, 13, 59), "WINDOW_CLOSED mx-condusef/hours@America/Tijuana", next_at=utc(2026, 3, 8, 14, 0)),  # Sun 06:59 PDT
    case("mx-tijuana-dst-sunday-0700-pdt-allowed", MXF, MX_TIJ, "voice_live", utc(2026, 3, 8, 14, 0)),  # Sun 07:00 PDT
    case("mx-tijuana-mon-0600-pdt-denied", MXF, MX_TIJ, "voice_live", utc(2026, 3, 9, 13, 0), "WINDOW_CLOSED mx-condusef/hours@America/Tijuana", next_at=utc(2026, 3, 9, 14, 0)),  # Mon 06:00 PDT ...
    case("mx-cdmx-same-instant-0700-cst-allowed", MXF, MX_CDMX, "voice_live", utc(2026, 3, 9, 13, 0)),  # ... = Mon 07:00 in Mexico City
    case("mx-cdmx-mon-0659-no-dst-denied", MXF, MX_CDMX, "voice_live", utc(2026, 3, 9, 12, 59), "WINDOW_CLOSED mx-condusef/hours@America/Mexico_City", next_at=utc(2026, 3, 9, 13, 0)),  # Mon 06:59 CST
    case("mx-tijuana-fall-sunday-0659-pst-denied", MXF, MX_TIJ, "voice_live", utc(2026, 11, 1, 14, 59), "WINDOW_CLOSED mx-condusef/hours@America/Tijuana", next_at=utc(2026, 11, 1, 15, 0)),  # Sun 1 Nov 06:59 PST
    case("mx-tijuana-fall-sunday-2159-pst-allowed", MXF, MX_TIJ, "voice_live", utc(2026, 11, 2, 5, 59)),  # Sun 21:59 PST
    case("mx-tijuana-fall-sunday-2200-pst-denied", MXF, MX_TIJ, "voice_live", utc(2026, 11, 2, 6, 0), "WINDOW_CLOSED mx-condusef/hours@America/Tijuana", next_at=utc(2026, 11, 2, 15, 0)),  # Sun 22:00 PST
    # Ciudad Juárez (−6 in summer, −7 from Sun 1 Nov 2026).
    case("mx-juarez-fri-0659-mdt-denied", MXF, MX_JUAREZ, "voice_live", utc(2026, 10, 30, 12, 59), "WINDOW_CLOSED mx-condusef/hours@America/Ciudad_Juarez", next_at=utc(2026, 10, 30, 13, 0)),  # Fri 06:59 MDT
    case("mx-juarez-fri-0700-mdt-allowed", MXF, MX_JUAREZ, "voice_live", utc(2026, 10, 30, 13, 0)),  # Fri 07:00 MDT
    case("mx-juarez-mon-0600-mst-denied", MXF, MX_JUAREZ, "voice_live", utc(2026, 11, 2, 13, 0), "WINDOW_CLOSED mx-condusef/hours@America/Ciudad_Juarez", next_at=utc(2026, 11, 2, 14, 0)),  # Mon 06:00 MST (07:00 in Mexico City)
    case("mx-juarez-mon-0700-mst-allowed", MXF, MX_JUAREZ, "voice_live", utc(2026, 11, 2, 14, 0)),  # Mon 07:00 MST
    # +52 868 Matamoros: the library says Mexico City, the override adds Matamoros (US DST).
    case("mx-868-summer-2130-cdmx-is-2230-matamoros-denied", MXF, MX_868, "voice_live", utc(2026, 6, 3, 3, 30), "WINDOW_CLOSED mx-condusef/hours@America/Matamoros", next_at=utc(2026, 6, 3, 13, 0)),  # 21:30 CST / 22:30 CDT
    case("mx-868-summer-2059-cdmx-allowed", MXF, MX_868, "voice_live", utc(2026, 6, 3, 2, 59)),  # 20:59 CST / 21:59 CDT
    case("mx-868-winter-2130-allowed", MXF, MX_868, "voice_live", utc(2026, 1, 14, 3, 30)),  # Tue 13 Jan 21:30 in both
    # +52 614 Chihuahua: Mazatlán (library, −7) and Chihuahua (override, −6).
    case("mx-614-0700-chihuahua-is-0600-mazatlan-denied", MXF, MX_614, "voice_live", utc(2026, 6, 2, 13, 0), "WINDOW_CLOSED mx-condusef/hours@America/Mazatlan", next_at=utc(2026, 6, 2, 14, 0)),  # Tue 02 Jun 07:00 CST (Chihuahua)
    case("mx-614-0700-mazatlan-allowed", MXF, MX_614, "voice_live", utc(2026, 6, 2, 14, 0)),  # 08:00 Chihuahua
    case("mx-614-2159-chihuahua-allowed", MXF, MX_614, "voice_live", utc(2026, 6, 3, 3, 59)),  # 20:59 Mazatlán
    case("mx-614-2200-chihuahua-denied", MXF, MX_614, "voice_live", utc(2026, 6, 3, 4, 0), "WINDOW_CLOSED mx-condusef/hours@America/Chihuahua", next_at=utc(2026, 6, 3, 14, 0)),  # Tue 02 Jun 22:00 CST (Chihuahua)
    # Mexico City phone, postal address in Tijuana (winter: Tijuana is 2 h behind).
    case("mx-address-tijuana-0830-cdmx-denied", MXF, MX_ADDR_TIJ, "voice_live", utc(2026, 1, 13, 14, 30), "WINDOW_CLOSED mx-condusef/hours@America/Tijuana", next_at=utc(2026, 1, 13, 15, 0)),  # 08:30 CST / 06:30 PST
    case("mx-address-tijuana-0900-cdmx-allowed", MXF, MX_ADDR_TIJ, "voice_live", utc(2026, 1, 13, 15, 0)),  # 09:00 CST / 07:00 PST
    case("mx-address-tijuana-2200-cdmx-denied", MXF, MX_ADDR_TIJ, "voice_live", utc(2026, 1, 14, 4, 0), "WINDOW_CLOSED mx-condusef/hours@America/Mexico_City", next_at=utc(2026, 1, 14, 15, 0)),  # 22:00 CST / 20:00 PST
    # Nothing known but "Mexico": every MX zone (§3.3): 09:00–21:00 CDMX time in winter, 08:00–21:00
    # in summer.
    case("mx-unknown-zone-winter-0859-cdmx-denied", MXF, MX_NO_ZONE, "voice_live", utc(2026, 1, 13, 14, 59), "WINDOW_CLOSED mx-condusef/hours@America/Tijuana", next_at=utc(2026, 1, 13, 15, 0)),  # Tue 13 Jan 08:59 CST
    case("mx-unknown-zone-winter-0900-cdmx-allowed", MXF, MX_NO_ZONE, "voice_live", utc(2026, 1, 13, 15, 0)),  # Tue 13 Jan 09:00 CST
    case("mx-unknown-zone-winter-2059-cdmx-allowed", MXF, MX_NO_ZONE, "voice_live", utc(2026, 1, 14, 2, 59)),  # Tue 13 Jan 20:59 CST
    case("mx-unknown-zone-winter-2100-cdmx-denied", MXF, MX_NO_ZONE, "voice_live", utc(2026, 1, 14, 3, 0), "WINDOW_CLOSED mx-condusef/hours@America/Cancun", next_at=utc(2026, 1, 14, 15, 0)),  # 22:00 in Cancún
    case("mx-unknown-zone-summer-0759-cdmx-denied", MXF, MX_NO_ZONE, "voice_live", utc(2026, 6, 2, 13, 59), "WINDOW_CLOSED mx-condusef/hours@*", next_at=utc(2026, 6, 2, 14, 0)),  # Tue 02 Jun 07:59 CST
    case("mx-unknown-zone-summer-0800-cdmx-allowed", MXF, MX_NO_ZONE, "voice_live", utc(2026, 6, 2, 14, 0)),  # Tue 02 Jun 08:00 CST
    case("mx-unknown-zone-summer-2059-cdmx-allowed", MXF, MX_NO_ZONE, "voice_live", utc(2026, 6, 3, 2, 59)),  # Tue 02 Jun 20:59 CST
    # Parties: only debtor, aval, obligado solidario — never references.
    case("mx-reference-denied", MXF, local(MX_CDMX, role="reference"), "voice_live", utc(2026, 6, 2, 16, 0), "THIRD_PARTY_FORBIDDEN mx-condusef/parties"),  # Tue 02 Jun 10:00 CST
    case("mx-profeco-reference-denied", MXC, local(MX_CDMX, role="reference"), "voice_live", utc(2026, 6, 2, 16, 0), "THIRD_PARTY_FORBIDDEN mx-profeco/parties"),  # Tue 02 Jun 10:00 CST
    case("mx-aval-allowed", MXF, local(MX_CDMX, role="aval"), "voice_live", utc(2026, 6, 2, 16, 0)),  # Tue 02 Jun 10:00 CST
    case("mx-obligado-solidario-allowed", MXF, local(MX_CDMX, role="obligado_solidario"), "voice_live", utc(2026, 6, 2, 16, 0)),  # Tue 02 Jun 10:00 CST
    # Contact points: only the ones provided — skip-traced numbers are out.
    case("mx-skip-trace-denied", MXF, local(MX_CDMX, provenance="skip_trace"), "voice_live", utc(2026, 6, 2, 16, 0), "CONTACT_POINT_NOT_ALLOWED mx-condusef/contact-points"),  # Tue 02 Jun 10:00 CST
    # Caller ID: never hidden (both caller-ID rules of the pack say so).
    case("mx-restricted-caller-id-denied", MXF, local(MX_CDMX, caller_id="restricted"), "voice_live", utc(2026, 6, 2, 16, 0), "CALLER_ID_INVALID mx-condusef/caller-id", "CALLER_ID_INVALID mx-condusef/redeco-numbers"),  # Tue 02 Jun 10:00 CST
    # Policy caps (mx-common): 3 attempts and 1 connected call a day, per person and debt, local
    # day.
    case("mx-4th-attempt-today-denied", MXF, MX_CDMX, "voice_live", utc(2026, 6, 2, 18, 0), "CAP_EXCEEDED mx-condusef/daily-cap@America/Mexico_City", next_at=utc(2026, 6, 3, 13, 0), history=MX_THREE_UNANSWERED),  # 12:00 → tomorrow 07:00
    case("mx-2nd-call-after-a-conversation-today-denied", MXF, MX_CDMX, "voice_live", utc(2026, 6, 2, 18, 0), "CAP_EXCEEDED mx-condusef/daily-connected-cap@America/Mexico_City", next_at=utc(2026, 6, 3, 13, 0), history=(attempt(utc(2026, 6, 2, 13, 30)), event(EventKind.TWO_WAY_CONTACT, utc(2026, 6, 2, 13, 30)))),  # Tue 02 Jun 12:00 CST
    case("mx-2nd-call-after-a-call-that-reached-no-one-allowed", MXF, MX_CDMX, "voice_live", utc(2026, 6, 2, 18, 0), history=(attempt(utc(2026, 6, 2, 13, 30)),)),  # Tue 12:00; the 07:30 call connected but no conversation
    case("mx-daily-cap-resets-at-local-midnight", MXF, MX_CDMX, "voice_live", utc(2026, 6, 3, 13, 0), history=MX_THREE_UNANSWERED),  # Wed 07:00
    case("mx-daily-cap-not-for-sms", MXF, MX_CDMX, "sms", utc(2026, 6, 2, 18, 0), history=MX_THREE_UNANSWERED),  # Tue 02 Jun 12:00 CST
]

CO_CASES = [
    # Ley 2300 art. 3: Mon–Fri 07:00–19:00, Sat 08:00–15:00, never Sundays or festivos (Bogotá,
    # UTC-5).
    case("co-tue-0659-denied", CO, CO_BOG, "voice_live", utc(2026, 6, 2, 11, 59), "WINDOW_CLOSED co-l2300/hours@America/Bogota", next_at=utc(2026, 6, 2, 12, 0)),  # Tue 06:59
    case("co-tue-0700-allowed", CO, CO_BOG, "voice_live", utc(2026, 6, 2, 12, 0)),  # Tue 07:00
    case("co-tue-1859-last-allowed", CO, CO_BOG, "voice_live", utc(2026, 6, 2, 23, 59)),  # Tue 18:59
    case("co-tue-1900-first-denied", CO, CO_BOG, "voice_live", utc(2026, 6, 3, 0, 0), "WINDOW_CLOSED co-l2300/hours@America/Bogota", next_at=utc(2026, 6, 3, 12, 0)),  # Tue 19:00
    case("co-sat-0759-denied", CO, CO_BOG, "voice_live", utc(2026, 6, 6, 12, 59), "WINDOW_CLOSED co-l2300/hours@America/Bogota", next_at=utc(2026, 6, 6, 13, 0)),  # Sat 07:59
    case("co-sat-0800-allowed", CO, CO_BOG, "voice_live", utc(2026, 6, 6, 13, 0)),  # Sat 08:00
    case("co-sat-1459-last-allowed", CO, CO_BOG, "voice_live", utc(2026, 6, 6, 19, 59)),  # Sat 14:59
    case("co-sat-1500-next-is-tuesday-after-festivo", CO, CO_BOG, "voice_live", utc(2026, 6, 6, 20, 0), "WINDOW_CLOSED co-l2300/hours@America/Bogota", next_at=utc(2026, 6, 9, 12, 0)),  # Sat 15:00; Mon 8 Jun = Corpus Christi (observed)
    case("co-sunday-denied", CO, CO_BOG, "sms", utc(2026, 6, 7, 15, 0), "DAY_CLOSED co-l2300/hours@America/Bogota", next_at=utc(2026, 6, 9, 12, 0)),  # Sun 10:00
    # Ley Emiliani: Assumption (Sat 15 Aug 2026) is moved to Mon 17 Aug; Cartagena (Wed 11 Nov) to
    # Mon 16 Nov.
    case("co-festivo-moved-to-monday-denied", CO, CO_BOG, "voice_live", utc(2026, 8, 17, 15, 0), "HOLIDAY co-l2300/festivos@America/Bogota", next_at=utc(2026, 8, 18, 12, 0)),  # Mon 10:00 → Tue 07:00
    case("co-festivo-original-saturday-allowed", CO, CO_BOG, "voice_live", utc(2026, 8, 15, 15, 0)),  # Sat 15 Aug 10:00
    case("co-cartagena-moved-to-monday-denied", CO, CO_BOG, "email", utc(2026, 11, 16, 15, 0), "HOLIDAY co-l2300/festivos@America/Bogota", next_at=utc(2026, 11, 17, 12, 0)),  # Mon 16 Nov 10:00 -05 (Bogota)
    case("co-cartagena-original-wednesday-allowed", CO, CO_BOG, "email", utc(2026, 11, 11, 15, 0)),  # Wed 11 Nov 10:00 -05 (Bogota)
    case("co-saturday-festivo-next-is-monday", CO, CO_BOG, "voice_live", utc(2027, 5, 1, 15, 0), "HOLIDAY co-l2300/festivos@America/Bogota", next_at=utc(2027, 5, 3, 12, 0)),  # Sat 1 May 2027 (Labor Day) → Mon 07:00
    # Art. 2: only the channels the debtor authorised; no visits.
    case("co-whatsapp-not-authorised-denied", CO, CO_BOG, "whatsapp", utc(2026, 6, 2, 15, 0), "CHANNEL_NOT_AUTHORIZED co-l2300/authorised-channels"),  # Tue 02 Jun 10:00 -05 (Bogota)
    case("co-sms-authorised-allowed", CO, CO_BOG, "sms", utc(2026, 6, 2, 15, 0)),  # Tue 02 Jun 10:00 -05 (Bogota)
    case("co-visit-denied", CO, CO_BOG, "visit", utc(2026, 6, 2, 15, 0), "CHANNEL_NOT_AUTHORIZED co-l2300/authorised-channels", "CHANNEL_NOT_AUTHORIZED co-l2300/no-visits"),  # Tue 02 Jun 10:00 -05 (Bogota)
    # Art. 3: after a two-way contact, at most one contact a (local) day ...
    case("co-second-call-same-day-after-two-way-denied", CO, CO_BOG, "voice_live", utc(2026, 6, 2, 19, 0), "CAP_EXCEEDED co-l2300/one-per-day@America/Bogota", next_at=utc(2026, 6, 3, 12, 0), history=CO_TWO_WAY),  # Tue 14:00 → Wed 07:00
    case("co-call-next-day-after-two-way-allowed", CO, CO_BOG, "voice_live", utc(2026, 6, 3, 12, 0), history=CO_TWO_WAY),  # Wed 07:00
    case("co-attempts-before-any-two-way-not-capped", CO, CO_BOG, "voice_live", utc(2026, 6, 2, 19, 0), history=(attempt(utc(2026, 6, 2, 13, 0), connected=False), attempt(utc(2026, 6, 2, 15, 0)))),  # Tue 02 Jun 14:00 -05 (Bogota)
    # ... and not by several channels in the same week (rolling 7 days from the two-way contact).
    case("co-sms-two-days-after-two-way-call-denied", CO, CO_BOG, "sms", utc(2026, 6, 4, 15, 0), "COOLOFF_ACTIVE co-l2300/one-channel-per-week", next_at=utc(2026, 6, 9, 15, 0), history=CO_TWO_WAY),  # Thu 10:00 → Tue 10:00
    case("co-sms-seven-days-after-two-way-call-allowed", CO, CO_BOG, "sms", utc(2026, 6, 9, 15, 0), history=CO_TWO_WAY),  # Tue 9 Jun 10:00
    case("co-same-channel-two-days-after-allowed", CO, CO_BOG, "voice_live", utc(2026, 6, 4, 15, 0), history=CO_TWO_WAY),  # Thu 04 Jun 10:00 -05 (Bogota)
    # Parties: no references; codeudores/avalistas under the same rules as the debtor.
    case("co-reference-denied", CO, local(CO_BOG, role="reference"), "voice_live", utc(2026, 6, 2, 15, 0), "THIRD_PARTY_FORBIDDEN co-l2300/parties"),  # Tue 02 Jun 10:00 -05 (Bogota)
    case("co-codeudor-allowed", CO, local(CO_BOG, role="codeudor"), "voice_live", utc(2026, 6, 2, 15, 0)),  # Tue 02 Jun 10:00 -05 (Bogota)
    case("co-aval-allowed", CO, local(CO_BOG, role="aval"), "voice_live", utc(2026, 6, 2, 15, 0)),  # Tue 02 Jun 10:00 -05 (Bogota)
]

PE_CASES = [
    # Ley 29571 art. 62(b): no calls 20:00–07:00, nor Saturdays, Sundays, feriados (Lima, UTC-5).
    case("pe-mon-0659-denied", PE, PE_LIM, "voice_live", utc(2026, 6, 1, 11, 59), "WINDOW_CLOSED pe-cpdc/hours@America/Lima", next_at=utc(2026, 6, 1, 12, 0)),  # Mon 06:59
    case("pe-mon-0700-allowed", PE, PE_LIM, "voice_live", utc(2026, 6, 1, 12, 0)),  # Mon 07:00
    case("pe-fri-1959-last-allowed", PE, PE_LIM, "voice_live", utc(2026, 6, 6, 0, 59)),  # Fri 19:59
    case("pe-fri-2000-next-is-monday", PE, PE_LIM, "voice_live", utc(2026, 6, 6, 1, 0), "WINDOW_CLOSED pe-cpdc/hours@America/Lima", next_at=utc(2026, 6, 8, 12, 0)),  # Fri 20:00 → Mon 07:00
    case("pe-saturday-denied", PE, PE_LIM, "voice_live", utc(2026, 6, 6, 15, 0), "DAY_CLOSED pe-cpdc/hours@America/Lima", next_at=utc(2026, 6, 8, 12, 0)),  # Sat 10:00
    case("pe-sunday-that-is-also-a-feriado-denied", PE, PE_LIM, "voice_live", utc(2026, 6, 7, 15, 0), "DAY_CLOSED pe-cpdc/hours@America/Lima", "HOLIDAY pe-cpdc/feriados@America/Lima", next_at=utc(2026, 6, 8, 12, 0)),  # Sun 7 Jun (Flag Day) 10:00
    case("pe-saturday-sms-denied", PE, PE_LIM, "sms", utc(2026, 6, 6, 15, 0), "DAY_CLOSED pe-cpdc/hours-other-channels@America/Lima", next_at=utc(2026, 6, 8, 12, 0)),  # Sat 10:00 (Lima): ⚠️ all channels
    case("pe-independence-days-denied", PE, PE_LIM, "voice_live", utc(2026, 7, 28, 15, 0), "HOLIDAY pe-cpdc/feriados@America/Lima", next_at=utc(2026, 7, 30, 12, 0)),  # Tue 28 Jul 10:00; 29 Jul too → Thu 07:00
    case("pe-feriado-email-denied", PE, PE_LIM, "email", utc(2026, 7, 29, 15, 0), "HOLIDAY pe-cpdc/feriados-other-channels@America/Lima", next_at=utc(2026, 7, 30, 12, 0)),  # Wed 29 Jul 10:00 -05 (Lima)
    case("pe-reference-denied", PE, local(PE_LIM, role="reference"), "voice_live", utc(2026, 6, 1, 15, 0), "THIRD_PARTY_FORBIDDEN pe-cpdc/parties"),  # Mon 01 Jun 10:00 -05 (Lima)
]

CL_CASES = [
    # Ley 19.496 art. 37: Mon–Sat 08:00–20:00, no feriados (Santiago −4 in winter, −3 in summer).
    case("cl-tue-0759-denied", CL, CL_SCL, "voice_live", utc(2026, 6, 2, 11, 59), "WINDOW_CLOSED cl-l19496/hours@America/Santiago", next_at=utc(2026, 6, 2, 12, 0)),  # Tue 07:59 -04
    case("cl-tue-0800-allowed", CL, CL_SCL, "voice_live", utc(2026, 6, 2, 12, 0)),  # Tue 08:00
    case("cl-tue-1959-last-allowed", CL, CL_SCL, "voice_live", utc(2026, 6, 2, 23, 59)),  # Tue 19:59
    case("cl-tue-2000-first-denied", CL, CL_SCL, "voice_live", utc(2026, 6, 3, 0, 0), "WINDOW_CLOSED cl-l19496/hours@America/Santiago", next_at=utc(2026, 6, 3, 12, 0)),  # Tue 20:00
    case("cl-saturday-allowed", CL, CL_SCL, "voice_live", utc(2026, 6, 6, 14, 0)),  # Sat 10:00
    case("cl-sunday-denied", CL, CL_SCL, "voice_live", utc(2026, 6, 7, 14, 0), "DAY_CLOSED cl-l19496/hours@America/Santiago", next_at=utc(2026, 6, 8, 12, 0)),  # Sun 10:00
    case("cl-sunday-sms-denied", CL, CL_SCL, "sms", utc(2026, 6, 7, 14, 0), "DAY_CLOSED cl-l19496/hours-other-channels@America/Santiago", next_at=utc(2026, 6, 8, 12, 0)),  # Sun 07 Jun 10:00 -04 (Santiago)
    case("cl-fiestas-patrias-denied", CL, CL_SCL, "voice_live", utc(2026, 9, 18, 13, 0), "HOLIDAY cl-l19496/feriados@America/Santiago", next_at=utc(2026, 9, 21, 11, 0)),  # Fri 18 Sep 10:00 -03; Sat 19 too; Sun closed → Mon 08:00
    # DST ends Sat 4 Apr 2026 24:00 (−3 → −4) with Good Friday and Holy Saturday before it.
    case("cl-thu-1959-before-easter-allowed", CL, CL_SCL, "voice_live", utc(2026, 4, 2, 22, 59)),  # Thu 2 Apr 19:59 -03
    case("cl-thu-2000-before-easter-next-is-monday-0800-winter", CL, CL_SCL, "voice_live", utc(2026, 4, 2, 23, 0), "WINDOW_CLOSED cl-l19496/hours@America/Santiago", next_at=utc(2026, 4, 6, 12, 0)),  # → Mon 6 Apr 08:00 -04
    # DST ends Sat 3 Apr 2027 24:00 (no holiday around it).
    case("cl-sat-1959-before-dst-end-allowed", CL, CL_SCL, "voice_live", utc(2027, 4, 3, 22, 59)),  # Sat 19:59 -03
    case("cl-sat-2000-before-dst-end-denied", CL, CL_SCL, "voice_live", utc(2027, 4, 3, 23, 0), "WINDOW_CLOSED cl-l19496/hours@America/Santiago", next_at=utc(2027, 4, 5, 12, 0)),  # Sat 20:00 -03 → Mon 08:00 -04
    case("cl-mon-0759-after-dst-end-denied", CL, CL_SCL, "voice_live", utc(2027, 4, 5, 11, 59), "WINDOW_CLOSED cl-l19496/hours@America/Santiago", next_at=utc(2027, 4, 5, 12, 0)),  # Mon 07:59 -04
    # DST starts Sat 5 Sep 2026 24:00 (−4 → −3).
    case("cl-sat-0800-before-dst-start-allowed", CL, CL_SCL, "voice_live", utc(2026, 9, 5, 12, 0)),  # Sat 08:00 -04
    case("cl-sat-2000-before-dst-start-denied", CL, CL_SCL, "voice_live", utc(2026, 9, 6, 0, 0), "WINDOW_CLOSED cl-l19496/hours@America/Santiago", next_at=utc(2026, 9, 7, 11, 0)),  # Sat 20:00 -04 → Mon 08:00 -03
    case("cl-mon-0759-after-dst-start-denied", CL, CL_SCL, "voice_live", utc(2026, 9, 7, 10, 59), "WINDOW_CLOSED cl-l19496/hours@America/Santiago", next_at=utc(2026, 9, 7, 11, 0)),  # Mon 07:59 -03
    # 1 call or visit a week (rolling), per person across debts, answered or not.
    case("cl-second-call-in-a-week-denied", CL, CL_SCL, "voice_live", utc(2026, 6, 8, 14, 0), "CAP_EXCEEDED cl-l19496/calls-per-week", next_at=utc(2026, 6, 9, 14, 0), history=(attempt(utc(2026, 6, 2, 14, 0), connected=False),)),  # Mon 10:00 → Tue 10:00
    case("cl-call-seven-days-later-allowed", CL, CL_SCL, "voice_live", utc(2026, 6, 9, 14, 0), history=(attempt(utc(2026, 6, 2, 14, 0), connected=False),)),  # Tue 09 Jun 10:00 -04 (Santiago)
    case("cl-call-cap-across-debts", CL, CL_SCL, "voice_live", utc(2026, 6, 8, 14, 0), "CAP_EXCEEDED cl-l19496/calls-per-week", next_at=utc(2026, 6, 9, 14, 0), history=(attempt(utc(2026, 6, 2, 14, 0), debt="D2"),)),  # Mon 08 Jun 10:00 -04 (Santiago)
    # ≤ 2 messages a week, at least 2 days (48 h) apart.
    case("cl-second-message-before-48h-denied", CL, CL_SCL, "sms", utc(2026, 6, 3, 13, 59), "MIN_GAP cl-l19496/messages-gap", next_at=utc(2026, 6, 3, 14, 0), history=CL_ONE_MESSAGE),  # Wed 09:59 -04
    case("cl-second-message-at-48h-allowed", CL, CL_SCL, "whatsapp", utc(2026, 6, 3, 14, 0), history=CL_ONE_MESSAGE),  # Wed 10:00 -04
    case("cl-third-message-in-a-week-denied", CL, CL_SCL, "sms", utc(2026, 6, 5, 14, 0), "CAP_EXCEEDED cl-l19496/messages-per-week", next_at=utc(2026, 6, 8, 14, 0), history=CL_TWO_MESSAGES),  # Fri 10:00 → Mon 10:00
    case("cl-call-after-two-messages-allowed", CL, CL_SCL, "voice_live", utc(2026, 6, 5, 14, 0), history=CL_TWO_MESSAGES),  # Fri 05 Jun 10:00 -04 (Santiago)
    # Caller ID: prefix 600 for companies with a relationship (Subtel, from 2025-08-13).
    case("cl-caller-id-600-allowed", CL, CL_SCL, "voice_live", utc(2026, 6, 2, 14, 0)),  # Tue 02 Jun 10:00 -04 (Santiago)
    case("cl-caller-id-local-number-denied", CL, local(CL_SCL, caller_id="+56221110000"), "voice_live", utc(2026, 6, 2, 14, 0), "CALLER_ID_INVALID cl-l19496/caller-id-600"),  # Tue 02 Jun 10:00 -04 (Santiago)
    case("cl-caller-id-restricted-denied", CL, local(CL_SCL, caller_id="restricted"), "voice_live", utc(2026, 6, 2, 14, 0), "CALLER_ID_INVALID cl-l19496/caller-id-600"),  # Tue 02 Jun 10:00 -04 (Santiago)
    # +56 61 (Magallanes): Santiago and Punta Arenas (−3 all year): in winter Punta Arenas is an
    # hour ahead.
    case("cl-puq-1930-santiago-is-2030-punta-arenas-denied", CL, CL_PUQ, "voice_live", utc(2026, 6, 2, 23, 30), "WINDOW_CLOSED cl-l19496/hours@America/Punta_Arenas", next_at=utc(2026, 6, 3, 12, 0)),  # Tue 02 Jun 19:30 -04 (Santiago)
    case("cl-puq-0800-santiago-allowed", CL, CL_PUQ, "voice_live", utc(2026, 6, 3, 12, 0)),  # Wed 03 Jun 08:00 -04 (Santiago)
    case("cl-reference-denied", CL, local(CL_SCL, role="reference"), "voice_live", utc(2026, 6, 2, 14, 0), "THIRD_PARTY_FORBIDDEN cl-l19496/parties"),  # Tue 02 Jun 10:00 -04 (Santiago)
]

BR_CASES = [
    # São Paulo Lei 15.426/2014: calls Mon–Fri 08:00–20:00, Sat 08:00–14:00, no feriados (UTC-3).
    case("br-sp-mon-0759-denied", BR, BR_SP, "voice_live", utc(2026, 6, 1, 10, 59), "WINDOW_CLOSED br-sp/hours@America/Sao_Paulo", next_at=utc(2026, 6, 1, 11, 0)),  # Mon 07:59
    case("br-sp-fri-1959-allowed", BR, BR_SP, "voice_live", utc(2026, 6, 5, 22, 59)),  # Fri 19:59
    case("br-sp-fri-2000-denied", BR, BR_SP, "voice_live", utc(2026, 6, 5, 23, 0), "WINDOW_CLOSED br-sp/hours@America/Sao_Paulo", next_at=utc(2026, 6, 6, 11, 0)),  # Fri 20:00 → Sat 08:00
    case("br-sp-sat-1359-allowed", BR, BR_SP, "voice_live", utc(2026, 6, 6, 16, 59)),  # Sat 13:59
    case("br-sp-sat-1400-denied", BR, BR_SP, "voice_live", utc(2026, 6, 6, 17, 0), "WINDOW_CLOSED br-sp/hours@America/Sao_Paulo", next_at=utc(2026, 6, 8, 11, 0)),  # Sat 14:00 → Mon 08:00
    case("br-sp-sunday-denied", BR, BR_SP, "voice_live", utc(2026, 6, 7, 13, 0), "DAY_CLOSED br-sp/hours@America/Sao_Paulo", next_at=utc(2026, 6, 8, 11, 0)),  # Sun 07 Jun 10:00 -03 (Sao Paulo)
    case("br-sp-state-holiday-denied", BR, BR_SP, "voice_live", utc(2026, 7, 9, 13, 0), "HOLIDAY br-sp/feriados@America/Sao_Paulo", next_at=utc(2026, 7, 10, 11, 0)),  # Thu 9 Jul 10:00 (Revolução Constitucionalista) → Fri 08:00
    case("br-sp-sms-sunday-not-covered", BR, BR_SP, "sms", utc(2026, 6, 7, 13, 0)),  # Sun 10:00 (São Paulo): the law names phone calls only
]

CORE_CASES = [
    # Opt-outs (recaudo-core): channel None = every channel; otherwise that channel (voice is one
    # family).
    case("optout-all-channels-blocks-sms", US, US_NY, "sms", utc(2026, 6, 2, 14, 0), "OPTED_OUT recaudo-core/opt-out", history=OPT_OUT_ALL),  # Tue 02 Jun 10:00 EDT
    case("optout-all-channels-blocks-voice", US, US_NY, "voice_live", utc(2026, 6, 2, 14, 0), "OPTED_OUT recaudo-core/opt-out", history=OPT_OUT_ALL),  # Tue 02 Jun 10:00 EDT
    case("optout-all-channels-mx", MXF, MX_CDMX, "email", utc(2026, 6, 2, 16, 0), "OPTED_OUT recaudo-core/opt-out", history=OPT_OUT_ALL),  # Tue 02 Jun 10:00 CST
    case("optout-sms-blocks-sms", CO, CO_BOG, "sms", utc(2026, 6, 2, 15, 0), "OPTED_OUT recaudo-core/opt-out", history=OPT_OUT_SMS),  # Tue 02 Jun 10:00 -05 (Bogota)
    case("optout-sms-leaves-voice", CO, CO_BOG, "voice_live", utc(2026, 6, 2, 15, 0), history=OPT_OUT_SMS),  # Tue 02 Jun 10:00 -05 (Bogota)
    case("optout-voice-stops-every-voice-channel", US, local(US_NY, consent=frozenset({"voice_prerecorded"})), "voice_prerecorded", utc(2026, 6, 2, 14, 0), "OPTED_OUT recaudo-core/opt-out", history=OPT_OUT_VOICE),  # Tue 02 Jun 10:00 EDT
    case("optout-voice-leaves-email", US, US_NY, "email", utc(2026, 6, 2, 14, 0), history=OPT_OUT_VOICE),  # Tue 02 Jun 10:00 EDT
    case("optout-of-another-phone-ignored", US, US_NY, "sms", utc(2026, 6, 2, 14, 0), history=(event(EventKind.OPT_OUT, utc(2026, 5, 20, 12, 0), None, phone="+12125559999"),)),  # Tue 02 Jun 10:00 EDT
    case("optout-later-than-the-instant-ignored", US, US_NY, "sms", utc(2026, 6, 2, 14, 0), history=(event(EventKind.OPT_OUT, utc(2026, 6, 3, 12, 0), None),)),  # Tue 02 Jun 10:00 EDT
    # Closed, paid and disputed accounts stop collection.
    case("account-paid-denied", US, local(US_NY, account_status="paid"), "voice_live", utc(2026, 6, 2, 14, 0), "ACCOUNT_CLOSED recaudo-core/account-status"),  # Tue 02 Jun 10:00 EDT
    case("account-closed-denied", MXF, local(MX_CDMX, account_status="closed"), "voice_live", utc(2026, 6, 2, 16, 0), "ACCOUNT_CLOSED recaudo-core/account-status"),  # Tue 02 Jun 10:00 CST
    case("account-disputed-denied", CO, local(CO_BOG, account_status="disputed"), "sms", utc(2026, 6, 2, 15, 0), "ACCOUNT_CLOSED recaudo-core/account-status"),  # Tue 02 Jun 10:00 -05 (Bogota)
    # No zone and no country: ZONE_UNKNOWN for every pack that resolves zones; never allowed.
    case("zone-unknown-mx", MXF, local(NOBODY), "voice_live", utc(2026, 6, 2, 16, 0), "ZONE_UNKNOWN mx-condusef/zones"),  # Tue 02 Jun 16:00 UTC; no zone known
    case("zone-unknown-us", US, local(NOBODY), "email", utc(2026, 6, 2, 16, 0), "ZONE_UNKNOWN us-fdcpa-regf/zones", "ZONE_UNKNOWN us-tcpa/zones"),  # Tue 02 Jun 16:00 UTC; no zone known
    case("zone-unknown-cl", CL, local(NOBODY), "sms", utc(2026, 6, 2, 16, 0), "ZONE_UNKNOWN cl-l19496/zones"),  # Tue 02 Jun 16:00 UTC; no zone known
]
# fmt: on


@pytest.mark.parametrize(ARGS, US_CASES)
def test_us(packs, contact, channel, at, reasons, next_at, history, margin):
    check(packs, contact, channel, at, reasons, next_at, history, margin)


@pytest.mark.parametrize(ARGS, MX_CASES)
def test_mx(packs, contact, channel, at, reasons, next_at, history, margin):
    check(packs, contact, channel, at, reasons, next_at, history, margin)


@pytest.mark.parametrize(ARGS, CO_CASES)
def test_co(packs, contact, channel, at, reasons, next_at, history, margin):
    check(packs, contact, channel, at, reasons, next_at, history, margin)


@pytest.mark.parametrize(ARGS, PE_CASES)
def test_pe(packs, contact, channel, at, reasons, next_at, history, margin):
    check(packs, contact, channel, at, reasons, next_at, history, margin)


@pytest.mark.parametrize(ARGS, CL_CASES)
def test_cl(packs, contact, channel, at, reasons, next_at, history, margin):
    check(packs, contact, channel, at, reasons, next_at, history, margin)


@pytest.mark.parametrize(ARGS, BR_CASES)
def test_br_sp(packs, contact, channel, at, reasons, next_at, history, margin):
    check(packs, contact, channel, at, reasons, next_at, history, margin)


@pytest.mark.parametrize(ARGS, CORE_CASES)
def test_core(packs, contact, channel, at, reasons, next_at, history, margin):
    check(packs, contact, channel, at, reasons, next_at, history, margin)


# -- the inputs the tables rely on -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("contact", "zones"),
    [
        pytest.param(US_850, {CHI, NY}, id="+1-850-chicago-and-new-york"),
        pytest.param(MX_614, {MZT, CHIH}, id="+52-614-mazatlan-and-chihuahua"),
        pytest.param(MX_868, {CDMX, MAT}, id="+52-868-mexico-city-and-matamoros"),
        pytest.param(MX_ADDR_TIJ, {CDMX, TIJ}, id="+52-55-with-address-in-tijuana"),
        pytest.param(MX_TIJ, {TIJ}, id="+52-664-tijuana"),
        pytest.param(MX_JUAREZ, {CJS}, id="+52-656-ciudad-juarez"),
        pytest.param(CL_PUQ, {SCL, PUQ}, id="+56-61-santiago-and-punta-arenas"),
    ],
)
def test_candidate_zones_of_table_contacts(contact: Contact, zones: set[str]) -> None:
    assert set(contact.zones) == zones
    assert {z for z, _ in contact.zone_sources} == zones


def test_for_contact_selects_the_expected_packs() -> None:
    def ids(*args: str | None) -> list[str]:
        return [p.id for p in POLICIES.for_contact(*args)]

    assert ids("US", "US-MA", "financial", "third_party") == ["us-fdcpa-regf", "us-ma", "us-tcpa"]
    assert ids("US", "US-NY", "financial", "third_party") == ["us-fdcpa-regf", "us-tcpa"]
    assert ids("US", "US-NY", "financial", "first_party") == ["us-tcpa"]
    assert ids("MX", None, "financial", "third_party") == ["mx-condusef"]
    assert ids("MX", None, "commercial", "third_party") == ["mx-profeco"]
    assert ids("CO") == ["co-l2300"]
    assert ids("PE") == ["pe-cpdc"]
    assert ids("CL") == ["cl-l19496"]
    assert ids("BR", "BR-SP") == ["br-sp"]
    assert ids("BR", "BR-RJ") == []


ALL_CHANNELS = ("voice_live", "voice_prerecorded", "voicemail", "sms", "whatsapp", "email")


@pytest.mark.parametrize("channel", ALL_CHANNELS)
def test_no_zone_no_country_never_allowed_never_crashes(channel: str) -> None:
    # A contact with nothing known, under every shipped pack (and from an empty JSON contact).
    every = POLICIES.select(sorted(p.id for p in POLICIES.packs.values() if not p.abstract))
    zone_packs = {p.id for p in every if "fixed" not in p.zones.use}
    for who in (NOBODY, contact_from_json({})):
        d = decide(who, channel, utc(2026, 6, 2, 16, 0), (), every)
        assert not d.allowed
        assert d.next_allowed_at is None
        unknown = {r.pack for r in d.reasons if r.code is Code.ZONE_UNKNOWN}
        assert unknown == zone_packs
        assert zone_packs >= {"mx-condusef", "mx-profeco", "us-fdcpa-regf", "us-tcpa", "cl-l19496"}


def test_cooloff_counts_days_in_local_time_not_utc() -> None:
    # A conversation at Tue 3 Mar 23:30 EST is Tue 3 Mar in New York but Wed 4 Mar 04:30 in UTC:
    # day 1 is the 3rd, so day 8 (free) is Tue 10 Mar, not Wed 11 Mar.
    history = (event(EventKind.CONVERSATION, utc(2026, 3, 4, 4, 30)),)
    packs = POLICIES.select(US)
    assert decide(
        US_NY, "voice_live", utc(2026, 3, 10, 12, 0), history, packs
    ).allowed  # Tue 10 08:00 EDT
    d = decide(US_NY, "voice_live", utc(2026, 3, 9, 23, 0), history, packs)  # Mon 9 Mar 19:00 EDT
    assert [r.code for r in d.reasons] == [Code.COOLOFF_ACTIVE]
    assert d.next_allowed_at == utc(2026, 3, 10, 12, 0)


def test_cooloff_with_two_candidate_zones_waits_for_the_later_midnight() -> None:
    # +1 850 (Chicago and New York): conversation Tue 3 Mar 23:30 CST = Wed 00:30 EST → day 1 is
    # the 3rd in Chicago but the 4th in New York; day 8 starts Wed 11 Mar 00:00 EDT.
    history = (event(EventKind.CONVERSATION, utc(2026, 3, 4, 5, 30)),)
    d = decide(
        US_850, "voice_live", utc(2026, 3, 10, 15, 0), history, POLICIES.select(US)
    )  # Tue 10:00 CDT
    assert [f"{r.code.value}@{r.zone}" for r in d.reasons] == ["COOLOFF_ACTIVE@America/New_York"]
    assert d.next_allowed_at == utc(2026, 3, 11, 13, 0)  # Wed 08:00 CDT / 09:00 EDT


def test_instant_in_any_offset_decides_the_same() -> None:
    # The same instant written in UTC, in Bogotá time and in Tokyo time.
    packs = POLICIES.select(CO)
    for at in (utc(2026, 6, 3, 0, 0), utc(2026, 6, 2, 23, 59)):  # Tue 19:00 and 18:59 COT
        decisions = [
            decide(CO_BOG, "voice_live", at.astimezone(ZoneInfo(z)), (), packs)
            for z in ("UTC", BOG, "Asia/Tokyo")
        ]
        assert len({(d.allowed, d.reasons, d.next_allowed_at) for d in decisions}) == 1, decisions


def test_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        decide(CO_BOG, "voice_live", datetime(2026, 6, 2, 15, 0), (), POLICIES.select(CO))


# -- findings: fixed ones stay as regression tests; open ones are strict xfails -------------------


def test_us_ma_texts_count_towards_two_per_seven() -> None:
    # compliance.md §2.3.3: calls, texts and recorded messages count together, 2 per 7 days per
    # debt. Texts are recorded as message_sent events (store.histories). Was: counts `attempts`.
    history = (
        event(EventKind.MESSAGE_SENT, utc(2026, 6, 1, 14, 0), "sms"),
        event(EventKind.MESSAGE_SENT, utc(2026, 6, 3, 14, 0), "sms"),
    )
    d = decide(US_MA, "sms", utc(2026, 6, 5, 14, 0), history, POLICIES.select(MA))  # Fri 10:00 EDT
    assert [r.rule for r in d.reasons] == ["two-per-seven"]
    assert d.next_allowed_at == utc(2026, 6, 8, 14, 0)
    mixed = (TWO_CALLS[0], history[1])  # a call and a text
    d = decide(US_MA, "voice_live", utc(2026, 6, 5, 14, 0), mixed, POLICIES.select(MA))
    assert [r.rule for r in d.reasons] == ["two-per-seven"]


def test_co_one_contact_a_day_counts_messages() -> None:
    # compliance.md §2.2: once a two-way contact exists, no more than one contact a day, any
    # channel. Was: one-per-day counted `attempts` only, so any number of messages went out.
    history = (
        event(
            EventKind.TWO_WAY_CONTACT, utc(2026, 6, 2, 14, 0), "sms"
        ),  # the debtor replied, 09:00 COT
        event(EventKind.MESSAGE_SENT, utc(2026, 6, 2, 15, 0), "sms"),  # our answer, 10:00 COT
    )
    d = decide(CO_BOG, "sms", utc(2026, 6, 2, 19, 0), history, POLICIES.select(CO))  # 14:00 COT
    assert [r.rule for r in d.reasons] == ["one-per-day"]
    assert d.next_allowed_at == utc(2026, 6, 3, 12, 0)  # Wed 07:00 COT


def test_mx_connected_cap_is_about_conversations() -> None:
    # §2.1.5 (policy): "≤ 1 connected conversation a day and ≤ 3 attempts a day". A call that
    # reached the line but no person leaves two attempts. Was: counted any connected attempt.
    history = (attempt(utc(2026, 6, 2, 13, 30), connected=True),)
    assert decide(
        MX_CDMX, "voice_live", utc(2026, 6, 2, 18, 0), history, POLICIES.select(MXF)
    ).allowed


def test_cl_caller_id_prefix_is_about_calls_only() -> None:
    # Subtel's 600 prefix is about calls (compliance.md §2.5). Was: caller_id rules applied to
    # every channel, so an e-mail was refused for a non-600 caller ID.
    who = local(CL_SCL, caller_id="+56221110000")
    packs = POLICIES.select(CL)
    assert decide(who, "email", utc(2026, 6, 2, 14, 0), (), packs).allowed  # Tue 10:00 -04
    assert not decide(who, "voicemail", utc(2026, 6, 2, 14, 0), (), packs).allowed


def test_co_authorised_channels_absent_means_not_restricted() -> None:
    # The contact format (issue 4, README) defines an absent authorized_channels as "not
    # restricted"; Ley 2300 art. 2 wants the debtor's authorisation, so an agency must load it
    # (canales_autorizados) for Colombian portfolios. Open question kept in the closing note.
    who = local(CO_BOG, authorized_channels=None)
    assert decide(who, "whatsapp", utc(2026, 6, 2, 15, 0), (), POLICIES.select(CO)).allowed
    listed = local(CO_BOG, authorized_channels=frozenset({"sms"}))
    refused = decide(listed, "whatsapp", utc(2026, 6, 2, 15, 0), (), POLICIES.select(CO))
    assert [r.code for r in refused.reasons] == [Code.CHANNEL_NOT_AUTHORIZED]


# Was: us-ma applies to third-party collectors only (it extends us-fdcpa-regf), so a creditor
# collecting its own Massachusetts debts had no cap and no hours; us-ma-creditor covers them.
def test_us_ma_two_per_seven_reaches_creditors_too() -> None:
    packs = POLICIES.for_contact("US", "US-MA", "financial", "first_party")
    assert [p.id for p in packs] == ["us-ma-creditor", "us-tcpa"]
    d = decide(US_MA, "voice_live", utc(2026, 6, 5, 14, 0), TWO_CALLS, packs)  # Fri 10:00 EDT
    assert not d.allowed
    assert Code.CAP_EXCEEDED in {r.code for r in d.reasons}
    late = decide(US_MA, "voice_live", utc(2026, 6, 6, 1, 30), (), packs)  # Fri 21:30 EDT
    assert [(r.code, r.pack) for r in late.reasons] == [(Code.WINDOW_CLOSED, "us-ma-creditor")]
