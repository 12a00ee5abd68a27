"""core.db.constraints: which uniqueness a refused write broke, by its name in tables.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, inspect, update
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.constraints import (
    UNIQUE_CARD_NUMBER,
    UNIQUE_IDEMPOTENCY_KEY,
    UNIQUE_PHONE,
    UNIQUE_REGISTRATION_KEY,
    UNIQUE_TELEGRAM_USER,
    violated,
)
from core.db.engine import open_engine, sync_twin
from core.db.tables import customers, ledger, metadata

NOW = dt.datetime(2026, 3, 14, 10, 30, tzinfo=dt.UTC)
ANN: dict[str, Any] = {
    "id": 1,
    "card_number": "48213379",
    "name": "Ann Lee",
    "phone": "+447400123456",
    "created_at": NOW,
    "tier": "Bronze",
    "telegram_user_id": 3001,
    "registration_key": "reg-1",
}
ANN_EARNS: dict[str, Any] = {
    "id": 1,
    "customer_id": 1,
    "kind": "earn",
    "points": 10,
    "created_at": NOW,
    "idempotency_key": "earn-1",
    "balance_after": 10,
    "details": {},
}


def test_the_names_are_the_ones_tables_py_and_the_migrations_give_them() -> None:
    assert (UNIQUE_CARD_NUMBER, UNIQUE_PHONE, UNIQUE_TELEGRAM_USER) == (
        "uq_customers_card_number",
        "uq_customers_phone",
        "uq_customers_telegram_user_id",
    )
    assert (UNIQUE_REGISTRATION_KEY, UNIQUE_IDEMPOTENCY_KEY) == (
        "uq_customers_registration_key",
        "uq_ledger_idempotency_key",
    )


async def test_the_migrated_database_calls_its_unique_constraints_by_the_same_names(
    engine: AsyncEngine,
) -> None:
    # PostgreSQL reports the name the migrations gave the database; it must be ours.
    def unique_names(conn: Connection) -> set[str]:
        found = inspect(conn)
        return {
            str(unique["name"])
            for table in ("customers", "ledger")
            for unique in found.get_unique_constraints(table)
        }

    async with engine.connect() as conn:
        names = await conn.run_sync(unique_names)
    assert {
        UNIQUE_CARD_NUMBER,
        UNIQUE_PHONE,
        UNIQUE_TELEGRAM_USER,
        UNIQUE_REGISTRATION_KEY,
        UNIQUE_IDEMPOTENCY_KEY,
    } <= names


# --- SQLite: real errors from a real file --------------------------------------------------


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, Engine]]:
    """A SQLite file holding Ann and one entry, opened both ways the bot opens it: the async
    engine (aiosqlite) and the Store's synchronous twin (sqlite3), with the same pragmas."""
    engine = open_engine(f"sqlite+aiosqlite:///{tmp_path / 'loyalty.db'}")
    twin = sync_twin(engine)
    assert twin is not None
    with twin.begin() as conn:
        metadata.create_all(conn)
        conn.execute(customers.insert().values(ANN))
        conn.execute(ledger.insert().values(ANN_EARNS))
    yield engine, twin
    twin.dispose()
    await engine.dispose()


def refused(twin: Engine, write: Callable[[Connection], object]) -> IntegrityError:
    with pytest.raises(IntegrityError) as refusal, twin.begin() as conn:
        write(conn)
    return refusal.value


def another_customer(**same: object) -> dict[str, Any]:
    """A second customer, sharing with Ann only what `same` says."""
    different = {"card_number": "11111116", "phone": "+447400999888"}
    return {
        **ANN,
        **different,
        "id": None,
        "telegram_user_id": None,
        "registration_key": None,
        **same,
    }


def link_a_second_card_to_ann_s_account(conn: Connection) -> None:
    conn.execute(customers.insert().values(another_customer(id=2)))
    conn.execute(update(customers).where(customers.c.id == 2).values(telegram_user_id=3001))


TAKEN: dict[str, tuple[Callable[[Connection], object], str]] = {
    "card number": (
        lambda conn: conn.execute(
            customers.insert().values(another_customer(card_number="48213379"))
        ),
        "uq_customers_card_number",
    ),
    "phone": (
        lambda conn: conn.execute(customers.insert().values(another_customer(phone=ANN["phone"]))),
        "uq_customers_phone",
    ),
    "registration key": (
        lambda conn: conn.execute(
            customers.insert().values(another_customer(registration_key="reg-1"))
        ),
        "uq_customers_registration_key",
    ),
    "telegram account, linked by an UPDATE": (
        link_a_second_card_to_ann_s_account,
        "uq_customers_telegram_user_id",
    ),
    "confirmation key": (
        lambda conn: conn.execute(ledger.insert().values({**ANN_EARNS, "id": 2})),
        "uq_ledger_idempotency_key",
    ),
    "primary key": (
        lambda conn: conn.execute(customers.insert().values(another_customer(id=1))),
        "pk_customers",
    ),
}


@pytest.mark.parametrize(("write", "name"), TAKEN.values(), ids=TAKEN.keys())
def test_sqlite_names_the_columns_and_they_map_back_to_the_constraint(
    database: tuple[AsyncEngine, Engine], write: Callable[[Connection], object], name: str
) -> None:
    _, twin = database
    assert violated(refused(twin, write)) == name


async def test_the_async_engine_s_errors_name_the_same_constraint(
    database: tuple[AsyncEngine, Engine],
) -> None:
    engine, _ = database
    with pytest.raises(IntegrityError) as refusal:
        async with engine.begin() as conn:
            await conn.execute(customers.insert().values(another_customer(phone=ANN["phone"])))
    assert violated(refusal.value) == UNIQUE_PHONE


NOT_UNIQUE: dict[str, Callable[[Connection], object]] = {
    "CHECK balance >= 0": lambda conn: conn.execute(
        update(customers).where(customers.c.id == 1).values(balance=-1)
    ),
    "foreign key to a customer who doesn't exist": lambda conn: conn.execute(
        ledger.insert().values({**ANN_EARNS, "id": 2, "customer_id": 99, "idempotency_key": None})
    ),
    "NOT NULL name": lambda conn: conn.execute(
        customers.insert().values(another_customer(name=None))
    ),
}


@pytest.mark.parametrize("write", NOT_UNIQUE.values(), ids=NOT_UNIQUE.keys())
def test_a_write_refused_for_anything_but_uniqueness_violated_no_unique_constraint(
    database: tuple[AsyncEngine, Engine], write: Callable[[Connection], object]
) -> None:
    _, twin = database
    assert violated(refused(twin, write)) is None


# --- PostgreSQL: the drivers name the constraint; shaped like theirs ------------------------


class AsyncpgUniqueViolation(Exception):
    """Shaped like asyncpg.exceptions.UniqueViolationError."""

    sqlstate = "23505"

    def __init__(self, constraint_name: str) -> None:
        super().__init__(f'duplicate key value violates unique constraint "{constraint_name}"')
        self.constraint_name = constraint_name


def through_sqlalchemy_asyncpg(driver_error: AsyncpgUniqueViolation) -> IntegrityError:
    """What SQLAlchemy's asyncpg dialect raises: its adapter's exception, from the driver's."""
    adapted = AsyncAdapt_asyncpg_dbapi.UniqueViolationError(str(driver_error), driver_error)
    adapted.__cause__ = driver_error  # `raise adapted from driver_error`
    return IntegrityError("INSERT INTO customers ...", None, adapted)


def test_asyncpg_through_sqlalchemy_names_the_constraint_on_the_driver_s_error() -> None:
    exc = through_sqlalchemy_asyncpg(AsyncpgUniqueViolation("uq_customers_phone"))
    assert violated(exc) == UNIQUE_PHONE


def test_an_adapted_asyncpg_error_without_orig_is_read_through_its_cause() -> None:
    # SQLAlchemy 2.0 kept the driver's error only as the cause.
    adapted = AsyncAdapt_asyncpg_dbapi.IntegrityError("duplicate key")
    adapted.sqlstate = "23505"
    adapted.__cause__ = AsyncpgUniqueViolation("uq_customers_card_number")
    assert violated(IntegrityError("INSERT", None, adapted)) == UNIQUE_CARD_NUMBER


class PsycopgError(Exception):
    """Shaped like psycopg's (3, and 2) errors: a SQLSTATE and a diagnostic."""

    def __init__(self, sqlstate: str, constraint_name: str, *, psycopg2: bool = False) -> None:
        super().__init__(f"constraint {constraint_name}")
        if psycopg2:
            self.pgcode = sqlstate
        else:
            self.sqlstate = sqlstate
        self.diag = SimpleNamespace(constraint_name=constraint_name)


@pytest.mark.parametrize("psycopg2", [False, True], ids=["psycopg 3", "psycopg2"])
def test_psycopg_names_the_constraint_in_its_diagnostic(psycopg2: bool) -> None:
    error = PsycopgError("23505", "uq_ledger_idempotency_key", psycopg2=psycopg2)
    assert violated(IntegrityError("INSERT", None, error)) == UNIQUE_IDEMPOTENCY_KEY


def test_a_postgresql_foreign_key_violation_violated_no_unique_constraint() -> None:
    error = PsycopgError("23503", "fk_ledger_customer_id_customers")
    assert violated(IntegrityError("INSERT", None, error)) is None
