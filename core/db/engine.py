"""Opening the database: one async engine per process, SQLite tuned for a durable ledger.

SQLite settings, and why:
- journal_mode=WAL: readers (/status, reports) never block the writer, nor it them;
- synchronous=FULL: a committed earn survives a power cut (durability over a few microseconds);
- busy_timeout: a second writer waits its turn instead of failing with "database is locked";
- foreign_keys=ON: a ledger entry can't point at a customer who doesn't exist.
PostgreSQL needs none of this: the same code runs on it with an asyncpg URL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

BUSY_TIMEOUT_MS = 10_000


def open_engine(url: str, *, echo: bool = False, durable: bool = True) -> AsyncEngine:
    """Creates the async engine for `url`; for SQLite, creates the folder and sets the pragmas.

    durable=False skips the fsync per commit: only for data that can be rebuilt (the demo).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, echo=echo, pool_pre_ping=True, hide_parameters=True)
    database = parsed.database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # hide_parameters: a failed statement's error message must not quote names or phone numbers.
    engine = create_async_engine(
        url, echo=echo, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, hide_parameters=True
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={'FULL' if durable else 'OFF'}")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine
