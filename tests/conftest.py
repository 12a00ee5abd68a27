"""Shared fixtures: the default program, a fixed clock, and a real migrated database.

The `engine` fixture (and `store` on it) runs each test on both engines the bot supports:
- SQLite: a file in tmp_path, not :memory:, so tests meet what production meets: WAL mode,
  several connections at once, and the schema built by the Alembic migrations rather than by
  metadata.create_all;
- PostgreSQL: when LOYALTY_BOT_TEST_POSTGRES names a server (`.ci/run` sets it, starting the
  server if it is down), a database per test worker, migrated once and emptied before each test.
  Without it those tests are skipped, and the summary says how to run them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from core.config import DEFAULT_PROGRAM
from core.db.engine import open_engine
from core.db.migrate import upgrade
from core.db.store import Store
from core.types import Program
from tests.support.postgres import emptied


@pytest.fixture
def program() -> Program:
    """The program of config.example.toml: Bronze/Silver 500/Gold 2000, coffee 100, cake 250."""
    return DEFAULT_PROGRAM


@pytest.fixture
def now() -> dt.datetime:
    """A fixed moment, in UTC, so stored times can be compared exactly."""
    return dt.datetime(2026, 3, 14, 10, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database upgraded once per run by the real migrations; tests get a copy."""
    path = tmp_path_factory.mktemp("template") / "loyalty.db"

    async def migrate() -> None:
        engine = open_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        await engine.dispose()  # closing the last connection folds the WAL into the file

    # In a thread of its own: the first test to ask for it may already be inside an event loop
    # (tests/bot/conftest.py asks for it from an async fixture).
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, migrate()).result()
    return path


# A PostgreSQL server to run the storage tests against as well, e.g.
# postgresql+asyncpg://postgres@127.0.0.1:5432/postgres (a database the tests may connect to;
# each test worker creates its own database beside it).
POSTGRES_ENV = "LOYALTY_BOT_TEST_POSTGRES"
SKIP_POSTGRES = f"PostgreSQL tests: set {POSTGRES_ENV} to a server's URL to run them"


@pytest.fixture(scope="session")
def postgres_db(worker_id: str) -> str:
    """This worker's PostgreSQL database at the newest schema; its URL."""
    server = os.environ.get(POSTGRES_ENV, "").strip()
    if not server:
        pytest.skip(SKIP_POSTGRES)
    name = f"loyalty_test_{worker_id}"
    url = make_url(server).set(database=name).render_as_string(hide_password=False)

    async def create() -> None:
        admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await admin.dispose()
        engine = open_engine(url)
        await upgrade(engine)
        await engine.dispose()

    # In a thread of its own: the first test to ask for it is already inside an event loop.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, create()).result()
    return url


@pytest.fixture
async def empty_postgres(postgres_db: str) -> str:
    """The URL of this worker's PostgreSQL database, at the newest schema and empty."""
    await (await emptied(postgres_db)).dispose()
    return postgres_db


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(
    request: pytest.FixtureRequest, migrated_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncEngine]:
    """A fresh database at the newest schema: an SQLite file (a copy: migrating each time is
    slow), or this worker's PostgreSQL database emptied."""
    if request.param == "postgresql":
        engine = await emptied(request.getfixturevalue("postgres_db"))
    else:
        path = tmp_path_factory.mktemp("db") / "loyalty.db"
        shutil.copyfile(migrated_db, path)
        engine = open_engine(f"sqlite+aiosqlite:///{path}")
    yield engine
    await engine.dispose()


@pytest.fixture
def store(engine: AsyncEngine, program: Program) -> Store:
    return Store(engine, program)
