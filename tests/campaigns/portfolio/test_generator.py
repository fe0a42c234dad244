"""The synthetic portfolio generator: deterministic, valid where clean, broken where asked."""

from __future__ import annotations

import csv
import re
from collections import Counter
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns import geography
from campaigns.portfolio.generator import (
    COLUMNS,
    GeneratorOptions,
    generate_portfolio,
    write_portfolio,
)

AS_OF = date(2025, 6, 1)
COUNTRIES = ("MX", "CO", "PE", "CL", "US")
PHONE_COLUMNS = {"telefono", "celular", "telefono_aval", "phone", "mobile", "cosigner_phone"}
CURP_ALPHABET = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"
CURP = re.compile(r"[A-Z][AEIOUX][A-Z]{2}\d{6}[HM][A-Z]{2}[B-DF-HJ-NP-TV-Z]{3}[A-Z\d]\d")
AMOUNT_DOT = re.compile(r"(?:\$|S/ )?\d{1,3}(?:,\d{3})*\.\d{2}|\d+\.\d{2}")
AMOUNT_COMMA = re.compile(r"(?:\$ ?)?\d{1,3}(?:\.\d{3})*,\d{2}|\d+,\d{2}")


def options(country: str = "MX", rows: int = 2000, **kw: object) -> GeneratorOptions:
    return GeneratorOptions(rows=rows, country=country, as_of=AS_OF, **kw)  # type: ignore[arg-type]


@cache
def clean(country: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(r) for r in generate_portfolio(options(country)))


def records(rows: tuple[tuple[str, ...], ...]) -> list[dict[str, str]]:
    header = rows[0]
    return [dict(zip(header, r, strict=True)) for r in rows[1:]]


def curp_check_digit(curp: str) -> int:
    total = sum(CURP_ALPHABET.index(c) * (18 - i) for i, c in enumerate(curp[:17]))
    return (10 - total % 10) % 10


def rut_check_digit(number: str) -> str:
    weights = [2, 3, 4, 5, 6, 7]
    total = sum(int(d) * weights[i % 6] for i, d in enumerate(reversed(number)))
    return {11: "0", 10: "K"}.get(11 - total % 11, str(11 - total % 11))


def phone_ok(text: str, country: str) -> bool:
    try:
        number = phonenumbers.parse(text, country)
    except phonenumbers.NumberParseException:
        return False
    return bool(
        phonenumbers.is_valid_number(number)
        and phonenumbers.region_code_for_number(number) == country
    )


def due_date(text: str, country: str) -> date:
    first, second, year = (int(part) for part in text.split("/"))
    month, day = (first, second) if country == "US" else (second, first)
    return date(year, month, day)


def amount(text: str, country: str) -> float:
    plain = text.replace("S/", "").replace("$", "").strip()
    if country in ("CO", "CL"):
        plain = plain.replace(".", "").replace(",", ".")
    else:
        plain = plain.replace(",", "")
    return float(plain)


def problems(rows: tuple[tuple[str, ...], ...], country: str) -> list[set[str]]:
    """What is wrong with each data row, re-checked from the rules of a clean file."""
    seen: set[str] = set()
    found: list[set[str]] = []
    for rec in records(rows):
        wrong: set[str] = set()
        number = rec[COLUMNS[country][0]]
        if not number:
            wrong.add("empty account")
        elif number in seen:
            wrong.add("duplicate account")
        seen.add(number)
        balance_text = rec["balance" if country == "US" else "saldo"]
        try:
            balance = amount(balance_text, country)
        except ValueError:
            wrong.add("balance not a number")
        else:
            if balance < 0:
                wrong.add("negative balance")
            elif balance > 1e11:
                wrong.add("absurd balance")
        try:
            due_date(rec["due_date" if country == "US" else "fecha_vencimiento"], country)
        except ValueError:
            wrong.add("impossible date")
        for column in PHONE_COLUMNS & rec.keys():
            if rec[column] and not phone_ok(rec[column], country):
                wrong.add(f"bad {column}")
        email = rec["email" if country == "US" else "correo"]
        if email and "@" not in email:
            wrong.add("email without @")
        found.append(wrong)
    return found


# -- determinism and shape ------------------------------------------------------------------------


def test_same_seed_same_rows_and_other_seed_other_rows() -> None:
    first = list(generate_portfolio(options(rows=300, seed=11, bad_row_fraction=0.1)))
    again = list(generate_portfolio(options(rows=300, seed=11, bad_row_fraction=0.1)))
    other = list(generate_portfolio(options(rows=300, seed=12, bad_row_fraction=0.1)))
    assert first == again
    assert first[0] == other[0]
    assert sum(a != b for a, b in zip(first[1:], other[1:], strict=True)) == 300


@pytest.mark.parametrize("country", COUNTRIES)
def test_header_and_row_shape(country: str) -> None:
    id_column = {"MX": "curp", "CO": "cedula", "PE": "dni", "CL": "rut"}
    latam = [
        "numero_cuenta",
        "nombre_completo",
        id_column.get(country, ""),
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
    ]
    us = [
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
    ]
    rows = clean(country)
    assert list(rows[0]) == (us if country == "US" else latam) == list(COLUMNS[country])
    assert len(rows) == 2001
    assert all(len(r) == len(rows[0]) for r in rows)
    currency = {"MX": "MXN", "CO": "COP", "PE": "PEN", "CL": "CLP", "US": "USD"}[country]
    assert {r[rows[0].index("currency" if country == "US" else "moneda")] for r in rows[1:]} == {
        currency
    }


# -- clean files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("country", COUNTRIES)
def test_clean_file_has_no_problems_and_every_phone_is_valid(country: str) -> None:
    rows = clean(country)
    assert [p for p in problems(rows, country) if p] == []
    recs = records(rows)
    phone, mobile, aval = (c for c in rows[0] if c in PHONE_COLUMNS)
    assert all(rec[phone] for rec in recs)
    assert 0.52 < sum(bool(rec[mobile]) for rec in recs) / len(recs) < 0.68
    assert 0.10 < sum(bool(rec[aval]) for rec in recs) / len(recs) < 0.20
    for rec in recs:
        for column in (phone, mobile, aval):
            if rec[column]:
                number = phonenumbers.parse(rec[column], country)
                assert phonenumbers.is_valid_number(number), rec[column]
                assert phonenumbers.region_code_for_number(number) == country, rec[column]


@pytest.mark.parametrize("country", ["CO", "CL", "PE"])
def test_mobile_column_holds_mobiles_and_phone_column_fixed_lines(country: str) -> None:
    recs = records(clean(country))
    kinds: Counter[tuple[str, int]] = Counter()
    for rec in recs:
        for column in ("telefono", "celular"):
            if rec[column]:
                kind = phonenumbers.number_type(phonenumbers.parse(rec[column], country))
                kinds[column, kind] += 1
    fixed = phonenumbers.PhoneNumberType.FIXED_LINE
    mobile = phonenumbers.PhoneNumberType.MOBILE
    either = phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE
    assert kinds["celular", fixed] == 0
    assert kinds["telefono", mobile] == 0
    assert kinds["celular", mobile] + kinds["celular", either] > 0


def test_phone_formats_vary_but_are_mostly_plain_digits() -> None:
    phones = [rec["telefono"] for rec in records(clean("MX"))]
    plain = sum(p.isdigit() and len(p) == 10 for p in phones)
    assert 0.65 < plain / len(phones) < 0.85
    assert any(p.startswith("+52 ") for p in phones)
    assert any(p.startswith("(") for p in phones)
    assert any(re.fullmatch(r"52 \d{10}", p) for p in phones)
    assert any(re.fullmatch(r"\d{2,3} \d{3,4} \d{4}", p) for p in phones)


def test_mexico_phones_cover_every_zone_and_the_tricky_area_codes() -> None:
    recs = records(clean("MX"))
    digits = [re.sub(r"\D", "", r["telefono"])[-10:] for r in recs]
    areas = geography.area_codes("MX")
    for tricky in ("614", "656", "626", "868", "664", "662", "998"):
        assert sum(d.startswith(tricky) for d in digits) >= 10, tricky
    zones = {a.zone for a in areas for d in digits if d.startswith(a.prefix)}
    assert zones == {a.zone for a in areas}


@pytest.mark.parametrize("country", COUNTRIES)
def test_address_follows_the_phone_area_mostly_and_is_resolvable(country: str) -> None:
    recs = records(clean(country))
    phone, state, city, postal = (
        ("phone", "state", "city", "zip")
        if country == "US"
        else ("telefono", "estado", "municipio", "cp")
    )
    areas = sorted(geography.area_codes(country), key=lambda a: -len(a.prefix))
    pattern = geography.postal_code_pattern(country)
    same = geographic = 0
    for rec in recs:
        sub = geography.resolve_subdivision(country, rec[state])
        assert sub is not None, rec[state]
        assert rec[city]
        assert pattern.fullmatch(rec[postal]), rec[postal]
        number = phonenumbers.parse(rec[phone], country)
        national = str(number.national_number)
        area = next(a for a in areas if national.startswith(a.prefix))
        if area.subdivision:
            geographic += 1
            same += area.subdivision == sub.code
    assert geographic > len(recs) / 2
    assert 0.80 < same / geographic < 0.92


def test_mexican_curps_have_correct_check_digits() -> None:
    recs = records(clean("MX"))
    curps = [rec["curp"] for rec in recs]
    for curp in curps:
        assert CURP.fullmatch(curp), curp
        assert int(curp[17]) == curp_check_digit(curp), curp
        month, day = int(curp[6:8]), int(curp[8:10])
        assert 1 <= month <= 12
        assert 1 <= day <= 31
    assert len(set(curps)) == len(curps)
    assert {c[10] for c in curps} == {"H", "M"}


def test_chilean_ruts_have_correct_check_digits() -> None:
    ruts = [rec["rut"] for rec in records(clean("CL"))]
    for rut in ruts:
        number, check = re.fullmatch(r"(\d{7,8})-([\dK])", rut).groups()  # type: ignore[union-attr]
        assert rut_check_digit(number) == check, rut
    assert len(set(ruts)) == len(ruts)
    assert any(r.endswith("-K") for r in ruts)


def test_colombian_and_peruvian_ids() -> None:
    cedulas = [rec["cedula"] for rec in records(clean("CO"))]
    dnis = [rec["dni"] for rec in records(clean("PE"))]
    assert all(c.isdigit() and 6 <= len(c) <= 10 and c[0] != "0" for c in cedulas)
    assert {len(c) for c in cedulas} >= {8, 10}
    assert all(d.isdigit() and len(d) == 8 for d in dnis)
    assert len(set(cedulas)) == len(cedulas)
    assert len(set(dnis)) == len(dnis)


@pytest.mark.parametrize("country", COUNTRIES)
def test_account_numbers_are_unique_with_the_country_prefix(country: str) -> None:
    rows = clean(country)
    numbers = [r[0] for r in rows[1:]]
    assert len(set(numbers)) == len(numbers)
    assert all(re.fullmatch(rf"{country}\d{{9}}", n) for n in numbers)


@pytest.mark.parametrize("country", COUNTRIES)
def test_days_past_due_match_the_due_date(country: str) -> None:
    recs = records(clean(country))
    due_col, days_col = (
        ("due_date", "days_past_due") if country == "US" else ("fecha_vencimiento", "dias_atraso")
    )
    future = 0
    for rec in recs:
        due = due_date(rec[due_col], country)
        late = (AS_OF - due).days
        assert int(rec[days_col]) == max(late, 0)
        if late < 0:
            future += 1
        else:
            assert 5 <= late <= 720
    assert 0.06 < future / len(recs) < 0.14


@pytest.mark.parametrize("country", COUNTRIES)
def test_balances_keep_one_unambiguous_decimal_style(country: str) -> None:
    column = "balance" if country == "US" else "saldo"
    balances = [rec[column] for rec in records(clean(country))]
    style = AMOUNT_COMMA if country in ("CO", "CL") else AMOUNT_DOT
    assert all(style.fullmatch(b) for b in balances), [
        b for b in balances if not style.fullmatch(b)
    ]
    values = sorted(amount(b, country) for b in balances)
    median = {"MX": 12_000, "CO": 2_500_000, "PE": 3_000, "CL": 800_000, "US": 1_500}[country]
    assert median / 2 < values[len(values) // 2] < median * 2
    assert any(not b[0].isdigit() for b in balances)  # some with a currency symbol
    assert sum(b.replace(",", "").replace(".", "").isdigit() for b in balances) > len(values) / 2


@pytest.mark.parametrize("country", ["MX", "CO", "PE", "CL"])
def test_latin_american_names_carry_accents_and_two_surnames(country: str) -> None:
    names = [rec["nombre_completo"] for rec in records(clean(country))]
    assert sum(not n.isascii() for n in names) / len(names) > 0.3
    assert any("ñ" in n.lower() for n in names)
    assert sum(len(n.split()) >= 3 for n in names) / len(names) > 0.8
    assert len(set(names)) > 0.95 * len(names)


def test_emails_consent_and_channels() -> None:
    mx, co, us = (records(clean(c)) for c in ("MX", "CO", "US"))
    emails = [r["correo"] for r in mx if r["correo"]]
    assert 0.4 < len(emails) / len(mx) < 0.6
    assert all(e.isascii() and re.fullmatch(r"[a-z0-9._]+@[a-z0-9.]+\.[a-z]+", e) for e in emails)
    assert {r["consentimiento"] for r in mx} == {"", "sms", "sms,voz_grabada"}
    assert {r["consent"] for r in us} == {"", "sms", "sms,prerecorded"}
    assert {r["canales_autorizados"] for r in mx} == {""}
    assert {r["authorized_channels"] for r in us} == {""}
    assert Counter(r["canales_autorizados"] for r in co).most_common(1)[0][0] == "voz,sms"
    assert {r["acreedor"] for r in mx} == {"Financiera Sierra Alta SA de CV"}
    custom = list(generate_portfolio(options(rows=3, creditor="Banco Ficticio")))
    assert {r[COLUMNS["MX"].index("acreedor")] for r in custom[1:]} == {"Banco Ficticio"}


# -- bad rows -------------------------------------------------------------------------------------


@pytest.mark.parametrize("country", COUNTRIES)
def test_bad_row_fraction_breaks_that_share_of_rows_one_way_each(country: str) -> None:
    rows = tuple(tuple(r) for r in generate_portfolio(options(country, bad_row_fraction=0.1)))
    found = problems(rows, country)
    broken = sum(bool(p) for p in found)
    assert 150 <= broken <= 250
    assert all(len(p) <= 1 for p in found)
    # Only the broken rows differ from the clean file of the same seed.
    changed = sum(a != b for a, b in zip(rows[1:], clean(country)[1:], strict=True))
    assert changed == broken
    assert rows[0] == clean(country)[0]


def test_every_kind_of_breakage_occurs() -> None:
    rows = tuple(tuple(r) for r in generate_portfolio(options("MX", bad_row_fraction=0.5)))
    kinds = Counter(
        "bad phone" if k.startswith("bad ") else k for p in problems(rows, "MX") for k in p
    )
    assert set(kinds) == {
        "empty account",
        "duplicate account",
        "balance not a number",
        "negative balance",
        "absurd balance",
        "impossible date",
        "bad phone",
        "email without @",
    }
    phones = {c for r in records(rows) for c in (r["telefono"], r["celular"], r["telefono_aval"])}
    assert "+1 212 555 0143" in phones
    assert "12345" in phones


def test_us_file_breaks_with_a_mexican_phone_and_month_first_dates() -> None:
    rows = tuple(tuple(r) for r in generate_portfolio(options("US", bad_row_fraction=0.5)))
    recs = records(rows)
    assert any(r["phone"] == "+52 55 1234 5678" or r["mobile"] == "+52 55 1234 5678" for r in recs)
    assert any(re.fullmatch(r"02/(29|30|31)/\d{4}", r["due_date"]) for r in recs)


# -- options and writing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rows": 0}, "rows"),
        ({"rows": -5}, "rows"),
        ({"rows": 10, "country": "AR"}, "country must be one of CL, CO, MX, PE, US"),
        ({"rows": 10, "country": "mx"}, "country"),
        ({"rows": 10, "bad_row_fraction": 0.6}, "bad_row_fraction must be between 0 and 0.5"),
        ({"rows": 10, "bad_row_fraction": -0.1}, "bad_row_fraction"),
        ({"rows": 10, "creditor": "  "}, "creditor"),
    ],
)
def test_invalid_options_are_refused_naming_the_option(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        GeneratorOptions(**kwargs)


def test_write_portfolio_writes_the_csv_and_reports_progress(tmp_path) -> None:
    out = tmp_path / "sub" / "cartera.csv"
    calls: list[int] = []
    opts = options("CO", rows=20_500, bad_row_fraction=0.01)
    assert write_portfolio(opts, out, progress=calls.append) == 20_500
    assert calls == [10_000, 20_000]
    with out.open(encoding="utf-8", newline="") as handle:
        read = [tuple(r) for r in csv.reader(handle)]
    assert read == [tuple(r) for r in generate_portfolio(opts)]
    assert out.read_bytes().startswith(b"numero_cuenta,nombre_completo,cedula,")


def test_default_as_of_is_today() -> None:
    rows = list(generate_portfolio(GeneratorOptions(rows=50, country="US")))
    today = datetime.now(UTC).astimezone().date()
    for row in rows[1:]:
        due = due_date(row[7], "US")
        assert int(row[8]) == max((today - due).days, 0)


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    rows=st.integers(min_value=1, max_value=60),
    country=st.sampled_from(COUNTRIES),
    fraction=st.sampled_from([0.0, 0.2, 0.5]),
)
def test_any_seed_gives_the_asked_rows_and_breaks_exactly_the_asked_share(
    seed: int, rows: int, country: str, fraction: float
) -> None:
    out = tuple(
        tuple(r)
        for r in generate_portfolio(
            options(country, rows=rows, seed=seed, bad_row_fraction=fraction)
        )
    )
    assert len(out) == rows + 1
    assert sum(bool(p) for p in problems(out, country)) == round(rows * fraction)
