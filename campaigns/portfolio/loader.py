"""Writes validated portfolio records: inserts new accounts fast, upserts known ones.

New rows go in with pre-allocated ids and one multi-row statement per table and batch (the
SQLite path skips the ORM's per-value processing, using the storage formats SQLAlchemy itself
reads back); known accounts (same creditor and number) are compared and updated in place.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, bindparam, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from campaigns.models import Account, Address, Base, Debtor, Phone
from campaigns.portfolio.rows import PhoneRecord, RowRecord
from campaigns.segments import bucket_for

__all__ = ["LoadCounts", "PortfolioWriter"]

_TABLES = Base.metadata.tables
DEBTORS, ACCOUNTS, ADDRESSES, PHONES = (
    _TABLES["debtors"],
    _TABLES["accounts"],
    _TABLES["addresses"],
    _TABLES["phones"],
)

_DEBTOR_COLS = (
    "id",
    "country",
    "national_id",
    "national_id_kind",
    "full_name",
    "email",
    "created_at",
    "updated_at",
)
_ACCOUNT_COLS = (
    "id",
    "debtor_id",
    "creditor",
    "account_number",
    "product",
    "balance",
    "currency",
    "due_date",
    "days_past_due",
    "status",
    "segment_id",
    "last_import_id",
    "created_at",
    "updated_at",
)
_ADDRESS_COLS = (
    "id",
    "debtor_id",
    "kind",
    "country",
    "subdivision",
    "municipality",
    "postal_code",
    "street",
    "zones",
    "created_at",
    "updated_at",
)
_PHONE_COLS = (
    "id",
    "debtor_id",
    "e164",
    "line_type",
    "role",
    "provenance",
    "consent_channels",
    "authorized_channels",
    "candidate_zones",
    "zone_sources",
    "source_column",
    "created_at",
    "updated_at",
)


@dataclass
class LoadCounts:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    creditors: set[str] = field(default_factory=set)


class _Encoding:
    """Values as the database driver takes them: SQLite gets SQLAlchemy's storage formats."""

    def __init__(self, sqlite: bool, now: datetime) -> None:
        self.sqlite = sqlite
        self.now: Any = now.replace(tzinfo=None).isoformat(" ", "microseconds") if sqlite else now

    def day(self, value: date | None) -> Any:
        return value.isoformat() if self.sqlite and value is not None else value

    def money(self, minor: int) -> Any:
        return minor if self.sqlite else Decimal(minor).scaleb(-2)

    def json(self, encoded: str | None) -> Any:
        """JSON text as the driver takes it: as is for SQLite, decoded for SQLAlchemy's JSON."""
        if self.sqlite or encoded is None:
            return encoded
        return json.loads(encoded)


def _address_present(rec: RowRecord) -> bool:
    return any((rec.subdivision, rec.municipality, rec.postal_code, rec.street))


class PortfolioWriter:
    """Writes batches of records inside the caller's transaction (one per import)."""

    def __init__(
        self,
        conn: AsyncConnection,
        *,
        country: str,
        import_id: int,
        segments: dict[str, int],
        now: datetime,
    ) -> None:
        self.conn = conn
        self.country = country
        self.import_id = import_id
        self.segments = segments
        self.now = now
        self.sqlite = conn.dialect.name == "sqlite"
        self.enc = _Encoding(self.sqlite, now)
        self.counts = LoadCounts()
        self._next_id: dict[str, int] = {}
        # Debtors whose phones and address this import already wrote: for a person with several
        # rows, the first row wins and later rows only add phones, so re-imports are stable.
        self._written: set[int] = set()
        self._empty_creditor: dict[str, bool] = {}

    # -- ids and bulk inserts ---------------------------------------------------------------------

    async def _ids(self, table: str, n: int) -> list[int]:
        """Reserve `n` primary keys. SQLite: the import holds the write lock, so max(id) is ours."""
        if n == 0:
            return []
        if not self.sqlite:
            rows = await self.conn.execute(
                text(f"SELECT nextval('{table}_id_seq') FROM generate_series(1, :n)"), {"n": n}
            )
            return [r[0] for r in rows]
        if table not in self._next_id:
            result = await self.conn.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table}")
            self._next_id[table] = int(result.scalar_one()) + 1
        start = self._next_id[table]
        self._next_id[table] = start + n
        return list(range(start, start + n))

    async def _insert(
        self, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
    ) -> None:
        if not rows:
            return
        if self.sqlite:
            marks = ",".join("?" * len(columns))
            sql = f"INSERT INTO {table.name} ({','.join(columns)}) VALUES ({marks})"
            await self.conn.exec_driver_sql(sql, rows)
        else:
            await self.conn.execute(
                table.insert(), [dict(zip(columns, r, strict=True)) for r in rows]
            )

    def _segment_id(self, days_past_due: int | None) -> int | None:
        bucket = bucket_for(days_past_due)
        return None if bucket is None else self.segments[bucket.code]

    def _phone_row(self, phone_id: int, debtor_id: int, p: PhoneRecord) -> tuple[Any, ...]:
        enc = self.enc
        return (
            phone_id,
            debtor_id,
            p.e164,
            p.line_type,
            p.role,
            p.provenance,
            enc.json(p.consent_json),
            enc.json(p.authorized_json),
            enc.json(p.zones_json),
            enc.json(p.zone_sources_json),
            p.source_column,
            enc.now,
            enc.now,
        )

    def _address_row(self, address_id: int, debtor_id: int, r: RowRecord) -> tuple[Any, ...]:
        enc = self.enc
        return (
            address_id,
            debtor_id,
            "home",
            self.country,
            r.subdivision,
            r.municipality,
            r.postal_code,
            r.street,
            enc.json(r.address_zones_json),
            enc.now,
            enc.now,
        )

    # -- the batch --------------------------------------------------------------------------------

    async def write(self, records: Sequence[RowRecord]) -> None:
        """Insert or update one batch of records (account numbers unique within the file)."""
        existing = await self._existing_accounts(records)
        new = [r for r in records if (r.creditor, r.account_number) not in existing]
        known = [r for r in records if (r.creditor, r.account_number) in existing]
        self.counts.creditors.update(r.creditor for r in records)
        if new:
            await self._insert_new(new)
        if known:
            await self._update_known(known, existing)

    async def _existing_accounts(self, records: Sequence[RowRecord]) -> dict[tuple[str, str], Any]:
        by_creditor: dict[str, list[str]] = {}
        for r in records:
            by_creditor.setdefault(r.creditor, []).append(r.account_number)
        found: dict[tuple[str, str], Any] = {}
        for creditor, numbers in by_creditor.items():
            if await self._creditor_was_empty(creditor):
                continue  # account numbers are unique within a file: all of these are new
            rows = await self.conn.execute(
                select(Account).where(
                    Account.creditor == creditor, Account.account_number.in_(numbers)
                )
            )
            for row in rows:
                found[(row.creditor, row.account_number)] = row
        return found

    async def _creditor_was_empty(self, creditor: str) -> bool:
        """Whether the creditor had no accounts when this import first met it."""
        if creditor not in self._empty_creditor:
            result = await self.conn.execute(
                select(Account.id).where(Account.creditor == creditor).limit(1)
            )
            self._empty_creditor[creditor] = result.first() is None
        return self._empty_creditor[creditor]

    async def _debtors_by_national_id(self, ids: Iterable[str]) -> dict[str, int]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        rows = await self.conn.execute(
            select(Debtor.national_id, Debtor.id).where(
                Debtor.country == self.country, Debtor.national_id.in_(wanted)
            )
        )
        return {nid: did for nid, did in rows if nid is not None}

    async def _insert_new(self, new: Sequence[RowRecord]) -> None:
        enc = self.enc
        known_people = await self._debtors_by_national_id(
            r.national_id for r in new if r.national_id
        )
        # One debtor per national id (several debts of one person), else one per row.
        debtor_of: list[int] = []
        fresh: list[RowRecord] = []
        batch_people: dict[str, int] = {}
        pending: list[tuple[int, RowRecord]] = []
        for r in new:
            nid = r.national_id
            if nid is not None and nid in known_people:
                debtor_of.append(known_people[nid])
            elif nid is not None and nid in batch_people:
                debtor_of.append(batch_people[nid])
            else:
                debtor_of.append(-1)
                pending.append((len(debtor_of) - 1, r))
                fresh.append(r)
                if nid is not None:
                    batch_people[nid] = -1
        ids = await self._ids("debtors", len(fresh))
        debtor_rows = []
        for (position, r), debtor_id in zip(pending, ids, strict=True):
            debtor_of[position] = debtor_id
            if r.national_id is not None:
                batch_people[r.national_id] = debtor_id
            debtor_rows.append(
                (
                    debtor_id,
                    self.country,
                    r.national_id,
                    r.national_id_kind,
                    r.name,
                    r.email,
                    enc.now,
                    enc.now,
                )
            )
        for position, r in enumerate(new):
            if debtor_of[position] == -1:  # second debt of a person first seen in this batch
                debtor_of[position] = batch_people[r.national_id or ""]
        await self._insert(DEBTORS, _DEBTOR_COLS, debtor_rows)

        account_ids = await self._ids("accounts", len(new))
        account_rows = [
            (
                account_id,
                debtor_id,
                r.creditor,
                r.account_number,
                r.product,
                enc.money(r.balance_minor),
                r.currency,
                enc.day(r.due_date),
                r.days_past_due,
                r.status,
                self._segment_id(r.days_past_due),
                self.import_id,
                enc.now,
                enc.now,
            )
            for account_id, debtor_id, r in zip(account_ids, debtor_of, new, strict=True)
        ]
        await self._insert(ACCOUNTS, _ACCOUNT_COLS, account_rows)

        # Phones and address: a person seen before keeps theirs and gets the new ones merged.
        fresh_ids = set(ids)
        self._written.update(fresh_ids)
        old_people = [(d, r) for d, r in zip(debtor_of, new, strict=True) if d not in fresh_ids]
        if old_people:
            await self._merge_contact_points(old_people)
        first_of: dict[int, RowRecord] = {}
        for d, r in zip(debtor_of, new, strict=True):
            if d in fresh_ids:
                first_of.setdefault(d, r)
        with_address = [(d, r) for d, r in first_of.items() if _address_present(r)]
        address_ids = await self._ids("addresses", len(with_address))
        await self._insert(
            ADDRESSES,
            _ADDRESS_COLS,
            [
                self._address_row(a, d, r)
                for a, (d, r) in zip(address_ids, with_address, strict=True)
            ],
        )
        phones: dict[tuple[int, str], PhoneRecord] = {}
        for d, r in zip(debtor_of, new, strict=True):
            if d in fresh_ids:
                for p in r.phones:
                    phones.setdefault((d, p.e164), p)
        phone_ids = await self._ids("phones", len(phones))
        await self._insert(
            PHONES,
            _PHONE_COLS,
            [
                self._phone_row(pid, d, p)
                for pid, ((d, _), p) in zip(phone_ids, phones.items(), strict=True)
            ],
        )
        self.counts.imported += len(new)

    async def _merge_contact_points(self, people: Sequence[tuple[int, RowRecord]]) -> set[int]:
        """Add new phones, refresh changed ones and the address; return debtors that changed."""
        debtor_ids = sorted({d for d, _ in people})
        current_phones = {
            (row.debtor_id, row.e164): row
            for row in await self.conn.execute(select(Phone).where(Phone.debtor_id.in_(debtor_ids)))
        }
        current_addresses = {
            row.debtor_id: row
            for row in await self.conn.execute(
                select(Address).where(Address.debtor_id.in_(debtor_ids), Address.kind == "home")
            )
        }
        changed: set[int] = set()
        new_phones: dict[tuple[int, str], PhoneRecord] = {}
        phone_updates: list[dict[str, Any]] = []
        address_updates: list[dict[str, Any]] = []
        new_addresses: dict[int, RowRecord] = {}
        for debtor_id, r in people:
            first = debtor_id not in self._written
            self._written.add(debtor_id)
            for p in r.phones:
                key = (debtor_id, p.e164)
                old = current_phones.get(key)
                if old is None:
                    if key not in new_phones:
                        new_phones[key] = p
                        changed.add(debtor_id)
                    continue
                if not first:
                    continue
                fresh = {
                    "line_type": p.line_type,
                    "role": p.role,
                    "provenance": p.provenance,
                    "consent_channels": list(p.consent),
                    "authorized_channels": None if p.authorized is None else list(p.authorized),
                    "candidate_zones": list(p.zones),
                    "zone_sources": json.loads(p.zone_sources_json),
                }
                if any(getattr(old, k) != v for k, v in fresh.items()):
                    phone_updates.append({"b_id": old.id, **fresh, "updated_at": self.now})
                    changed.add(debtor_id)
            if not _address_present(r):
                continue
            address = {
                "subdivision": r.subdivision,
                "municipality": r.municipality,
                "postal_code": r.postal_code,
                "street": r.street,
                "zones": list(r.address_zones),
            }
            old_address = current_addresses.get(debtor_id)
            if old_address is None:
                if debtor_id not in new_addresses:
                    new_addresses[debtor_id] = r
                    changed.add(debtor_id)
            elif first and any(getattr(old_address, k) != v for k, v in address.items()):
                address_updates.append({"b_id": old_address.id, **address, "updated_at": self.now})
                changed.add(debtor_id)
        phone_ids = await self._ids("phones", len(new_phones))
        await self._insert(
            PHONES,
            _PHONE_COLS,
            [
                self._phone_row(pid, d, p)
                for pid, ((d, _), p) in zip(phone_ids, new_phones.items(), strict=True)
            ],
        )
        address_ids = await self._ids("addresses", len(new_addresses))
        await self._insert(
            ADDRESSES,
            _ADDRESS_COLS,
            [
                self._address_row(a, d, r)
                for a, (d, r) in zip(address_ids, new_addresses.items(), strict=True)
            ],
        )
        for table, updates in (
            (PHONES, phone_updates),
            (ADDRESSES, address_updates),
        ):
            if updates:
                columns: dict[str, Any] = {k: bindparam(k) for k in updates[0] if k != "b_id"}
                stmt = update(table).where(table.c.id == bindparam("b_id")).values(columns)
                await self.conn.execute(stmt, updates)
        return changed

    async def _update_known(
        self, known: Sequence[RowRecord], existing: dict[tuple[str, str], Any]
    ) -> None:
        account_updates: list[dict[str, Any]] = []
        debtor_updates: list[dict[str, Any]] = []
        touched: list[int] = []
        people: list[tuple[int, RowRecord]] = []
        debtors = {
            row.id: row
            for row in await self.conn.execute(
                select(Debtor).where(
                    Debtor.id.in_(
                        {existing[(r.creditor, r.account_number)].debtor_id for r in known}
                    )
                )
            )
        }
        changed_accounts: set[int] = set()
        for r in known:
            old = existing[(r.creditor, r.account_number)]
            fresh = {
                "product": r.product,
                "balance": Decimal(r.balance_minor).scaleb(-2),
                "currency": r.currency,
                "due_date": r.due_date,
                "days_past_due": r.days_past_due,
                "status": r.status,
                "segment_id": self._segment_id(r.days_past_due),
            }
            if any(getattr(old, k) != v for k, v in fresh.items()):
                account_updates.append(
                    {
                        "b_id": old.id,
                        **fresh,
                        "last_import_id": self.import_id,
                        "updated_at": self.now,
                    }
                )
                changed_accounts.add(old.id)
            else:
                touched.append(old.id)  # only its last_import_id moves on
            person = debtors[old.debtor_id]
            fresh_person = {"full_name": r.name, "email": r.email or person.email}
            if r.national_id and person.national_id is None:
                fresh_person |= {
                    "national_id": r.national_id,
                    "national_id_kind": r.national_id_kind,
                }
            if any(getattr(person, k) != v for k, v in fresh_person.items()):
                debtor_updates.append({"b_id": person.id, **fresh_person, "updated_at": self.now})
                changed_accounts.add(old.id)
            people.append((old.debtor_id, r))
        changed_people = await self._merge_contact_points(people)
        changed_accounts.update(
            existing[(r.creditor, r.account_number)].id
            for r in known
            if existing[(r.creditor, r.account_number)].debtor_id in changed_people
        )
        for table, updates in (
            (ACCOUNTS, account_updates),
            (DEBTORS, debtor_updates),
        ):
            if updates:
                for keys in {tuple(u) for u in updates}:
                    group = [u for u in updates if tuple(u) == keys]
                    columns: dict[str, Any] = {k: bindparam(k) for k in keys if k != "b_id"}
                    stmt = update(table).where(table.c.id == bindparam("b_id")).values(columns)
                    await self.conn.execute(stmt, group)
        if touched:
            await self.conn.execute(
                update(Account)
                .where(Account.id == bindparam("b_id"))
                .values(last_import_id=self.import_id),
                [{"b_id": account_id} for account_id in touched],
            )
        self.counts.updated += len(changed_accounts)
        self.counts.unchanged += len(known) - len(changed_accounts)

    async def vanished(self) -> int:
        """Accounts of this file's creditors that the file no longer lists (kept, not deleted)."""
        if not self.counts.creditors:
            return 0
        result = await self.conn.execute(
            select(func.count(Account.id)).where(
                Account.creditor.in_(sorted(self.counts.creditors)),
                (Account.last_import_id.is_(None)) | (Account.last_import_id != self.import_id),
            )
        )
        return int(result.scalar_one())
