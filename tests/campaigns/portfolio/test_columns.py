"""Header recognition (es/en variants, phones with roles) and mapping files."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaigns.enums import LineType, PhoneRole, Provenance
from campaigns.portfolio.columns import load_mapping, plan_columns
from campaigns.portfolio.errors import HeaderError, MappingError


def test_spanish_headers_with_accents_and_numbered_phones() -> None:
    plan = plan_columns(
        [
            "Número de Cuenta",
            "Nombre Completo",
            "CURP",
            "Teléfono",
            "Celular",
            "Teléfono Aval 2",
            "tel_ref1",
            "Numero Telefono Obligado Solidario",
            "Tel Casa",
            "Saldo",
            "Fecha Vencimiento",
            "Días Atraso",
            "Entidad",
            "Municipio",
            "C.P.",
            "Correo",
            "Observaciones",
        ]
    )
    assert plan.fields["account_number"] == 0
    assert plan.fields["balance"] == 9
    assert plan.fields["state"] == 12
    assert plan.fields["postal_code"] == 14
    assert plan.national_ids == (("curp", 2),)
    roles = {p.header: (p.role, p.line_type) for p in plan.phones}
    assert roles == {
        "Teléfono": (PhoneRole.DEBTOR, None),
        "Celular": (PhoneRole.DEBTOR, LineType.MOBILE),
        "Teléfono Aval 2": (PhoneRole.AVAL, None),
        "tel_ref1": (PhoneRole.REFERENCE, None),
        "Numero Telefono Obligado Solidario": (PhoneRole.OBLIGADO_SOLIDARIO, None),
        "Tel Casa": (PhoneRole.DEBTOR, LineType.FIXED_LINE),
    }
    assert plan.ignored == ("Observaciones",)


def test_english_headers_and_split_names() -> None:
    plan = plan_columns(
        ["account_number", "first_name", "last_name", "phone", "cosigner_phone", "balance", "zip"]
    )
    assert {"given_names", "surname_1", "postal_code"} <= set(plan.fields)
    assert [p.role for p in plan.phones] == [PhoneRole.DEBTOR, PhoneRole.CODEUDOR]


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (["cuenta", "nombre", "saldo"], "no phone column"),
        (["cuenta", "nombre", "telefono"], "no balance column"),
        (["nombre", "telefono", "saldo"], "no account_number column"),
        (["cuenta", "telefono", "saldo"], "no name column"),
        (["cuenta", "nombre", "telefono", "saldo", "monto"], "two columns hold balance"),
        (["cuenta", "nombre", "telefono", "saldo", "Saldo "], "appears twice"),
    ],
)
def test_header_problems_say_what_and_where(headers: list[str], message: str) -> None:
    with pytest.raises(HeaderError, match=message):
        plan_columns(headers)


def test_mapping_file_overrides_the_guess(tmp_path: Path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text(
        "columns:\n"
        "  NUM CRED: account_number\n"
        "  CLIENTE X: name\n"
        "  TEL LOCALIZADO: {field: phone, role: debtor, provenance: skip_trace}\n"
        "  SALDO TOTAL: balance\n"
        "  monto: ignore\n"
        "decimal: ','\n"
        "date_order: dmy\n",
        encoding="utf-8",
    )
    mapping = load_mapping(path)
    plan = plan_columns(
        ["NUM CRED", "CLIENTE X", "TEL LOCALIZADO", "SALDO TOTAL", "monto"], mapping
    )
    assert plan.fields == {"account_number": 0, "name": 1, "balance": 3}
    assert plan.phones[0].provenance is Provenance.SKIP_TRACE
    assert plan.ignored == ("monto",)
    assert mapping.decimal == ","


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("columns:\n  A: saldo_raro\n", "unknown field 'saldo_raro'"),
        ("columns:\n  A: {field: phone, role: primo}\n", "role"),
        ("cols: {}\n", "must have a `columns:`"),
        ("columns: {A: name}\nextra: 1\n", "unknown key"),
        ("columns: {A: name}\ndecimal: x\n", "decimal must be"),
        ("columns: [\n", "not valid YAML"),
    ],
)
def test_bad_mapping_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "map.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError, match=message):
        load_mapping(path)


def test_mapping_naming_a_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text("columns:\n  NO EXISTE: name\n", encoding="utf-8")
    with pytest.raises(HeaderError, match="'NO EXISTE'"):
        plan_columns(["cuenta", "nombre", "telefono", "saldo"], load_mapping(path))
