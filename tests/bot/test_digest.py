"""/digest through the real Application: the setting, the JobQueue job, what it sends, restarts.

Jobs are run by calling them (`job.run(app)`), as the JobQueue would at their time; the clock
the digest reads is the harness's. Figures: Ann buys 150.00 on 21 Oct 2026 and 40.00 on 23 Oct.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from telegram.ext import Job

from bot.handlers import digest
from core.config import Config, ReportsConfig
from tests.support.harness import ADMIN, CASHIER, CUSTOMER, BotHarness, make_config

pytestmark = pytest.mark.asyncio

LONDON = ZoneInfo("Europe/London")
# 9:00 in London on Thursday 22 Oct 2026 (BST, UTC+1): the daily digest covers 21 Oct.
THURSDAY_MORNING = dt.datetime(2026, 10, 22, 8, 0, tzinfo=dt.UTC)
# 9:00 in London on Monday 26 Oct 2026 (GMT again): the weekly digest covers 19-25 Oct.
MONDAY_MORNING = dt.datetime(2026, 10, 26, 9, 0, tzinfo=dt.UTC)
ADDED_ADMIN = 5005


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


@pytest.fixture
async def bot(config: Config) -> AsyncIterator[BotHarness]:
    async with BotHarness(config) as harness:
        await purchases(harness)
        yield harness


async def purchases(bot: BotHarness) -> None:
    when = dt.datetime(2026, 10, 20, 10, tzinfo=dt.UTC)
    result = await bot.store.register(
        {"name": "Ann", "phone": "+447400123456", "email": None}, actor_id=CASHIER, now=when
    )
    ann = result["customer"]["id"]
    await bot.store.earn(ann, Decimal("150"), actor_id=CASHIER, now=when + dt.timedelta(days=1))
    await bot.store.earn(ann, Decimal("40"), actor_id=CASHIER, now=when + dt.timedelta(days=3))


def digest_jobs(bot: BotHarness, user_id: int = ADMIN) -> tuple[Job[Any], ...]:
    assert bot.app.job_queue is not None
    return bot.app.job_queue.get_jobs_by_name(digest.job_name(user_id))


def local_next_run(job: Job[Any]) -> str:
    """'Mon 09:00 Europe/London': when the job fires next, in the zone it is scheduled in."""
    assert job.next_t is not None
    zone = job.job.trigger.timezone
    return f"{job.next_t.astimezone(zone):%a %H:%M} {zone}"


def daily_at_nine(job: Job[Any]) -> bool:
    fields = {f.name: str(f) for f in job.job.trigger.fields}
    return fields["day_of_week"] == "sun,mon,tue,wed,thu,fri,sat" and fields["hour"] == "9"


async def test_digest_alone_says_it_is_off_until_turned_on(bot: BotHarness) -> None:
    await bot.send(ADMIN, "/digest")

    assert bot.last_text(ADMIN).startswith("Your digest is off.")
    assert "/digest daily" in bot.last_text(ADMIN)
    assert not digest_jobs(bot)


async def test_digest_daily_is_stored_and_scheduled_at_the_digest_time_in_the_shops_zone(
    bot: BotHarness,
) -> None:
    await bot.send(ADMIN, "/digest daily")

    assert "every day at 09:00 (Europe/London)" in bot.last_text(ADMIN)
    assert await bot.staff.get_setting(f"digest:{ADMIN}") == "daily"
    (job,) = digest_jobs(bot)
    assert daily_at_nine(job)
    assert local_next_run(job).endswith("09:00 Europe/London")
    await bot.send(ADMIN, "/digest")
    assert bot.last_text(ADMIN).startswith("Your digest comes every day at 09:00")
    assert not bot.bad_requests()


async def test_the_daily_job_sends_the_admin_yesterdays_summary(bot: BotHarness) -> None:
    await bot.send(ADMIN, "/digest daily")
    bot.services.clock = lambda: THURSDAY_MORNING
    (job,) = digest_jobs(bot)
    before = len(bot.said_to(ADMIN))

    await job.run(bot.app)

    assert len(bot.said_to(ADMIN)[before:]) == 1  # one message: the digest fits in one
    lines = bot.last_text(ADMIN).splitlines()
    assert lines[:2] == ["📬 Your daily digest (/digest off to stop)", "Summary · 21 Oct 2026"]
    assert "Purchases: 1 by 1 customer" in lines
    assert "Issued: 150" in lines
    assert "≈ £3.75 at £0.025 a point" in lines  # 150 outstanding at the end of 21 Oct
    assert not bot.bad_requests()


async def test_the_weekly_digest_runs_on_mondays_and_covers_the_seven_days_before(
    bot: BotHarness,
) -> None:
    await bot.send(ADMIN, "/digest weekly")
    bot.services.clock = lambda: MONDAY_MORNING
    (job,) = digest_jobs(bot)
    assert local_next_run(job) == "Mon 09:00 Europe/London"

    await job.run(bot.app)

    lines = bot.last_text(ADMIN).splitlines()
    assert lines[:2] == [
        "📬 Your weekly digest (/digest off to stop)",
        "Summary · 19 Oct – 25 Oct 2026",
    ]
    assert "Issued: 190" in lines


async def test_digest_off_removes_the_job_and_says_so(bot: BotHarness) -> None:
    await bot.send(ADMIN, "/digest weekly")
    await bot.send(ADMIN, "/digest off")

    assert bot.last_text(ADMIN).startswith("Digest off")
    assert await bot.staff.get_setting(f"digest:{ADMIN}") == "off"
    assert not [job for job in digest_jobs(bot) if job.enabled and not job.removed]


async def test_changing_the_digest_keeps_one_job(bot: BotHarness) -> None:
    await bot.send(ADMIN, "/digest weekly")
    await bot.send(ADMIN, "/digest daily")

    live = [job for job in digest_jobs(bot) if not job.removed]
    assert len(live) == 1 and live[0].data == "daily"


async def test_the_digest_is_scheduled_again_after_a_restart(config: Config) -> None:
    async with BotHarness(config) as bot:
        await bot.send(ADMIN, "/digest weekly")

    async with BotHarness(config) as restarted:
        (job,) = digest_jobs(restarted)
        assert job.data == "weekly"
        assert local_next_run(job) == "Mon 09:00 Europe/London"
        restarted.services.clock = lambda: MONDAY_MORNING
        await job.run(restarted.app)
        assert restarted.last_text(ADMIN).startswith("📬 Your weekly digest")


async def test_the_digest_time_and_zone_come_from_the_config(tmp_path: Path) -> None:
    config = dataclasses.replace(
        make_config(tmp_path),
        reports=ReportsConfig(digest_time=dt.time(7, 30), timezone="America/New_York"),
    )
    async with BotHarness(config) as bot:
        await bot.send(ADMIN, "/digest daily")

        (job,) = digest_jobs(bot)
        assert local_next_run(job).endswith("07:30 America/New_York")
        assert "07:30 (America/New_York)" in bot.last_text(ADMIN)


@pytest.mark.parametrize("user_id", [CASHIER, CUSTOMER])
async def test_only_an_admin_can_turn_the_digest_on(bot: BotHarness, user_id: int) -> None:
    await bot.send(user_id, "/digest daily")

    assert bot.last_text(user_id) == "Only an admin (owner or manager) can do that."
    assert await bot.staff.get_setting(f"digest:{user_id}") is None
    assert not digest_jobs(bot, user_id)


async def test_an_unknown_choice_gets_one_line_of_usage(bot: BotHarness) -> None:
    await bot.send(ADMIN, "/digest hourly")

    assert bot.last_text(ADMIN) == (
        "I didn't understand that. Send /digest daily, /digest weekly or /digest off."
    )
    assert await bot.staff.get_setting(f"digest:{ADMIN}") is None


async def test_an_admin_removed_since_gets_no_digest_and_the_job_ends(bot: BotHarness) -> None:
    await bot.staff.add(ADDED_ADMIN, "admin", by=ADMIN, now=THURSDAY_MORNING)
    await bot.send(ADDED_ADMIN, "/digest daily")
    (job,) = digest_jobs(bot, ADDED_ADMIN)
    await bot.staff.remove(ADDED_ADMIN)
    before = len(bot.said_to(ADDED_ADMIN))

    await job.run(bot.app)

    assert bot.said_to(ADDED_ADMIN)[before:] == []
    assert job.removed
