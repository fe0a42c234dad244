"""Amount, date, id and channel parsing: examples from real exports plus properties."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.portfolio.values import (
    DateOrder,
    ValueProblem,
    decimal_evidence,
    normalise_token,
    parse_amount_minor,
    parse_channels,
    parse_date,
    parse_days_past_due,
    parse_email,
    parse_name,
    parse_national_id,
)

AS_OF = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("text", "decimal", "minor"),
    [
        ("$1,234.50", None, 123450),
        ("1.234,50", None, 123450),
        ("1234.5", None, 123450),
        ("1234", None, 123400),
        ("MXN 1,234,567.89", None, 123456789),
        ("S/. 3,000.00", None, 300000),
        ("1 234,50", None, 123450),
        ("1\u00a0234,50", None, 123450),
        ("$ 12.345.678", None, 1234567800),
        ("1,234", ".", 123400),
        ("1.234", ",", 123400),
        ("0,5", None, 50),
        ("(12.00)", None, -1200),
        ("-150.00", None, -15000),
    ],
)
def test_amounts_from_real_exports(text: str, decimal: str | None, minor: int) -> None:
    assert parse_amount_minor(text, decimal) == minor


@pytest.mark.parametrize(
    ("text", "decimal", "reason"),
    [
        ("1,234", None, "ambiguous"),
        ("1.234", None, "ambiguous"),
        ("1,234", ",", "more than two decimals"),
        ("12.3456", None, "more than two decimals"),
        ("abc", None, "not an amount"),
        ("1,2,3", None, "wrong places"),
        ("12,34.56", None, "unreadable"),
        ("", None, "not an amount"),
    ],
)
def test_ambiguous_or_impossible_amounts_are_errors(
    text: str, decimal: str | None, reason: str
) -> None:
    with pytest.raises(ValueProblem, match=reason):
        parse_amount_minor(text, decimal)


def _group(integer: int, sep: str) -> str:
    return f"{integer:,}".replace(",", sep)


@given(
    integer=st.integers(min_value=0, max_value=10**10),
    cents=st.integers(min_value=0, max_value=99),
    style=st.sampled_from(["us", "latam", "plain"]),
    symbol=st.sampled_from(["", "$", "$ ", "MXN "]),
)
def test_any_well_formed_amount_round_trips(
    integer: int, cents: int, style: str, symbol: str
) -> None:
    if style == "us":
        text, decimal = f"{symbol}{_group(integer, ',')}.{cents:02d}", "."
    elif style == "latam":
        text, decimal = f"{symbol}{_group(integer, '.')},{cents:02d}", ","
    else:
        text, decimal = f"{symbol}{integer}.{cents:02d}", "."
    assert parse_amount_minor(text, decimal) == integer * 100 + cents
    assert decimal_evidence(text) == decimal


@given(st.text(max_size=20))
def test_amount_parser_never_crashes(text: str) -> None:
    try:
        value = parse_amount_minor(text)
    except ValueProblem:
        return
    assert isinstance(value, int)


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("2024-02-29", DateOrder.DMY, date(2024, 2, 29)),
        ("05/03/2024", DateOrder.DMY, date(2024, 3, 5)),
        ("05/03/2024", DateOrder.MDY, date(2024, 5, 3)),
        ("5-3-24", DateOrder.DMY, date(2024, 3, 5)),
        ("05-03-99", DateOrder.DMY, date(1999, 3, 5)),
        ("2024-01-31 00:00:00", DateOrder.DMY, date(2024, 1, 31)),
        ("31.12.2025", DateOrder.DMY, date(2025, 12, 31)),
    ],
)
def test_dates(text: str, order: DateOrder, expected: date) -> None:
    assert parse_date(text, order, AS_OF) == expected


@pytest.mark.parametrize(
    ("text", "order", "reason"),
    [
        ("31/02/2024", DateOrder.DMY, "day 31 does not exist"),
        ("29/02/2023", DateOrder.DMY, "day 29 does not exist"),
        ("12/25/2024", DateOrder.DMY, "--date-order mdy"),
        ("25/12/2024", DateOrder.MDY, "--date-order dmy"),
        ("01/01/1960", DateOrder.DMY, "implausible"),
        ("2024/13/01", DateOrder.DMY, "month 13"),
        ("ayer", DateOrder.DMY, "not a date"),
        ("2024-01-31 10:30", DateOrder.DMY, "not a date"),
    ],
)
def test_bad_dates(text: str, order: DateOrder, reason: str) -> None:
    with pytest.raises(ValueProblem, match=reason):
        parse_date(text, order, AS_OF)


@given(st.dates(min_value=date(1970, 1, 1), max_value=date(2050, 12, 31)))
def test_any_date_round_trips_in_every_format(day: date) -> None:
    assert parse_date(day.isoformat(), DateOrder.DMY, AS_OF) == day
    assert parse_date(day.strftime("%d/%m/%Y"), DateOrder.DMY, AS_OF) == day
    assert parse_date(day.strftime("%m/%d/%Y"), DateOrder.MDY, AS_OF) == day
    if AS_OF - timedelta(days=365 * 70) < day <= date(2046, 12, 31):
        assert parse_date(day.strftime("%d-%m-%y"), DateOrder.DMY, AS_OF) == day


def test_days_past_due() -> None:
    assert parse_days_past_due("45") == 45
    assert parse_days_past_due("45.0") == 45
    for bad in ("-3", "4.5", "mucho", "99999"):
        with pytest.raises(ValueProblem):
            parse_days_past_due(bad)


def test_names_and_emails() -> None:
    assert parse_name("  María   José  Peña Núñez ") == "María José Peña Núñez"
    with pytest.raises(ValueProblem):
        parse_name("12")
    assert parse_email(" Ana.Pena@Example.MX ") == "ana.pena@example.mx"
    with pytest.raises(ValueProblem, match="e-mail"):
        parse_email("ana.pena.example.mx")


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("curp", "GOPG901231HDFNRL05", None),
        ("rut", "12.345.678-5", "12345678-5"),
        ("rut", "7654321-6", "7654321-6"),
        ("dni", "45678912", "45678912"),
        ("cedula", "1.020.304.050", "1020304050"),
        ("rfc", "GOPG901231AB1", "GOPG901231AB1"),
    ],
)
def test_national_ids(kind: str, text: str, expected: str | None) -> None:
    if kind == "curp":  # build a valid CURP: its check digit is computed, not hard-coded
        from campaigns.portfolio.values import _curp_check_digit

        text = text[:17] + str(_curp_check_digit(text))
        expected = text
    assert parse_national_id(kind, text) == expected


@pytest.mark.parametrize(
    ("kind", "text", "reason"),
    [
        ("rut", "12.345.678-9", "check digit"),
        ("curp", "XXXX", "not a CURP"),
        ("dni", "1234", "8 digits"),
        ("rfc", "GOPG991399AB1", "not an RFC"),
    ],
)
def test_bad_national_ids(kind: str, text: str, reason: str) -> None:
    with pytest.raises(ValueProblem, match=reason):
        parse_national_id(kind, text)


def test_wrong_curp_check_digit() -> None:
    from campaigns.portfolio.values import _curp_check_digit

    base = "GOPG901231HDFNRL0"
    wrong = (_curp_check_digit(base + "0") + 1) % 10
    with pytest.raises(ValueProblem, match="check digit"):
        parse_national_id("curp", base + str(wrong))


def test_channels() -> None:
    assert parse_channels("SMS, Voz grabada") == ("sms", "voice_prerecorded")
    assert parse_channels("whatsapp|correo") == ("email", "whatsapp")
    with pytest.raises(ValueProblem, match="unknown channel 'paloma'"):
        parse_channels("sms, paloma")


def test_normalise_token() -> None:
    assert normalise_token(" Teléfono  Aval-2 ") == "telefono_aval_2"
    assert normalise_token("Días de Atraso") == "dias_de_atraso"
