"""Opening the database: one async engine per process, SQLite tuned for a durable ledger.

SQLite settings, and why:
- journal_mode=WAL: readers (/status, reports) never block the writer, nor it them;
- synchronous=FULL: a committed earn survives a power cut (durability over a few microseconds);
- busy_timeout: a second writer waits its turn instead of failing with "database is locked";
- foreign_keys=ON: a ledger entry can't point at a customer who doesn't exist.
PostgreSQL needs none of this: the same code runs on it with an asyncpg URL.

The Store's hot operations (lookup, earn, redeem) run on a synchronous twin of the async engine
(`sync_twin`): the same SQLite file through the stdlib driver, with the same settings, so a whole
unit of work is one hand-off to a worker thread instead of four or five per statement through
aiosqlite (core/db/unit_of_work.py says more). Both engines point at the same file; WAL lets them
share.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

BUSY_TIMEOUT_MS = 10_000

# Commits made since `count_commits` was called in this task (one update's handling). A list,
# not an int: the commit hook runs on worker threads (asyncio.to_thread) and in SQLAlchemy's
# greenlets, which see copies of this task's context: the same list, so their counts add up.
_COMMITS: ContextVar[list[int] | None] = ContextVar("loyalty_commits", default=None)


def count_commits() -> Callable[[], int]:
    """Starts counting this task's commits on every engine opened here; returns the reader.

    The bot's error handler uses it to tell the truth: "nothing was changed" only when nothing
    was committed while handling the update (bot/errors.py).
    """
    box = [0]
    _COMMITS.set(box)
    return lambda: box[0]


def _counted(conn: Any) -> None:
    box = _COMMITS.get()
    if box is not None:
        box[0] += 1


# Whether each engine open_engine made is durable, so its twin is opened with the same settings.
_DURABLE: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()


def open_engine(url: str, *, echo: bool = False, durable: bool = True) -> AsyncEngine:
    """Creates the async engine for `url`; for SQLite, creates the folder and sets the pragmas.

    durable=False skips the fsync per commit: only for data that can be rebuilt (the demo).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # No pool_pre_ping: asyncpg's ping is three round trips (BEGIN, ";", ROLLBACK) before
        # every statement's checkout, more than a lookup itself. A server that restarts or a
        # network that drops also drops the active bot's advisory-lock session, and the bot
        # stops itself within seconds (core/db/pg_lock.py) to come back as a standby with a
        # fresh pool; a connection lost otherwise fails one update, which the error handler
        # reports as "nothing was changed", and the pool discards it.
        engine = create_async_engine(url, echo=echo, hide_parameters=True)
        event.listen(engine.sync_engine, "commit", _counted)
        return engine
    database = parsed.database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # hide_parameters: a failed statement's error message must not quote names or phone numbers.
    engine = create_async_engine(
        url, echo=echo, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, hide_parameters=True
    )
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas(durable=durable))
    event.listen(engine.sync_engine, "commit", _counted)
    _DURABLE[engine.sync_engine] = durable
    return engine


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names; None for an in-memory database or another engine.

    Commands that only read (`loyalty-bot report`) check it exists first: opening a SQLite URL
    creates an empty database, which would then be reported as an empty shop.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def sync_twin(engine: AsyncEngine) -> Engine | None:
    """A synchronous engine on the same SQLite file with the same settings; None if there is none.

    Only a SQLite file has one: an in-memory database lives inside its one connection, and other
    databases are reached through the async engine (UnitOfWork runs the same code there, see
    AsyncConnection.run_sync). The caller owns the twin and disposes of it.
    """
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    durable = _DURABLE.get(engine.sync_engine, True)
    twin = create_engine(
        url.set(drivername="sqlite+pysqlite"),
        echo=engine.echo,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000},
        hide_parameters=True,
    )
    event.listen(twin, "connect", _sqlite_pragmas(durable=durable))
    event.listen(twin, "commit", _counted)
    return twin


def _sqlite_pragmas(*, durable: bool) -> Callable[[Any, Any], None]:
    def set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={'FULL' if durable else 'OFF'}")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return set_pragmas
