"""`loyalty-bot db`: the database's upkeep (docs/operations.md).

    loyalty-bot db upgrade              create or upgrade the schema (`run` does it on start)
    loyalty-bot db check [FILE] [--quick]   is the file whole, do the books balance? exit 0 or 1
    loyalty-bot db backup [--to PATH]   a consistent, verified copy, even while the bot runs
    loyalty-bot db restore FROM         put a backup in place (the bot must be stopped)
    loyalty-bot db copy --to URL        the whole database into another (e.g. PostgreSQL):
                                        batches, resumable, verified (the bot must be stopped)

backup and restore work on a SQLite file (the default). A PostgreSQL database is backed up and
restored with PostgreSQL's own tools (pg_dump, point-in-time recovery: docs/operations.md), so
there they refuse in one line; check reads PostgreSQL's books with the same invariants.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from core.config import Config, redact_url
from core.db import backup as backups
from core.db.copy import Copied, CopyRefused, copy_database
from core.db.engine import open_engine, sqlite_file
from core.db.faults import check_file, check_folder, translated
from core.db.health import check, check_url
from core.db.lock import DatabaseLock
from core.db.migrate import current_revision, upgrade

ACTIONS = ("upgrade", "check", "backup", "restore", "copy")


def add_parser(
    subparsers: argparse._SubParsersAction,  # type: ignore[type-arg]
    parents: list[argparse.ArgumentParser] | None = None,
) -> None:
    """Adds `db` to the main `loyalty-bot` parser (parents: --config)."""
    parser = subparsers.add_parser(
        "db",
        parents=parents or [],
        help="database upkeep: upgrade, check, backup, restore, copy",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog=(
            "upgrade: create or upgrade the schema. check [FILE]: integrity and the ledger's "
            "invariants. backup: a verified copy (--to PATH). restore FILE: replace the "
            "database with a backup, keeping the old one as <name>.before-restore. copy --to "
            "URL: every table into another database (e.g. postgresql+asyncpg://...), "
            "resumable, verified."
        ),
    )
    parser.add_argument("action", choices=ACTIONS, help="what to do")
    parser.add_argument(
        "source",
        nargs="?",
        type=Path,
        metavar="FILE",
        help="restore: the backup to restore; check: a file to check instead of the database",
    )
    parser.add_argument(
        "--to",
        default=None,
        metavar="PATH|URL",
        help="backup: the file (or folder) to write; copy: the database URL to copy into",
    )
    parser.add_argument(
        "--quick", action="store_true", help="check: quick_check instead of integrity_check"
    )


def run(args: argparse.Namespace, config: Config) -> int:
    action: str = args.action
    if args.source is not None:
        args.source = args.source.absolute()
    if args.source is not None and action in ("upgrade", "backup"):
        hint = " (did you mean --to PATH?)" if action == "backup" else " (it works on --config's)"
        print(f"loyalty-bot db {action}: takes no file{hint}", file=sys.stderr)
        return 2
    if action == "upgrade":
        return _upgrade(config)
    if action == "copy":
        return _copy(args.to, config)
    if action == "check" and args.source is not None:
        return _check(args.source, quick=args.quick)
    path = sqlite_file(config.database_url)
    if path is None and action == "check":
        return _check_url(config.database_url)
    if path is None:
        print(
            f"loyalty-bot db {action}: {redact_url(config.database_url)} is backed up and "
            f"restored with PostgreSQL's own tools (pg_dump, point-in-time recovery): see "
            f'"Backing up PostgreSQL" in docs/operations.md',
            file=sys.stderr,
        )
        return 2
    if action == "check":
        return _check(path, quick=args.quick)
    if action == "backup":
        target = _target(None if args.to is None else Path(args.to), config, path)
        health = backups.backup(path, target)
        print(
            f"backup written to {target} ({health.customers} customers, "
            f"{health.entries} entries), verified"
        )
        return 0
    if args.source is None:
        print("loyalty-bot db restore: which backup? loyalty-bot db restore FILE", file=sys.stderr)
        return 2
    restored = backups.restore(args.source, path)
    health = restored.health
    kept = (
        f"; the database it replaced is kept as {restored.kept}"
        if restored.kept is not None
        else ""
    )
    print(
        f"restored {path} from {args.source} ({health.customers} customers, "
        f"{health.entries} entries), verified{kept}"
    )
    return 0


def _check(path: Path, *, quick: bool) -> int:
    health = check(path, thorough=not quick)
    print(health.report())
    return 0 if health.ok else 1


def _check_url(url: str) -> int:
    """The ledger's invariants on a server database (a PostgreSQL URL); a server that can't be
    reached or refuses the login is one line, exit 1."""
    try:
        with translated(None):
            health = check_url(url)
    except (OSError, SQLAlchemyError) as error:
        cause: BaseException = error
        while isinstance(cause, SQLAlchemyError) and cause.__cause__ is not None:
            cause = cause.__cause__
        reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        print(f"loyalty-bot db check: cannot read {redact_url(url)}: {reason}", file=sys.stderr)
        return 1
    print(health.report())
    return 0 if health.ok else 1


def _upgrade(config: Config) -> int:
    path = sqlite_file(config.database_url)
    if path is not None:
        check_folder(path)
        check_file(path)

    async def go() -> str | None:
        engine = open_engine(config.database_url)
        try:
            await upgrade(engine)
            return await current_revision(engine)
        finally:
            await engine.dispose()

    with translated(path):
        revision = asyncio.run(go())
    print(f"database is at schema revision {revision}")
    return 0


def _target(to: Path | None, config: Config, database: Path) -> Path:
    """--to as given (a folder gets a dated name inside it), else the backup folder."""
    local = dt.datetime.now(config.reports.tzinfo)
    name = f"{database.stem}-{local:%Y-%m-%d-%H%M%S}.db"
    if to is not None:
        to = to.absolute()
        return to / name if to.is_dir() else to
    folder = config.backup.folder_for(database) or database.parent / "backups"
    return folder / name


def _copy(to: str | None, config: Config) -> int:
    """Every table into `to`, with a line of progress per batch; the bot must be stopped."""
    if not to or "://" not in to:
        print(
            "loyalty-bot db copy: where to? loyalty-bot db copy --to "
            "postgresql+asyncpg://user@host/dbname",
            file=sys.stderr,
        )
        return 2
    path = sqlite_file(config.database_url)
    lock = DatabaseLock(path, "copy").acquire() if path is not None else None  # no bot on it
    shown: dict[str, int] = {}

    def progress(table: str, done: int, total: int) -> None:
        # A line per table at most every 10%, and its last: readable in a terminal or a log.
        step = max(total // 10, 1)
        if done == total or done // step != shown.get(table, -1):
            shown[table] = done // step
            print(f"  {table}: {done:,} of {total:,} rows", flush=True)

    async def go() -> Copied:
        source, target = open_engine(config.database_url), open_engine(to)
        try:
            return await copy_database(source, target, progress=progress)
        finally:
            await source.dispose()
            await target.dispose()

    print(f"copying {redact_url(config.database_url)} to {redact_url(to)} ...", flush=True)
    try:
        with translated(path):
            copied = asyncio.run(go())
    except CopyRefused as refused:
        print(f"loyalty-bot db copy: {refused}", file=sys.stderr)
        return 1
    finally:
        if lock is not None:
            lock.release()
    print(
        f"copied and verified: {copied.customers:,} customers, {copied.entries:,} entries, "
        f"{len(copied.tables)} tables; every balance equals its ledger. Point [database] url "
        f"at {redact_url(to)} and start the bot."
    )
    return 0
