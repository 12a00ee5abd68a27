"""/refund: part or all of a purchase given back takes back the points that part earned, by the
rule stored on the purchase, never more than it gave."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from core.types import Customer
from tests.support.harness import CASHIER, CUSTOMER, BotHarness

PHONE = "+447400123456"


@pytest.fixture
async def customer(bot: BotHarness) -> Customer:
    """Ann, linked, with one purchase of 100.00 GBP at 1 point per GBP: 100 points."""
    registered = await bot.store.register(
        {"name": "Ann Lee", "phone": PHONE, "email": None},
        actor_id=CASHIER,
        now=bot.services.clock(),
    )
    await bot.share_contact(CUSTOMER, PHONE)
    await bot.send(CASHIER, "/earn 07400123456 100")
    await bot.press(CASHIER, "Confirm")
    return await bot.store.get_customer(registered["customer"]["id"])


async def balance(bot: BotHarness, customer: Customer) -> int:
    fresh = await bot.store.get_customer(customer["id"])
    assert await bot.store.ledger_sum(customer["id"]) == fresh["balance"]
    return fresh["balance"]


async def test_refunding_half_of_a_100_point_purchase_takes_back_50(
    bot: BotHarness, customer: Customer
) -> None:
    await bot.send(CASHIER, "/refund 07400123456")
    await bot.press(CASHIER, "100.00 GBP")
    assert "How much was returned? Up to 100.00 GBP" in bot.last_text(CASHIER)
    await bot.send(CASHIER, "50")
    preview = bot.last_text(CASHIER)
    assert "↩ Refund 50.00 GBP of the 100.00 GBP purchase" in preview
    assert "Takes back 50 points" in preview and "Balance 100 → 50" in preview
    assert await balance(bot, customer) == 100  # nothing before Confirm

    await bot.press(CASHIER, "Confirm")

    assert "↩ Refunded 50.00 of ref #" in bot.last_text(CASHIER)
    assert "A correction on your card: -50 points. Balance: 50 points." in bot.last_text(CUSTOMER)
    assert await balance(bot, customer) == 50


async def test_partial_refunds_never_take_back_more_than_the_purchase_gave(
    bot: BotHarness, customer: Customer
) -> None:
    (earn,) = await bot.store.recent_entries(customer["id"], 1)
    for amount in ("33.33", "33.33", "all"):
        await bot.send(CASHIER, f"/refund #{earn['id']}")
        await bot.send(CASHIER, amount)
        await bot.press(CASHIER, "Confirm")

    assert await balance(bot, customer) == 0
    await bot.send(CASHIER, f"/refund #{earn['id']}")
    assert "already reversed" in bot.last_text(CASHIER)


async def test_more_than_is_left_is_refused_and_asked_again(
    bot: BotHarness, customer: Customer
) -> None:
    (earn,) = await bot.store.recent_entries(customer["id"], 1)
    await bot.send(CASHIER, f"/refund #{earn['id']}")

    await bot.send(CASHIER, "150")

    assert "100.00" in bot.last_text(CASHIER)
    assert "Send the amount returned again" in bot.last_text(CASHIER)
    await bot.send(CASHIER, "10")
    await bot.press(CASHIER, "Confirm")
    assert await balance(bot, customer) == 90


async def test_a_refund_uses_the_rule_of_the_purchase_not_todays(
    bot: BotHarness, customer: Customer
) -> None:
    (earn,) = await bot.store.recent_entries(customer["id"], 1)
    program = bot.services.config.program
    richer = dataclasses.replace(program, points_per_unit=Decimal(5))
    bot.store.program = richer  # the shop changed its rate since the purchase

    await bot.send(CASHIER, f"/refund #{earn['id']}")
    await bot.send(CASHIER, "10")

    assert "Takes back 10 points" in bot.last_text(CASHIER)  # 1 per GBP, as earned
    await bot.press(CASHIER, "Confirm")
    assert await balance(bot, customer) == 90


async def test_a_customer_cannot_refund(bot: BotHarness, customer: Customer) -> None:
    await bot.send(CUSTOMER, "/refund 07400123456")

    assert "Only shop staff" in bot.last_text(CUSTOMER)
    assert await balance(bot, customer) == 100


async def test_the_amount_step_offers_what_is_left_after_earlier_refunds(
    bot: BotHarness, customer: Customer
) -> None:
    (earn,) = await bot.store.recent_entries(customer["id"], 1)
    await bot.store.refund(
        earn["id"], Decimal("60"), actor_id=CASHIER, now=bot.services.clock(), key="r1"
    )

    await bot.send(CASHIER, f"/refund #{earn['id']}")

    assert "Up to 40.00 GBP" in bot.last_text(CASHIER)
    await bot.send(CASHIER, "all")
    assert "↩ Refund 40.00 GBP of the 100.00 GBP purchase" in bot.last_text(CASHIER)
