"""One bot per PostgreSQL database: a session advisory lock, and standbys that wait for it.

The same rule as core/db/lock.py (one `run` serves a database, the others stand by), for a
database that is not a file on this machine: the active bot holds
`pg_advisory_lock(LOCK_KEY)` on a connection of its own, kept open for the life of the process.
PostgreSQL releases the lock when that session ends, however it ends: the process is killed,
its machine dies, or the network between them fails. Advisory locks are per database, so shops
sharing a server don't block each other.

The holder checks its connection every few seconds. If it is lost, the lock is gone and a
standby may already be serving, so the holder must stop serving at once: `on_lost` is called
(`loyalty-bot run` stops itself; its service manager starts it again, as a standby). That is
the fence that keeps two bots from polling Telegram for one shop.

The connection lives in a thread with its own event loop: the bot's loop is created later by
python-telegram-bot, and the lock must outlive it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any, Final

from sqlalchemy import make_url

log = logging.getLogger(__name__)

# "loyalty" in ASCII: any fixed 64-bit number would do, the same in every loyalty-bot.
LOCK_KEY: Final = 0x6C6F79616C7479
CHECK_EVERY: Final = 2.0  # seconds between the holder's checks of its connection


def asyncpg_dsn(url: str) -> str:
    """The libpq-style DSN asyncpg takes, from an SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresLock:
    """Held from `wait` returning True until `release` or the end of the process."""

    def __init__(self, url: str, *, on_lost: Callable[[], None], key: int = LOCK_KEY) -> None:
        self.dsn = asyncpg_dsn(url)
        self.key = key
        self.on_lost = on_lost
        self._released = threading.Event()
        self._thread: threading.Thread | None = None

    def wait(
        self,
        *,
        on_wait: Callable[[str], None],
        stop: threading.Event,
        every: float = 1.0,
    ) -> bool:
        """Takes the lock as soon as its holder's session ends (True), or gives up when `stop`
        is set (False). `on_wait` hears once who holds it (the holder's client address)."""
        outcome: dict[str, Any] = {}
        decided = threading.Event()

        def hold() -> None:
            asyncio.run(self._hold(on_wait, stop, every, outcome, decided))

        self._thread = threading.Thread(target=hold, name="postgres-lock", daemon=True)
        self._thread.start()
        decided.wait()
        if "error" in outcome:
            raise outcome["error"]
        return bool(outcome.get("held"))

    def release(self) -> None:
        self._released.set()
        if self._thread is not None:
            self._thread.join(10)

    async def _hold(
        self,
        on_wait: Callable[[str], None],
        stop: threading.Event,
        every: float,
        outcome: dict[str, Any],
        decided: threading.Event,
    ) -> None:
        import asyncpg  # the PostgreSQL extra: only a PostgreSQL shop needs it

        try:
            conn = await asyncpg.connect(self.dsn)
        except BaseException as exc:
            outcome["error"] = exc
            decided.set()
            return
        try:
            told = False
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", self.key):
                if not told:
                    on_wait(await self._holder(conn))
                    told = True
                if await asyncio.to_thread(stop.wait, every):
                    outcome["held"] = False
                    decided.set()
                    return
            outcome["held"] = True
            decided.set()
            while not await asyncio.to_thread(self._released.wait, CHECK_EVERY):
                try:
                    await conn.fetchval("SELECT 1", timeout=CHECK_EVERY)
                except Exception as exc:
                    log.critical("lost the database lock (%s): stopping", type(exc).__name__)
                    self.on_lost()
                    return
        finally:
            if not conn.is_closed():
                await conn.close()  # ends the session: PostgreSQL releases the lock

    async def _holder(self, conn: Any) -> str:
        """Who holds the lock, as the operator can find them: the holder's client address."""
        row = await conn.fetchrow(
            "SELECT a.client_addr, a.pid FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.database ="
            " (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND (l.classid::bigint << 32 | l.objid::bigint) = $1",
            self.key,
        )
        if row is None:
            return "another loyalty-bot run is serving this database"
        where = row["client_addr"] or "this machine"
        return f"another loyalty-bot run (at {where}, server pid {row['pid']}) is serving it"
