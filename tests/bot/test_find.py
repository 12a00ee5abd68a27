"""/find: staff find a customer by part of a name or e-mail, accents and case ignored, and
open the card from the list."""

from __future__ import annotations

from typing import Any

import pytest

from bot.offline import keyboard_rows
from tests.support.harness import CASHIER, CUSTOMER, BotHarness

pytestmark = pytest.mark.asyncio


async def register(bot: BotHarness, name: str, phone: str, email: str | None = None) -> int:
    result = await bot.store.register(
        {"name": name, "phone": phone, "email": email}, actor_id=CASHIER, now=bot.services.clock()
    )
    return int(result["customer"]["id"])


def labels(bot: BotHarness) -> list[str]:
    call = bot.said_to(CASHIER)[-1]
    return [str(b["text"]) for row in keyboard_rows(call.params) for b in row]


@pytest.fixture
async def shop(bot: BotHarness) -> dict[str, Any]:
    return {
        "chris": await register(bot, "Chris Lee", "+447400100056", "chris@example.com"),
        "christine": await register(bot, "Christine Ödegaard", "+447400100017"),
        "zoe": await register(bot, "Zoë O'Brien", "+447400100028", "zob@example.org"),
        "kit": await register(bot, "Kit Marlowe", "+447400100039", "Kit.Chrisp@example.net"),
    }


async def test_find_lists_every_name_or_email_containing_the_words_as_buttons(
    bot: BotHarness, shop: dict[str, Any]
) -> None:
    await bot.send(CASHIER, "/find CHRIS")
    assert "tap one to open their card" in bot.last_text(CASHIER)
    found = labels(bot)
    assert [label.split(" · ")[0] for label in found] == [
        "Chris Lee",
        "Christine Ödegaard",
        "Kit Marlowe",  # by e-mail: Kit.Chrisp@
    ]
    assert found[0].split(" · ")[1] == "+44 ••• ••0056"  # never the whole phone number
    assert "Zoë" not in " ".join(found)


@pytest.mark.parametrize("query", ["zoe", "ZOË o'b", "zob@example", "brien"])
async def test_find_ignores_accents_and_case_and_matches_any_part(
    bot: BotHarness, shop: dict[str, Any], query: str
) -> None:
    await bot.send(CASHIER, f"/find {query}")
    assert [label.split(" · ")[0] for label in labels(bot)] == ["Zoë O'Brien"]


async def test_a_match_opens_the_card_with_its_buttons(
    bot: BotHarness, shop: dict[str, Any]
) -> None:
    await bot.send(CASHIER, "/find odegaard")
    await bot.press(CASHIER, "Christine")
    assert "Christine Ödegaard · card" in bot.last_text(CASHIER)
    await bot.press(CASHIER, "Earn")
    assert "How much did they spend" in bot.last_text(CASHIER)
    assert not bot.bad_requests()


async def test_find_says_when_nobody_matches_or_the_query_is_too_short(
    bot: BotHarness, shop: dict[str, Any]
) -> None:
    await bot.send(CASHIER, "/find Nobody")
    assert "Nobody's name or e-mail contains “Nobody”" in bot.last_text(CASHIER)
    await bot.send(CASHIER, "/find c")
    assert "between 2 and 60 characters" in bot.last_text(CASHIER)
    await bot.send(CASHIER, "/find")
    assert "/find Chris" in bot.last_text(CASHIER)
    await bot.send(CASHIER, "/find 100%")  # a LIKE wildcard typed is a character
    assert "Nobody's name" in bot.last_text(CASHIER)


async def test_find_shows_eight_and_asks_for_more_of_the_name(bot: BotHarness) -> None:
    for i in range(10):
        await register(bot, f"Sam Smith {i}", f"+4474001002{i:02d}")
    await bot.send(CASHIER, "/find smith")
    assert len(labels(bot)) == 8
    assert "More than 8 match" in bot.last_text(CASHIER)


async def test_customers_cannot_search(bot: BotHarness, shop: dict[str, Any]) -> None:
    await bot.send(CUSTOMER, "/find chris")
    assert (
        bot.last_text(CUSTOMER) == "Only shop staff can do that. Send /help to see what you can do."
    )
