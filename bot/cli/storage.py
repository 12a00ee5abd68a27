"""The command line's side of storage faults: checks before the bot starts, one line after.

Every command's storage failures (core/db/faults.py) end as one line on stderr naming the file
and what to do, with exit status 1, instead of a traceback. `run` also makes sure it is the only
bot on its database (core/db/lock.py) and that the file is usable before it contacts Telegram.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from sqlalchemy import make_url

from core.config import Config
from core.db.engine import open_engine, sqlite_file
from core.db.faults import check_file, check_folder, diagnose, translated
from core.db.lock import DatabaseInUse, DatabaseLock
from core.db.migrate import upgrade
from core.db.pg_lock import PostgresLock

log = logging.getLogger(__name__)

# The lock `run` holds until the process ends (the OS releases it then, however it ends).
_HELD: list[DatabaseLock | PostgresLock] = []


def prepare_to_serve(config: Config, *, stop: threading.Event) -> bool:
    """Before `run` contacts Telegram: its database's folder is usable, no other bot serves
    the database (if one does, this one waits as its standby), the file is ours and whole, and
    its schema is upgraded. False if `stop` was set while waiting. Raises StorageFault.
    """
    path = sqlite_file(config.database_url)
    if make_url(config.database_url).get_backend_name() == "postgresql":
        return _prepare_postgresql(config.database_url, stop)
    if path is None:  # in memory: nothing to check or lock
        return True
    check_folder(path)
    lock = DatabaseLock(path, "run")
    if not lock.wait(on_wait=_standing_by, stop=stop):
        return False
    try:
        check_file(path)
        with translated(path):
            asyncio.run(_upgrade(config.database_url))
    except BaseException:
        lock.release()
        raise
    _HELD.append(lock)
    return True


def _prepare_postgresql(url: str, stop: threading.Event) -> bool:
    """The advisory lock (core/db/pg_lock.py), waiting as a standby; then the upgrade."""
    lock = PostgresLock(url, on_lost=_stop_serving)
    if not lock.wait(on_wait=_standing_by_for, stop=stop):
        return False
    try:
        asyncio.run(_upgrade(url))
    except BaseException:
        lock.release()
        raise
    _HELD.append(lock)
    return True


def _stop_serving() -> None:
    """The lock is lost, so a standby may serve now: this one stops as if told to (SIGTERM)."""
    os.kill(os.getpid(), signal.SIGTERM)


def _standing_by_for(holder: str) -> None:
    log.warning("standby: %s; this one takes over as soon as it stops", holder)


def _standing_by(busy: DatabaseInUse) -> None:
    log.warning("standby: %s; this one takes over as soon as it stops", busy.problem)


def check_before_use(url: str) -> None:
    """The folder and the file checks `run` makes, without the lock (the console)."""
    path = sqlite_file(url)
    if path is not None:
        check_folder(path)
        check_file(path)


async def _upgrade(url: str) -> None:
    engine = open_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def database_of(args: argparse.Namespace, config: Config) -> Path | None:
    """The SQLite file the command works on: the demo's for `demo` and --demo."""
    if args.command == "demo" or getattr(args, "demo", False):
        from core.demo import demo_database_url

        return sqlite_file(demo_database_url(config))
    return sqlite_file(config.database_url)


def explain(exc: Exception, args: argparse.Namespace, config: Config) -> int:
    """Prints a storage fault behind `exc` in one line and returns 1; re-raises anything else."""
    fault = diagnose(exc, database_of(args, config))
    if fault is None:
        raise exc
    command = " ".join(str(part) for part in (args.command, getattr(args, "action", None)) if part)
    print(f"loyalty-bot {command}: {fault}", file=sys.stderr)
    return 1
