"""What every bot test starts from: a database already at the newest schema, and a `bot`.

The harness starts the real Application, whose post_init upgrades the database it is given.
Running every migration on a fresh file for each of some 300 tests took about a third of this
folder's time, and tested the migrations no more than running them once does (tests/integration
tests them, and tests/e2e starts the real process on a new database, which it migrates). So each
test's database file starts as a copy of the session's migrated template (tests/conftest.py),
and post_init finds it at head.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.harness import (
    DATABASE_URL_OVERRIDE,
    BotHarness,
    database_path,
    make_config,
)
from tests.support.postgres import emptied

# LOYALTY_BOT_TEST_ENGINE=postgresql runs every bot test on PostgreSQL instead (the server
# LOYALTY_BOT_TEST_POSTGRES names): `.ci/run` runs the bot tests once more that way.
ENGINE = os.environ.get("LOYALTY_BOT_TEST_ENGINE", "sqlite")
# For tests of what only a SQLite file has (its backups, faults injected with SQLite's SQL).
sqlite_only = pytest.mark.skipif(ENGINE == "postgresql", reason="about the SQLite file")


@pytest.fixture(autouse=True)
async def database_at_head(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[None]:
    """The database make_config(tmp_path) names, at the newest schema and empty: a copy of the
    migrated template, or this worker's PostgreSQL database emptied.

    Autouse, so it is in place before any harness starts, including those a test builds itself
    and restarts on the same database (a restart then finds the data the first run left).
    """
    if ENGINE == "postgresql":
        url = request.getfixturevalue("postgres_db")
        await (await emptied(url)).dispose()
        DATABASE_URL_OVERRIDE[:] = [url]
        yield
        DATABASE_URL_OVERRIDE.clear()
        return
    shutil.copyfile(request.getfixturevalue("migrated_db"), database_path(tmp_path))
    yield


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    """The bot on the default program, started; a test module may define its own instead."""
    async with BotHarness(make_config(tmp_path)) as harness:
        yield harness
