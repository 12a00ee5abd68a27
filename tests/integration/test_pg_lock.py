"""One bot per PostgreSQL database: the advisory lock a `run` holds and standbys wait for
(core/db/pg_lock.py). Runs when LOYALTY_BOT_TEST_POSTGRES names a server (tests/conftest.py)."""

from __future__ import annotations

import asyncio
import threading
import time

from core.db.pg_lock import PostgresLock, asyncpg_dsn

KEY = 4242  # not the bot's own key: a bot test on the same database never meets these


def _lock(url: str, lost: threading.Event) -> PostgresLock:
    return PostgresLock(url, on_lost=lost.set, key=KEY)


def test_a_standby_waits_and_takes_over_when_the_holder_lets_go(postgres_db: str) -> None:
    first_lost, standby_lost = threading.Event(), threading.Event()
    first = _lock(postgres_db, first_lost)
    assert first.wait(on_wait=lambda who: None, stop=threading.Event())
    heard: list[str] = []
    standby = _lock(postgres_db, standby_lost)
    took = threading.Event()

    def stand_by() -> None:
        if standby.wait(on_wait=heard.append, stop=threading.Event(), every=0.05):
            took.set()

    waiter = threading.Thread(target=stand_by)
    waiter.start()
    assert not took.wait(0.5)  # held: the standby waits
    first.release()
    waiter.join(10)
    assert took.is_set()
    assert len(heard) == 1 and "is serving" in heard[0]
    assert not first_lost.is_set() and not standby_lost.is_set()
    standby.release()


def test_a_standby_asked_to_stop_gives_up(postgres_db: str) -> None:
    holder = _lock(postgres_db, threading.Event())
    assert holder.wait(on_wait=lambda who: None, stop=threading.Event())
    stop = threading.Event()
    stop.set()
    assert _lock(postgres_db, threading.Event()).wait(on_wait=lambda w: None, stop=stop) is False
    holder.release()


def test_a_holder_whose_session_is_killed_is_told_at_once(postgres_db: str) -> None:
    lost = threading.Event()
    holder = _lock(postgres_db, lost)
    assert holder.wait(on_wait=lambda who: None, stop=threading.Event())

    async def kill_the_holders_session() -> int:
        import asyncpg

        conn = await asyncpg.connect(asyncpg_dsn(postgres_db))
        try:
            killed: int = await conn.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_locks"
                " WHERE locktype = 'advisory' AND objid = $1",
                KEY,
            )
            return killed
        finally:
            await conn.close()

    started = time.monotonic()
    assert asyncio.run(kill_the_holders_session()) == 1
    assert lost.wait(10), "the holder never noticed its lock was gone"
    assert time.monotonic() - started < 6  # within a check or two
    holder.release()
