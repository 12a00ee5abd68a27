"""The benchmark databases on PostgreSQL: each generated SQLite database copied into its own
PostgreSQL database, so both engines are measured on the same customers and entries.

The copy is the shop owner's own move, `loyalty-bot db copy` (core/db/copy.py: batches,
verified at the end), then ANALYZE so the planner knows the tables as a running shop's would.
A copy is reused while it matches its source: the database's COMMENT holds the source's
signature (generator version, seed, schema, entry count, end time); anything else is dropped
and copied again. The writes a benchmark run makes go into both copies alike (~1k entries).

The server: LOYALTY_BOT_BENCH_POSTGRES, default postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
(any database there; the benchmark creates `loyalty_bench_<customers>` beside it).
"""

from __future__ import annotations

import logging
import os
import time
from typing import Final

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.generate import Generated
from core.db.copy import copy_database
from core.db.engine import open_engine

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
    source = open_engine(f"sqlite+aiosqlite:///{made.path}")
    target = open_engine(url)
    last_logged = [0.0]

    def progress(table: str, done: int, total: int) -> None:
        if time.perf_counter() - last_logged[0] > 15 or done == total:
            last_logged[0] = time.perf_counter()
            log.info("copying %s to PostgreSQL: %s %d/%d", made.path, table, done, total)

    try:
        await copy_database(source, target, progress=progress, batch=20_000)
        async with target.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
            await conn.execute(text(f"COMMENT ON DATABASE \"{name}\" IS '{wanted}'"))
    finally:
        await source.dispose()
        await target.dispose()
    log.info(
        "copied %d customers to %s in %.0f s", made.customers, name, time.perf_counter() - started
    )
    return url
