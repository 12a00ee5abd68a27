"""`db check` (core/db/health.py): SQLite's integrity check plus the ledger's invariants.

A healthy shop passes every check; each invariant is then broken by hand, the way a bad
restore, a bug or an edit in an sqlite3 shell would, and the check must name it and the card.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from core.db.engine import open_engine
from core.db.faults import StorageFault
from core.db.health import check
from core.db.migrate import known_revisions
from tests.support.report_ledger import build_file, correct
from tests.support.storage import build_shop, digest, garbled_page, random_bytes, stamped


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_shop(tmp_path_factory.mktemp("shop"))


@pytest.fixture
def db(shop: Path, tmp_path: Path) -> Path:
    path = tmp_path / "loyalty.db"
    shutil.copyfile(shop, path)
    return path


def tamper(path: Path, *statements: str) -> None:
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("PRAGMA ignore_check_constraints=ON")  # as a careless hand edit would
        for statement in statements:
            conn.execute(statement)


def card(path: Path, customer_id: int = 1) -> str:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return str(
            conn.execute(
                "SELECT card_number FROM customers WHERE id = ?", (customer_id,)
            ).fetchone()[0]
        )


def failed(path: Path) -> dict[str, str]:
    return {f.name: f.detail for f in check(path).problems}


def test_a_healthy_shop_passes_every_check_and_is_not_changed(db: Path) -> None:
    before = digest(db)
    health = check(db)
    assert health.ok, health.report()
    assert health.customers == 50 and health.entries > 500
    assert health.revision == known_revisions()[-1]
    assert [f.name for f in health.findings] == [
        "pages",
        "schema",
        "balances",
        "lifetime totals",
        "negative balances",
        "running balances",
        "ledger owners",
        "lots",
        "lot uses",
        "outbox",
    ]
    assert health.report().splitlines()[-1] == "healthy"
    assert digest(db) == before


def test_a_balance_that_is_not_its_ledger_sum_is_named_with_its_card(db: Path) -> None:
    tamper(db, "UPDATE customers SET balance = balance + 5 WHERE id = 1")
    problems = failed(db)
    # The lifetime totals still match the ledger; the lots (core/expiry.py) don't hold it either.
    assert list(problems) == ["balances", "lots"]
    assert f"card {card(db)}: " in problems["balances"]


def test_lifetime_totals_that_disagree_with_the_ledger(db: Path) -> None:
    tamper(db, "UPDATE customers SET lifetime_earned = lifetime_earned + 100 WHERE id = 1")
    problems = failed(db)
    assert list(problems) == ["lifetime totals"]
    assert f"card {card(db)}: earned" in problems["lifetime totals"]


def test_a_negative_balance(db: Path) -> None:
    tamper(
        db,
        "INSERT INTO ledger (customer_id, kind, points, created_at, balance_after, details) "
        "SELECT id, 'adjust', -(balance + 10), '2026-01-01 00:00:00', -10, '{}' "
        "FROM customers WHERE id = 2",
        "UPDATE customers SET balance = -10, lifetime_redeemed = lifetime_earned + 10 WHERE id = 2",
    )
    problems = failed(db)
    # SQLite's integrity_check sees the broken CHECK (balance >= 0) too.
    assert "CHECK constraint failed" in problems.pop("pages")
    assert list(problems) == ["negative balances", "lots", "lot uses"]  # an entry, no lot use
    assert f"card {card(db, 2)}: -10" in problems["negative balances"]


def test_an_entry_whose_balance_after_is_not_the_running_sum(db: Path) -> None:
    tamper(db, "UPDATE ledger SET balance_after = balance_after + 1 WHERE id = 3")
    assert list(failed(db)) == ["running balances"]


def test_an_entry_that_belongs_to_nobody(db: Path) -> None:
    tamper(
        db,
        "PRAGMA foreign_keys=OFF",
        "INSERT INTO ledger (customer_id, kind, points, created_at, balance_after, details) "
        "VALUES (9999, 'adjust', 0, '2026-01-01 00:00:00', 0, '{}')",
    )
    assert list(failed(db)) == ["ledger owners"]


def test_lots_that_do_not_hold_the_balance_are_named_with_their_card(db: Path) -> None:
    # An expiry that took points a redemption had already spent would leave exactly this.
    tamper(
        db,
        "UPDATE lots SET remaining = remaining - 1"
        " WHERE id = (SELECT MIN(id) FROM lots WHERE customer_id = 1 AND remaining > 0)",
    )
    problems = failed(db)
    assert list(problems) == ["lots"]
    assert f"card {card(db)}: balance" in problems["lots"]


def test_a_debit_that_does_not_say_which_lots_it_took(db: Path) -> None:
    tamper(
        db,
        "DELETE FROM lot_uses WHERE entry_id = (SELECT MIN(entry_id) FROM lot_uses)",
    )
    assert list(failed(db)) == ["lot uses"]


def test_an_outbox_row_done_without_an_outcome(db: Path) -> None:
    tamper(
        db,
        "INSERT INTO outbox (chat_id, text, created_at, due_at, attempts, done_at) "
        "VALUES (1, 'hi', '2026-01-01', '2026-01-01', 1, '2026-01-01')",
    )
    assert list(failed(db)) == ["outbox"]


def test_a_garbled_page_fails_the_integrity_check(db: Path, shop: Path) -> None:
    garbled_page(db, shop)
    health = check(db)
    assert health.problems[0].name == "pages"
    assert health.report().splitlines()[-1].startswith("NOT healthy:")


def test_random_bytes_fail_the_check_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    random_bytes(path)
    assert list(failed(path)) == ["pages"]


def test_a_newer_schema_is_reported_and_its_books_are_not_read(db: Path, shop: Path) -> None:
    stamped(db, shop, "0042")
    problems = failed(db)
    assert list(problems) == ["schema"] and "revision 0042 is unknown" in problems["schema"]


def test_no_file_is_a_storage_fault_and_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(StorageFault, match="no database at"):
        check(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()


def test_the_quick_check_also_passes_a_healthy_shop(db: Path) -> None:
    health = check(db, thorough=False)
    assert health.ok and "quick_check" in health.findings[0].detail


def test_voids_and_refunds_move_back_the_lifetime_total_they_reverse(tmp_path: Path) -> None:
    """A void of a purchase lowers lifetime earned, not raises lifetime redeemed (as
    core.rules.lifetime_change says): a shop with corrections is healthy, and so is its backup."""
    path = tmp_path / "story.db"
    build_file(path)

    async def corrections() -> None:
        engine = open_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await correct(engine)
        finally:
            await engine.dispose()

    asyncio.run(corrections())
    health = check(path)
    assert health.ok, health.report()
    assert health.entries == 20
