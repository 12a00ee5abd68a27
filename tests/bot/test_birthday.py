"""/birthday and the birthday bonus's daily job (bot/birthdays.py), through the real Application.

The bot's clock is Monday 9 March 2026, 09:00 in London (GMT): the week of 9 to 15 March.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import birthdays
from core.config import BirthdayConfig
from core.types import Customer
from tests.support.harness import ADMIN, CASHIER, CUSTOMER, BotHarness, make_config

pytestmark = pytest.mark.asyncio

PHONE = "+447400123456"
MONDAY = dt.datetime(2026, 3, 9, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    config = dataclasses.replace(make_config(tmp_path), birthday=BirthdayConfig(bonus=100))
    async with BotHarness(config) as harness:
        harness.services.clock = lambda: MONDAY
        yield harness


async def linked(bot: BotHarness) -> Customer:
    registered = await bot.store.register(
        {"name": "Ann Lee", "phone": PHONE, "email": None}, actor_id=CASHIER, now=MONDAY
    )
    await bot.share_contact(CUSTOMER, PHONE)
    return registered["customer"]


async def test_a_customer_sets_and_sees_their_birthday(bot: BotHarness) -> None:
    ann = await linked(bot)
    await bot.send(CUSTOMER, "/birthday")
    assert "There's no birthday on your card yet." in bot.last_text(CUSTOMER)

    await bot.send(CUSTOMER, "/birthday 14.03")

    assert bot.last_text(CUSTOMER) == (
        "Birthday saved on your card: 14 March. 🎂 There's a 100-point treat in your birthday week."
    )
    assert await bot.store.birthday(ann["id"]) == dt.date(4, 3, 14)
    await bot.send(CUSTOMER, "/birthday")
    assert "Your birthday on the card: 14 March." in bot.last_text(CUSTOMER)
    (record, *_) = await bot.store.audit_log(customer_id=ann["id"])
    assert (record["action"], record["details"]) == ("birthday", {"set": True})  # no date


async def test_an_impossible_birthday_is_refused_kindly_and_nothing_changes(
    bot: BotHarness,
) -> None:
    ann = await linked(bot)
    await bot.send(CUSTOMER, "/birthday 30/02")
    assert bot.last_text(CUSTOMER) == (
        "That birthday won't work: February has no day 30. Send it like 14/03 or 14/03/1990."
    )
    assert await bot.store.birthday(ann["id"]) is None


async def test_a_customer_can_remove_their_birthday(bot: BotHarness) -> None:
    ann = await linked(bot)
    await bot.send(CUSTOMER, "/birthday 1990-03-14")
    await bot.send(CUSTOMER, "/birthday remove")
    assert bot.last_text(CUSTOMER) == "Birthday removed from your card."
    assert await bot.store.birthday(ann["id"]) is None


async def test_an_unlinked_person_is_asked_to_link_first(bot: BotHarness) -> None:
    await bot.send(CUSTOMER, "/birthday 14/03")
    assert "isn't linked to a loyalty card yet" in bot.last_text(CUSTOMER)


async def test_staff_set_a_customers_birthday_by_card(bot: BotHarness) -> None:
    ann = await linked(bot)
    card = ann["card_number"]
    await bot.send(CASHIER, "/birthday")
    assert "/birthday <card or phone> <birthday>" in bot.last_text(CASHIER)
    await bot.send(CASHIER, f"/birthday {card[:4]} {card[4:]} 14/03/1990")
    assert "Birthday saved on Ann Lee" in bot.last_text(CASHIER)
    assert "14 March 1990" in bot.last_text(CASHIER)
    assert await bot.store.birthday(ann["id"]) == dt.date(1990, 3, 14)


async def test_the_birthday_job_credits_once_however_often_it_runs(bot: BotHarness) -> None:
    ann = await linked(bot)
    await bot.send(CUSTOMER, "/birthday 14/03")  # Saturday of this week
    other = await bot.store.register(
        {"name": "Bob Ray", "phone": "+447400999888", "email": None}, actor_id=CASHIER, now=MONDAY
    )
    await bot.store.set_birthday(
        other["customer"]["id"], dt.date(1980, 4, 1), actor_id=ADMIN, now=MONDAY
    )

    assert await birthdays.credit_birthdays(bot.services, bot.app) == 1
    assert await birthdays.credit_birthdays(bot.services, bot.app) == 0  # run twice: once
    bot.services.clock = lambda: MONDAY + dt.timedelta(days=5)  # Saturday, the birthday
    assert await birthdays.credit_birthdays(bot.services, bot.app) == 0

    fresh = await bot.store.get_customer(ann["id"])
    assert (fresh["balance"], fresh["lifetime_earned"]) == (100, 100)
    assert await bot.store.ledger_sum(ann["id"]) == 100
    (entry,) = await bot.store.recent_entries(ann["id"])
    assert (entry["kind"], entry["idempotency_key"]) == ("bonus", f"birthday:{ann['id']}:2026")
    told = [t for t in bot.texts_to(CUSTOMER) if "Happy birthday" in t]
    assert told == ["🎂 Happy birthday! We've added 100 points to your card. Balance: 100 points."]
    assert (await bot.store.get_customer(other["customer"]["id"]))["balance"] == 0

    # Next year's week credits again, under next year's key
    bot.services.clock = lambda: dt.datetime(2027, 3, 8, 9, 0, tzinfo=dt.UTC)
    assert await birthdays.credit_birthdays(bot.services, bot.app) == 1
    assert (await bot.store.get_customer(ann["id"]))["balance"] == 200


async def test_a_birthday_bonus_can_be_voided_like_any_credit(bot: BotHarness) -> None:
    ann = await linked(bot)
    await bot.send(CUSTOMER, "/birthday 14/03")
    await birthdays.credit_birthdays(bot.services, bot.app)
    (entry,) = await bot.store.recent_entries(ann["id"])
    voided = await bot.store.void(entry["id"], actor_id=ADMIN, now=MONDAY, key="v1")
    assert voided["gross"] == -100
    fresh = await bot.store.get_customer(ann["id"])
    assert (fresh["balance"], fresh["lifetime_earned"]) == (0, 0)


async def test_the_job_is_scheduled_daily_only_when_there_is_a_bonus(tmp_path: Path) -> None:
    async with BotHarness(make_config(tmp_path)) as off:
        assert off.app.job_queue is not None
        assert off.app.job_queue.get_jobs_by_name(birthdays.JOB_NAME) == ()


async def test_the_job_runs_daily_at_the_configured_time_in_the_shops_zone(
    bot: BotHarness,
) -> None:
    assert bot.app.job_queue is not None
    daily = [
        job
        for job in bot.app.job_queue.get_jobs_by_name(birthdays.JOB_NAME)
        if hasattr(job.job.trigger, "fields")
    ]
    (job,) = daily
    fields = {f.name: str(f) for f in job.job.trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("9", "0")
    assert str(job.job.trigger.timezone) == "Europe/London"


async def test_register_asks_for_a_birthday_when_the_shop_gives_a_treat(bot: BotHarness) -> None:
    await bot.send(CASHIER, "/register")
    await bot.send(CASHIER, "Cat Moss")
    await bot.send(CASHIER, "07400 555777")
    await bot.press(CASHIER, "Skip (no e-mail)")
    assert "Their birthday, for a birthday treat?" in bot.last_text(CASHIER)
    await bot.send(CASHIER, "31/04")
    assert "April has no day 31" in bot.last_text(CASHIER)  # refused kindly, asked again
    await bot.send(CASHIER, "1.5.1985")
    assert "Birthday: 1 May 1985" in bot.last_text(CASHIER)

    await bot.press(CASHIER, "Confirm")

    cat = await bot.store.find_customer("07400 555777")
    assert await bot.store.birthday(cat["id"]) == dt.date(1985, 5, 1)


async def test_the_birthday_step_can_be_skipped_with_its_button(bot: BotHarness) -> None:
    await bot.send(CASHIER, "/register")
    await bot.send(CASHIER, "Cat Moss")
    await bot.send(CASHIER, "07400 555777")
    await bot.send(CASHIER, "-")  # no e-mail
    await bot.press(CASHIER, "Skip (no birthday)")
    assert "Birthday: none" in bot.last_text(CASHIER)
    await bot.press(CASHIER, "Confirm")
    cat = await bot.store.find_customer("07400 555777")
    assert await bot.store.birthday(cat["id"]) is None


async def test_without_a_birthday_bonus_register_does_not_ask(tmp_path: Path) -> None:
    async with BotHarness(make_config(tmp_path)) as bot:
        await bot.send(CASHIER, "/register")
        await bot.send(CASHIER, "Cat Moss")
        await bot.send(CASHIER, "07400 555777")
        await bot.send(CASHIER, "-")
        assert "Register this customer?" in bot.last_text(CASHIER)
        assert "Birthday" not in bot.last_text(CASHIER)
