"""What the Store's units of work read: a customer, ledger entries, on the one connection each
runs on (core/db/unit_of_work.py). Plain functions over a Connection, no state of their own."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Select

from core.errors import UnknownCustomer, UnknownEntry
from core.types import Customer, LedgerEntry

from .statements import (
    BIRTHDAY_OF,
    BY_ID,
    CORRECTABLE,
    CORRECTIONS_OF,
    CORRECTIONS_OF_ANY,
    CUSTOMER_UNLESS_RECORDED,
    ENTRY_BY_ID,
    ENTRY_BY_KEY,
    LEDGER_SUM,
    PURCHASES,
    RECENT,
    WITH_BIRTHDAYS,
    customer_record,
    entry_record,
)
from .tables import MAX_ID


def customer_by(conn: Connection, query: Select[Any], value: object) -> Customer | None:
    row = conn.execute(query, {"value": value}).first()
    return None if row is None else customer_record(row)


def existing_customer(conn: Connection, customer_id: int) -> Customer:
    if not 0 < customer_id <= MAX_ID:  # a forged id: no such card (and no query for it)
        raise UnknownCustomer(f"#{customer_id}")
    customer = customer_by(conn, BY_ID, customer_id)
    if customer is None:
        raise UnknownCustomer(f"#{customer_id}")
    return customer


def customer_unless_recorded(
    conn: Connection, customer_id: int, key: str | None
) -> Customer | None:
    """The customer about to change; None if `key` is already recorded or there is no such card."""
    row = conn.execute(CUSTOMER_UNLESS_RECORDED, {"customer_id": customer_id, "key": key}).first()
    return None if row is None or row._mapping["recorded_id"] is not None else customer_record(row)


def replay_of(conn: Connection, customer_id: int, key: str | None) -> LedgerEntry:
    """What the key recorded, when customer_unless_recorded found no customer to change."""
    replay = entry_by_key(conn, key)
    if replay is None:
        raise UnknownCustomer(f"#{customer_id}")
    return replay


def entry_by_key(conn: Connection, key: str | None) -> LedgerEntry | None:
    if key is None:
        return None
    row = conn.execute(ENTRY_BY_KEY, {"key": key}).first()
    return None if row is None else entry_record(row)


def recent_entries(conn: Connection, customer_id: int, limit: int) -> list[LedgerEntry]:
    rows = conn.execute(RECENT, {"customer_id": customer_id, "limit": limit}).all()
    return [entry_record(r) for r in rows]


def ledger_sum(conn: Connection, customer_id: int) -> int:
    return int(conn.execute(LEDGER_SUM, {"customer_id": customer_id}).scalar_one())


# --- corrections ---------------------------------------------------------------------------------


def entry(conn: Connection, entry_id: int) -> LedgerEntry:
    """The ledger entry with this id, or UnknownEntry."""
    if not 0 < entry_id <= MAX_ID:  # "#99999999999": no such entry (and no query for it)
        raise UnknownEntry(entry_id)
    row = conn.execute(ENTRY_BY_ID, {"entry_id": entry_id}).first()
    if row is None:
        raise UnknownEntry(entry_id)
    return entry_record(row)


def corrections_of(conn: Connection, entry_id: int) -> list[LedgerEntry]:
    """The voids and refunds recorded against an entry, oldest first."""
    rows = conn.execute(CORRECTIONS_OF, {"entry_id": entry_id}).all()
    return [entry_record(r) for r in rows]


def correctable(
    conn: Connection, customer_id: int, limit: int
) -> list[tuple[LedgerEntry, list[LedgerEntry]]]:
    """The card's newest purchases and redemptions with something left to correct, each with
    the corrections already recorded against it."""
    rows = conn.execute(CORRECTABLE, {"customer_id": customer_id, "limit": limit}).all()
    entries = [entry_record(r) for r in rows]
    earlier: dict[int, list[LedgerEntry]] = {e["id"]: [] for e in entries}
    if earlier:
        for row in conn.execute(CORRECTIONS_OF_ANY, {"entry_ids": list(earlier)}):
            correction = entry_record(row)
            earlier[correction["reverses_id"] or 0].append(correction)
    return [(e, earlier[e["id"]]) for e in entries]


def purchases(conn: Connection, customer_id: int) -> int:
    """How many of the card's purchases stand (a voided one no longer counts)."""
    return int(conn.execute(PURCHASES, {"customer_id": customer_id}).scalar_one_or_none() or 0)


def birthday(conn: Connection, customer_id: int) -> dt.date | None:
    found: dt.date | None = conn.execute(BIRTHDAY_OF, {"customer_id": customer_id}).scalar()
    return found


def birthdays(conn: Connection) -> list[tuple[int, dt.date]]:
    """Every (customer id, birthday) given: the daily job's list (one column pair per card)."""
    return [(int(r.id), r.birthday) for r in conn.execute(WITH_BIRTHDAYS)]
