"""Parsing of the messy values of portfolio exports: amounts, dates, ids, channels (no I/O).

Ambiguous or impossible values raise `ValueProblem` with a reason a person can act on; nothing
here guesses.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from enum import StrEnum
from functools import lru_cache

from campaigns.enums import Channel

__all__ = [
    "BLANKS",
    "DateOrder",
    "ValueProblem",
    "decimal_evidence",
    "normalise_token",
    "parse_amount_minor",
    "parse_channels",
    "parse_date",
    "parse_days_past_due",
    "parse_email",
    "parse_name",
    "parse_national_id",
]

#: Cell contents that mean "no value" in real exports.
BLANKS = frozenset(
    {"", "-", "--", ".", "n/a", "na", "n.a.", "null", "none", "nan", "sin dato", "s/d", "nd"}
)


class ValueProblem(ValueError):
    """A cell's value cannot be used; `str()` is the reason shown to the user."""


class DateOrder(StrEnum):
    """How to read `nn/nn/yyyy`: day first (Latin America) or month first (US)."""

    DMY = "dmy"
    MDY = "mdy"


_NON_ALNUM = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=8192)
def normalise_token(text: str) -> str:
    """`" Teléfono  Aval-2 "` → `"telefono_aval_2"`: lower case, no accents, `_` between words."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_ALNUM.sub("_", ascii_text).strip("_")


# -- amounts --------------------------------------------------------------------------------------

_CURRENCY_MARKS = re.compile(r"(?i)\b(?:MXN|MX|USD|US|COP|CLP|PEN)\b|S/\.?|[$€£]")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']+")
_PLAIN = re.compile(r"\d+(?:\.\d{1,2})?")
_AMOUNT_CHARS = re.compile(r"[\d.,]+")
_GROUPED = re.compile(r"\d{1,3}(?:[.,]\d{3})+")


def _clean_amount(text: str) -> tuple[str, bool]:
    """Strip currency marks and spaces; return (digits-and-separators, negative)."""
    value = _CURRENCY_MARKS.sub("", text)
    value = _SPACES.sub("", value)
    negative = False
    if value.startswith("(") and value.endswith(")"):
        value, negative = value[1:-1], True
    if value.startswith("-"):
        value, negative = value[1:], True
    elif value.endswith("-"):
        value, negative = value[:-1], True
    if value.startswith("+"):
        value = value[1:]
    return value, negative


def decimal_evidence(text: str) -> str | None:
    """Which decimal separator a value proves ("." or ","), or None when it proves nothing."""
    value, _ = _clean_amount(text.strip())
    last_dot, last_comma = value.rfind("."), value.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        return "." if last_dot > last_comma else ","
    sep = "." if last_dot >= 0 else "," if last_comma >= 0 else None
    if sep is None or value.count(sep) > 1:
        return None
    decimals = len(value) - value.rfind(sep) - 1
    return sep if decimals in (1, 2) else None


def _to_minor(integer: str, fraction: str) -> int:
    if len(fraction) > 2:
        raise ValueProblem(f"more than two decimals ({integer}.{fraction})")
    return int(integer or "0") * 100 + int(fraction.ljust(2, "0") or "0")


def parse_amount_minor(text: str, decimal_sep: str | None = None) -> int:
    """An amount such as `$1,234.50`, `1.234,50` or `1234.5`, in hundredths (exact).

    `decimal_sep` is the file's known decimal separator; without it `1,234` is ambiguous.
    Negative amounts come back negative; the caller decides whether they are allowed.
    """
    raw = text.strip()
    if _PLAIN.fullmatch(raw):  # fast path: 1234 / 1234.5 / 1234.50
        integer, _, fraction = raw.partition(".")
        return _to_minor(integer, fraction)
    value, negative = _clean_amount(raw)
    if not value or not _AMOUNT_CHARS.fullmatch(value) or not any(c.isdigit() for c in value):
        raise ValueProblem(f"{text!r} is not an amount")
    sign = -1 if negative else 1
    dots, commas = value.count("."), value.count(",")
    if dots and commas:
        dec = "." if value.rfind(".") > value.rfind(",") else ","
        integer, _, fraction = value.rpartition(dec)
        if not _GROUPED.fullmatch(integer) or (dec in integer):
            raise ValueProblem(f"{text!r} mixes separators in an unreadable way")
        return sign * _to_minor(re.sub(r"[.,]", "", integer), fraction)
    sep = "." if dots else "," if commas else ""
    if not sep:
        return sign * _to_minor(value, "")
    if value.count(sep) > 1:
        if not _GROUPED.fullmatch(value):
            raise ValueProblem(f"{text!r} has thousands separators in the wrong places")
        return sign * _to_minor(value.replace(sep, ""), "")
    integer, _, fraction = value.partition(sep)
    if len(fraction) != 3 or not integer or integer == "0":
        return sign * _to_minor(integer, fraction)
    # One separator followed by exactly three digits: thousands or decimals?
    if decimal_sep is None:
        raise ValueProblem(
            f"{text!r} is ambiguous ({integer}{fraction} or {integer}.{fraction}) and no other "
            "amount in the file settles the decimal separator; pass --decimal , or --decimal ."
        )
    if decimal_sep == sep:
        raise ValueProblem(f"more than two decimals ({integer}.{fraction})")
    if len(integer) > 3:
        raise ValueProblem(f"{text!r} has a thousands separator in the wrong place")
    return sign * _to_minor(integer + fraction, "")


# -- dates ----------------------------------------------------------------------------------------

_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?")
_NUMERIC = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})(?:[ T]00:00(?::00(?:\.0+)?)?)?")
EARLIEST_DATE = date(1970, 1, 1)


def _make_date(text: str, year: int, month: int, day: int, hint: str) -> date:
    if not 1 <= month <= 12:
        raise ValueProblem(f"{text!r} is not a date: month {month} does not exist{hint}")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueProblem(
            f"{text!r} is not a date: day {day} does not exist in that month"
        ) from None


def parse_date(text: str, order: DateOrder, as_of: date) -> date:
    """A date written `yyyy-mm-dd`, `dd/mm/yyyy` (or `mm/dd/yyyy` with MDY) or `dd-mm-yy`.

    Two-digit years fall in the century that puts them at most 20 years after `as_of`.
    """
    raw = text.strip()
    if m := _ISO.fullmatch(raw):
        value = _make_date(raw, int(m[1]), int(m[2]), int(m[3]), "")
    elif m := _NUMERIC.fullmatch(raw):
        first, second, year_text = int(m[1]), int(m[3]), m[4]
        year = int(year_text)
        if len(year_text) == 2:
            year += 2000 if year <= (as_of.year % 100) + 20 else 1900
        day, month = (first, second) if order is DateOrder.DMY else (second, first)
        other = DateOrder.MDY if order is DateOrder.DMY else DateOrder.DMY
        hint = ""
        if not 1 <= month <= 12 and 1 <= day <= 12:
            hint = (
                f" (reading {order.value}; if the file is {other.value}, pass --date-order {other}"
            )
            hint += ")"
        value = _make_date(raw, year, month, day, hint)
    else:
        raise ValueProblem(f"{text!r} is not a date (use dd/mm/yyyy, yyyy-mm-dd or dd-mm-yy)")
    if value < EARLIEST_DATE or value.year > as_of.year + 30:
        raise ValueProblem(f"{text!r} is an implausible date ({value.isoformat()})")
    return value


def parse_days_past_due(text: str) -> int:
    """Whole days past due, 0–36,500 (Excel's `45.0` accepted)."""
    raw = text.strip()
    if raw.endswith((".0", ".00")):
        raw = raw.rsplit(".", 1)[0]
    if not raw.isdigit():
        raise ValueProblem(f"{text!r} is not a whole number of days")
    days = int(raw)
    if days > 36_500:
        raise ValueProblem(f"{days} days past due is more than 100 years")
    return days


# -- people ---------------------------------------------------------------------------------------

_WS = re.compile(r"\s+")
_TWO_LETTERS = re.compile(r"[^\W\d_].*[^\W\d_]", re.DOTALL)


def parse_name(text: str) -> str:
    """A person's or company's name, whitespace collapsed; must hold letters."""
    name = _WS.sub(" ", text).strip()
    if not _TWO_LETTERS.search(name):
        raise ValueProblem(f"{text!r} is not a name")
    if len(name) > 200:
        raise ValueProblem("name longer than 200 characters")
    return name


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]{2,}")


def parse_email(text: str) -> str:
    email = text.strip()
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise ValueProblem(f"{text!r} is not an e-mail address")
    return email.lower()


_CURP = re.compile(r"[A-Z][AEIOUX][A-Z]{2}\d{6}[HMX][A-Z]{2}[B-DF-HJ-NP-TV-Z]{3}[A-Z\d]\d")
_CURP_VALUES = {c: i for i, c in enumerate("0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ")}
_RFC = re.compile(r"[A-ZÑ&]{3,4}\d{6}[A-Z\d]{3}")
_RUT = re.compile(r"(\d{1,8})-?([\dK])")


def _curp_check_digit(curp: str) -> int:
    total = sum(_CURP_VALUES[c] * (18 - i) for i, c in enumerate(curp[:17]))
    return (10 - total % 10) % 10


def _rut_check_digit(number: str) -> str:
    total, factor = 0, 2
    for digit in reversed(number):
        total += int(digit) * factor
        factor = 2 if factor == 7 else factor + 1
    check = 11 - total % 11
    return {11: "0", 10: "K"}.get(check, str(check))


def _valid_yymmdd(digits: str) -> bool:
    month, day = int(digits[2:4]), int(digits[4:6])
    return 1 <= month <= 12 and 1 <= day <= 31


def parse_national_id(kind: str, text: str) -> str:
    """A national id of the given kind, normalised (upper case, no spaces or dots)."""
    value = re.sub(r"[\s.]", "", text).upper()
    if kind == "curp":
        if not _CURP.fullmatch(value) or not _valid_yymmdd(value[4:10]):
            raise ValueProblem(f"{text!r} is not a CURP (18 characters, e.g. PEGJ800101HDFRRN09)")
        if int(value[17]) != _curp_check_digit(value):
            raise ValueProblem(f"CURP {value} has a wrong check digit")
    elif kind == "rfc":
        if not _RFC.fullmatch(value) or not _valid_yymmdd(value[-9:-3]):
            raise ValueProblem(f"{text!r} is not an RFC (12 or 13 characters)")
    elif kind == "rut":
        m = _RUT.fullmatch(value)
        if not m:
            raise ValueProblem(f"{text!r} is not a RUT (e.g. 12345678-5)")
        if _rut_check_digit(m[1]) != m[2]:
            raise ValueProblem(f"RUT {value} has a wrong check digit")
        value = f"{int(m[1])}-{m[2]}"
    elif kind in ("cedula", "dni", "ruc", "nit"):
        value = value.replace("-", "")
        lengths = {"cedula": (5, 10), "dni": (8, 8), "ruc": (11, 11), "nit": (9, 10)}[kind]
        if not value.isdigit() or not lengths[0] <= len(value) <= lengths[1]:
            span = f"{lengths[0]}" if lengths[0] == lengths[1] else f"{lengths[0]}–{lengths[1]}"
            raise ValueProblem(f"{text!r} is not a {kind.upper()} ({span} digits)")
    else:
        raise ValueProblem(f"unknown national id kind {kind!r}")
    return value


# -- channels -------------------------------------------------------------------------------------

_CHANNEL_WORDS: dict[str, Channel] = {
    **{c.value: c for c in Channel},
    "voz": Channel.VOICE_LIVE,
    "llamada": Channel.VOICE_LIVE,
    "telefono": Channel.VOICE_LIVE,
    "voice": Channel.VOICE_LIVE,
    "call": Channel.VOICE_LIVE,
    "voz_grabada": Channel.VOICE_PRERECORDED,
    "robocall": Channel.VOICE_PRERECORDED,
    "ivr": Channel.VOICE_PRERECORDED,
    "prerecorded": Channel.VOICE_PRERECORDED,
    "artificial_voice": Channel.VOICE_PRERECORDED,
    "buzon": Channel.VOICEMAIL,
    "mensaje_de_voz": Channel.VOICEMAIL,
    "wa": Channel.WHATSAPP,
    "correo": Channel.EMAIL,
    "e_mail": Channel.EMAIL,
    "mail": Channel.EMAIL,
    "texto": Channel.SMS,
    "text": Channel.SMS,
    "mensaje": Channel.SMS,
}


@lru_cache(maxsize=4096)
def parse_channels(text: str) -> tuple[str, ...]:
    """A list of channels such as `sms, voz_grabada` or `SMS|WhatsApp`, as sorted channel codes."""
    found: set[str] = set()
    for token in re.split(r"[,;|/+]", text):
        word = normalise_token(token)
        if not word:
            continue
        channel = _CHANNEL_WORDS.get(word)
        if channel is None:
            allowed = ", ".join(c.value for c in Channel)
            raise ValueProblem(
                f"unknown channel {token.strip()!r} (allowed: {allowed}, or voz, sms…)"
            )
        found.add(channel.value)
    return tuple(sorted(found))
