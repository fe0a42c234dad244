"""Which CSV column holds which field: header synonyms (es/en) from `config/import_columns.yaml`,
phone columns with their role and line type, and a mapping file that overrides the guess."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from campaigns.enums import LineType, PhoneRole, Provenance
from campaigns.portfolio.errors import HeaderError, MappingError
from campaigns.portfolio.values import DateOrder, normalise_token

__all__ = [
    "FIELDS",
    "REQUIRED",
    "ColumnMapping",
    "ColumnPlan",
    "PhoneColumn",
    "load_mapping",
    "plan_columns",
    "synonyms",
]

SYNONYMS_FILE = Path(__file__).resolve().parents[2] / "config" / "import_columns.yaml"
FIELDS = (
    "account_number",
    "name",
    "given_names",
    "surname_1",
    "surname_2",
    "balance",
    "currency",
    "due_date",
    "days_past_due",
    "product",
    "creditor",
    "status",
    "state",
    "municipality",
    "postal_code",
    "street",
    "email",
    "consent",
    "authorized_channels",
    "provenance",
)
NATIONAL_ID_KINDS = ("curp", "rfc", "cedula", "nit", "dni", "ruc", "rut")
REQUIRED = ("account_number", "balance")


@dataclass(frozen=True, slots=True)
class PhoneColumn:
    index: int
    header: str
    role: PhoneRole
    line_type: LineType | None
    provenance: Provenance | None


@dataclass(frozen=True, slots=True)
class ColumnPlan:
    """Where each field is. Picklable: it travels to the validation worker processes."""

    headers: tuple[str, ...]
    fields: dict[str, int]
    national_ids: tuple[tuple[str, int], ...]
    phones: tuple[PhoneColumn, ...]
    ignored: tuple[str, ...]

    def column_name(self, field_name: str) -> str:
        return self.headers[self.fields[field_name]]


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """A user's mapping file: header → field (or phone spec, or `ignore`), plus value formats."""

    columns: dict[str, str | PhoneColumn] = field(default_factory=dict)
    decimal: str | None = None
    date_order: DateOrder | None = None


@dataclass(frozen=True, slots=True)
class _Synonyms:
    fields: dict[str, str]
    national_ids: dict[str, str]
    phone_words: frozenset[str]
    line_words: dict[str, LineType]
    role_words: dict[str, PhoneRole]
    provenance_words: dict[str, Provenance]
    filler: frozenset[str]
    status_values: dict[str, str]
    provenance_values: dict[str, str]


def _invert(groups: Mapping[str, Sequence[str]], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, words in groups.items():
        for word in words:
            norm = normalise_token(word)
            if norm in out and out[norm] != key:
                raise MappingError(f"{SYNONYMS_FILE}: {what} word {word!r} listed for both")
            out[norm] = key
    return out


@cache
def synonyms() -> _Synonyms:
    """The synonyms data file, loaded once."""
    data: dict[str, Any] = yaml.safe_load(SYNONYMS_FILE.read_text(encoding="utf-8"))
    fields = dict(data["fields"])
    ids = fields.pop("national_id")
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise MappingError(f"{SYNONYMS_FILE}: unknown field(s) {sorted(unknown)}")
    phones = data["phones"]
    return _Synonyms(
        fields=_invert(fields, "field"),
        national_ids=_invert(ids, "national id"),
        phone_words=frozenset(normalise_token(w) for w in phones["words"]),
        line_words={k: LineType(v) for k, v in _invert(phones["line_type"], "line").items()},
        role_words={k: PhoneRole(v) for k, v in _invert(phones["role"], "role").items()},
        provenance_words={
            k: Provenance(v) for k, v in _invert(phones["provenance"], "provenance").items()
        },
        filler=frozenset(normalise_token(w) for w in phones["filler"]),
        status_values=_invert(data["values"]["status"], "status"),
        provenance_values=_invert(data["values"]["provenance"], "provenance"),
    )


def _phone_column(index: int, header: str) -> PhoneColumn | None:
    """Read a header such as `Teléfono Aval 2` as a phone column, or None."""
    syn = synonyms()
    norm = normalise_token(header)
    words = [w.rstrip("0123456789") for w in norm.split("_")]
    words = [w for w in words if w]
    # Multi-word phone words ("numero_telefono") and roles ("obligado_solidario") first.
    joined = "_".join(words)
    for compound in sorted(syn.phone_words | set(syn.role_words), key=len, reverse=True):
        if "_" in compound and compound in joined:
            joined = joined.replace(compound, compound.replace("_", "-"))
    words = joined.split("_")
    role, line, provenance, has_phone_word = PhoneRole.DEBTOR, None, None, False
    for raw_word in words:
        word = raw_word.replace("-", "_")
        if word in syn.phone_words:
            has_phone_word = True
            line = line or syn.line_words.get(word)
        elif word in syn.role_words:
            role = syn.role_words[word]
        elif word in syn.line_words:
            line = syn.line_words[word]
        elif word in syn.provenance_words:
            provenance = syn.provenance_words[word]
        elif word not in syn.filler:
            return None
    if not has_phone_word:
        return None
    return PhoneColumn(index, header, role, line, provenance)


def plan_columns(headers: Sequence[str], mapping: ColumnMapping | None = None) -> ColumnPlan:
    """Decide which column holds what; raise HeaderError for a missing or doubled field."""
    syn = synonyms()
    mapping = mapping or ColumnMapping()
    fields: dict[str, int] = {}
    national_ids: dict[str, int] = {}
    phones: list[PhoneColumn] = []
    ignored: list[str] = []
    mapped_headers = {normalise_token(h): spec for h, spec in mapping.columns.items()}
    seen_headers: dict[str, int] = {}

    def claim(field_name: str, index: int) -> None:
        if field_name in fields:
            first = headers[fields[field_name]]
            raise HeaderError(
                f"two columns hold {field_name}: {first!r} (column {fields[field_name] + 1}) and "
                f"{headers[index]!r} (column {index + 1}); keep one or say which in --mapping"
            )
        fields[field_name] = index

    for index, header in enumerate(headers):
        norm = normalise_token(header)
        if not norm:
            ignored.append(header or f"(column {index + 1}, no header)")
            continue
        if norm in seen_headers:
            raise HeaderError(
                f"header {header!r} appears twice (columns {seen_headers[norm] + 1} and "
                f"{index + 1}); rename one"
            )
        seen_headers[norm] = index
        spec = mapped_headers.pop(norm, None)
        if isinstance(spec, PhoneColumn):
            phones.append(PhoneColumn(index, header, spec.role, spec.line_type, spec.provenance))
        elif spec == "ignore":
            ignored.append(header)
        elif spec in NATIONAL_ID_KINDS:
            national_ids[spec] = index
        elif spec is not None:
            claim(spec, index)
        elif norm in syn.fields:
            claim(syn.fields[norm], index)
        elif norm in syn.national_ids:
            national_ids[syn.national_ids[norm]] = index
        elif (phone := _phone_column(index, header)) is not None:
            phones.append(phone)
        else:
            ignored.append(header)
    if mapped_headers:
        missing = ", ".join(
            repr(h) for h in mapping.columns if normalise_token(h) in mapped_headers
        )
        raise HeaderError(f"the mapping names column(s) {missing} that the file does not have")

    shown = ", ".join(repr(h) for h in headers)
    for needed in REQUIRED:
        if needed not in fields:
            known = ", ".join(k for k, v in syn.fields.items() if v == needed)
            raise HeaderError(
                f"no {needed} column among the headers ({shown}); name it one of: {known}, "
                "or map it in --mapping"
            )
    if "name" not in fields and not {"given_names", "surname_1"} <= set(fields):
        raise HeaderError(
            f"no name column among the headers ({shown}); use nombre / nombre_completo / name, "
            "or nombres + apellido_paterno, or map it in --mapping"
        )
    if not phones:
        raise HeaderError(
            f"no phone column among the headers ({shown}); name one telefono, celular, tel1, "
            "phone… or map it in --mapping"
        )
    return ColumnPlan(
        headers=tuple(headers),
        fields=fields,
        national_ids=tuple(national_ids.items()),
        phones=tuple(phones),
        ignored=tuple(ignored),
    )


_MAPPING_KEYS = {"columns", "decimal", "date_order"}
_PHONE_KEYS = {"field", "role", "line_type", "provenance"}


def _allowed(values: Sequence[str]) -> str:
    return ", ".join(values)


def load_mapping(path: Path) -> ColumnMapping:
    """Read a mapping file; every mistake names the file, the key and what is allowed."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError(f"mapping file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise MappingError(f"mapping file {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
        raise MappingError(f"mapping file {path} must have a `columns:` mapping of header: field")
    extra = set(data) - _MAPPING_KEYS
    if extra:
        raise MappingError(
            f"{path}: unknown key(s) {sorted(extra)}; allowed: {sorted(_MAPPING_KEYS)}"
        )
    targets = [*FIELDS, *NATIONAL_ID_KINDS, "phone", "ignore"]
    columns: dict[str, str | PhoneColumn] = {}
    for header, spec in data["columns"].items():
        where = f"{path}: columns.{header}"
        if isinstance(spec, str) and spec != "phone":
            if spec not in targets:
                raise MappingError(f"{where}: unknown field {spec!r}; allowed: {_allowed(targets)}")
            columns[str(header)] = spec
            continue
        spec = {"field": "phone"} if spec == "phone" else spec
        if not isinstance(spec, dict) or spec.get("field") != "phone" or set(spec) - _PHONE_KEYS:
            raise MappingError(
                f"{where}: give a field name, or {{field: phone, role: …, line_type: …, "
                "provenance: …}"
            )
        try:
            columns[str(header)] = PhoneColumn(
                index=-1,
                header=str(header),
                role=PhoneRole(spec.get("role", "debtor")),
                line_type=LineType(spec["line_type"]) if "line_type" in spec else None,
                provenance=Provenance(spec["provenance"]) if "provenance" in spec else None,
            )
        except ValueError as exc:
            roles = _allowed([r.value for r in PhoneRole])
            lines = _allowed([t.value for t in LineType])
            raise MappingError(
                f"{where}: {exc}; role: {roles}; line_type: {lines}; "
                "provenance: provided, skip_trace"
            ) from None
    decimal = data.get("decimal")
    if decimal not in (None, ".", ","):
        raise MappingError(f'{path}: decimal must be "." or ","; got {decimal!r}')
    order = data.get("date_order")
    if order not in (None, "dmy", "mdy"):
        raise MappingError(f"{path}: date_order must be dmy or mdy; got {order!r}")
    return ColumnMapping(columns, decimal, DateOrder(order) if order else None)
