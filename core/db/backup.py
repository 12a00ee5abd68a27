"""Backups the owner can trust: copied consistently, verified before they are called backups.

`backup` copies a SQLite database with SQLite's online backup API (sqlite3's
`Connection.backup`) in a single step: one read transaction, so the copy is exactly the
database as of one moment, with every change committed before it, while the bot goes on
writing (WAL lets a reader and the writer run side by side). The copy is written beside its
final name, checked whole (core/db/health.py: integrity_check plus the ledger's invariants),
and only then renamed into place: a file with a backup's name is always a verified backup.

`daily` is what `loyalty-bot run` does once a day (bot/backups.py): today's copy unless it is
already there, then only the newest `keep` daily copies are kept. `restore` puts a verified
backup in place of the database, under the database's lock (core/db/lock.py), keeping the
file it replaces.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path

from .faults import (
    SQLITE_CORRUPT,
    SQLITE_NOTADB,
    StorageFault,
    damaged,
    diagnose,
    missing,
    open_read_only,
    translated,
)
from .health import Health, check
from .lock import DatabaseLock


@dataclass(frozen=True)
class Restored:
    health: Health  # of the backup restored
    kept: Path | None  # where the replaced database now is (None: there was none)


def backup(source: Path, target: Path) -> Health:
    """Copies the database at `source` to `target`, verified; returns the copy's health.

    Raises StorageFault if the target exists, the copy can't be written, or it fails its
    check (then no file is left at `target`).
    """
    if not source.exists():
        raise missing(source)
    if target.exists():
        raise StorageFault(target, f"{target} already exists", "choose another name with --to")
    partial = target.with_name(target.name + ".partial")
    _copy(source, partial)
    try:
        health = check(partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if not health.ok:
        partial.unlink(missing_ok=True)
        raise StorageFault(
            source,
            f"the backup of {source} failed its check ({health.first_problem()})",
            "the database itself may be damaged: run loyalty-bot db check",
        )
    partial.replace(target)
    _sync_folder(target.parent)
    health.path = target
    return health


def daily_name(database: Path, day: dt.date) -> str:
    return f"{database.stem}-{day.isoformat()}.db"


def daily(database: Path, folder: Path, *, keep: int, today: dt.date) -> Health | None:
    """Today's backup into `folder`, unless it is already there; then keeps the newest `keep`.

    Returns the new backup's health, or None when today's was already made (so the job can run
    again on the same day, after a restart, and change nothing).
    """
    target = folder / daily_name(database, today)
    if target.exists():
        prune(folder, database, keep=keep)
        return None
    health = backup(database, target)
    prune(folder, database, keep=keep)
    return health


def prune(folder: Path, database: Path, *, keep: int) -> list[Path]:
    """Deletes all but the newest `keep` daily backups of `database`; returns what it deleted.

    Only files named like a daily backup (<stem>-YYYY-MM-DD.db) are touched: a manual backup
    (<stem>-YYYY-MM-DD-HHMMSS.db) or anything else in the folder stays.
    """
    pattern = re.compile(rf"{re.escape(database.stem)}-\d{{4}}-\d{{2}}-\d{{2}}\.db")
    if not folder.is_dir():
        return []
    dailies = sorted(p for p in folder.iterdir() if pattern.fullmatch(p.name))
    doomed = dailies[: max(0, len(dailies) - keep)]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def restore(source: Path, target: Path) -> Restored:
    """Puts the backup at `source` in place of the database at `target`.

    Under the database's lock, so never under a running bot (DatabaseInUse). `source` is
    checked first (a StorageFault if it is not healthy, and nothing changes). The database it
    replaces is kept as `<name>.before-restore` (with its -wal, if any, renamed to match, so
    nothing committed is lost).
    """
    if not source.is_file():
        raise StorageFault(source, f"no backup at {source}", "give the path of a backup file")
    with translated(target):
        target.parent.mkdir(parents=True, exist_ok=True)
    with DatabaseLock(target, "restore"):
        health = check(source)
        if not health.ok:
            raise StorageFault(
                source,
                f"{source} is not a healthy loyalty-bot database ({health.first_problem()})",
                "choose another backup; nothing was changed",
            )
        incoming = target.with_name(target.name + ".restoring")
        _copy(source, incoming)
        kept = _set_aside(target) if target.exists() else None
        for suffix in ("-wal", "-shm"):  # a stale WAL must not be applied to the restored file
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        incoming.replace(target)
        _sync_folder(target.parent)
    return Restored(health=health, kept=kept)


def _set_aside(target: Path) -> Path:
    kept = target.with_name(target.name + ".before-restore")
    n = 2
    while kept.exists():
        kept = target.with_name(f"{target.name}.before-restore-{n}")
        n += 1
    target.replace(kept)
    wal = Path(f"{target}-wal")
    if wal.exists():  # SQLite finds <name>-wal beside <name>: the kept file keeps its commits
        wal.replace(Path(f"{kept}-wal"))
    return kept


def _copy(source: Path, target: Path) -> None:
    """An online-backup copy of `source` at `target` (replaced), durable on disk, no WAL."""
    try:
        target.unlink(missing_ok=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        with (
            contextlib.closing(open_read_only(source)) as src,
            contextlib.closing(sqlite3.connect(target)) as dst,
        ):
            # pages=-1: every page in one step, inside one read transaction of the source.
            src.backup(dst, pages=-1)
            # A backup is one self-contained file: no -wal beside it to forget.
            dst.execute("PRAGMA journal_mode=DELETE")
        _sync_file(target)
    except StorageFault:
        _discard(target)
        raise
    except Exception as exc:
        _discard(target)
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        if code in (SQLITE_CORRUPT, SQLITE_NOTADB):
            raise damaged(source) from exc
        fault = diagnose(exc, target, role="backup")  # the copy's side: its folder, its disk
        if fault is None:
            raise
        raise fault from exc


def _discard(path: Path) -> None:
    """Removes a half-written copy, if there is one and it can be removed."""
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def _sync_file(path: Path) -> None:
    with path.open("rb") as file:
        os.fsync(file.fileno())


def _sync_folder(folder: Path) -> None:
    """Makes a rename durable (POSIX; Windows has no directory handles to fsync)."""
    if sys.platform == "win32":  # pragma: no cover
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
