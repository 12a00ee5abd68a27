"""/earn through the real Application: what the cashier sees and what the ledger holds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.support.harness import CASHIER, CUSTOMER, STRANGER, BotHarness, make_config

pytestmark = pytest.mark.asyncio

PHONE = "+447400123456"


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with BotHarness(make_config(tmp_path)) as harness:
        yield harness


async def register(bot: BotHarness, phone: str = PHONE, name: str = "Ann Lee") -> dict:
    result = await bot.store.register(
        {"name": name, "phone": phone, "email": None},
        actor_id=CASHIER,
        now=bot.services.clock(),
    )
    return dict(result["customer"])


async def test_earn_step_by_step_records_points_after_confirm(bot: BotHarness) -> None:
    customer = await register(bot)
    await bot.send(CASHIER, "/earn")
    assert "card number" in bot.last_text(CASHIER)
    await bot.send(CASHIER, "07400 123456")
    assert "How much did they spend" in bot.last_text(CASHIER)
    await bot.send(CASHIER, "25.50")
    assert "25.50 GBP → 25 points, Bronze ×1" in bot.last_text(CASHIER)
    stored = await bot.store.get_customer(customer["id"])
    assert stored["balance"] == 0  # nothing recorded before Confirm

    await bot.press(CASHIER, "Confirm")

    assert "+25 points for 25.50 GBP" in bot.last_text(CASHIER)
    stored = await bot.store.get_customer(customer["id"])
    assert stored["balance"] == 25
    assert await bot.store.ledger_sum(customer["id"]) == 25
    assert not bot.bad_requests()


async def test_one_line_earn_jumps_to_preview(bot: BotHarness) -> None:
    await register(bot)
    await bot.send(CASHIER, "/earn +44 7400 123456 12.00")
    assert "12.00 GBP → 12 points" in bot.last_text(CASHIER)


async def test_double_tap_on_confirm_records_once(bot: BotHarness) -> None:
    customer = await register(bot)
    await bot.send(CASHIER, "/earn 07400123456 40")
    await bot.press(CASHIER, "Confirm")
    await bot.press(CASHIER, "Confirm")
    stored = await bot.store.get_customer(customer["id"])
    assert stored["balance"] == 40
    assert any("Already done" in alert for alert in bot.alerts())


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("abc", "not an amount"),
        ("-5", "can't be negative"),
        ("0", "more than zero"),
        ("12.345", "two decimal places"),
        ("1e309", "not an amount"),
        ("10000.01", "limit"),
    ],
)
async def test_bad_amount_says_why_and_asks_again(bot: BotHarness, typed: str, reason: str) -> None:
    customer = await register(bot)
    await bot.send(CASHIER, "/earn 07400123456")
    await bot.send(CASHIER, typed)
    assert reason in bot.last_text(CASHIER)
    await bot.send(CASHIER, "10")  # still in the amount step
    assert "10.00 GBP → 10 points" in bot.last_text(CASHIER)
    assert (await bot.store.get_customer(customer["id"]))["balance"] == 0


async def test_unknown_customer_offers_register(bot: BotHarness) -> None:
    await bot.send(CASHIER, "/earn 07400 999999 5")
    assert "/register" in bot.last_text(CASHIER)


async def test_customer_cannot_earn(bot: BotHarness) -> None:
    await bot.send(STRANGER, "/earn 07400123456 5")
    assert "Only shop staff" in bot.last_text(STRANGER)


async def test_forged_confirm_from_customer_changes_nothing(bot: BotHarness) -> None:
    customer = await register(bot)
    await bot.send(CASHIER, "/earn 07400123456 30")
    await bot.press(CUSTOMER, "Confirm", on_behalf_of=CASHIER)
    assert (await bot.store.get_customer(customer["id"]))["balance"] == 0
    assert any("Only shop staff" in alert for alert in bot.alerts())


async def test_cancel_makes_confirm_expire(bot: BotHarness) -> None:
    customer = await register(bot)
    await bot.send(CASHIER, "/earn 07400123456 30")
    await bot.send(CASHIER, "/cancel")
    assert "Nothing was recorded" in bot.last_text(CASHIER)
    await bot.press(CASHIER, "Confirm")
    assert any("expired" in alert for alert in bot.alerts())
    assert (await bot.store.get_customer(customer["id"]))["balance"] == 0


async def test_linked_customer_is_notified(bot: BotHarness) -> None:
    customer = await register(bot)
    await bot.store.link_telegram(PHONE, CUSTOMER)
    await bot.send(CASHIER, "/earn 07400123456 20")
    await bot.press(CASHIER, "Confirm")
    assert "You earned 20 points" in bot.last_text(CUSTOMER)
    assert Decimal(20) == (await bot.store.get_customer(customer["id"]))["balance"]


async def test_one_line_earn_with_a_bad_number_quotes_only_the_number(bot: BotHarness) -> None:
    await bot.send(CASHIER, "/earn 07700 900123 150")
    reply = bot.last_text(CASHIER)
    assert "07700 900123" in reply and "150" not in reply.split("\n")[0]


async def test_an_earn_that_crosses_a_threshold_announces_the_new_tier(bot: BotHarness) -> None:
    customer = await register(bot)
    await bot.store.earn(customer["id"], Decimal(480), actor_id=CASHIER, now=bot.services.clock())
    await bot.send(CASHIER, "/earn 07400123456 30")
    assert "takes them to Silver" in bot.last_text(CASHIER)
    await bot.press(CASHIER, "Confirm")
    assert "Tier up: now Silver" in bot.last_text(CASHIER)
    assert (await bot.store.get_customer(customer["id"]))["tier"] == "Silver"
