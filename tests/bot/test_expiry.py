"""Points expiry through the real Application: the daily job (run twice, after a week of
downtime), the reminder a linked customer receives, the /status line, and switching expiry on
for a shop that already has points out there (bot/expiry.py, core/expiry.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from bot import delivery, expiry
from core.db.tables import audit, ledger
from core.expiry import ExpiryPolicy
from core.reports.audit import audit_lines, text_lines
from core.reports.periods import parse_period
from core.reports.queries import summary
from core.reports.sections import staff_activity
from core.reports.text import summary_text
from tests.integration.books import assert_books_balance
from tests.support.harness import CASHIER, CUSTOMER, BotHarness, make_config

pytestmark = pytest.mark.asyncio

PHONE = "+447400123456"
# London is on GMT in January, so these UTC times are the shop's own.
JAN_1 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
LONG_AGO = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)  # when the policy took effect
AFTER_30 = ExpiryPolicy(policy="after_days", days=30, remind_days=14)


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    config = dataclasses.replace(make_config(tmp_path), expiry=AFTER_30)
    async with BotHarness(config) as harness:
        await caught_up(harness)  # the start-up run, on no cards
        # The shop has had this policy for a year: no switch-on grace in these tests.
        harness.services.notes[expiry.SINCE_NOTE] = LONG_AGO
        yield harness


async def caught_up(bot: BotHarness) -> None:
    """Waits for the start-up run (bot/expiry.py runs it as a job once the bot runs)."""
    done = bot.services.notes[expiry.CATCH_UP_NOTE]
    assert isinstance(done, asyncio.Event)
    await asyncio.wait_for(done.wait(), timeout=10)


async def customer(bot: BotHarness, *, linked: bool = False) -> int:
    result = await bot.store.register(
        {"name": "Ann Lee", "phone": PHONE, "email": None}, actor_id=CASHIER, now=JAN_1
    )
    if linked:
        await bot.store.link_telegram(PHONE, CUSTOMER)
    return result["customer"]["id"]


async def earn(bot: BotHarness, customer_id: int, amount: int, when: dt.datetime) -> None:
    await bot.store.earn(customer_id, Decimal(amount), actor_id=CASHIER, now=when)


async def run_at(bot: BotHarness, when: dt.datetime) -> expiry.Run:
    bot.services.clock = lambda: when
    return await expiry.run(bot.services, when)


async def expire_entries(bot: BotHarness, customer_id: int) -> list[tuple[int, object]]:
    query = (
        select(ledger.c.points, ledger.c.details)
        .where(ledger.c.customer_id == customer_id, ledger.c.kind == "expire")
        .order_by(ledger.c.id)
    )
    async with bot.store.engine.connect() as conn:
        return [(r.points, r.details["day"]) for r in await conn.execute(query)]


async def test_the_job_expires_what_is_left_of_a_lot_after_its_last_day_once(
    bot: BotHarness,
) -> None:
    ann = await customer(bot)
    await earn(bot, ann, 150, JAN_1)  # 150 points, last day 31 Jan
    await bot.store.redeem(ann, "coffee", actor_id=CASHIER, now=JAN_1 + dt.timedelta(days=4))
    await earn(bot, ann, 40, JAN_1 + dt.timedelta(days=19))  # 40 points, last day 19 Feb

    on_the_last_day = await run_at(bot, dt.datetime(2026, 1, 31, 23, 59, 59, tzinfo=dt.UTC))
    first = await run_at(bot, dt.datetime(2026, 2, 1, 0, 5, tzinfo=dt.UTC))
    second = await run_at(bot, dt.datetime(2026, 2, 1, 0, 6, tzinfo=dt.UTC))

    assert on_the_last_day.expired == 0
    # The coffee took 100 of the 150: only the 50 left expire, never the points spent.
    assert (first.cards, first.expired) == (1, 50)
    assert second.expired == 0
    assert await expire_entries(bot, ann) == [(-50, "2026-01-31")]
    card = await assert_books_balance(bot.store, ann)
    assert card["balance"] == 40
    assert card["tier"] == "Bronze"
    # Breakage in the reports: February's expired points, not counted as redeemed; the same
    # through the all-time path (a period that starts before the first entry).
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    for text in ("2026-02", "all"):
        period = parse_period(text, now=now, tz=bot.config.reports.tzinfo)
        s = await summary(bot.store.engine, period, bot.config.program, now=now)
        assert (s["points_expired"], s["points_reversed"]) == (50, 0)
        assert s["points_redeemed"] == (100 if text == "all" else 0)
        assert "Expired (breakage): 50" in "\n".join(
            summary_text(s, bot.config.program, html=False)
        )


async def test_after_a_week_of_downtime_the_job_catches_up_one_entry_per_day(
    bot: BotHarness,
) -> None:
    ann = await customer(bot)
    for day, amount in enumerate((10, 20, 30, 40)):
        await earn(bot, ann, amount, JAN_1 + dt.timedelta(days=day))  # last days 31 Jan..3 Feb

    done = await run_at(bot, dt.datetime(2026, 2, 3, 9, 0, tzinfo=dt.UTC))  # back on 3 Feb
    again = await run_at(bot, dt.datetime(2026, 2, 3, 9, 1, tzinfo=dt.UTC))

    assert (done.cards, done.expired, again.expired) == (1, 60, 0)
    assert await expire_entries(bot, ann) == [
        (-10, "2026-01-31"),
        (-20, "2026-02-01"),
        (-30, "2026-02-02"),
    ]
    assert (await assert_books_balance(bot.store, ann))["balance"] == 40  # 3 Feb is not over


async def test_a_linked_customer_is_reminded_once_before_points_expire(bot: BotHarness) -> None:
    ann = await customer(bot, linked=True)
    await earn(bot, ann, 120, JAN_1)  # last day 31 Jan

    too_early = await run_at(bot, dt.datetime(2026, 1, 16, 0, 5, tzinfo=dt.UTC))  # 15 days
    queued = await run_at(bot, dt.datetime(2026, 1, 17, 0, 5, tzinfo=dt.UTC))  # 14 days
    bot.services.clock = lambda: dt.datetime(2026, 1, 17, 9, 59, tzinfo=dt.UTC)
    await delivery.deliver_due(SimpleNamespace(application=bot.app))  # type: ignore[arg-type]
    held_back = list(bot.texts_to(CUSTOMER))
    bot.services.clock = lambda: dt.datetime(2026, 1, 17, 10, 0, tzinfo=dt.UTC)
    await delivery.deliver_due(SimpleNamespace(application=bot.app))  # type: ignore[arg-type]
    again = await run_at(bot, dt.datetime(2026, 1, 25, 0, 5, tzinfo=dt.UTC))

    assert (too_early.reminders, queued.reminders, again.reminders) == (0, 1, 0)
    assert held_back == []  # not at five past midnight
    text = bot.last_text(CUSTOMER)
    assert "120 points on your card" in text
    assert "expire on 31 Jan 2026" in text
    async with bot.store.engine.connect() as conn:
        told = (
            await conn.execute(select(audit.c.details).where(audit.c.action == "expiry_reminder"))
        ).all()
    assert [row.details for row in told] == [{"day": "2026-01-31", "points": 120}]


async def test_a_customer_who_turned_notifications_off_is_not_reminded(
    bot: BotHarness,
) -> None:
    ann = await customer(bot, linked=True)
    await earn(bot, ann, 120, JAN_1)  # last day 31 Jan
    await bot.send(CUSTOMER, "/notifications off")
    before = len(bot.texts_to(CUSTOMER))

    queued = await run_at(bot, dt.datetime(2026, 1, 17, 0, 5, tzinfo=dt.UTC))
    bot.services.clock = lambda: dt.datetime(2026, 1, 17, 10, 0, tzinfo=dt.UTC)
    await delivery.deliver_due(SimpleNamespace(application=bot.app))  # type: ignore[arg-type]

    # Due, but the setting drops the message where notices are queued (core/db/outbox.py).
    assert queued.reminders == 0
    assert len(bot.texts_to(CUSTOMER)) == before


async def test_status_shows_the_soonest_expiry(bot: BotHarness) -> None:
    ann = await customer(bot, linked=True)
    await earn(bot, ann, 120, JAN_1)
    await earn(bot, ann, 30, JAN_1 + dt.timedelta(hours=3))  # same last day: 150 together
    await earn(bot, ann, 25, JAN_1 + dt.timedelta(days=10))
    bot.services.clock = lambda: dt.datetime(2026, 1, 20, 12, tzinfo=dt.UTC)

    await bot.send(CUSTOMER, "/status")

    assert "Balance: 175 points" in bot.last_text(CUSTOMER)
    assert "⏳ 150 points expire on 31 Jan" in bot.last_text(CUSTOMER)


async def test_status_says_nothing_about_expiry_when_it_is_off(tmp_path: Path) -> None:
    async with BotHarness(make_config(tmp_path)) as off:
        ann = await customer(off, linked=True)
        await earn(off, ann, 120, JAN_1)
        off.services.clock = lambda: dt.datetime(2026, 1, 20, 12, tzinfo=dt.UTC)
        await off.send(CUSTOMER, "/status")
        assert "expire" not in off.last_text(CUSTOMER)


async def test_switching_expiry_on_never_expires_old_points_before_the_reminder_window(
    bot: BotHarness,
) -> None:
    ann = await customer(bot, linked=True)
    await earn(bot, ann, 80, JAN_1)  # would have expired on 31 Jan 2026
    svc = bot.services
    switched_on = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
    await svc.staff.set_setting(expiry.SETTING, {"policy": "off"})
    svc.notes[expiry.SINCE_NOTE] = await expiry.policy_since(svc, switched_on)

    on_day_one = await run_at(bot, switched_on)
    before_window_ends = await run_at(bot, dt.datetime(2026, 6, 15, 22, tzinfo=dt.UTC))
    after = await run_at(bot, dt.datetime(2026, 6, 16, 0, 5, tzinfo=dt.UTC))  # BST: 01:05

    assert (on_day_one.expired, on_day_one.reminders) == (0, 1)  # told at once, 14 days ahead
    assert before_window_ends.expired == 0
    assert after.expired == 80
    assert await svc.staff.get_setting(expiry.SETTING) == {
        "policy": "after_days:30",
        "since": switched_on.isoformat(),
    }


async def test_expiry_is_nobodys_staff_activity(bot: BotHarness) -> None:
    ann = await customer(bot)
    await earn(bot, ann, 60, JAN_1)
    await run_at(bot, dt.datetime(2026, 2, 1, 0, 5, tzinfo=dt.UTC))
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    period = parse_period("2026-02", now=now, tz=bot.config.reports.tzinfo)
    assert await staff_activity(bot.store.engine, period) == []


async def test_the_bot_runs_expiry_daily_just_after_the_shops_midnight(bot: BotHarness) -> None:
    assert bot.app.job_queue is not None
    (job,) = bot.app.job_queue.get_jobs_by_name(expiry.JOB_NAME)
    fields = {f.name: str(f) for f in job.job.trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("0", "5")
    assert str(job.job.trigger.timezone) == "Europe/London"


async def test_a_restart_catches_up_on_what_expired_while_the_bot_was_down(
    tmp_path: Path,
) -> None:
    config = dataclasses.replace(make_config(tmp_path), expiry=AFTER_30)
    async with BotHarness(config) as before:
        await caught_up(before)
        ann = await customer(before)
        await earn(before, ann, 70, JAN_1)  # last day 31 Jan 2026: long past by the real clock
        policy = {"policy": AFTER_30.fingerprint(), "since": LONG_AGO.isoformat()}
        await before.staff.set_setting(expiry.SETTING, policy)

    async with BotHarness(config) as after:  # its start-up run uses the real clock
        await caught_up(after)
        assert await expire_entries(after, ann) == [(-70, "2026-01-31")]
        assert (await assert_books_balance(after.store, ann))["balance"] == 0


async def test_inactivity_expires_only_the_cards_that_stopped_buying(tmp_path: Path) -> None:
    idle = ExpiryPolicy(policy="inactivity", days=45, remind_days=0)
    config = dataclasses.replace(make_config(tmp_path), expiry=idle)
    async with BotHarness(config) as shop:
        await caught_up(shop)
        shop.services.notes[expiry.SINCE_NOTE] = LONG_AGO
        ann = await customer(shop)
        bob = (
            await shop.store.register(
                {"name": "Bob Ray", "phone": "+447400654321", "email": None},
                actor_id=CASHIER,
                now=JAN_1,
            )
        )["customer"]["id"]
        await earn(shop, ann, 100, JAN_1)
        await earn(shop, bob, 100, JAN_1)
        await earn(shop, bob, 10, JAN_1 + dt.timedelta(days=40))  # Bob keeps coming back

        done = await run_at(shop, dt.datetime(2026, 2, 16, 0, 5, tzinfo=dt.UTC))  # 46 days on

        assert (done.cards, done.expired) == (1, 100)
        assert await expire_entries(shop, ann) == [(-100, "2026-02-15")]
        assert await expire_entries(shop, bob) == []
        assert (await assert_books_balance(shop.store, bob))["balance"] == 110


async def test_the_audit_trail_says_what_expired_and_who_was_told(bot: BotHarness) -> None:
    ann = await customer(bot, linked=True)
    await earn(bot, ann, 120, JAN_1)
    await run_at(bot, dt.datetime(2026, 1, 20, 0, 5, tzinfo=dt.UTC))
    await run_at(bot, dt.datetime(2026, 2, 1, 0, 5, tzinfo=dt.UTC))
    records = await bot.store.audit_log(customer_id=ann)
    read = await audit_lines(
        bot.store.engine, records[:2], program=bot.config.program, tz=bot.config.reports.tzinfo
    )
    lines = text_lines(read, html=False)
    assert "system · Points expired" in lines[0]
    assert lines[0].endswith("120 points, last day 2026-01-31")
    assert "system · Expiry reminder" in lines[1]
    assert lines[1].endswith("120 points told, last day 2026-01-31")


async def test_points_stamped_into_a_day_already_expired_still_expire(bot: BotHarness) -> None:
    ann = await customer(bot)
    await earn(bot, ann, 50, JAN_1)
    await run_at(bot, dt.datetime(2026, 2, 1, 0, 5, tzinfo=dt.UTC))
    # A till whose clock is behind records a purchase as if made on 1 Jan, after the run.
    await earn(bot, ann, 20, JAN_1 + dt.timedelta(hours=5))
    late = await run_at(bot, dt.datetime(2026, 2, 1, 0, 10, tzinfo=dt.UTC))

    assert late.expired == 20
    assert await expire_entries(bot, ann) == [(-50, "2026-01-31"), (-20, "2026-01-31")]
    assert (await assert_books_balance(bot.store, ann))["balance"] == 0
