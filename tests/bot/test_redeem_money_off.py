"""/redeem of a money-off reward (cashback) through the real Application: the bill, the
discount buttons, the preview, and the discount the cashier is told to apply."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.offline import keyboard_rows
from core.reports import periods, sections, text
from core.types import MoneyOff, Reward
from tests.support.harness import CASHIER, CUSTOMER, BotHarness, make_config

pytestmark = pytest.mark.asyncio

PHONE = "+447400123456"
# 100 points take 1.00 off, in 0.50 steps, from 500 points, at most half the bill.
CASHBACK = Reward(
    "cash",
    "Money off",
    500,
    Decimal(5),
    money_off=MoneyOff(100, Decimal("0.50"), 500, Decimal("0.5")),
)
COFFEE = Reward("coffee", "Free coffee", 100, Decimal("2.50"))


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with BotHarness(make_config(tmp_path, rewards=(COFFEE, CASHBACK))) as harness:
        yield harness


async def customer_with(bot: BotHarness, balance: int) -> dict[str, Any]:
    now = bot.services.clock()
    result = await bot.store.register(
        {"name": "Ann Lee", "phone": PHONE, "email": None}, actor_id=CASHIER, now=now
    )
    await bot.store.earn(result["customer"]["id"], Decimal(balance), actor_id=CASHIER, now=now)
    await bot.store.link_telegram(PHONE, CUSTOMER)
    return dict(await bot.store.get_customer(result["customer"]["id"]))


async def test_money_off_asks_the_bill_offers_discounts_and_tells_the_cashier_what_to_take_off(
    bot: BotHarness,
) -> None:
    ann = await customer_with(bot, 1234)
    await bot.send(CASHIER, "/redeem 07400123456")
    await bot.press(CASHIER, "Money off · 500")
    assert "How much is the bill?" in bot.last_text(CASHIER)

    await bot.send(CASHIER, "23.40")
    offer = bot.last_text(CASHIER)
    assert "Bill 23.40 GBP · balance 1,234 points." in offer
    assert "From 5.00 to 11.50 GBP, in steps of 0.50" in offer  # half of 23.40 is 11.70
    offered = bot.said_to(CASHIER)[-1]
    labels = [b["text"] for row in keyboard_rows(offered.params) for b in row]
    assert labels == ["11.50 GBP off", "9.00 GBP off", "7.00 GBP off", "5.00 GBP off"]

    await bot.press(CASHIER, "5.00 GBP off")
    preview = bot.last_text(CASHIER)
    assert "Take 5.00 GBP off the bill - 500 points?" in preview
    assert "Bill 23.40 GBP → 18.40 GBP · Balance 1,234 → 734" in preview
    assert (await bot.store.get_customer(ann["id"]))["balance"] == 1234  # not before Confirm

    await bot.press(CASHIER, "Confirm")
    done = bot.last_text(CASHIER)
    assert "💷 Take 5.00 GBP off the bill" in done
    assert "New balance: 734 points" in done
    assert "5.00 GBP off your bill for 500 points. Balance: 734 points." in bot.last_text(CUSTOMER)
    [entry] = [e for e in await bot.store.recent_entries(ann["id"]) if e["kind"] == "redeem"]
    assert entry["points"] == -500
    assert (entry["details"]["bill"], entry["details"]["discount"]) == ("23.40", "5.00")
    assert await bot.store.ledger_sum(ann["id"]) == 734
    assert not bot.bad_requests()


async def test_a_typed_discount_is_checked_against_the_steps_and_the_share(
    bot: BotHarness,
) -> None:
    ann = await customer_with(bot, 1234)
    await bot.send(CASHIER, "/redeem 07400123456 cash")
    await bot.send(CASHIER, "£23.40")
    await bot.send(CASHIER, "6.30")
    assert "6.30 off is not on offer: from 5.00 to 11.50 GBP, in steps of 0.50" in bot.last_text(
        CASHIER
    )
    await bot.send(CASHIER, "12")
    assert "12.00 off is not on offer" in bot.last_text(CASHIER)
    await bot.send(CASHIER, "6.50")
    assert "Take 6.50 GBP off the bill - 650 points?" in bot.last_text(CASHIER)
    await bot.press(CASHIER, "Confirm")
    assert (await bot.store.get_customer(ann["id"]))["balance"] == 584


async def test_a_bill_too_small_or_mistyped_is_asked_again(bot: BotHarness) -> None:
    await customer_with(bot, 1234)
    await bot.send(CASHIER, "/redeem 07400123456 cash")
    await bot.send(CASHIER, "9.00")
    reply = bot.last_text(CASHIER)
    assert "at most 50% of a 9.00 GBP bill can come off, 4.50" in reply
    assert "this reward starts at 5.00 off" in reply and "Send the bill again" in reply
    await bot.send(CASHIER, "12 50")
    assert "has a space inside" in bot.last_text(CASHIER)
    await bot.send(CASHIER, "10")
    assert "From 5.00 to 5.00 GBP" in bot.last_text(CASHIER)


async def test_a_balance_below_the_minimum_is_refused_with_the_shortfall(bot: BotHarness) -> None:
    await customer_with(bot, 300)
    await bot.send(CASHIER, "/redeem 07400123456 cash")
    assert "Not enough points: the balance is 300, the reward costs 500 (200 short)" in (
        bot.last_text(CASHIER)
    )


async def test_the_plain_rewards_flow_is_unchanged_beside_money_off(bot: BotHarness) -> None:
    ann = await customer_with(bot, 1234)
    await bot.send(CASHIER, "/redeem 07400123456 coffee")
    assert "Redeem Free coffee (100 points)?" in bot.last_text(CASHIER)
    await bot.press(CASHIER, "Confirm")
    assert (await bot.store.get_customer(ann["id"]))["balance"] == 1134


async def test_the_rewards_report_counts_the_money_taken_off_bills(bot: BotHarness) -> None:
    ann = await customer_with(bot, 2000)
    now = bot.services.clock()
    for discount in ("5.00", "6.50"):
        await bot.store.redeem_money_off(
            ann["id"], "cash", Decimal(30), Decimal(discount), actor_id=CASHIER, now=now
        )
    later = now + dt.timedelta(minutes=1)  # a period ends before its `now`
    period = periods.parse_period("7d", now=later, tz=bot.config.reports.tzinfo)
    counts = await sections.reward_counts(bot.services.engine, period, bot.config.program)
    assert [(c["reward_id"], c["points"], c.get("money_off")) for c in counts] == [
        ("cash", 1150, Decimal("11.50"))
    ]
    [message] = text.rewards_text(counts, [], period, html=False)
    assert "Money off: 2 by 1 customer · 1,150 points · 11.50 off bills" in message
