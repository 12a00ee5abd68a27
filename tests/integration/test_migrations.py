"""core.db.migrate: the Alembic migrations build exactly the schema core/db/tables.py describes."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from core.config import DEFAULT_PROGRAM
from core.db.engine import open_engine
from core.db.migrate import _alembic_config, current_revision, head_revision, upgrade
from core.db.store import Store
from core.db.tables import metadata


@pytest.fixture
async def empty_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A brand-new, empty database file: what `loyalty-bot db upgrade` meets on first run."""
    engine = open_engine(f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    yield engine
    await engine.dispose()


async def schema_sql(engine: AsyncEngine) -> list[tuple[Any, ...]]:
    async with engine.connect() as conn:
        result = await conn.execute(
            text("SELECT type, name, sql FROM sqlite_master ORDER BY type, name")
        )
        return [tuple(row) for row in result]


async def test_an_empty_database_starts_with_no_revision(empty_engine: AsyncEngine) -> None:
    assert await current_revision(empty_engine) is None


async def test_upgrading_an_empty_file_creates_every_table_and_index(
    empty_engine: AsyncEngine,
) -> None:
    await upgrade(empty_engine)

    def names(connection: Connection) -> tuple[set[str], set[str]]:
        inspector = inspect(connection)
        tables = set(inspector.get_table_names())
        indexes = {i["name"] for t in tables for i in inspector.get_indexes(t) if i["name"]}
        return tables, indexes

    async with empty_engine.connect() as conn:
        tables, indexes = await conn.run_sync(names)
    assert tables == set(metadata.tables) | {"alembic_version"}
    expected_indexes = {i.name for t in metadata.tables.values() for i in t.indexes}
    assert expected_indexes <= indexes
    assert {"ix_ledger_customer_id_id", "ix_customers_last_purchase_at"} <= expected_indexes
    assert "ix_ledger_created_at" not in indexes  # dropped in 0005: the covering index serves
    assert await current_revision(empty_engine) == head_revision()


async def test_the_migrated_schema_matches_the_table_definitions(
    empty_engine: AsyncEngine,
) -> None:
    await upgrade(empty_engine)

    def differences(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, metadata))

    async with empty_engine.connect() as conn:
        assert await conn.run_sync(differences) == []


async def test_a_table_missing_from_the_migrations_would_be_noticed(
    empty_engine: AsyncEngine,
) -> None:
    # The comparison above has teeth: drop a table and it reports exactly that.
    await upgrade(empty_engine)
    async with empty_engine.begin() as conn:
        await conn.execute(text("DROP TABLE settings"))

    def differences(connection: Connection) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(connection), metadata))

    async with empty_engine.connect() as conn:
        diffs = await conn.run_sync(differences)
    assert [(d[0], d[1].name) for d in diffs] == [("add_table", "settings")]


async def test_running_upgrade_twice_changes_nothing(empty_engine: AsyncEngine) -> None:
    await upgrade(empty_engine)
    before = await schema_sql(empty_engine)
    await upgrade(empty_engine)
    assert await schema_sql(empty_engine) == before
    assert await current_revision(empty_engine) == head_revision()


async def test_upgrading_keeps_the_data_already_there(empty_engine: AsyncEngine) -> None:
    await upgrade(empty_engine)
    async with empty_engine.begin() as conn:
        await conn.execute(text("INSERT INTO settings (key, value) VALUES ('digest', '\"09:00\"')"))
    await upgrade(empty_engine)
    async with empty_engine.connect() as conn:
        rows = (await conn.execute(text("SELECT key, value FROM settings"))).all()
    assert [tuple(r) for r in rows] == [("digest", '"09:00"')]


async def test_the_database_runs_in_wal_mode_with_foreign_keys_enforced(
    empty_engine: AsyncEngine,
) -> None:
    await upgrade(empty_engine)
    async with empty_engine.connect() as conn:
        journal = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
        synchronous = (await conn.execute(text("PRAGMA synchronous"))).scalar_one()
        foreign_keys = (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one()
    assert (journal, synchronous, foreign_keys) == ("wal", 2, 1)  # 2 = FULL


async def test_a_migration_that_fails_half_way_leaves_the_database_as_it_was(
    empty_engine: AsyncEngine,
) -> None:
    # A crash or an error in the middle of an upgrade must not leave half a migration behind:
    # SQLite runs ALTER TABLE outside any transaction unless one is begun explicitly, and the
    # next start would then fail on "duplicate column" forever.
    await upgrade(empty_engine, "0004")
    async with empty_engine.begin() as conn:
        # In the way of 0005's indexes, which it creates after adding and filling its columns.
        await conn.execute(text("CREATE INDEX ix_customers_prev_purchase_at ON customers (name)"))
    before = await schema_sql(empty_engine)
    with pytest.raises(OperationalError, match="already exists"):
        await upgrade(empty_engine)
    assert await schema_sql(empty_engine) == before  # no new columns: all rolled back
    assert await current_revision(empty_engine) == "0004"
    async with empty_engine.begin() as conn:
        await conn.execute(text("DROP INDEX ix_customers_prev_purchase_at"))
    await upgrade(empty_engine)  # and the next start finishes the job
    assert await current_revision(empty_engine) == head_revision()


async def test_0007_keeps_the_cards_and_entries_and_can_be_undone(
    empty_engine: AsyncEngine,
) -> None:
    # Cards and entries written before corrections existed: the foreign keys of every entry
    # still point at their card (customers is not rebuilt), nobody owes anything, nothing is
    # reversed, and a refund is a kind the ledger now accepts.
    await upgrade(empty_engine, "0006")
    async with empty_engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO customers (id, card_number, name, phone, created_at, balance,"
                " lifetime_earned, lifetime_redeemed, tier, version) VALUES"
                " (1, '12345674', 'Ann', '+447400100009', '2026-01-01 00:00:00.000000',"
                " 20, 20, 0, 'Bronze', 1)"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO ledger (customer_id, kind, points, amount_minor, created_at,"
                " balance_after, details) VALUES"
                " (1, 'earn', 20, 2000, '2026-01-02 10:00:00.000000', 20, '{}')"
            )
        )
    await upgrade(empty_engine)
    async with empty_engine.begin() as conn:
        owed = (await conn.execute(text("SELECT points_owed FROM customers"))).scalar_one()
        reverses = (await conn.execute(text("SELECT reverses_id FROM ledger"))).scalar_one()
        await conn.execute(
            text(
                "INSERT INTO ledger (customer_id, kind, points, amount_minor, created_at,"
                " balance_after, details, reverses_id) VALUES"
                " (1, 'refund', -5, 500, '2026-01-03 10:00:00.000000', 15, '{}', 1)"
            )
        )
        fk = (await conn.execute(text("PRAGMA foreign_key_check"))).all()
    assert (owed, reverses, fk) == (0, None, [])

    def downgrade(connection: Connection) -> None:
        command.downgrade(_alembic_config(connection), "0006")

    async with empty_engine.begin() as conn:
        await conn.execute(text("DELETE FROM ledger WHERE kind = 'refund'"))
        await conn.run_sync(downgrade)
    assert await current_revision(empty_engine) == "0006"
    async with empty_engine.connect() as conn:
        assert (await conn.execute(text("SELECT COUNT(*) FROM ledger"))).scalar_one() == 1


async def test_0010_fills_qualifying_points_per_day_from_the_ledger_and_can_be_undone(
    empty_engine: AsyncEngine,
) -> None:
    # A purchase, a signup bonus, a redemption (not a credit), a refund of part of the purchase
    # days later (taken off the purchase's day), a penalty (never counts): what a windowed tier
    # policy will read.
    await upgrade(empty_engine, "0007")
    async with empty_engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO customers (id, card_number, name, phone, created_at, balance,"
                " lifetime_earned, lifetime_redeemed, tier, version) VALUES"
                " (1, '12345674', 'Ann', '+447400100009', '2026-01-01 00:00:00.000000',"
                " 10, 0, 0, 'Bronze', 1)"
            )
        )
        rows = [
            (1, "signup_bonus", 50, None, "2026-01-01 09:00:00.000000"),
            (2, "earn", 100, None, "2026-01-02 10:00:00.000000"),
            (3, "redeem", -100, None, "2026-01-02 11:00:00.000000"),
            (4, "refund", -30, 2, "2026-01-05 10:00:00.000000"),
            (5, "adjust", -10, None, "2026-01-06 10:00:00.000000"),
        ]
        for entry_id, kind, points, reverses, at in rows:
            await conn.execute(
                text(
                    "INSERT INTO ledger (id, customer_id, kind, points, created_at,"
                    " balance_after, details, reverses_id) VALUES"
                    " (:id, 1, :kind, :points, :at, 0, '{}', :reverses)"
                ),
                {"id": entry_id, "kind": kind, "points": points, "at": at, "reverses": reverses},
            )
    await upgrade(empty_engine)
    async with empty_engine.connect() as conn:
        days = (await conn.execute(text("SELECT day, points FROM tier_points ORDER BY day"))).all()
        pinned = (await conn.execute(text("SELECT pinned_tier FROM customers"))).scalar_one()
    assert [tuple(row) for row in days] == [("2026-01-01", 50), ("2026-01-02", 70)]
    assert pinned is None

    def downgrade(connection: Connection) -> None:
        command.downgrade(_alembic_config(connection), "0007")

    async with empty_engine.begin() as conn:
        await conn.run_sync(downgrade)
    assert await current_revision(empty_engine) == "0007"


async def test_0012_fills_the_search_key_of_the_cards_already_there(
    empty_engine: AsyncEngine,
) -> None:
    # /find folds names and e-mails (core/search.py); cards registered before 0012 get their
    # key from the migration, new ones from the registration.
    await upgrade(empty_engine, "0007")
    async with empty_engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO customers (id, card_number, name, phone, email, created_at, balance,"
                " lifetime_earned, lifetime_redeemed, tier, version) VALUES"
                " (1, '12345674', 'Zoë O''Brien', '+447400100009', 'Zoe@Example.com',"
                " '2026-01-01 00:00:00.000000', 0, 0, 0, 'Bronze', 0),"
                " (2, '48213379', 'ANN  Lee', '+447400100010', NULL,"
                " '2026-01-01 00:00:00.000000', 0, 0, 0, 'Bronze', 0)"
            )
        )
    await upgrade(empty_engine)
    store = Store(empty_engine, DEFAULT_PROGRAM)
    try:
        await store.register(
            {"name": "Chloé Ng", "phone": "+447400100011", "email": None},
            actor_id=None,
            now=dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
        )
    finally:
        store.close()
    async with empty_engine.connect() as conn:
        keys = (await conn.execute(text("SELECT search_key FROM customers ORDER BY id"))).all()
    assert [k for (k,) in keys] == ["zoe o'brien\tzoe@example.com", "ann lee", "chloe ng"]

    def downgrade(connection: Connection) -> None:
        command.downgrade(_alembic_config(connection), "0007")

    async with empty_engine.begin() as conn:
        await conn.run_sync(downgrade)
    assert await current_revision(empty_engine) == "0007"


async def _ledger_at_0007(engine: AsyncEngine, entries: list[tuple[str, int, int | None]]) -> None:
    """One card (id 1) with these entries (kind, points, reverses_id), a day apart, its balance
    their sum."""
    await upgrade(engine, "0007")
    balance = sum(points for _, points, _ in entries)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO customers (id, card_number, name, phone, created_at, balance,"
                " lifetime_earned, lifetime_redeemed, tier, version) VALUES"
                " (1, '12345674', 'Ann', '+447400100009', '2026-01-01 00:00:00.000000',"
                f" {balance}, 0, 0, 'Bronze', 1)"
            )
        )
        running = 0
        for day, (kind, points, reverses) in enumerate(entries, start=1):
            running += points
            await conn.execute(
                text(
                    "INSERT INTO ledger (customer_id, kind, points, created_at, balance_after,"
                    " details, reverses_id) VALUES (1, :kind, :points, :at, :after, '{}', :rev)"
                ),
                {
                    "kind": kind,
                    "points": points,
                    "at": f"2026-01-{day:02d} 10:00:00.000000",
                    "after": running,
                    "rev": reverses,
                },
            )


async def test_0008_replays_each_ledger_into_lots_oldest_first(empty_engine: AsyncEngine) -> None:
    # Earn 100, earn 50, redeem 120 (all of the first, 20 of the second), earn 30, refund 10
    # of the third entry's purchase... of entry 4 (its own lot first), adjust -5 (oldest left).
    await _ledger_at_0007(
        empty_engine,
        [
            ("earn", 100, None),
            ("earn", 50, None),
            ("redeem", -120, None),
            ("earn", 30, None),
            ("refund", -10, 4),
            ("adjust", -5, None),
        ],
    )
    await upgrade(empty_engine)
    async with empty_engine.connect() as conn:
        held = (
            await conn.execute(text("SELECT entry_id, points, remaining FROM lots ORDER BY id"))
        ).all()
        uses = (
            await conn.execute(
                text("SELECT entry_id, lot_id, points FROM lot_uses ORDER BY entry_id, lot_id")
            )
        ).all()
    assert [tuple(r) for r in held] == [(1, 100, 0), (2, 50, 25), (4, 30, 20)]
    assert [tuple(r) for r in uses] == [(3, 1, 100), (3, 2, 20), (5, 3, 10), (6, 2, 5)]


async def test_0008_stops_when_a_ledger_does_not_add_up_to_its_balance(
    empty_engine: AsyncEngine,
) -> None:
    await _ledger_at_0007(empty_engine, [("earn", 100, None)])
    async with empty_engine.begin() as conn:
        await conn.execute(text("UPDATE customers SET balance = 90"))
    with pytest.raises(Exception, match="lots replayed from the ledger hold 100"):
        await upgrade(empty_engine)
    assert await current_revision(empty_engine) == "0007"  # nothing half-done


async def test_0008_can_be_undone_while_nothing_has_expired(empty_engine: AsyncEngine) -> None:
    await _ledger_at_0007(empty_engine, [("earn", 100, None), ("redeem", -40, None)])
    await upgrade(empty_engine)

    def downgrade(connection: Connection) -> None:
        command.downgrade(_alembic_config(connection), "0007")

    async with empty_engine.begin() as conn:
        await conn.run_sync(downgrade)
    assert await current_revision(empty_engine) == "0007"
    async with empty_engine.connect() as conn:
        tables = {r[0] for r in await conn.execute(text("SELECT name FROM sqlite_master"))}
        check = (await conn.execute(text("PRAGMA integrity_check"))).scalar_one()
    assert "lots" not in tables and "lot_uses" not in tables
    assert check == "ok"
    await upgrade(empty_engine)  # and up again: the same lots
    async with empty_engine.connect() as conn:
        held = (await conn.execute(text("SELECT entry_id, remaining FROM lots"))).all()
    assert [tuple(r) for r in held] == [(1, 60)]


async def test_after_0008_the_ledger_accepts_expire_and_still_refuses_unknown_kinds(
    empty_engine: AsyncEngine,
) -> None:
    await _ledger_at_0007(empty_engine, [("earn", 100, None)])
    await upgrade(empty_engine)
    insert = (
        "INSERT INTO ledger (customer_id, kind, points, created_at, balance_after, details)"
        " VALUES (1, :kind, -10, '2026-02-01 00:05:00.000000', 90, '{}')"
    )
    async with empty_engine.begin() as conn:
        await conn.execute(text(insert), {"kind": "expire"})
    with pytest.raises(IntegrityError, match="ck_ledger_kind_known"):
        async with empty_engine.begin() as conn:
            await conn.execute(text(insert), {"kind": "bogus"})


async def test_0009_keeps_the_cards_and_entries_and_can_be_undone(
    empty_engine: AsyncEngine,
) -> None:
    # A card and an entry from before 0009: the card has no birthday or referral code yet,
    # the ledger (rebuilt for its CHECK) keeps the entry and now takes a `bonus`; a downgrade
    # refuses while a bonus exists (it has no kind to go back to), then works without one.
    await upgrade(empty_engine, "0007")
    async with empty_engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO customers (id, card_number, name, phone, created_at, balance,"
                " lifetime_earned, lifetime_redeemed, tier, version) VALUES"
                " (1, '12345674', 'Ann', '+447400100009', '2026-01-01 00:00:00.000000',"
                " 20, 20, 0, 'Bronze', 1)"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO ledger (customer_id, kind, points, amount_minor, created_at,"
                " balance_after, details) VALUES"
                " (1, 'earn', 20, 2000, '2026-01-02 10:00:00.000000', 20, '{}')"
            )
        )
    await upgrade(empty_engine)
    async with empty_engine.begin() as conn:
        card = (await conn.execute(text("SELECT birthday, referral_code FROM customers"))).one()
        await conn.execute(
            text(
                "INSERT INTO ledger (customer_id, kind, points, created_at, balance_after,"
                " details, idempotency_key) VALUES (1, 'bonus', 100,"
                " '2026-03-09 09:00:00.000000', 120, '{}', 'birthday:1:2026')"
            )
        )
        fk = (await conn.execute(text("PRAGMA foreign_key_check"))).all()
    assert (tuple(card), fk) == ((None, None), [])

    def downgrade(connection: Connection) -> None:
        # As core/db/migrate.upgrade does: one transaction, so a refused step undoes the steps
        # before it (without it, sqlite3 ran the later revisions' DROPs outside any).
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        command.downgrade(_alembic_config(connection), "0007")

    with pytest.raises(RuntimeError, match="bonus entries"):
        async with empty_engine.begin() as conn:
            await conn.run_sync(downgrade)
    async with empty_engine.begin() as conn:
        await conn.execute(text("DELETE FROM ledger WHERE kind = 'bonus'"))
    async with empty_engine.begin() as conn:
        await conn.run_sync(downgrade)
    assert await current_revision(empty_engine) == "0007"
    async with empty_engine.connect() as conn:
        assert (await conn.execute(text("SELECT COUNT(*) FROM ledger"))).scalar_one() == 1


async def test_0011_gives_every_card_notices_and_forgets_nobody_and_can_be_undone(
    empty_engine: AsyncEngine,
) -> None:
    # Cards from before issue 14 keep getting notices, as they did; nobody is forgotten.
    await upgrade(empty_engine, "0007")
    async with empty_engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO customers (id, card_number, name, phone, created_at, balance,"
                " lifetime_earned, lifetime_redeemed, tier, version) VALUES"
                " (1, '12345674', 'Ann', '+447400100009', '2026-01-01 00:00:00.000000',"
                " 0, 0, 0, 'Bronze', 0)"
            )
        )
    await upgrade(empty_engine, "0011")
    async with empty_engine.connect() as conn:
        row = (await conn.execute(text("SELECT notify, forgotten_at FROM customers"))).one()
    assert tuple(row) == (1, None)

    def downgrade(connection: Connection) -> None:
        command.downgrade(_alembic_config(connection), "0007")

    async with empty_engine.begin() as conn:
        await conn.run_sync(downgrade)
    async with empty_engine.connect() as conn:
        names = [r[1] for r in (await conn.execute(text("PRAGMA table_info(customers)"))).all()]
    assert "notify" not in names and "forgotten_at" not in names and "name" in names
