"""Geography of the supported countries: time zones, subdivisions, postal codes, area codes.

The data lives in ``config/geo/<cc>.yaml`` (one file per country) and in
``config/zone_overrides.yaml`` (extra candidate zones by E.164 prefix, compliance §3.3).
Each file is read and validated once, on first use; lookups afterwards are dictionary hits.
"""

from __future__ import annotations

import random
import re
import unicodedata
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Final, TypeVar

import yaml

__all__ = [
    "SUPPORTED_COUNTRIES",
    "AreaCode",
    "GeographyError",
    "Municipality",
    "Subdivision",
    "address_zones",
    "area_codes",
    "country_zones",
    "municipalities",
    "override_prefix_digits",
    "postal_code_pattern",
    "prefix_override_zones",
    "resolve_subdivision",
    "sample_postal_code",
    "subdivisions",
]

_CONFIG_DIR: Final = Path(__file__).resolve().parent.parent / "config"
_GEO_DIR: Final = _CONFIG_DIR / "geo"
_OVERRIDES_PATH: Final = _CONFIG_DIR / "zone_overrides.yaml"

SUPPORTED_COUNTRIES: Final[tuple[str, ...]] = ("CL", "CO", "MX", "PE", "US")
LINE_KINDS: Final[tuple[str, ...]] = ("mobile", "fixed_line", "either")

# Generic words people put in front of a subdivision or municipality name ("Estado de
# Chihuahua", "Región de Valparaíso", "Cd. Juárez"), in normalised form, longest first.
# They are stripped only when the text as written is not a known name.
_SUBDIVISION_PREFIXES: Final = (
    "departamentodel",
    "departamentode",
    "departamento",
    "provinciadel",
    "provinciade",
    "regiondel",
    "regionde",
    "estadode",
    "stateof",
    "deptode",
    "estado",
    "region",
    "depto",
    "dpto",
    "edode",
    "edo",
)
_MUNICIPALITY_PREFIXES: Final = (
    "municipiode",
    "municipio",
    "ciudadde",
    "heroica",
    "ciudad",
    "cityof",
    "cdde",
    "cd",
)

_COUNTRY_KEYS: Final = frozenset(
    {"country", "zones", "postal_code", "area_code_defaults", "area_codes", "subdivisions"}
)
_POSTAL_KEYS: Final = frozenset({"pattern", "length"})
_SUBDIVISION_KEYS: Final = frozenset(
    {"code", "name", "aliases", "zones", "zone_exceptions", "municipalities", "postal_prefixes"}
)
_AREA_CODE_KEYS: Final = frozenset(
    {
        "prefix",
        "subdivision",
        "city",
        "zone",
        "line_kind",
        "national_length",
        "subscriber_first_digits",
    }
)
_AREA_DEFAULT_KEYS: Final = frozenset({"line_kind", "national_length", "subscriber_first_digits"})
_OVERRIDE_FILE_KEYS: Final = frozenset({"prefix_overrides"})
_E164_PREFIX: Final = re.compile(r"\+[1-9]\d{0,14}")
_DIGITS: Final = re.compile(r"\d+")
_PREFIX_RANGE: Final = re.compile(r"(\d+)(?:-(\d+))?")

_T = TypeVar("_T")


class GeographyError(Exception):
    """Bad data file or unknown country/subdivision; the message says what and where."""


@dataclass(frozen=True, slots=True)
class Subdivision:
    """A first-level subdivision (state, department, region) and every zone it spans."""

    country: str
    code: str
    name: str
    zones: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AreaCode:
    """A national-number prefix for the synthetic generator, with its place and zone.

    ``subdivision`` and ``city`` are "" for non-geographic (mobile) prefixes.
    """

    country: str
    prefix: str
    subdivision: str
    city: str
    zone: str
    line_kind: str
    national_length: int
    subscriber_first_digits: str


@dataclass(frozen=True, slots=True)
class Municipality:
    """A sample municipality; ``zones`` are its exception zones, else its subdivision's."""

    name: str
    zones: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _CountryData:
    country: str
    path: Path
    zones: tuple[str, ...]
    subdivisions: tuple[Subdivision, ...]
    by_code: Mapping[str, Subdivision]
    keys: Mapping[str, Subdivision]
    zone_exceptions: Mapping[str, Mapping[str, tuple[str, ...]]]
    municipalities: Mapping[str, tuple[Municipality, ...]]
    postal_pattern: re.Pattern[str]
    postal_length: int
    postal_prefixes: Mapping[str, tuple[str, ...]]
    area_codes: tuple[AreaCode, ...]


@dataclass(frozen=True, slots=True)
class _Overrides:
    path: Path
    by_digits: Mapping[str, tuple[str, ...]]
    lengths: tuple[int, ...]  # prefix lengths present, longest first


# --------------------------------------------------------------------------- normalisation


@lru_cache(maxsize=1 << 16)
def _norm(text: str) -> str:
    """Case-, accent-, space- and punctuation-insensitive key: "N.L." -> "nl"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum())


def _lookup(table: Mapping[str, _T], key: str, prefixes: tuple[str, ...]) -> _T | None:
    """``table[key]``, else ``table[key minus one generic prefix]``, else None."""
    found = table.get(key)
    if found is not None:
        return found
    for prefix in prefixes:
        if key.startswith(prefix) and len(key) > len(prefix):
            found = table.get(key[len(prefix) :])
            if found is not None:
                return found
    return None


# --------------------------------------------------------------------------- validation


def _error(path: Path, key: str, problem: str, allowed: str = "") -> GeographyError:
    """Build the one error shape used everywhere: file, key, problem, what is allowed."""
    suffix = f" (allowed: {allowed})" if allowed else ""
    return GeographyError(f"{path}: {key}: {problem}{suffix}")


def _mapping(
    value: object, path: Path, key: str, allowed: frozenset[str], required: Iterable[str]
) -> dict[str, Any]:
    """Check a YAML mapping: string keys, no unknown keys, required keys present."""
    if not isinstance(value, dict):
        raise _error(path, key, f"expected a mapping, got {type(value).__name__}")
    for name in value:
        if not isinstance(name, str) or name not in allowed:
            raise _error(path, f"{key}.{name}", "unknown key", ", ".join(sorted(allowed)))
    for name in required:
        if name not in value:
            raise _error(path, f"{key}.{name}", "missing required key")
    return value


def _text(value: object, path: Path, key: str) -> str:
    """A non-empty string (YAML turns NO/ON/1 into non-strings: those must be quoted)."""
    if not isinstance(value, str) or not value.strip():
        raise _error(path, key, f"expected a non-empty string, got {value!r}")
    return value.strip()


def _text_list(value: object, path: Path, key: str) -> tuple[str, ...]:
    """A list of non-empty strings (possibly empty)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _error(path, key, f"expected a list, got {type(value).__name__}")
    return tuple(_text(item, path, f"{key}[{i}]") for i, item in enumerate(value))


@cache
def _zone_exists(name: str) -> bool:
    """True if ``zoneinfo`` knows the IANA zone ``name``."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _zone(value: object, path: Path, key: str, allowed: tuple[str, ...] = ()) -> str:
    """An IANA zone known to ``zoneinfo`` and, when ``allowed`` is given, one of those."""
    name = _text(value, path, key)
    if not _zone_exists(name):
        raise _error(path, key, f"unknown time zone {name!r}", "IANA names zoneinfo knows")
    if allowed and name not in allowed:
        raise _error(path, key, f"zone {name!r} is not listed above", ", ".join(allowed))
    return name


def _zones(value: object, path: Path, key: str, allowed: tuple[str, ...] = ()) -> tuple[str, ...]:
    """A non-empty list of distinct zones."""
    names = _text_list(value, path, key)
    if not names:
        raise _error(path, key, "expected at least one zone")
    checked = tuple(_zone(n, path, f"{key}[{i}]", allowed) for i, n in enumerate(names))
    if len(set(checked)) != len(checked):
        raise _error(path, key, "duplicate zone")
    return checked


def _digits(value: object, path: Path, key: str) -> str:
    """A string of ASCII digits (quote it in YAML so leading zeros survive)."""
    text = _text(value, path, key)
    if not _DIGITS.fullmatch(text):
        raise _error(path, key, f"expected digits in quotes, got {text!r}")
    return text


def _positive_int(value: object, path: Path, key: str) -> int:
    """A positive integer (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _error(path, key, f"expected a positive integer, got {value!r}")
    return value


def _postal_prefixes(value: object, path: Path, key: str, length: int) -> tuple[str, ...]:
    """Expand ["01-16", "20"] into every prefix, keeping zero padding."""
    out: list[str] = []
    for i, item in enumerate(_text_list(value, path, key)):
        match = _PREFIX_RANGE.fullmatch(item)
        low, high = (match.group(1), match.group(2) or match.group(1)) if match else ("", "")
        if not match or len(low) != len(high) or int(low) > int(high) or len(low) >= length:
            raise _error(
                path,
                f"{key}[{i}]",
                f"bad postal prefix {item!r}",
                f'"NN" or "NN-MM" (same width, fewer than {length} digits)',
            )
        out.extend(str(n).zfill(len(low)) for n in range(int(low), int(high) + 1))
    if not out:
        raise _error(path, key, "expected at least one postal prefix")
    return tuple(out)


def _read_yaml(path: Path) -> object:
    """Parse one YAML file, turning I/O and syntax problems into GeographyError."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GeographyError(f"{path}: cannot read data file: {exc}") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise GeographyError(f"{path}: invalid YAML: {exc}") from exc


# --------------------------------------------------------------------------- loading


def _load_country_file(path: Path, country: str | None = None) -> _CountryData:
    """Read and validate one country file; ``country`` (if given) must match its ``country``."""
    doc = _mapping(
        _read_yaml(path),
        path,
        "<top>",
        _COUNTRY_KEYS,
        ("country", "zones", "postal_code", "area_codes", "subdivisions"),
    )
    cc = _text(doc["country"], path, "country")
    if cc not in SUPPORTED_COUNTRIES or (country is not None and cc != country):
        wanted = country or ", ".join(SUPPORTED_COUNTRIES)
        raise _error(path, "country", f"unexpected country {cc!r}", wanted)
    zones = _zones(doc["zones"], path, "zones")

    postal = _mapping(doc["postal_code"], path, "postal_code", _POSTAL_KEYS, _POSTAL_KEYS)
    length = _positive_int(postal["length"], path, "postal_code.length")
    raw_pattern = _text(postal["pattern"], path, "postal_code.pattern")
    try:
        pattern = re.compile(rf"\A(?:{raw_pattern})\Z")
    except re.error as exc:
        raise _error(path, "postal_code.pattern", f"bad regular expression: {exc}") from exc
    if not pattern.match("0" * length):
        raise _error(path, "postal_code.pattern", f"does not accept {length} digits")

    subs, by_code, keys, exceptions, samples, prefixes = _load_subdivisions(
        doc["subdivisions"], path, cc, zones, length
    )
    codes = _load_area_codes(doc, path, cc, zones, by_code)
    return _CountryData(
        country=cc,
        path=path,
        zones=zones,
        subdivisions=subs,
        by_code=by_code,
        keys=keys,
        zone_exceptions=exceptions,
        municipalities=samples,
        postal_pattern=pattern,
        postal_length=length,
        postal_prefixes=prefixes,
        area_codes=codes,
    )


def _load_subdivisions(
    value: object, path: Path, cc: str, country_zones_: tuple[str, ...], postal_length: int
) -> tuple[
    tuple[Subdivision, ...],
    dict[str, Subdivision],
    dict[str, Subdivision],
    dict[str, dict[str, tuple[str, ...]]],
    dict[str, tuple[Municipality, ...]],
    dict[str, tuple[str, ...]],
]:
    """Validate the ``subdivisions`` list and build every lookup table derived from it."""
    if not isinstance(value, list) or not value:
        raise _error(path, "subdivisions", "expected a non-empty list")
    subs: list[Subdivision] = []
    by_code: dict[str, Subdivision] = {}
    keys: dict[str, Subdivision] = {}
    exceptions: dict[str, dict[str, tuple[str, ...]]] = {}
    samples: dict[str, tuple[Municipality, ...]] = {}
    prefixes: dict[str, tuple[str, ...]] = {}
    for i, raw in enumerate(value):
        where = f"subdivisions[{i}]"
        required = ("code", "name", "zones", "postal_prefixes")
        item = _mapping(raw, path, where, _SUBDIVISION_KEYS, required)
        code = _text(item["code"], path, f"{where}.code")
        short = code.removeprefix(f"{cc}-")
        if short == code or not short.isalnum() or not short.isupper():
            raise _error(path, f"{where}.code", f"bad code {code!r}", f'"{cc}-" + ISO 3166-2 part')
        if code in by_code:
            raise _error(path, f"{where}.code", f"duplicate code {code!r}")
        sub = Subdivision(
            country=cc,
            code=code,
            name=_text(item["name"], path, f"{where}.name"),
            zones=_zones(item["zones"], path, f"{where}.zones", country_zones_),
        )
        names = (code, short, sub.name, *_text_list(item.get("aliases"), path, f"{where}.aliases"))
        for name in names:
            key = _norm(name)
            other = keys.get(key)
            if not key or (other is not None and other.code != code):
                clash = f"{other.code}" if other else "nothing (empty after normalising)"
                raise _error(
                    path,
                    f"{where}.aliases",
                    f"{name!r} of {code} already names {clash}",
                    "each alias names one subdivision",
                )
            keys[key] = sub
        table = _zone_exceptions(item.get("zone_exceptions"), path, where, sub.zones)
        names_ = _text_list(item.get("municipalities"), path, f"{where}.municipalities")
        subs.append(sub)
        by_code[code] = sub
        exceptions[code] = table
        samples[code] = tuple(Municipality(n, table.get(_norm(n), sub.zones)) for n in names_)
        prefixes[code] = _postal_prefixes(
            item["postal_prefixes"], path, f"{where}.postal_prefixes", postal_length
        )
    return tuple(subs), by_code, keys, exceptions, samples, prefixes


def _zone_exceptions(
    value: object, path: Path, where: str, sub_zones: tuple[str, ...]
) -> dict[str, tuple[str, ...]]:
    """``{zone: [municipality, ...]}`` -> ``{normalised municipality: zones}`` (unioned)."""
    key = f"{where}.zone_exceptions"
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _error(path, key, f"expected a mapping zone -> [municipality], got {value!r}")
    table: dict[str, tuple[str, ...]] = {}
    for zone_name, names in value.items():
        zone = _zone(zone_name, path, f"{key}.{zone_name}", sub_zones)
        for j, name in enumerate(_text_list(names, path, f"{key}.{zone_name}")):
            norm = _norm(name)
            if not norm:
                raise _error(path, f"{key}.{zone_name}[{j}]", f"empty name {name!r}")
            if zone not in table.get(norm, ()):
                table[norm] = (*table.get(norm, ()), zone)
    return table


def _load_area_codes(
    doc: Mapping[str, Any],
    path: Path,
    cc: str,
    zones: tuple[str, ...],
    by_code: Mapping[str, Subdivision],
) -> tuple[AreaCode, ...]:
    """Validate ``area_codes`` (with ``area_code_defaults`` filled in)."""
    defaults = _mapping(
        doc.get("area_code_defaults") or {}, path, "area_code_defaults", _AREA_DEFAULT_KEYS, ()
    )
    raw_list = doc["area_codes"]
    if not isinstance(raw_list, list) or not raw_list:
        raise _error(path, "area_codes", "expected a non-empty list")
    seen: set[str] = set()
    out: list[AreaCode] = []
    required = ("prefix", "subdivision", "city", "zone")
    for i, raw in enumerate(raw_list):
        where = f"area_codes[{i}]"
        item = {**defaults, **_mapping(raw, path, where, _AREA_CODE_KEYS, required)}
        for name in _AREA_DEFAULT_KEYS:
            if name not in item:
                raise _error(path, f"{where}.{name}", "missing (and no area_code_defaults)")
        prefix = _digits(item["prefix"], path, f"{where}.prefix")
        if prefix in seen:
            raise _error(path, f"{where}.prefix", f"duplicate prefix {prefix!r}")
        seen.add(prefix)
        sub_code = item["subdivision"] or ""
        if sub_code and sub_code not in by_code:
            raise _error(path, f"{where}.subdivision", f"unknown {sub_code!r}", "a code above")
        allowed = by_code[sub_code].zones if sub_code else zones
        kind = _text(item["line_kind"], path, f"{where}.line_kind")
        if kind not in LINE_KINDS:
            raise _error(path, f"{where}.line_kind", f"bad kind {kind!r}", ", ".join(LINE_KINDS))
        length = _positive_int(item["national_length"], path, f"{where}.national_length")
        if length <= len(prefix):
            raise _error(path, f"{where}.national_length", "not longer than the prefix")
        first = _digits(item["subscriber_first_digits"], path, f"{where}.subscriber_first_digits")
        out.append(
            AreaCode(
                country=cc,
                prefix=prefix,
                subdivision=sub_code,
                city=_text(item["city"], path, f"{where}.city") if item["city"] else "",
                zone=_zone(item["zone"], path, f"{where}.zone", allowed),
                line_kind=kind,
                national_length=length,
                subscriber_first_digits=first,
            )
        )
    return tuple(out)


def _load_overrides_file(path: Path) -> _Overrides:
    """Read and validate the prefix-override file: ``prefix_overrides: {"+52614": [zone]}``."""
    doc = _mapping(_read_yaml(path), path, "<top>", _OVERRIDE_FILE_KEYS, _OVERRIDE_FILE_KEYS)
    raw = doc["prefix_overrides"]
    if not isinstance(raw, dict):
        raise _error(path, "prefix_overrides", "expected a mapping prefix -> [zone]")
    table: dict[str, tuple[str, ...]] = {}
    for prefix, zones in raw.items():
        key = f"prefix_overrides.{prefix}"
        if not isinstance(prefix, str) or not _E164_PREFIX.fullmatch(prefix):
            raise _error(path, key, f"bad prefix {prefix!r}", '"+" and digits, quoted')
        table[prefix[1:]] = _zones(zones, path, key)
    lengths = tuple(sorted({len(k) for k in table}, reverse=True))
    return _Overrides(path=path, by_digits=table, lengths=lengths)


@cache
def _country(country: str) -> _CountryData:
    """The validated data of one supported country, loaded once."""
    cc = country.strip().upper()
    if cc not in SUPPORTED_COUNTRIES:
        raise GeographyError(
            f"unknown country {country!r} (allowed: {', '.join(SUPPORTED_COUNTRIES)})"
        )
    return _load_country_file(_GEO_DIR / f"{cc.lower()}.yaml", cc)


@lru_cache(maxsize=1)
def _overrides() -> _Overrides:
    """The validated prefix-override table, loaded once."""
    return _load_overrides_file(_OVERRIDES_PATH)


def _subdivision_for(data: _CountryData, code: str) -> Subdivision:
    """The subdivision with this exact code, or GeographyError naming the file."""
    sub = data.by_code.get(code)
    if sub is None:
        raise _error(data.path, "subdivisions", f"unknown subdivision {code!r}", "codes in file")
    return sub


# --------------------------------------------------------------------------- public API


def country_zones(country: str) -> tuple[str, ...]:
    """Every IANA zone used in ``country`` (the ``unknown: country_all_zones`` fallback)."""
    return _country(country).zones


def subdivisions(country: str) -> tuple[Subdivision, ...]:
    """All first-level subdivisions of ``country``, in file order."""
    return _country(country).subdivisions


@lru_cache(maxsize=1 << 16)
def resolve_subdivision(country: str, text: str) -> Subdivision | None:
    """Match a code ("MX-NLE", "NLE"), name or alias, ignoring case/accents/punctuation.

    A leading generic word ("Estado de", "Región", "Depto.") is ignored; None if unknown.
    """
    return _lookup(_country(country).keys, _norm(text), _SUBDIVISION_PREFIXES)


@lru_cache(maxsize=1 << 16)
def address_zones(
    country: str, subdivision: Subdivision | None, municipality: str | None
) -> tuple[str, ...]:
    """Zones of an address: the municipality's exception zones if it matches, else the
    subdivision's zones; () when ``subdivision`` is None.
    """
    if subdivision is None:
        return ()
    data = _country(country)
    if subdivision.country != data.country:
        raise GeographyError(f"subdivision {subdivision.code} is not in {data.country}")
    if municipality:
        table = data.zone_exceptions.get(subdivision.code, {})
        zones = _lookup(table, _norm(municipality), _MUNICIPALITY_PREFIXES)
        if zones is not None:
            return zones
    return subdivision.zones


def municipalities(country: str, subdivision_code: str) -> tuple[Municipality, ...]:
    """Sample municipalities of a subdivision (for the synthetic portfolio generator)."""
    data = _country(country)
    return data.municipalities[_subdivision_for(data, subdivision_code).code]


def postal_code_pattern(country: str) -> re.Pattern[str]:
    """Anchored pattern of a valid postal code of ``country`` (``match`` == ``fullmatch``)."""
    return _country(country).postal_pattern


def sample_postal_code(country: str, subdivision_code: str, rng: random.Random) -> str:
    """A plausible postal code in the subdivision: a known prefix plus random digits."""
    data = _country(country)
    prefix = rng.choice(data.postal_prefixes[_subdivision_for(data, subdivision_code).code])
    rest = data.postal_length - len(prefix)
    return prefix + "".join(rng.choice("0123456789") for _ in range(rest))


def area_codes(country: str) -> tuple[AreaCode, ...]:
    """Area codes (national-number prefixes) of ``country`` for the synthetic generator."""
    return _country(country).area_codes


def prefix_override_zones(e164: str) -> tuple[tuple[str, ...], str | None]:
    """Extra candidate zones for an E.164 number by longest-prefix match in
    ``config/zone_overrides.yaml``: ``(zones, "+prefix")``, or ``((), None)`` if none match.
    """
    digits = e164.strip()
    if not digits.startswith("+"):
        return (), None
    digits = digits[1:]
    table = _overrides()
    for length in table.lengths:
        if length <= len(digits):
            zones = table.by_digits.get(digits[:length])
            if zones is not None:
                return zones, "+" + digits[:length]
    return (), None


def override_prefix_digits(country_code: str = "") -> int:
    """Digits (after '+') of the longest override prefix starting with `country_code`:
    zone lookups for that country may cache on that many leading digits."""
    return max(
        (len(digits) for digits in _overrides().by_digits if digits.startswith(country_code)),
        default=0,
    )
