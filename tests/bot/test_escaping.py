"""Configured texts (tier and reward names) reach every HTML reply escaped.

Regression: a tier called "Bronze & Co" made /earn fail with "can't parse entities", because the
earn and redeem replies put tier names into HTML as they were (/status escaped them).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from core.types import Reward, Tier
from tests.support.harness import CASHIER, CUSTOMER, BotHarness, make_config

TIERS = (
    Tier("Bronze & Co", 0, Decimal(1)),
    Tier("<Silver>", 20, Decimal("1.5")),
)
REWARDS = (Reward("tea", "Tea & <cake>", 10),)


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    config = make_config(tmp_path, tiers=TIERS, rewards=REWARDS)
    async with BotHarness(config) as harness:
        await harness.store.register(
            {"name": "Ann & <Lee>", "phone": "+447400123456", "email": None},
            actor_id=CASHIER,
            now=harness.services.clock(),
        )
        await harness.share_contact(CUSTOMER, "+447400123456")
        yield harness


async def test_earn_shows_tier_names_with_markup_characters_as_typed(bot: BotHarness) -> None:
    await bot.send(CASHIER, "/earn 07400123456")
    assert "Ann & <Lee> · card" in bot.last_text(CASHIER)
    assert "· Bronze & Co ·" in bot.last_text(CASHIER)

    await bot.send(CASHIER, "25")
    preview = bot.last_text(CASHIER)
    assert "25.00 GBP → 25 points, Bronze & Co ×1" in preview
    assert "This takes them to <Silver>!" in preview

    await bot.press(CASHIER, "Confirm")

    assert "New balance: 25 points · <Silver>" in bot.last_text(CASHIER)
    assert "Tier up: now <Silver>!" in bot.last_text(CASHIER)
    assert "Balance: 25 points (<Silver>)." in bot.last_text(CUSTOMER)
    assert not bot.bad_requests()
    customer = await bot.store.find_customer("07400123456")
    assert (customer["balance"], customer["tier"]) == (25, "<Silver>")


async def test_redeem_shows_tier_and_reward_names_with_markup_characters(bot: BotHarness) -> None:
    await bot.send(CASHIER, "/earn 07400123456 25")
    await bot.press(CASHIER, "Confirm")

    await bot.send(CASHIER, "/redeem 07400123456")
    assert "Ann & <Lee> · card" in bot.last_text(CASHIER)
    assert "· <Silver>\nBalance: 25 points" in bot.last_text(CASHIER)
    await bot.press(CASHIER, "Tea & <cake>")
    assert "Redeem Tea & <cake> (10 points)?" in bot.last_text(CASHIER)
    await bot.press(CASHIER, "Confirm")

    assert "Redeemed Tea & <cake>" in bot.last_text(CASHIER)
    assert "You redeemed Tea & <cake> for 10 points." in bot.last_text(CUSTOMER)
    assert not bot.bad_requests()
    customer = await bot.store.find_customer("07400123456")
    assert customer["balance"] == 15


async def test_status_shows_the_same_names_escaped(bot: BotHarness) -> None:
    await bot.send(CUSTOMER, "/status")

    card = bot.last_text(CUSTOMER)
    assert "Ann & <Lee>" in card
    assert "Balance: 0 points · Bronze & Co" in card
    assert "0 points earned in all · 20 more to <Silver>" in card
    assert not bot.bad_requests()
