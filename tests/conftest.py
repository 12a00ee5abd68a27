"""Shared fixtures: the default program, a fixed clock, and a real migrated SQLite file.

The database is a file in tmp_path, not :memory:, so tests meet what production meets: WAL mode,
several connections at once, and the schema built by the Alembic migrations rather than by
metadata.create_all.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.config import DEFAULT_PROGRAM
from core.db.engine import open_engine
from core.db.migrate import upgrade
from core.db.store import Store
from core.types import Program


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

    asyncio.run(migrate())
    return path


@pytest.fixture
async def engine(
    migrated_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncEngine]:
    """A fresh SQLite file at the newest schema (a copy: migrating each time is slow)."""
    path = tmp_path_factory.mktemp("db") / "loyalty.db"
    shutil.copyfile(migrated_db, path)
    engine = open_engine(f"sqlite+aiosqlite:///{path}")
    yield engine
    await engine.dispose()


@pytest.fixture
def store(engine: AsyncEngine, program: Program) -> Store:
    return Store(engine, program)
