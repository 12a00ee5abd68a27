"""The benchmark databases on PostgreSQL: each generated SQLite database copied into its own
PostgreSQL database, so both engines are measured on the same customers and entries.

The schema comes from the same migrations as the bot's; the rows go in with PostgreSQL's COPY
(asyncpg's copy_records_to_table), table by table, then each table's row count is checked
against the file, the id sequences are moved past the copied ids and ANALYZE runs, so the
planner knows the tables as a running shop's would. `loyalty-bot db copy`, the shop owner's
move, inserts in verified batches instead: right for a shop, but about 15k rows/s here, an hour
for the 30M rows of the 1M database; COPY takes minutes. (Its own tests cover that path.)
A copy is reused while it matches its source: the database's COMMENT holds the source's
signature (generator version, seed, schema, entry count, end time); anything else is dropped
and copied again. The writes a benchmark run makes go into both copies alike (~1k entries).

The server: LOYALTY_BOT_BENCH_POSTGRES, default postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
(any database there; the benchmark creates `loyalty_bench_<customers>` beside it).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from typing import Any, Final

import asyncpg
from sqlalchemy import Boolean, Date, DateTime, Table, text
from sqlalchemy.engine import URL, make_url

from bench.generate import Generated
from core.db.copy import move_sequences
from core.db.engine import open_engine
from core.db.migrate import upgrade
from core.db.tables import metadata

log = logging.getLogger(__name__)

DEFAULT_SERVER: Final = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def server() -> str:
    return os.environ.get("LOYALTY_BOT_BENCH_POSTGRES", DEFAULT_SERVER)


def signature(made: Generated) -> str:
    made_as = (made.generator_version, made.seed, made.schema, made.entries, made.now)
    return "loyalty-bench " + " ".join(str(part) for part in made_as)


def database_name(made: Generated) -> str:
    return f"loyalty_bench_{made.customers}"


async def copied(made: Generated, admin_url: str | None = None) -> str:
    """The URL of a PostgreSQL database holding exactly `made`, copied first unless current."""
    admin = make_url(admin_url or server())
    name = database_name(made)
    wanted = signature(made)
    url = admin.set(database=name).render_as_string(hide_password=False)
    maintenance = open_engine(admin.render_as_string(hide_password=False))
    try:
        async with maintenance.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            comment = (
                await conn.execute(
                    text(
                        "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                        "WHERE datname = :name"
                    ),
                    {"name": name},
                )
            ).scalar_one_or_none()
            exists = (
                await conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
                )
            ).scalar_one_or_none()
            if exists and comment == wanted:
                log.info("reusing PostgreSQL database %s", name)
                return url
            if exists:
                await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await maintenance.dispose()
    started = time.perf_counter()
    target = open_engine(url)
    try:
        await upgrade(target)  # the bot's own migrations: the same schema as a real shop's
        await _load(made, make_url(url))
        await move_sequences(target)
        async with target.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
            await conn.execute(text(f"COMMENT ON DATABASE \"{name}\" IS '{wanted}'"))
    finally:
        await target.dispose()
    log.info(
        "copied %d customers to %s in %.0f s", made.customers, name, time.perf_counter() - started
    )
    return url


ROWS_PER_COPY: Final = 100_000


async def _load(made: Generated, url: URL) -> None:
    """Every table of the file into the (migrated, empty) database at `url`, by COPY."""
    source = sqlite3.connect(made.path)
    conn = await asyncpg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        database=url.database,
    )
    try:
        # The file was audited when generated (bench/verify.py): skip the per-row foreign-key
        # triggers (replica mode; the server's superuser runs the benchmark) and the wait for
        # each COPY's flush, which only make loading slower. The bot's own sessions keep both.
        await conn.execute("SET session_replication_role = replica")
        await conn.execute("SET synchronous_commit = off")
        for table in metadata.sorted_tables:
            names = [c.name for c in table.columns]
            convert = [_converter(c.type) for c in table.columns]
            quoted = ", ".join(f'"{n}"' for n in names)
            cursor = source.execute(f'SELECT {quoted} FROM "{table.name}"')
            copied = 0
            while rows := cursor.fetchmany(ROWS_PER_COPY):
                records = [tuple(f(v) for f, v in zip(convert, row, strict=True)) for row in rows]
                await conn.copy_records_to_table(table.name, records=records, columns=names)
                copied += len(records)
            await _check_count(conn, table, copied)
            log.info("copied %s: %d rows", table.name, copied)
    finally:
        await conn.close()
        source.close()


async def _check_count(conn: asyncpg.Connection, table: Table, expected: int) -> None:
    held = await conn.fetchval(f'SELECT count(*) FROM "{table.name}"')
    if held != expected:
        raise RuntimeError(f"{table.name}: {held} rows in PostgreSQL, {expected} in the file")


def _converter(kind: Any) -> Callable[[Any], Any]:
    """SQLite's stored value as asyncpg's COPY wants it for a column of SQLAlchemy type `kind`
    (SQLite keeps times and dates as ISO text, booleans as 0/1; JSON stays text)."""
    if isinstance(kind, DateTime):
        return _timestamp
    if isinstance(kind, Date):
        return lambda v: None if v is None else dt.date.fromisoformat(v)
    if isinstance(kind, Boolean):
        return lambda v: None if v is None else bool(v)
    return lambda v: v  # numbers, text, and JSON (asyncpg takes it as text)


def _timestamp(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    moment = dt.datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)  # the Store writes UTC
