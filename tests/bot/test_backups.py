"""The daily backup on the JobQueue (bot/backups.py), through the real Application.

The job is run by calling it (`job.run(app)`), as the JobQueue would at its time; the day it
names its copy after is the harness clock's, in the shop's time zone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram.ext import Job

from bot import backups
from core.config import BackupConfig, Config
from core.db.health import check
from tests.bot.conftest import sqlite_only
from tests.support.harness import BotHarness, make_config

pytestmark = [pytest.mark.asyncio, sqlite_only]  # daily backups copy the SQLite file

# 02:30 UTC on 1 Jul 2026 is 03:30 in London (BST): the backup names it 2026-07-01.
NIGHT = dt.datetime(2026, 7, 1, 2, 30, tzinfo=dt.UTC)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return dataclasses.replace(make_config(tmp_path), backup=BackupConfig(keep=2))


@pytest.fixture
async def bot(config: Config) -> AsyncIterator[BotHarness]:
    async with BotHarness(config) as harness:
        harness.services.clock = lambda: NIGHT
        yield harness


def backup_jobs(bot: BotHarness) -> tuple[Job, ...]:  # type: ignore[type-arg]
    assert bot.app.job_queue is not None
    return bot.app.job_queue.get_jobs_by_name(backups.JOB_NAME)


async def test_the_bot_schedules_one_daily_backup_at_three_in_the_shops_time(
    bot: BotHarness,
) -> None:
    (job,) = backup_jobs(bot)
    fields = {f.name: str(f) for f in job.job.trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("3", "0")
    assert str(job.job.trigger.timezone) == "Europe/London"


async def test_the_job_writes_a_verified_copy_once_a_day(
    bot: BotHarness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (job,) = backup_jobs(bot)
    caplog.set_level(logging.INFO, logger="bot.backups")

    await job.run(bot.app)
    copy = tmp_path / "backups" / "test-2026-07-01.db"
    made = copy.stat().st_mtime_ns
    await job.run(bot.app)  # a restart, or the job firing twice: nothing more

    assert [p.name for p in copy.parent.iterdir()] == [copy.name]
    assert copy.stat().st_mtime_ns == made
    assert check(copy).ok
    assert "verified" in caplog.text and "today's is already in" in caplog.text


async def test_the_job_keeps_the_newest_copies(bot: BotHarness, tmp_path: Path) -> None:
    (job,) = backup_jobs(bot)
    for day in range(4):
        when = NIGHT + dt.timedelta(days=day)
        bot.services.clock = lambda when=when: when  # type: ignore[misc]
        await job.run(bot.app)
    names = sorted(p.name for p in (tmp_path / "backups").iterdir())
    assert names == ["test-2026-07-03.db", "test-2026-07-04.db"]


async def test_a_failed_backup_is_one_log_line_and_the_bot_goes_on(
    bot: BotHarness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "backups").write_text("a file where the folder should be")
    (job,) = backup_jobs(bot)
    await job.run(bot.app)
    [record] = [r for r in caplog.records if r.name == "bot.backups" and r.levelname == "ERROR"]
    assert record.getMessage().startswith("daily backup failed: the backup folder")
    assert record.exc_info is None


async def test_no_job_when_backups_are_off(tmp_path: Path) -> None:
    config = dataclasses.replace(make_config(tmp_path), backup=BackupConfig(folder=""))
    async with BotHarness(config) as bot:
        assert backup_jobs(bot) == ()
