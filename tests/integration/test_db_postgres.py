"""`loyalty-bot db` on a PostgreSQL URL: check reads the books, backup and restore refuse.

PostgreSQL is backed up and restored with its own tools (pg_dump, point-in-time recovery:
docs/operations.md), so `db backup` and `db restore` say so in one line and touch nothing. `db
check` reads the same invariants as on a SQLite file, through the CLI entry point as an
operator runs it, on this worker's PostgreSQL database (tests/conftest.py) holding the report
story (tests/support/report_ledger.py); then each invariant is broken by hand and named.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot import cli
from core.db.engine import open_engine
from core.db.migrate import known_revisions
from tests.support.postgres import emptied
from tests.support.report_ledger import build, correct
from tests.support.storage import Outcome

SECRET_URL = "postgresql+asyncpg://bot:hunter2@db.invalid/loyalty"


def write_config(folder: Path, url: str) -> Path:
    config = folder / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[program]\nsignup_bonus = 50\n')
    return config


def loyalty_bot(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> Outcome:
    code = cli.main(["db", *args, "--config", str(config)])
    out, err = capsys.readouterr()
    return Outcome(code, out, err)


def execute(url: str, *statements: str) -> None:
    async def go() -> None:
        engine = open_engine(url)
        try:
            async with engine.begin() as conn:
                for statement in statements:
                    await conn.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(go())


@pytest.fixture
def shop(postgres_db: str) -> str:
    """This worker's PostgreSQL database holding the report story and its corrections."""

    async def fill() -> None:
        engine = await emptied(postgres_db)
        try:
            await build(engine)
            await correct(engine)
        finally:
            await engine.dispose()

    asyncio.run(fill())
    return postgres_db


@pytest.fixture
def config(shop: str, tmp_path: Path) -> Path:
    return write_config(tmp_path, shop)


# --- backup and restore: PostgreSQL's own ------------------------------------------------------


@pytest.mark.parametrize("args", [["backup"], ["backup", "--to", "x.db"], ["restore", "x.db"]])
def test_backup_and_restore_refuse_in_one_line_pointing_to_the_operations_guide(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    done = loyalty_bot(write_config(tmp_path, SECRET_URL), capsys, *args)
    assert done.returncode == 2 and done.stdout == ""
    [line] = done.lines
    assert line.startswith(f"loyalty-bot db {args[0]}: postgresql+asyncpg://bot:***@db.invalid")
    assert "pg_dump" in line and "docs/operations.md" in line
    assert "hunter2" not in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]  # nothing written


# --- check: the same books ---------------------------------------------------------------------


def test_a_healthy_database_passes_every_check(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    done = loyalty_bot(config, capsys, "check")
    assert done.returncode == 0, done.stdout
    lines = done.stdout.splitlines()
    head = known_revisions()[-1]
    assert lines[0].startswith("checked postgresql+asyncpg://postgres@")
    assert f"(schema revision {head}, 5 customers, 20 ledger entries)" in lines[0]
    assert [line.split(":")[0].split()[-1] for line in lines[1:-1]] == [
        "constraints",
        "schema",
        "balances",
        "totals",
        "balances",
        "balances",
        "owners",
        "lots",
        "uses",
        "outbox",
    ]
    assert all(line.startswith("  ok  ") for line in lines[1:-1])
    assert lines[-1] == "healthy"


def test_a_balance_that_is_not_its_ledger_sum_is_named_with_its_card(
    shop: str, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    execute(shop, "UPDATE customers SET balance = balance + 7 WHERE id = 1")
    done = loyalty_bot(config, capsys, "check")
    assert done.returncode == 1
    failed = [line for line in done.stdout.splitlines() if line.startswith("  FAIL")]
    assert any("balances: 1 card differ" in line for line in failed), done.stdout
    assert any(line.startswith("  FAIL  lots:") for line in failed)
    assert done.stdout.splitlines()[-1].startswith("NOT healthy")


def test_an_entry_whose_balance_after_is_not_the_running_sum(
    shop: str, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    execute(shop, "UPDATE ledger SET balance_after = balance_after + 1 WHERE id = 3")
    done = loyalty_bot(config, capsys, "check")
    assert done.returncode == 1
    assert (
        "  FAIL  running balances: 1 ledger entries' balance_after is not the running sum"
        in done.stdout
    )


@pytest.fixture
def unvalidated(shop: str) -> Iterator[str]:
    """A CHECK added NOT VALID, as a hurried hand edit might leave it; dropped after the test
    (the worker's database outlives it: emptying keeps the schema)."""
    execute(shop, "ALTER TABLE ledger ADD CONSTRAINT ck_hand_edit CHECK (points <> 0) NOT VALID")
    yield "ledger.ck_hand_edit"
    execute(shop, "ALTER TABLE ledger DROP CONSTRAINT ck_hand_edit")


def test_a_constraint_added_without_validation_is_named(
    unvalidated: str, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    done = loyalty_bot(config, capsys, "check")
    assert done.returncode == 1
    assert f"  FAIL  constraints: not validated: {unvalidated}" in done.stdout


def test_check_changes_nothing(shop: str, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def snapshot() -> list[tuple[object, ...]]:
        async def go() -> list[tuple[object, ...]]:
            engine = open_engine(shop)
            try:
                async with engine.connect() as conn:
                    rows = await conn.execute(
                        text("SELECT id, balance, lifetime_earned FROM customers ORDER BY id")
                    )
                    return [tuple(r) for r in rows]
            finally:
                await engine.dispose()

        return asyncio.run(go())

    before = snapshot()
    assert loyalty_bot(config, capsys, "check").returncode == 0
    assert snapshot() == before
