"""Running a unit of work: one plain function over one connection, as one hand-off.

A unit of work is a plain function `work(conn, *args)`. `UnitOfWork.read` runs it on a
connection of its own; `UnitOfWork.write` runs it in one transaction, committed if it returns and
rolled back if it raises. What a function does with its connection, and what to do when it
loses a race, is the caller's business (core/db/store.py); this module only decides where and
how it runs.

How it runs (issue "Scale": lookup, earn, redeem under 2 ms):
- On a SQLite file the function runs whole in one `asyncio.to_thread` call on a synchronous twin
  of the engine (core.db.engine.sync_twin: same file, same WAL/FULL/busy_timeout settings):
  one hand-off to a worker thread per operation, where aiosqlite needed four or five per
  statement. Readers run side by side (WAL); writers take turns (`_write_turn`).
- Anywhere else (PostgreSQL through asyncpg, an in-memory SQLite) the very same function runs
  through the async engine's `AsyncConnection.run_sync`: same code, same transactions (reads on
  PostgreSQL without BEGIN/ROLLBACK around them, see UnitOfWork.__init__).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from .engine import sync_twin

P = ParamSpec("P")
T = TypeVar("T")


class UnitOfWork:
    """Runs functions over one connection each, on `engine`'s database.

    On a SQLite file it opens a synchronous twin of the engine, closed by close(); the async
    engine itself stays its owner's to dispose of.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._twin = sync_twin(engine)
        # PostgreSQL (READ COMMITTED, its default and ours) takes a new snapshot for every
        # statement, inside a transaction or not, so a read gains nothing from BEGIN ... ROLLBACK
        # but two round trips: without them a lookup is one statement on the wire, not three.
        self._reader = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else engine
        )
        # SQLite lets one writer in at a time and makes the others retry with growing sleeps,
        # in no order: with dozens of cashiers confirming at once, an unlucky writer waited
        # past busy_timeout and failed with "database is locked" (bench/throughput.py). So
        # writers take turns here, first come first served, before opening a transaction.
        # Other databases lock rows, not the whole file, and need no queue.
        self._write_turn: contextlib.AbstractAsyncContextManager[object] = (
            asyncio.Lock() if engine.dialect.name == "sqlite" else contextlib.nullcontext()
        )

    def close(self) -> None:
        """Closes the twin's connections (the async engine is its owner's to dispose of)."""
        if self._twin is not None:
            self._twin.dispose()

    async def read(
        self, work: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Runs `work` on one connection, as one hand-off to a worker thread where possible."""
        twin = self._twin
        if twin is None:
            async with self._reader.connect() as conn:
                return await conn.run_sync(work, *args, **kwargs)

        def job() -> T:
            with twin.connect() as conn:
                return work(conn, *args, **kwargs)

        return await asyncio.to_thread(job)

    async def write(
        self, work: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Runs `work` in one transaction, committed if it returns, else rolled back."""
        twin = self._twin
        async with self._write_turn:
            if twin is None:
                async with self.engine.begin() as conn:
                    return await conn.run_sync(work, *args, **kwargs)

            def job() -> T:
                with twin.begin() as conn:
                    return work(conn, *args, **kwargs)

            return await asyncio.to_thread(job)
