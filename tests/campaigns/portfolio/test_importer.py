"""End-to-end imports into real SQLite and PostgreSQL databases: what loads, what is rejected
and why, idempotent re-imports, strict mode, and the parallel path."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from campaigns.db import NotMigratedError
from campaigns.models import Account, Address, Debtor, ImportRun, Phone, Segment
from campaigns.portfolio.errors import HeaderError
from campaigns.portfolio.generator import GeneratorOptions, write_portfolio
from campaigns.portfolio.importer import ImportOptions, ImportReport, import_portfolio
from campaigns.portfolio.values import _curp_check_digit

AS_OF = date(2026, 11, 25)
LIMITS = {"MXN": 20_000_000, "USD": 5_000_000, "COP": 5_000_000_000}


def curp(base17: str) -> str:
    return base17 + str(_curp_check_digit(base17))


CURP_A = curp("PEGJ800101HDFRRN0")
CURP_B = curp("LOMA750505MCHPRR0")

HEADER = "numero_cuenta,nombre_completo,curp,telefono,celular,telefono_aval,saldo,fecha_vencimiento,dias_atraso,estado,municipio,cp\n"
GOOD_ROWS = [
    f'MX001,José Peña Núñez,{CURP_A},5512345678,,,"$1,234.50",01/10/2026,55,CDMX,Cuauhtémoc,06000\n',
    f"MX002,Ana López Muñoz,{CURP_B},(614) 123-4567,6561234567,,800.00,2026-11-01,,Chihuahua,Juárez,32000\n",
    f"MX003,José Peña Núñez,{CURP_A},5512345678,5587654321,8681234567,15000,15/08/2026,,Ciudad de México,,6000\n",
]
BAD_ROWS = [
    "MX004,Pedro Ruiz,,5512345670,,,-150.00,01/10/2026,,CDMX,,\n",
    "MX005,Luz Mar,,+1 212 555 0143,,,100.00,31/02/2026,,CDMX,,\n",
    ",Sin Cuenta,,5512345671,,,100.00,01/10/2026,,CDMX,,\n",
    "MX006,Eva Sol,,5512345672,,,999999999999,01/10/2026,,Narnia,,\n",
]


def write(tmp_path: Path, rows: list[str], name: str = "cartera.csv", header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text(header + "".join(rows), encoding="utf-8")
    return path


async def run(engine: AsyncEngine, path: Path, **kwargs: object) -> ImportReport:
    options = ImportOptions(
        path=path,
        country=str(kwargs.pop("country", "MX")),
        creditor="ACME",
        as_of=AS_OF,
        max_balance=LIMITS,
        **kwargs,  # type: ignore[arg-type]
    )
    return await import_portfolio(engine, options)


async def count(engine: AsyncEngine, model: type) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(model))).scalar_one())


async def test_messy_file_loads_good_rows_and_reports_bad_ones(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    report = await run(engine, write(tmp_path, GOOD_ROWS + BAD_ROWS))
    assert report.committed
    assert (report.imported, report.updated, report.rejected) == (3, 0, 4)
    problems = {(e.row, e.column): e.reason for e in report.errors}
    assert "negative balance" in problems[(5, "saldo")]
    assert "phone number of US" in problems[(6, "telefono")]
    assert "day 31 does not exist" in problems[(6, "fecha_vencimiento")]
    assert "account number is empty" in problems[(7, "numero_cuenta")]
    assert "believable maximum" in problems[(8, "saldo")]
    assert "'Narnia' is not a state" in problems[(8, "estado")]
    assert report.to_json()["errors"][0] == {
        "row": 5,
        "column": "saldo",
        "reason": problems[(5, "saldo")],
    }

    async with AsyncSession(engine) as conn:
        accounts = {a.account_number: a for a in (await conn.execute(select(Account))).scalars()}
        assert set(accounts) == {"MX001", "MX002", "MX003"}
        assert accounts["MX001"].balance == Decimal("1234.50")
        assert accounts["MX001"].due_date == date(2026, 10, 1)
        assert accounts["MX002"].days_past_due == 24  # computed from the due date
        assert accounts["MX001"].created_at.tzinfo is UTC
        # Two debts of one person (same CURP) → one debtor.
        assert accounts["MX001"].debtor_id == accounts["MX003"].debtor_id
        debtors = {d.id: d for d in (await conn.execute(select(Debtor))).scalars()}
        assert len(debtors) == 2
        assert debtors[accounts["MX001"].debtor_id].full_name == "José Peña Núñez"
        segment = (
            await conn.execute(select(Segment).where(Segment.id == accounts["MX001"].segment_id))
        ).scalar_one()
        assert segment.code == "dpd_031_060"
        phones = {p.e164: p for p in (await conn.execute(select(Phone))).scalars()}
        assert set(phones) == {
            "+525512345678",
            "+526141234567",
            "+526561234567",
            "+525587654321",
            "+528681234567",
        }
        chihuahua = phones["+526141234567"]
        # The library says Mazatlán for 614; the override table and the address add the truth.
        assert "America/Chihuahua" in chihuahua.candidate_zones
        assert "America/Ciudad_Juarez" in chihuahua.candidate_zones  # address: Juárez
        assert any(
            s.startswith("prefix_override:") for s in chihuahua.zone_sources["America/Chihuahua"]
        )
        assert phones["+528681234567"].role == "aval"
        assert "America/Matamoros" in phones["+528681234567"].candidate_zones
        assert phones["+526561234567"].line_type == "mobile"  # column "celular"
        address = (
            await conn.execute(
                select(Address).where(Address.debtor_id == accounts["MX001"].debtor_id)
            )
        ).scalar_one()
        assert address.subdivision == "MX-CMX"
        assert address.postal_code == "06000"
        run_row = (await conn.execute(select(ImportRun))).scalar_one()
        assert (run_row.status, run_row.imported, run_row.rejected) == ("committed", 3, 4)


async def test_reimport_is_idempotent_updates_changes_and_keeps_vanished(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    first = await run(engine, write(tmp_path, GOOD_ROWS))
    assert first.imported == 3
    again = await run(engine, write(tmp_path, GOOD_ROWS))
    assert (again.imported, again.updated, again.unchanged, again.vanished) == (0, 0, 3, 0)
    changed = [GOOD_ROWS[0].replace('"$1,234.50"', "999.99"), GOOD_ROWS[1]]
    third = await run(engine, write(tmp_path, changed))
    assert (third.imported, third.updated, third.unchanged, third.vanished) == (0, 1, 1, 1)
    assert await count(engine, Account) == 3  # MX003 vanished from the file, not from the data
    async with engine.connect() as conn:
        balance = (
            await conn.execute(select(Account.balance).where(Account.account_number == "MX001"))
        ).scalar_one()
    assert balance == Decimal("999.99")


async def test_new_phone_for_known_account_is_an_update(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await run(engine, write(tmp_path, GOOD_ROWS[1:2]))
    with_new_phone = GOOD_ROWS[1].replace(",6561234567,,", ",6561234567,8681234567,")
    report = await run(engine, write(tmp_path, [with_new_phone]))
    assert (report.updated, report.unchanged) == (1, 0)
    assert await count(engine, Phone) == 3


async def test_strict_mode_changes_nothing(engine: AsyncEngine, tmp_path: Path) -> None:
    await run(engine, write(tmp_path, GOOD_ROWS[:1]))
    before = [await count(engine, m) for m in (Debtor, Account, Phone, Address, ImportRun)]
    report = await run(engine, write(tmp_path, GOOD_ROWS + BAD_ROWS[:1]), strict=True)
    assert not report.committed
    assert report.rejected == 1
    assert report.errors[0].row == 5
    after = [await count(engine, m) for m in (Debtor, Account, Phone, Address, ImportRun)]
    assert after == before


async def test_duplicated_account_numbers_reject_every_occurrence(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    rows = [GOOD_ROWS[0], GOOD_ROWS[1], GOOD_ROWS[1].replace("800.00", "900.00")]
    report = await run(engine, write(tmp_path, rows))
    assert report.imported == 1
    assert sorted(e.row for e in report.errors) == [3, 4]
    assert all("appears in rows 3, 4" in e.reason for e in report.errors)


async def test_semicolon_cp1252_decimal_comma(engine: AsyncEngine, tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(
        (
            "No. Cuenta;Nombre;Teléfono;Monto Adeudado;Vencimiento\r\n"
            "C1;María Peña;3001234567;1.234,50;15/09/2026\r\n"
            "C2;Íñigo Núñez;3101234567;2.500,00;15/09/2026\r\n"
            "C3;Zoe Díaz;3201234567;1,234;15/09/2026\r\n"
        ).encode("cp1252")
    )
    report = await run(engine, path, country="CO")
    assert (report.encoding, report.delimiter, report.decimal_separator) == ("cp1252", ";", ",")
    assert report.imported == 2
    assert "more than two decimals" in report.errors[0].reason  # 1,234 in a decimal-comma file
    async with engine.connect() as conn:
        names = set((await conn.execute(select(Debtor.full_name))).scalars())
        currencies = set((await conn.execute(select(Account.currency))).scalars())
    assert names == {"María Peña", "Íñigo Núñez"}
    assert currencies == {"COP"}


async def test_ambiguous_amounts_without_evidence_are_errors(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        ["A1,Ana Ruiz,5512345678,1.500\n", "A2,Eva Sol,5512345679,2000\n"],
        header="cuenta,nombre,telefono,saldo\n",
    )
    report = await run(engine, path)
    assert report.imported == 1
    assert "ambiguous" in report.errors[0].reason
    dotted = await run(engine, path, decimal=".")  # 1.500 would be 1.5 with three decimals
    assert dotted.errors
    assert "more than two decimals" in dotted.errors[0].reason
    thousands = await run(engine, path, decimal=",")  # the dot groups thousands: 1500
    assert (thousands.imported, thousands.unchanged, thousands.errors) == (1, 1, [])
    async with engine.connect() as conn:
        balance = (
            await conn.execute(select(Account.balance).where(Account.account_number == "A1"))
        ).scalar_one()
    assert balance == Decimal("1500.00")


async def test_unmigrated_database_is_refused(empty_engine: AsyncEngine, tmp_path: Path) -> None:
    with pytest.raises(NotMigratedError, match=r"main\.py db upgrade"):
        await run(empty_engine, write(tmp_path, GOOD_ROWS))


async def test_header_without_phone_is_refused_before_touching_the_database(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    path = write(tmp_path, ["A1,Ana,100\n"], header="cuenta,nombre,saldo\n")
    with pytest.raises(HeaderError, match="no phone column"):
        await run(engine, path)
    assert await count(engine, ImportRun) == 0


async def test_parallel_workers_load_exactly_what_one_process_loads(
    tmp_path: Path, sqlite_engine: AsyncEngine
) -> None:
    path = tmp_path / "big.csv"
    write_portfolio(
        GeneratorOptions(rows=3000, country="MX", seed=3, bad_row_fraction=0.05, as_of=AS_OF), path
    )
    parallel = await run(sqlite_engine, path, workers=2, parallel_from_rows=1000, batch_rows=500)
    assert parallel.workers == 2
    from campaigns import db

    other = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'seq.db'}")
    await db.upgrade(other)
    try:
        sequential = await run(other, path, workers=1)
        assert sequential.workers == 0
        assert (parallel.imported, parallel.rejected) == (sequential.imported, sequential.rejected)
        assert parallel.errors == sequential.errors
        assert parallel.imported > 2500

        async def snapshot(engine: AsyncEngine) -> list[tuple[object, ...]]:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    select(
                        Account.account_number, Account.balance, Phone.e164, Phone.candidate_zones
                    )
                    .join(Phone, Phone.debtor_id == Account.debtor_id)
                    .order_by(Account.account_number, Phone.e164)
                )
                return [tuple(json.dumps(v) if isinstance(v, list) else v for v in r) for r in rows]

        assert await snapshot(sqlite_engine) == await snapshot(other)
    finally:
        await other.dispose()


async def test_rows_written_by_the_fast_path_read_back_through_the_orm(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await run(engine, write(tmp_path, GOOD_ROWS[:1]))
    async with AsyncSession(engine) as conn:
        phone = (await conn.execute(select(Phone))).scalars().first()
        account = (await conn.execute(select(Account))).scalar_one()
    assert phone is not None
    assert isinstance(phone.zone_sources, dict)
    assert phone.consent_channels == []
    assert phone.authorized_channels is None
    assert isinstance(account.updated_at, datetime)
    assert account.updated_at.tzinfo is UTC
    assert account.status == "active"
