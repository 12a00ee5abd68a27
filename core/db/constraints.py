"""Which unique constraint or index a refused write broke, by the name tables.py gives it.

The Store decides what a refused INSERT or UPDATE means by what it collided with: a phone that
is already on a card is a DuplicateCustomer, a card number already drawn means draw another.
That is told by the constraint's name, never by the wording of a driver's message:
- PostgreSQL names the constraint on the exception: psycopg (3, and 2) as
  `diag.constraint_name`, asyncpg as `constraint_name` on its own exception, which SQLAlchemy's
  asyncpg adapter keeps as the cause (and, from SQLAlchemy 2.1, as `orig`) of the one it raises.
  The SQLSTATE tells a unique violation (23505) from a broken foreign key or CHECK.
- SQLite names only the columns ("UNIQUE constraint failed: customers.phone"), so they are
  mapped back to the unique constraint or index that tables.py declares over exactly those
  columns, read from the MetaData. It names a unique index over expressions itself ("index
  'name'").
The names are the ones the migrations give the database too (0001: op.f("uq_customers_phone")),
so both ways agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, UniqueConstraint
from sqlalchemy.exc import IntegrityError

from .tables import customers, ledger, metadata

UNIQUE_VIOLATION: Final = "23505"  # PostgreSQL's SQLSTATE for unique_violation
_SQLITE_UNIQUE: Final = "UNIQUE constraint failed: "


def _uniques_by_columns(schema: MetaData) -> dict[tuple[str, ...], str]:
    """Every named unique constraint (primary keys too) and unique index of `schema`, by its
    columns as SQLite lists them: ("customers.phone",)."""
    names: dict[tuple[str, ...], str] = {}
    for table in schema.tables.values():
        for unique in table.constraints:
            if isinstance(unique, UniqueConstraint | PrimaryKeyConstraint) and unique.name:
                columns = tuple(f"{table.name}.{column.name}" for column in unique.columns)
                names.setdefault(columns, str(unique.name))
        for index in table.indexes:
            # An index over expressions is reported by its name, not its columns.
            if index.unique and index.name and len(index.columns) == len(index.expressions):
                columns = tuple(f"{table.name}.{column.name}" for column in index.columns)
                names.setdefault(columns, str(index.name))
    return names


_BY_COLUMNS: Final = _uniques_by_columns(metadata)


def unique_over(*columns: Column[Any]) -> str:
    """The name of the unique constraint or index tables.py declares over exactly `columns`."""
    return _BY_COLUMNS[tuple(f"{column.table.name}.{column.name}" for column in columns)]


# The uniqueness rules the Store gives a meaning to when they refuse a write.
UNIQUE_CARD_NUMBER: Final = unique_over(customers.c.card_number)
UNIQUE_PHONE: Final = unique_over(customers.c.phone)
UNIQUE_TELEGRAM_USER: Final = unique_over(customers.c.telegram_user_id)
UNIQUE_REGISTRATION_KEY: Final = unique_over(customers.c.registration_key)
UNIQUE_IDEMPOTENCY_KEY: Final = unique_over(ledger.c.idempotency_key)
UNIQUE_VOID: Final = unique_over(ledger.c.reverses_id)  # an entry is voided once


def violated(exc: IntegrityError) -> str | None:
    """The name of the unique constraint or index that refused the write `exc` reports; None if
    it was something else (a foreign key, a CHECK, NOT NULL) or the driver doesn't say."""
    for error in _driver_errors(exc.orig):
        state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if state is not None and state != UNIQUE_VIOLATION:
            return None
        name = getattr(error, "constraint_name", None) or getattr(
            getattr(error, "diag", None), "constraint_name", None
        )
        if isinstance(name, str) and name:
            return name
    return _sqlite_unique(str(exc.orig))


def _driver_errors(orig: BaseException | None) -> Iterator[object]:
    """The DB-API exception and, behind an adapter's emulated one, the driver's own."""
    if orig is None:
        return
    yield orig
    wrapped = getattr(orig, "orig", None)  # SQLAlchemy 2.1's emulated DB-API exceptions
    if wrapped is not None:
        yield wrapped
    if orig.__cause__ is not None and orig.__cause__ is not wrapped:
        yield orig.__cause__


def _sqlite_unique(message: str) -> str | None:
    """The unique constraint named by a SQLite "UNIQUE constraint failed: t.a, t.b" message."""
    if not message.startswith(_SQLITE_UNIQUE):
        return None
    failed = message.removeprefix(_SQLITE_UNIQUE)
    if failed.startswith("index '") and failed.endswith("'"):
        return failed.removeprefix("index '").removesuffix("'")
    return _BY_COLUMNS.get(tuple(failed.split(", ")))
