"""One CSV row → one validated portfolio record, or the list of what is wrong with it (no I/O).

Runs in the validation worker processes, so its inputs and outputs are plain picklable values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple, TextIO

from campaigns import geography
from campaigns.enums import AccountStatus, Provenance
from campaigns.portfolio.columns import ColumnPlan, synonyms
from campaigns.portfolio.phones import PhoneNormaliser, candidate_zones, json_list
from campaigns.portfolio.source import CsvSource, Span
from campaigns.portfolio.values import (
    BLANKS,
    DateOrder,
    ValueProblem,
    normalise_token,
    parse_amount_minor,
    parse_channels,
    parse_date,
    parse_days_past_due,
    parse_email,
    parse_name,
    parse_national_id,
)

__all__ = [
    "CURRENCIES",
    "PhoneRecord",
    "RowContext",
    "RowError",
    "RowRecord",
    "RowValidator",
    "Validated",
    "init_worker",
    "validate_rows",
    "validate_span",
]

CURRENCIES = {"MX": "MXN", "CO": "COP", "PE": "PEN", "CL": "CLP", "US": "USD"}
ACCEPTED_CURRENCIES = frozenset(CURRENCIES.values())


class RowError(NamedTuple):
    row: int
    column: str
    reason: str


class PhoneRecord(NamedTuple):
    e164: str
    line_type: str
    role: str
    provenance: str
    consent: tuple[str, ...]
    authorized: tuple[str, ...] | None
    consent_json: str
    authorized_json: str | None
    zones: tuple[str, ...]
    zones_json: str
    zone_sources_json: str
    source_column: str


class RowRecord(NamedTuple):
    row: int
    account_number: str
    creditor: str
    name: str
    national_id: str | None
    national_id_kind: str | None
    email: str | None
    balance_minor: int
    currency: str
    due_date: date | None
    days_past_due: int | None
    product: str | None
    status: str
    subdivision: str | None
    municipality: str | None
    postal_code: str | None
    street: str | None
    address_zones: tuple[str, ...]
    address_zones_json: str
    phones: tuple[PhoneRecord, ...]


@dataclass(frozen=True, slots=True)
class RowContext:
    """Everything a worker needs to validate rows of one file."""

    plan: ColumnPlan
    country: str
    creditor: str
    as_of: date
    date_order: DateOrder
    decimal_sep: str | None
    max_balance: dict[str, int]


def _blank(text: str) -> bool:
    """Empty, a placeholder such as `N/A`, or (for phones and ids) nothing but zeros."""
    value = text.strip().lower()
    return value in BLANKS or not value.strip("0")


class RowValidator:
    """Validates rows of one file; build once per process from a RowContext."""

    def __init__(self, ctx: RowContext) -> None:
        self.ctx = ctx
        self.phones = PhoneNormaliser(ctx.country)
        plan = ctx.plan
        self._idx = plan.fields
        self._fields = tuple(plan.fields.items())
        self._default_currency = CURRENCIES[ctx.country]
        syn = synonyms()
        self._status = syn.status_values
        self._provenance = syn.provenance_values
        self._postal = geography.postal_code_pattern(ctx.country)
        self._postal_len = {"MX": 5, "US": 5}.get(ctx.country)

    def _present(self, cells: list[str]) -> dict[str, str]:
        """The row's non-blank cells by field, stripped."""
        return {
            field: value
            for field, index in self._fields
            if (value := cells[index].strip()) and value.lower() not in BLANKS
        }

    def validate(self, row: int, cells: list[str]) -> RowRecord | list[RowError]:
        """Validate one data row (`row` is its 1-based line in the file, header = 1)."""
        ctx, plan = self.ctx, self.ctx.plan
        errors: list[RowError] = []

        def fail(field: str, reason: str) -> None:
            column = plan.column_name(field) if field in plan.fields else field
            errors.append(RowError(row, column, reason))

        if len(cells) != len(plan.headers):
            return [
                RowError(
                    row,
                    "*",
                    f"row has {len(cells)} fields, the header has {len(plan.headers)} "
                    "(a stray separator or quote?)",
                )
            ]
        present = self._present(cells)
        account = present.get("account_number")
        if account is None:
            fail("account_number", "account number is empty")
        elif len(account) > 64:
            fail("account_number", "account number longer than 64 characters")
        elif "E+" in account.upper() and account.replace(".", "").upper().split("E+")[0].isdigit():
            fail(
                "account_number", f"{account!r} was mangled by a spreadsheet (scientific notation)"
            )

        name = ""
        try:
            raw_name = present.get("name")
            if raw_name is None and "name" not in plan.fields:
                parts = (present.get(f) for f in ("given_names", "surname_1", "surname_2"))
                raw_name = " ".join(p for p in parts if p) or None
            if raw_name is None:
                fail("name", "name is empty")
            else:
                name = parse_name(raw_name)
        except ValueProblem as exc:
            fail("name", str(exc))

        currency = (present.get("currency") or self._default_currency).upper()
        if currency not in ACCEPTED_CURRENCIES:
            fail(
                "currency",
                f"{currency!r} is not a currency Recaudo handles "
                f"({', '.join(sorted(ACCEPTED_CURRENCIES))})",
            )
        balance = 0
        balance_text = cells[self._idx["balance"]].strip()
        if not balance_text:
            fail("balance", "balance is empty")
        else:
            try:
                balance = parse_amount_minor(balance_text, ctx.decimal_sep)
            except ValueProblem as exc:
                fail("balance", str(exc))
            else:
                limit = ctx.max_balance.get(currency)
                if balance < 0:
                    fail("balance", f"negative balance {balance_text!r}")
                elif limit is not None and balance > limit * 100:
                    fail(
                        "balance",
                        f"balance {balance / 100:,.2f} {currency} is above the believable maximum "
                        f"{limit:,} {currency} (setting RECAUDO_IMPORTER__MAX_BALANCE)",
                    )

        due: date | None = None
        if (text := present.get("due_date")) is not None:
            try:
                due = parse_date(text, ctx.date_order, ctx.as_of)
            except ValueProblem as exc:
                fail("due_date", str(exc))
        dpd: int | None = None
        if (text := present.get("days_past_due")) is not None:
            try:
                dpd = parse_days_past_due(text)
            except ValueProblem as exc:
                fail("days_past_due", str(exc))
        elif due is not None:
            dpd = max(0, (ctx.as_of - due).days)

        status = AccountStatus.ACTIVE.value
        if (text := present.get("status")) is not None:
            found = self._status.get(normalise_token(text))
            if found is None:
                fail(
                    "status",
                    f"unknown account status {text!r} (e.g. activo, pagado, disputa, cerrado)",
                )
            else:
                status = found

        national_id = national_kind = None
        for kind, index in plan.national_ids:
            text = cells[index]
            if _blank(text):
                continue
            try:
                national_id, national_kind = parse_national_id(kind, text), kind
                break
            except ValueProblem as exc:
                errors.append(RowError(row, plan.headers[index], str(exc)))

        email = None
        if (text := present.get("email")) is not None:
            try:
                email = parse_email(text)
            except ValueProblem as exc:
                fail("email", str(exc))

        subdivision_code = None
        address_zones: tuple[str, ...] = ()
        municipality = present.get("municipality")
        if (text := present.get("state")) is not None:
            subdivision = geography.resolve_subdivision(ctx.country, text)
            if subdivision is None:
                fail("state", f"{text!r} is not a state/region of {ctx.country}")
            else:
                subdivision_code = subdivision.code
                address_zones = geography.address_zones(ctx.country, subdivision, municipality)
        postal = present.get("postal_code")
        if postal is not None:
            if self._postal_len and postal.isdigit() and len(postal) == self._postal_len - 1:
                postal = "0" + postal  # a spreadsheet dropped the leading zero
            if not self._postal.fullmatch(postal):
                fail("postal_code", f"{postal!r} is not a postal code of {ctx.country}")

        consent: tuple[str, ...] = ()
        authorized: tuple[str, ...] | None = None
        provenance = Provenance.PROVIDED.value
        try:
            if (text := present.get("consent")) is not None:
                consent = parse_channels(text)
        except ValueProblem as exc:
            fail("consent", str(exc))
        try:
            if (text := present.get("authorized_channels")) is not None:
                authorized = parse_channels(text)
        except ValueProblem as exc:
            fail("authorized_channels", str(exc))
        if (text := present.get("provenance")) is not None:
            found = self._provenance.get(normalise_token(text))
            if found is None:
                fail("provenance", f"unknown phone provenance {text!r} (provided or skip_trace)")
            else:
                provenance = found

        phones: dict[str, PhoneRecord] = {}
        address_source = f"address:{subdivision_code}" + (
            f"/{municipality}" if municipality else ""
        )
        for column in plan.phones:
            text = cells[column.index]
            if _blank(text):
                continue
            try:
                phone = self.phones.normalise(text, column.line_type)
            except ValueProblem as exc:
                errors.append(RowError(row, column.header, str(exc)))
                continue
            if phone.e164 in phones:
                continue
            zones, zones_json, sources_json = candidate_zones(
                phone.zone_key, address_zones, address_source
            )
            phones[phone.e164] = PhoneRecord(
                e164=phone.e164,
                line_type=phone.line_type.value,
                role=column.role.value,
                provenance=(column.provenance.value if column.provenance else provenance),
                consent=consent,
                authorized=authorized,
                consent_json=json_list(consent),
                authorized_json=None if authorized is None else json_list(authorized),
                zones=zones,
                zones_json=zones_json,
                zone_sources_json=sources_json,
                source_column=column.header,
            )
        if not phones and not errors:
            errors.append(RowError(row, plan.phones[0].header, "no phone number in this row"))
        if errors:
            return errors
        assert account is not None
        return RowRecord(
            row=row,
            account_number=account,
            creditor=present.get("creditor") or ctx.creditor,
            name=name,
            national_id=national_id,
            national_id_kind=national_kind,
            email=email,
            balance_minor=balance,
            currency=currency,
            due_date=due,
            days_past_due=dpd,
            product=present.get("product"),
            status=status,
            subdivision=subdivision_code,
            municipality=municipality,
            postal_code=postal,
            street=present.get("street"),
            address_zones=address_zones,
            address_zones_json=json_list(address_zones),
            phones=tuple(phones.values()),
        )


Validated = tuple[list[RowRecord], list[RowError]]


def validate_rows(validator: RowValidator, rows: list[tuple[int, list[str]]]) -> Validated:
    """Validate rows; good records and the errors of the bad ones, in file order."""
    good: list[RowRecord] = []
    bad: list[RowError] = []
    for number, cells in rows:
        result = validator.validate(number, cells)
        if isinstance(result, list):
            bad.extend(result)
        else:
            good.append(result)
    return good, bad


# Worker processes: each reads its own spans of the file, so the parent never ships raw rows.
_worker: tuple[RowValidator, CsvSource, TextIO] | None = None


def init_worker(ctx: RowContext, source: CsvSource) -> None:
    global _worker
    _worker = (RowValidator(ctx), source, source.open())


def validate_span(span: Span) -> Validated:
    assert _worker is not None, "init_worker was not called in this process"
    validator, source, handle = _worker
    return validate_rows(validator, source.read_span(handle, span))
