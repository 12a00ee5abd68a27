"""What every bot test starts from: a database already at the newest schema, and a `bot`.

The harness starts the real Application, whose post_init upgrades the database it is given.
Running every migration on a fresh file for each of some 300 tests took about a third of this
folder's time, and tested the migrations no more than running them once does (tests/integration
tests them, and tests/e2e starts the real process on a new database, which it migrates). So each
test's database file starts as a copy of the session's migrated template (tests/conftest.py),
and post_init finds it at head.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.harness import BotHarness, database_path, make_config


@pytest.fixture(autouse=True)
def database_at_head(migrated_db: Path, tmp_path: Path) -> Path:
    """The file make_config(tmp_path) names, copied from the migrated template.

    Autouse, so it is in place before any harness starts, including those a test builds itself
    and restarts on the same file (a restart then finds the data the first run left).
    """
    path = database_path(tmp_path)
    shutil.copyfile(migrated_db, path)
    return path


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    """The bot on the default program, started; a test module may define its own instead."""
    async with BotHarness(make_config(tmp_path)) as harness:
        yield harness
