"""Backups the owner can trust (core/db/backup.py): consistent under writes, verified, restorable.

The backups are taken of a real shop file while the real Store writes to it, restored over it,
and pruned; the database's lock (core/db/lock.py) keeps a restore away from a running bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import shutil
import sqlite3
import threading
from decimal import Decimal
from pathlib import Path

import pytest

from core.config import DEFAULT_PROGRAM
from core.db import backup
from core.db.engine import open_engine
from core.db.faults import StorageFault
from core.db.health import Health, check
from core.db.lock import DatabaseInUse, DatabaseLock
from core.db.store import Store
from tests.support.storage import build_shop, digest, garbled_page

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_shop(tmp_path_factory.mktemp("shop"))


@pytest.fixture
def db(shop: Path, tmp_path: Path) -> Path:
    path = tmp_path / "loyalty.db"
    shutil.copyfile(shop, path)
    return path


def ledger_ids(path: Path) -> list[int]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM ledger ORDER BY id")]


async def earn_many(path: Path, count: int, committed: list[int]) -> None:
    """`count` earns through the real Store, each recorded in `committed` once it returns."""
    engine = open_engine(f"sqlite+aiosqlite:///{path}")
    store = Store(engine, DEFAULT_PROGRAM)
    try:
        for n in range(count):
            result = await store.earn(1 + n % 50, Decimal("3.20"), actor_id=700002, now=NOW)
            committed.append(result["entry_id"])
    finally:
        store.close()
        await engine.dispose()


# --- backup -----------------------------------------------------------------------------------


def test_a_backup_is_a_verified_copy_with_every_entry(db: Path, tmp_path: Path) -> None:
    before = digest(db)
    target = tmp_path / "backups" / "copy.db"

    health = backup.backup(db, target)

    assert health.ok and health.path == target
    assert (health.customers, health.entries) == (50, len(ledger_ids(db)))
    assert ledger_ids(target) == ledger_ids(db)
    assert digest(db) == before  # the database itself is only read
    # One self-contained file: no -wal to forget beside it, nothing half-written left.
    assert sorted(p.name for p in target.parent.iterdir()) == ["copy.db"]


async def test_backups_taken_while_the_store_writes_are_consistent_and_complete(
    db: Path, tmp_path: Path
) -> None:
    committed: list[int] = []
    writer = asyncio.create_task(earn_many(db, 300, committed))
    copies: list[tuple[list[int], Path, Health]] = []
    while not writer.done():
        seen = list(committed)  # every earn that had committed before this backup began
        target = tmp_path / f"copy-{len(copies)}.db"
        health = await asyncio.to_thread(backup.backup, db, target)
        copies.append((seen, target, health))
        await asyncio.sleep(0.005)
    await writer

    assert len(copies) >= 3
    first = ledger_ids(db)[0]
    for seen, target, health in copies:
        assert health.ok, health.report()  # balances == their ledger sums in the copy
        ids = ledger_ids(target)
        assert ids == list(range(first, first + len(ids)))  # a moment's state: no gaps
        assert set(seen) <= set(ids)  # nothing committed before the backup is missing
    assert any(len(ledger_ids(target)) < len(ledger_ids(db)) for _, target, _ in copies)


def test_a_backup_refuses_to_overwrite_a_file(db: Path, tmp_path: Path) -> None:
    target = tmp_path / "copy.db"
    target.write_text("precious")
    with pytest.raises(StorageFault, match="already exists"):
        backup.backup(db, target)
    assert target.read_text() == "precious"


def test_a_damaged_database_gives_no_backup(db: Path, shop: Path, tmp_path: Path) -> None:
    garbled_page(db, shop)
    target = tmp_path / "backups" / "copy.db"
    with pytest.raises(StorageFault) as caught:
        backup.backup(db, target)
    assert str(db) in str(caught.value)
    assert not target.exists() and list(target.parent.iterdir()) == []


# --- daily backups and pruning ------------------------------------------------------------------


def test_the_daily_backup_is_made_once_a_day(db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    day = dt.date(2026, 11, 23)

    first = backup.daily(db, folder, keep=7, today=day)
    made = digest(folder / "loyalty-2026-11-23.db")
    again = backup.daily(db, folder, keep=7, today=day)

    assert first is not None and first.ok
    assert again is None  # already there: nothing is copied again
    assert [p.name for p in folder.iterdir()] == ["loyalty-2026-11-23.db"]
    assert digest(folder / "loyalty-2026-11-23.db") == made


def test_only_the_newest_daily_backups_are_kept(db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    others = ["loyalty-2026-11-01-101500.db", "notes.txt", "other-2026-11-01.db"]
    for name in others:
        (folder / name).write_text("not a daily backup")
    start = dt.date(2026, 11, 1)
    for n in range(10):
        backup.daily(db, folder, keep=3, today=start + dt.timedelta(days=n))

    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*others, "loyalty-2026-11-08.db", "loyalty-2026-11-09.db", "loyalty-2026-11-10.db"]
    )


# --- restore -----------------------------------------------------------------------------------


async def test_restore_round_trip_keeps_the_replaced_database(db: Path, tmp_path: Path) -> None:
    saved = tmp_path / "saved.db"
    backup.backup(db, saved)
    at_backup = ledger_ids(db)
    await earn_many(db, 5, [])  # sales after the backup
    after = ledger_ids(db)

    restored = backup.restore(saved, db)

    assert restored.health.ok and restored.health.entries == len(at_backup)
    assert ledger_ids(db) == at_backup
    assert restored.kept == tmp_path / "loyalty.db.before-restore"
    assert ledger_ids(restored.kept) == after  # the later sales are still on disk
    assert check(db).ok
    # The restored database is the bot's again: it opens, upgrades (a no-op) and records.
    await earn_many(db, 1, [])
    assert len(ledger_ids(db)) == len(at_backup) + 1


def test_a_second_restore_does_not_overwrite_the_first_kept_file(db: Path, tmp_path: Path) -> None:
    saved = tmp_path / "saved.db"
    backup.backup(db, saved)
    backup.restore(saved, db)
    second = backup.restore(saved, db)
    assert second.kept == tmp_path / "loyalty.db.before-restore-2"
    assert (tmp_path / "loyalty.db.before-restore").exists()


def test_restore_refuses_while_a_bot_runs_on_the_database(db: Path, tmp_path: Path) -> None:
    saved = tmp_path / "saved.db"
    backup.backup(db, saved)
    before = digest(db)
    with DatabaseLock(db, "run"), pytest.raises(DatabaseInUse) as caught:
        backup.restore(saved, db)
    assert str(caught.value) == (
        f"another loyalty-bot run (pid {os.getpid()}) is serving loyalty.db: stop it first"
    )
    assert digest(db) == before


def test_restore_refuses_a_damaged_backup_and_changes_nothing(
    db: Path, shop: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.db"
    garbled_page(bad, shop)
    before = digest(db)
    with pytest.raises(StorageFault, match="is not a healthy loyalty-bot database"):
        backup.restore(bad, db)
    assert digest(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.db", "loyalty.db", "loyalty.db.lock"]


def test_restore_from_a_missing_file(db: Path, tmp_path: Path) -> None:
    with pytest.raises(StorageFault, match="no backup at"):
        backup.restore(tmp_path / "nope.db", db)


def test_the_lock_is_released_when_its_holder_lets_go(db: Path) -> None:
    with DatabaseLock(db, "run"), pytest.raises(DatabaseInUse):
        DatabaseLock(db, "run").acquire()
    DatabaseLock(db, "run").acquire().release()  # free again


def test_a_standby_takes_the_lock_once_its_holder_lets_go(db: Path) -> None:
    first = DatabaseLock(db, "run").acquire()
    heard: list[DatabaseInUse] = []
    standby = DatabaseLock(db, "run")
    took = threading.Event()

    def stand_by() -> None:
        if standby.wait(on_wait=heard.append, stop=threading.Event(), every=0.01):
            took.set()

    waiter = threading.Thread(target=stand_by)
    waiter.start()
    assert not took.wait(0.2)  # still held: the standby waits
    first.release()
    waiter.join(5)
    assert took.is_set()
    assert [h.holder for h in heard] == ["run"]  # told once whom it waited for
    with pytest.raises(DatabaseInUse):
        DatabaseLock(db, "run").acquire()  # the standby holds it now
    standby.release()


def test_a_standby_asked_to_stop_gives_up_without_the_lock(db: Path) -> None:
    stop = threading.Event()
    stop.set()
    with DatabaseLock(db, "run"):
        assert DatabaseLock(db, "run").wait(on_wait=lambda busy: None, stop=stop) is False
