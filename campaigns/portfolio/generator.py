"""Synthetic portfolios (*carteras*) shaped like agencies' exports, for tests, benchmarks and the
demo: realistic names, valid phones and ids, messy-but-unambiguous formatting, optional bad rows.
Seeded and deterministic; about a million rows in well under a minute.
"""

from __future__ import annotations

import csv
import datetime
import math
import random
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import islice
from operator import mul
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import phonenumbers
from faker import Faker
from phonenumbers.phonemetadata import PhoneMetadata

from campaigns import geography

__all__ = ["COLUMNS", "GeneratorOptions", "generate_portfolio", "write_portfolio"]

_T = TypeVar("_T")

_LATAM_ID_COLUMNS: Mapping[str, str] = {"MX": "curp", "CO": "cedula", "PE": "dni", "CL": "rut"}


def _latam_header(id_column: str) -> tuple[str, ...]:
    return (
        "numero_cuenta",
        "nombre_completo",
        id_column,
        "telefono",
        "celular",
        "telefono_aval",
        "saldo",
        "moneda",
        "fecha_vencimiento",
        "dias_atraso",
        "producto",
        "acreedor",
        "estado",
        "municipio",
        "cp",
        "correo",
        "consentimiento",
        "canales_autorizados",
    )


_US_HEADER = (
    "account_number",
    "full_name",
    "phone",
    "mobile",
    "cosigner_phone",
    "balance",
    "currency",
    "due_date",
    "days_past_due",
    "product",
    "creditor",
    "state",
    "city",
    "zip",
    "email",
    "consent",
    "authorized_channels",
)

#: Header row of a generated file, per country.
COLUMNS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {**{cc: _latam_header(col) for cc, col in _LATAM_ID_COLUMNS.items()}, "US": _US_HEADER}
)

_PROGRESS_EVERY = 10_000
_FUTURE_DAYS = 60  # preventive rows fall due within this many days after as_of
_MAX_PAST_DAYS = 720


@dataclass(frozen=True, slots=True)
class GeneratorOptions:
    """What to generate; invalid values raise ValueError naming the option and what is allowed."""

    rows: int
    country: str = "MX"
    seed: int = 7
    bad_row_fraction: float = 0.0
    as_of: datetime.date | None = None  # "today" for due dates; default: the local date
    creditor: str | None = None  # default: a fictitious creditor of the country

    def __post_init__(self) -> None:
        if isinstance(self.rows, bool) or not isinstance(self.rows, int) or self.rows < 1:
            raise ValueError(f"rows must be a whole number >= 1, got {self.rows!r}")
        if self.country not in COLUMNS:
            allowed = ", ".join(sorted(COLUMNS))
            raise ValueError(f"country must be one of {allowed}, got {self.country!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"seed must be a whole number, got {self.seed!r}")
        fraction = self.bad_row_fraction
        if (
            isinstance(fraction, bool)
            or not isinstance(fraction, int | float)
            or not 0.0 <= fraction <= 0.5
        ):
            raise ValueError(f"bad_row_fraction must be between 0 and 0.5, got {fraction!r}")
        if self.as_of is not None and (
            not isinstance(self.as_of, datetime.date) or isinstance(self.as_of, datetime.datetime)
        ):
            raise ValueError(f"as_of must be a date (or None for today), got {self.as_of!r}")
        if self.creditor is not None and not self.creditor.strip():
            raise ValueError("creditor must be a non-empty name (or None for the default)")


# -- countries ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Country:
    locale: str
    currency: str
    median_balance: float
    whole_units: bool  # amounts without cents (COP, CLP)
    decimal_comma: bool  # "1.234.567,00" instead of "1,234,567.00"
    symbol: str
    creditor: str
    products: tuple[tuple[str, int], ...]
    email_domains: tuple[tuple[str, int], ...]
    consent: tuple[tuple[str, int], ...]
    channels: tuple[tuple[str, int], ...]
    extra_surnames: tuple[str, ...] = ()
    # share of phone draws forced onto these prefixes (big metros, tricky time zones)
    boosts: tuple[tuple[str, float], ...] = ()


_LATAM_PRODUCTS = (
    ("tarjeta de crédito", 34),
    ("préstamo personal", 24),
    ("crédito de nómina", 10),
    ("crédito automotriz", 8),
    ("microcrédito", 8),
    ("crédito de consumo", 10),
    ("crédito hipotecario", 3),
    ("línea de crédito", 3),
)
_LATAM_CONSENT = (("", 45), ("sms", 35), ("sms,voz_grabada", 20))
_NO_CHANNELS = (("", 1),)
_TRICKY_MX = ("614", "656", "626", "868", "664", "662", "998")

_COUNTRIES: Mapping[str, _Country] = {
    "MX": _Country(
        locale="es_MX",
        currency="MXN",
        median_balance=12_000.0,
        whole_units=False,
        decimal_comma=False,
        symbol="$",
        creditor="Financiera Sierra Alta SA de CV",
        products=_LATAM_PRODUCTS,
        email_domains=(
            ("gmail.com", 40),
            ("hotmail.com", 25),
            ("outlook.com", 10),
            ("yahoo.com.mx", 10),
            ("live.com.mx", 5),
            ("prodigy.net.mx", 5),
            ("icloud.com", 5),
        ),
        consent=_LATAM_CONSENT,
        channels=_NO_CHANNELS,
        extra_surnames=("Peña", "Muñoz", "Núñez", "Ordóñez", "Yáñez", "Saldaña", "Zúñiga"),
        boosts=(("55", 0.10), ("33", 0.04), ("81", 0.04), *((p, 0.015) for p in _TRICKY_MX)),
    ),
    "CO": _Country(
        locale="es_CO",
        currency="COP",
        median_balance=2_500_000.0,
        whole_units=True,
        decimal_comma=True,
        symbol="$",
        creditor="Créditos Cordillera SAS",
        products=(
            ("tarjeta de crédito", 32),
            ("crédito de libre inversión", 22),
            ("crédito de libranza", 12),
            ("crédito de vehículo", 8),
            ("microcrédito", 12),
            ("crédito de consumo", 10),
            ("crédito de vivienda", 4),
        ),
        email_domains=(
            ("gmail.com", 45),
            ("hotmail.com", 30),
            ("outlook.com", 15),
            ("yahoo.es", 10),
        ),
        consent=_LATAM_CONSENT,
        channels=(
            ("voz,sms", 40),
            ("voz", 12),
            ("sms", 8),
            ("voz,sms,whatsapp", 15),
            ("voz,sms,correo", 10),
            ("sms,whatsapp", 5),
            ("", 10),
        ),
        extra_surnames=("Muñoz", "Peña", "Núñez", "Ordóñez", "Patiño", "Quiñones", "Acuña"),
        boosts=(("601", 0.10), ("604", 0.05), ("602", 0.04)),
    ),
    "PE": _Country(
        locale="es",
        currency="PEN",
        median_balance=3_000.0,
        whole_units=False,
        decimal_comma=False,
        symbol="S/",
        creditor="Caja Rímac Sur SA",
        products=(
            ("tarjeta de crédito", 30),
            ("préstamo personal", 25),
            ("crédito por convenio", 8),
            ("crédito vehicular", 6),
            ("microcrédito", 16),
            ("crédito de consumo", 12),
            ("crédito hipotecario", 3),
        ),
        email_domains=(
            ("gmail.com", 50),
            ("hotmail.com", 30),
            ("outlook.com", 12),
            ("yahoo.es", 8),
        ),
        consent=_LATAM_CONSENT,
        channels=_NO_CHANNELS,
        extra_surnames=(
            "Quispe",
            "Mamani",
            "Huamán",
            "Condori",
            "Chávez",
            "Flores",
            "Ramos",
            "Vásquez",
            "Huanca",
            "Ccori",
            "Ticona",
            "Yupanqui",
            "Mendoza",
            "Peña",
            "Núñez",
            "Muñoz",
        ),
        boosts=(("1", 0.25),),
    ),
    "CL": _Country(
        locale="es_CL",
        currency="CLP",
        median_balance=800_000.0,
        whole_units=True,
        decimal_comma=True,
        symbol="$",
        creditor="Financiera Austral SpA",
        products=(
            ("tarjeta de crédito", 32),
            ("crédito de consumo", 28),
            ("avance en efectivo", 10),
            ("crédito automotriz", 8),
            ("microcrédito", 8),
            ("línea de crédito", 10),
            ("crédito hipotecario", 4),
        ),
        email_domains=(
            ("gmail.com", 50),
            ("hotmail.com", 25),
            ("outlook.com", 10),
            ("live.cl", 8),
            ("yahoo.es", 7),
        ),
        consent=_LATAM_CONSENT,
        channels=_NO_CHANNELS,
        extra_surnames=("Muñoz", "Núñez", "Peña", "Ibáñez", "Yáñez", "Zúñiga", "Acuña"),
        boosts=(("2", 0.25),),
    ),
    "US": _Country(
        locale="en_US",
        currency="USD",
        median_balance=1_500.0,
        whole_units=False,
        decimal_comma=False,
        symbol="$",
        creditor="Lakeshore Consumer Finance LLC",
        products=(
            ("credit card", 38),
            ("personal loan", 20),
            ("auto loan", 12),
            ("medical bill", 12),
            ("retail store card", 8),
            ("payday loan", 6),
            ("student loan", 4),
        ),
        email_domains=(
            ("gmail.com", 40),
            ("yahoo.com", 18),
            ("outlook.com", 12),
            ("hotmail.com", 10),
            ("icloud.com", 10),
            ("aol.com", 5),
            ("comcast.net", 5),
        ),
        consent=(("", 45), ("sms", 35), ("sms,prerecorded", 20)),
        channels=_NO_CHANNELS,
    ),
}


def _table(weighted: Sequence[tuple[_T, float]], size: int = 4096) -> tuple[_T, ...]:
    """A lookup table where each item fills a share of slots proportional to its weight (>= 1)."""
    total = sum(w for _, w in weighted)
    out: list[_T] = []
    for item, weight in weighted:
        out.extend([item] * max(1, round(size * weight / total)))
    return tuple(out)


# -- names ----------------------------------------------------------------------------------------

_CURP_PARTICLES = frozenset(
    {"DA", "DAS", "DE", "DEL", "DER", "DI", "DIE", "DD", "EL", "LA", "LOS", "LAS", "LE", "LES"}
    | {"MAC", "MC", "VAN", "VON", "Y"}
)
_CURP_SKIPPED_GIVEN = frozenset({"MARIA", "MA", "JOSE", "J"})
_CURP_VOWELS = "AEIOU"
# Words the CURP avoids in its first four letters (the second letter becomes X).
_CURP_INCONVENIENT = frozenset(
    re.findall(
        "....",
        "BACABAKABUEIBUEYCACACACOCAGACAGOCAKACAKOCOGECOGICOJACOJECOJICOJOCOLACULOFALOFETOGETAGUEI"
        "GUEYJETAJOTOKACAKACOKAGAKAGOKAKAKAKOKOGEKOGIKOJAKOJEKOJIKOJOKOLAKULOLILOLOCALOCOLOKALOKO"
        "MAMEMAMOMEARMEASMEONMIARMIONMOCOMOKOMULAMULONACANACOPEDAPEDOPENEPIPIPITOPOPOPUTAPUTOQULO"
        "RATAROBAROBEROBORUINSENOTETAVACAVAGAVAGOVAKAVUEIVUEYWUEIWUEY",
    )
)
_CURP_ALPHABET = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"
_CURP_VALUE = {c: i for i, c in enumerate(_CURP_ALPHABET)}
_CURP_WEIGHTS = tuple(range(18, 1, -1))  # 18 … 2 for the first 17 characters
_CURP_STATES = tuple(
    re.findall("..", "ASBCBSCCCLCMCSCHDFDGGTGRHGJCMCMNMSNTNLOCPLQTQRSPSLSRTCTSTLVZYNZS")
)


def _fold(text: str) -> str:
    """Accents removed (ñ → n), case kept."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True, slots=True)
class _Word:
    """A given name or surname with what the e-mail and the CURP need of it."""

    text: str
    slug: str  # a-z only, for e-mail addresses
    key: str  # the word the CURP reads (upper case, Ñ → X, particles and María/José skipped)
    vowel: str  # first inner vowel of `key` (X if none)
    consonant: str  # first inner consonant of `key` (X if none)
    skippable: bool  # a lone "María"/"José": the CURP takes the second given name instead


def _word(text: str, *, given: bool) -> _Word:
    upper = _fold(text.upper().replace("Ñ", "X"))
    parts = ["".join(c for c in p if "A" <= c <= "Z") for p in upper.split()]
    parts = [p for p in parts if p]
    words = parts[1:] if given and len(parts) > 1 and parts[0] in _CURP_SKIPPED_GIVEN else parts
    key = ([w for w in words if w not in _CURP_PARTICLES] or words or ["X"])[0]
    inner = key[1:]
    vowel = next((c for c in inner if c in _CURP_VOWELS), "X")
    consonant = next((c for c in inner if c not in _CURP_VOWELS), "X")
    slug = "".join(c for c in _fold(text).lower() if "a" <= c <= "z") or "cliente"
    skippable = given and len(parts) == 1 and key in _CURP_SKIPPED_GIVEN
    return _Word(text, slug, key, vowel, consonant, skippable)


@dataclass(frozen=True, slots=True)
class _Names:
    male: tuple[_Word, ...]
    female: tuple[_Word, ...]
    male_single: tuple[_Word, ...]  # one-word names, fit to be a second given name
    female_single: tuple[_Word, ...]
    surnames: tuple[_Word, ...]


@lru_cache(maxsize=16)
def _names(country: str, seed: int) -> _Names:
    """Pools of names drawn from Faker once (with their natural frequencies), seeded."""
    profile = _COUNTRIES[country]
    fake = Faker(profile.locale)
    fake.seed_instance(seed)
    male = [_word(fake.first_name_male(), given=True) for _ in range(1500)]
    female = [_word(fake.first_name_female(), given=True) for _ in range(1500)]
    surnames = [_word(fake.last_name(), given=False) for _ in range(4000)]
    extra = [_word(s, given=False) for s in profile.extra_surnames]
    if extra:  # common regional surnames: ~1 in 25 (Peru, Andean ones Faker lacks: ~1 in 3)
        share = 0.5 if country == "PE" else 0.04
        count = round(len(surnames) * share / len(extra))
        surnames.extend(w for w in extra for _ in range(count))
    return _Names(
        male=tuple(male),
        female=tuple(female),
        male_single=tuple(w for w in male if " " not in w.text),
        female_single=tuple(w for w in female if " " not in w.text),
        surnames=tuple(surnames),
    )


def _curp(
    paternal: _Word,
    maternal: _Word | None,
    given: _Word,
    birth: datetime.date,
    female: bool,
    state: str,
    homoclave: str,
) -> str:
    """An 18-character CURP with a correct check digit."""
    first4 = (
        paternal.key[0] + paternal.vowel + (maternal.key[0] if maternal else "X") + given.key[0]
    )
    if first4 in _CURP_INCONVENIENT:
        first4 = first4[0] + "X" + first4[2:]
    body = (
        f"{first4}{birth.year % 100:02d}{birth.month:02d}{birth.day:02d}{'M' if female else 'H'}"
        f"{state}{paternal.consonant}{maternal.consonant if maternal else 'X'}{given.consonant}"
        f"{homoclave}"
    )
    total = sum(map(mul, map(_CURP_VALUE.__getitem__, body), _CURP_WEIGHTS))
    return body + str((10 - total % 10) % 10)


def _rut_check(number: int) -> str:
    total, factor = 0, 2
    while number:
        number, digit = divmod(number, 10)
        total += digit * factor
        factor = 2 if factor == 7 else factor + 1
    check = 11 - total % 11
    return "0" if check == 11 else "K" if check == 10 else str(check)


class _Permutation:
    """A seeded affine bijection of [0, size): unique ids that do not look sequential."""

    def __init__(self, size: int, rng: random.Random) -> None:
        self.size = size
        self.step = rng.randrange(size // 3, size)
        while math.gcd(self.step, size) != 1:
            self.step += 1
        self.offset = rng.randrange(size)

    def __call__(self, i: int) -> int:
        return (self.step * i + self.offset) % self.size


# -- phones ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Line:
    """An area code ready for drawing numbers, with the address it suggests."""

    prefix: str
    first_digits: str
    rest_len: int
    rest_top: int
    mobile: bool
    zone: str
    subdivision: str  # "" for non-geographic (mobile) prefixes
    municipalities: tuple[str, ...]  # of the subdivision, in the area code's zone when possible


@dataclass(frozen=True, slots=True)
class _Place:
    """A subdivision as people write it, with its municipalities."""

    code: str
    spellings: tuple[str, ...]  # weighted table of full name / no accents / abbreviation …
    municipalities: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Geo:
    calling_code: str
    check: _NumberCheck
    fixed: tuple[_Line, ...]  # weighted tables
    mobile: tuple[_Line, ...]
    any: tuple[_Line, ...]
    places: Mapping[str, _Place]
    place_list: tuple[_Place, ...]


class _NumberCheck:
    """Is a national number a valid person's line of the country? `phonenumbers`' own rules
    (general pattern, not a special service, fixed line or mobile), read from its metadata once
    and compiled into one regular expression per length: cheap enough to check every number.
    """

    def __init__(self, country: str) -> None:
        meta = PhoneMetadata.metadata_for_region(country)
        if meta is None or meta.general_desc is None:
            raise RuntimeError(f"no phone numbering data for {country}")
        special = (
            meta.premium_rate,
            meta.toll_free,
            meta.shared_cost,
            meta.voip,
            meta.personal_number,
            meta.pager,
            meta.uan,
            meta.voicemail,
        )
        person = (meta.fixed_line, meta.mobile)
        self.by_length: dict[int, re.Pattern[str]] = {}
        for size in meta.general_desc.possible_length:
            wanted = _alternatives(person, size)
            if not wanted:
                continue
            general = _alternatives((meta.general_desc,), size)
            unwanted = _alternatives(special, size)
            regex = f"(?=(?:{general})\\Z)" if general else ""
            regex += f"(?!(?:{unwanted})\\Z)" if unwanted else ""
            self.by_length[size] = re.compile(f"{regex}(?:{wanted})")

    def __call__(self, national: str) -> bool:
        pattern = self.by_length.get(len(national))
        return pattern is not None and pattern.fullmatch(national) is not None


def _alternatives(descs: Sequence[Any], size: int) -> str:
    """`a|b|…` of the patterns of the number descriptions that allow numbers of this length."""
    return "|".join(
        f"(?:{d.national_number_pattern})"
        for d in descs
        if d is not None
        and d.national_number_pattern
        and (not d.possible_length or size in d.possible_length)
    )


def _usable_first_digits(area: geography.AreaCode, check: _NumberCheck) -> str:
    """The area's subscriber first digits whose sample numbers are all valid (guards the data)."""
    rng = random.Random(f"{area.country}{area.prefix}")
    rest = area.national_length - len(area.prefix) - 1
    return "".join(
        d
        for d in area.subscriber_first_digits
        if all(check(f"{area.prefix}{d}{rng.randrange(10**rest):0{rest}d}") for _ in range(5))
    )


def _spellings(country: str, sub: geography.Subdivision) -> tuple[str, ...]:
    abbreviation = sub.code.removeprefix(f"{country}-")
    folded = _fold(sub.name)
    if country == "US":
        return _table([(abbreviation, 80), (sub.name, 17), (sub.name.upper(), 3)], 100)
    return _table(
        [(sub.name, 70), (folded, 12), (folded.upper(), 8), (abbreviation, 10)],
        100,
    )


@cache
def _geo(country: str) -> _Geo:
    """Phone and address tables of a country, built once from `campaigns.geography`."""
    profile = _COUNTRIES[country]
    places: dict[str, _Place] = {}
    for sub in geography.subdivisions(country):
        munis = tuple(m.name for m in geography.municipalities(country, sub.code)) or (sub.name,)
        places[sub.code] = _Place(sub.code, _spellings(country, sub), munis)

    check = _NumberCheck(country)
    lines: list[_Line] = []
    for area in geography.area_codes(country):
        first = _usable_first_digits(area, check)
        if not first:
            continue
        area_munis: tuple[str, ...] = ()
        if area.subdivision:
            all_munis = geography.municipalities(country, area.subdivision)
            in_zone = tuple(m.name for m in all_munis if area.zone in m.zones)
            area_munis = in_zone or places[area.subdivision].municipalities
        rest = area.national_length - len(area.prefix) - 1
        lines.append(
            _Line(
                prefix=area.prefix,
                first_digits=first,
                rest_len=rest,
                rest_top=10**rest,
                mobile=area.line_kind == "mobile",
                zone=area.zone,
                subdivision=area.subdivision,
                municipalities=area_munis,
            )
        )
    if not lines:
        raise RuntimeError(f"no usable area codes for {country} in campaigns.geography")

    boosts = dict(profile.boosts)

    def weighted(pool: list[_Line]) -> tuple[_Line, ...]:
        if not pool:
            pool = lines
        zones: dict[str, int] = {}
        for line in pool:
            zones[line.zone] = zones.get(line.zone, 0) + 1
        weights = [
            (
                line,
                0.45 / (len(zones) * zones[line.zone])
                + 0.35 / len(pool)
                + boosts.get(line.prefix, 0),
            )
            for line in pool
        ]
        return _table(weights, 20_000)

    return _Geo(
        calling_code=str(phonenumbers.country_code_for_region(country)),
        check=check,
        fixed=weighted([ln for ln in lines if not ln.mobile]),
        mobile=weighted([ln for ln in lines if ln.mobile or country in ("MX", "US")]),
        any=weighted(lines),
        places=MappingProxyType(places),
        place_list=tuple(places.values()),
    )


def _group(digits: str) -> tuple[str, str]:
    """Split subscriber digits the way people write them: (head, last four)."""
    if len(digits) <= 5:
        return digits, ""
    return digits[:-4], digits[-4:]


def _format_phone(line: _Line, national: str, style: float, country: str, cc: str) -> str:
    """`national` as written in exports: mostly bare digits, sometimes grouped or international."""
    if style < 0.75:
        return national
    head, tail = _group(national[len(line.prefix) :])
    spaced = f"{line.prefix} {head} {tail}" if tail else f"{line.prefix} {head}"
    if style < 0.83:
        if country == "US":
            return f"{line.prefix}-{head}-{tail}"
        return spaced
    if style < 0.90:
        if line.mobile and len(line.prefix) == 1:
            return spaced
        return f"({line.prefix}) {head}-{tail}" if tail else f"({line.prefix}) {head}"
    if style < 0.96:
        return f"+{cc} {spaced}"
    return f"{cc} {national}"


# -- amounts, dates, e-mail -----------------------------------------------------------------------

_SWAP_SEPARATORS = str.maketrans(",.", ".,")


def _format_amount(value: float, style: float, profile: _Country) -> str:
    """An amount with two decimals, in the file's one decimal style."""
    if style < 0.70:
        text = f"{value:.2f}"
    elif style < 0.85:
        text = f"{value:,.2f}"
    else:
        space = " " if profile.symbol != "$" or (profile.decimal_comma and style < 0.93) else ""
        text = f"{profile.symbol}{space}{value:,.2f}"
    return text.translate(_SWAP_SEPARATORS) if profile.decimal_comma else text


def _format_date(day: datetime.date, us: bool) -> str:
    if us:
        return f"{day.month:02d}/{day.day:02d}/{day.year}"
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def _email(first: _Word, last: _Word, rng: random.Random, domains: Sequence[str]) -> str:
    f, s = first.slug, last.slug
    pick = rng.random()
    number = rng.randrange(1, 100)
    if pick < 0.3:
        local = f"{f}.{s}"
    elif pick < 0.55:
        local = f"{f}{s}{number}"
    elif pick < 0.75:
        local = f"{f[0]}{s}{number:02d}"
    elif pick < 0.9:
        local = f"{f}_{s}{1960 + number % 45}"
    else:
        local = f"{s}.{f}{number}"
    return f"{local}@{domains[int(rng.random() * len(domains))]}"


# -- bad rows -------------------------------------------------------------------------------------

_BREAKS = (
    "empty_account",
    "negative_balance",
    "absurd_balance",
    "text_balance",
    "impossible_date",
    "foreign_phone",
    "garbage_phone",
    "duplicate_account",
    "email_without_at",
)
# The cells a bad row may break: role -> column, per country.
_BREAKABLE_ROLES = ("account", "phone", "mobile", "aval", "balance", "due_date", "email")
_LATAM_BREAKABLE = (
    "numero_cuenta",
    "telefono",
    "celular",
    "telefono_aval",
    "saldo",
    "fecha_vencimiento",
    "correo",
)
_US_BREAKABLE = (
    "account_number",
    "phone",
    "mobile",
    "cosigner_phone",
    "balance",
    "due_date",
    "email",
)
_IMPOSSIBLE_DAYS = ((31, 2), (30, 2), (29, 2), (31, 4), (31, 6), (31, 9), (31, 11))


@dataclass(slots=True)
class _Breaker:
    """Breaks rows, one way each, with its own random stream (clean rows stay identical)."""

    country: str
    profile: _Country
    rng: random.Random
    positions: Mapping[str, int]
    names: _Names
    missing: set[int]  # account sequence numbers that appear nowhere (blanked or overwritten)

    def apply(self, row: list[str], seq: int, accounts: Callable[[int], str]) -> None:
        rng, pos = self.rng, self.positions
        kind = _BREAKS[int(rng.random() * len(_BREAKS))]
        if kind == "duplicate_account" and seq - 1 <= len(self.missing):
            kind = "empty_account"  # nothing earlier to repeat
        us = self.country == "US"
        if kind == "empty_account":
            row[pos["account"]] = ""
            self.missing.add(seq)
        elif kind == "duplicate_account":
            earlier = rng.randrange(1, seq)
            while earlier in self.missing:
                earlier = rng.randrange(1, seq)
            row[pos["account"]] = accounts(earlier)
            self.missing.add(seq)
        elif kind == "negative_balance":
            amount = rng.choice((150.0, 89.9, 1250.5, 3400.0, 20.0))
            row[pos["balance"]] = "-" + _format_amount(amount, 0.0, self.profile)
        elif kind == "absurd_balance":
            row[pos["balance"]] = rng.choice(("999999999999", "888888888888", "123456789012"))
        elif kind == "text_balance":
            choices = ("abc", "#VALUE!", "pending") if us else ("abc", "#¡VALOR!", "pendiente")
            row[pos["balance"]] = rng.choice(choices)
        elif kind == "impossible_date":
            day, month = rng.choice(_IMPOSSIBLE_DAYS)
            year = rng.choice((2023, 2025)) if (day, month) == (29, 2) else rng.randint(2022, 2025)
            first, second = (month, day) if us else (day, month)
            row[pos["due_date"]] = f"{first:02d}/{second:02d}/{year}"
        elif kind in ("foreign_phone", "garbage_phone"):
            cells = [pos[c] for c in ("phone", "mobile", "aval") if row[pos[c]]]
            cell = rng.choice(cells)
            if kind == "garbage_phone":
                row[cell] = rng.choice(("12345", "5555", "000000", "123"))
            elif us:
                row[cell] = rng.choice(("+52 55 1234 5678", "+44 20 7946 0958"))
            else:
                row[cell] = rng.choice(("+1 212 555 0143", "+34 612 34 56 78", "+1 305 555 0199"))
        else:  # email_without_at
            email = row[pos["email"]] or _email(
                rng.choice(self.names.female), rng.choice(self.names.surnames), rng, ("gmail.com",)
            )
            row[pos["email"]] = email.replace("@", rng.choice(("", ".", " ")))


# -- the generator --------------------------------------------------------------------------------


def _today() -> datetime.date:
    return datetime.datetime.now(datetime.UTC).astimezone().date()


def generate_portfolio(options: GeneratorOptions) -> Iterator[list[str]]:
    """The header row, then `options.rows` data rows, as lists of strings (deterministic)."""
    geo = _geo(options.country)  # fails early on bad geography data
    return _rows(options, geo)


def _rows(options: GeneratorOptions, geo: _Geo) -> Iterator[list[str]]:
    country = options.country
    profile = _COUNTRIES[country]
    header = COLUMNS[country]
    yield list(header)

    us = country == "US"
    latam = not us
    as_of = options.as_of or _today()
    creditor = options.creditor.strip() if options.creditor else profile.creditor
    rng = random.Random(options.seed)
    names = _names(country, options.seed)
    rnd = rng.random
    gauss = rng.gauss
    cc = geo.calling_code
    check = geo.check

    # Tables: one random() call and an index instead of weighted choices per row.
    products = _table(profile.products, 1000)
    consents = _table(profile.consent, 1000)
    channels = _table(profile.channels, 1000)
    domains = _table(profile.email_domains, 1000)
    due_dates = [
        _format_date(as_of - datetime.timedelta(days=d), us)
        for d in range(-_FUTURE_DAYS, _MAX_PAST_DAYS + 1)
    ]
    days_text = [str(max(d, 0)) for d in range(-_FUTURE_DAYS, _MAX_PAST_DAYS + 1)]
    fixed, mobile, anyline = geo.fixed, geo.mobile, geo.any
    place_list, places = geo.place_list, geo.places
    male, female = names.male, names.female
    male_single, female_single = names.male_single, names.female_single
    surnames = names.surnames
    median, whole = profile.median_balance, profile.whole_units
    low, high = median / 40, median * 40
    sample_cp = geography.sample_postal_code

    width = max(9, len(str(options.rows)))

    def account(seq: int) -> str:
        return f"{country}{seq:0{width}d}"

    id_rng = random.Random(f"{options.seed}-ids")
    national_ids = {
        "CO": _Permutation(230_000_000, id_rng),
        "PE": _Permutation(79_000_000, id_rng),
        "CL": _Permutation(22_000_000, id_rng),
    }
    permutation = national_ids.get(country)
    birth_base = (as_of - datetime.timedelta(days=75 * 365)).toordinal()
    birth_span = 55 * 365

    columns = _US_BREAKABLE if us else _LATAM_BREAKABLE
    positions = {role: header.index(c) for role, c in zip(_BREAKABLE_ROLES, columns, strict=True)}
    bad_total = round(options.rows * options.bad_row_fraction)
    breaker = _Breaker(
        country, profile, random.Random(f"{options.seed}-bad"), positions, names, set()
    )
    bad_rng = breaker.rng.random

    def phone(pool: tuple[_Line, ...]) -> tuple[_Line, str]:
        line = pool[int(rnd() * len(pool))]
        digits = line.first_digits
        for _ in range(100):
            national = (
                f"{line.prefix}{digits[int(rnd() * len(digits))]}"
                f"{int(rnd() * line.rest_top):0{line.rest_len}d}"
            )
            if check(national):
                return line, _format_phone(line, national, rnd(), country, cc)
        raise RuntimeError(f"area code {line.prefix} of {country} yields no valid numbers")

    for i in range(options.rows):
        seq = i + 1
        # -- the person
        is_female = rnd() < 0.5
        givens = female if is_female else male
        given = givens[int(rnd() * len(givens))]
        paternal = surnames[int(rnd() * len(surnames))]
        second: _Word | None = None
        maternal: _Word | None = None
        if latam:
            if rnd() < 0.35:
                pool = female_single if is_female else male_single
                second = pool[int(rnd() * len(pool))]
                if second.text == given.text:
                    second = None
            if rnd() < 0.97:
                maternal = surnames[int(rnd() * len(surnames))]
            parts = [given.text]
            if second:
                parts.append(second.text)
            parts.append(paternal.text)
            if maternal:
                parts.append(maternal.text)
            full_name = " ".join(parts)
            if rnd() < 0.12:
                full_name = full_name.upper()
        else:
            if rnd() < 0.25:
                initial = givens[int(rnd() * len(givens))].text[0]
                full_name = f"{given.text} {initial}. {paternal.text}"
            else:
                full_name = f"{given.text} {paternal.text}"

        # -- national id
        national_id = ""
        if country == "MX":
            birth = datetime.date.fromordinal(birth_base + int(rnd() * birth_span))
            curp_given = second if (given.skippable and second) else given
            homoclave = (
                str(int(rnd() * 10))
                if birth.year < 2000
                else "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[int(rnd() * 26)]
            )
            state = _CURP_STATES[int(rnd() * len(_CURP_STATES))]
            national_id = _curp(paternal, maternal, curp_given, birth, is_female, state, homoclave)
        elif permutation is not None:
            n = permutation(i)
            if country == "CO":  # 6–8 digits (old cédulas) or 10 digits (since 2003)
                national_id = str(100_000 + n if n < 99_900_000 else n - 99_900_000 + 1_000_000_000)
            elif country == "PE":
                national_id = f"{n + 1_000_000:08d}"
            else:
                number = n + 4_000_000
                national_id = f"{number}-{_rut_check(number)}"

        # -- phones and address
        home_line, telefono = phone(fixed)
        celular = phone(mobile)[1] if rnd() < 0.60 else ""
        aval = phone(anyline)[1] if rnd() < 0.15 else ""
        if home_line.subdivision and rnd() < 0.85:
            place = places[home_line.subdivision]
            munis = home_line.municipalities
        else:  # moved away from the phone's area (or a phone with no place)
            place = place_list[int(rnd() * len(place_list))]
            munis = place.municipalities
        estado = place.spellings[int(rnd() * len(place.spellings))]
        municipio = munis[int(rnd() * len(munis))]
        if rnd() < 0.15:
            municipio = _fold(municipio)
        postal = sample_cp(country, place.code, rng)

        # -- the debt
        balance = median * math.exp(0.9 * gauss(0.0, 1.0))
        balance = min(max(balance, low), high)
        balance = float(round(balance)) if whole else round(balance, 2)
        saldo = _format_amount(balance, rnd(), profile)
        r = rnd()
        if r < 0.10:
            offset = -1 - int(rnd() * _FUTURE_DAYS)
        elif r < 0.50:
            offset = 5 + int(rnd() * 86)
        else:
            offset = 91 + int(rnd() * (_MAX_PAST_DAYS - 90))
        due = due_dates[offset + _FUTURE_DAYS]
        days = days_text[offset + _FUTURE_DAYS]
        product = products[int(rnd() * len(products))]
        email = _email(given, paternal, rng, domains) if rnd() < 0.5 else ""
        consent = consents[int(rnd() * len(consents))]
        channel = channels[int(rnd() * len(channels))]

        row = [account(seq), full_name]
        if latam:
            row.append(national_id)
        row += [
            telefono,
            celular,
            aval,
            saldo,
            profile.currency,
            due,
            days,
            product,
            creditor,
            estado,
            municipio,
            postal,
            email,
            consent,
            channel,
        ]
        if bad_total and bad_rng() * (options.rows - i) < bad_total:
            bad_total -= 1
            breaker.apply(row, seq, account)
        yield row


def write_portfolio(
    options: GeneratorOptions, out: Path, *, progress: Callable[[int], None] | None = None
) -> int:
    """Write the portfolio as a UTF-8 CSV; returns the data rows written.

    `progress(rows_so_far)` is called after every 10,000 rows.
    """
    rows = generate_portfolio(options)
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(next(rows))
        while chunk := list(islice(rows, _PROGRESS_EVERY)):
            writer.writerows(chunk)
            written += len(chunk)
            if progress is not None and len(chunk) == _PROGRESS_EVERY:
                progress(written)
    return written
