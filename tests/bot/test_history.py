"""/history pages through every entry of a card, newest first, and a customer only ever sees
their own; /rewards marks what the card can have now."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bot.offline import keyboard_rows
from tests.support.harness import CASHIER, CUSTOMER, STRANGER, BotHarness

pytestmark = pytest.mark.asyncio

PHONE, OTHER_PHONE = "+447400123456", "+447400654321"
START = dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.UTC)


async def card_with_purchases(bot: BotHarness, count: int, phone: str = PHONE) -> int:
    """A card with `count` purchases of 1.00, 2.00, ... one a day from START."""
    registered = await bot.store.register(
        {"name": "Ann Lee", "phone": phone, "email": None}, actor_id=CASHIER, now=START
    )
    customer_id = int(registered["customer"]["id"])
    for i in range(1, count + 1):
        await bot.store.earn(
            customer_id, Decimal(i), actor_id=CASHIER, now=START + dt.timedelta(days=i)
        )
    return customer_id


def purchase_amounts(text: str) -> list[int]:
    """The amounts of the purchase lines shown, top to bottom ('… Purchase (3.00 GBP) · +3')."""
    return [
        int(Decimal(line.split("(")[1].split(" ")[0]))
        for line in text.splitlines()
        if "Purchase (" in line
    ]


def buttons_under_last(bot: BotHarness, chat_id: int) -> list[str]:
    return [str(b["text"]) for row in keyboard_rows(bot.said_to(chat_id)[-1].params) for b in row]


async def test_a_customer_pages_through_every_entry_newest_first(bot: BotHarness) -> None:
    await card_with_purchases(bot, 23)
    await bot.store.link_telegram(PHONE, CUSTOMER)

    await bot.send(CUSTOMER, "/history")
    assert purchase_amounts(bot.last_text(CUSTOMER)) == list(range(23, 13, -1))
    assert buttons_under_last(bot, CUSTOMER) == ["Next ▶"]  # the newest page has no Prev
    assert "24 Nov 10:00 · Purchase (23.00 GBP) · +23" in bot.last_text(CUSTOMER)

    await bot.press(CUSTOMER, "Next")
    assert purchase_amounts(bot.last_text(CUSTOMER)) == list(range(13, 3, -1))
    await bot.press(CUSTOMER, "Next")
    assert purchase_amounts(bot.last_text(CUSTOMER)) == [3, 2, 1]
    assert buttons_under_last(bot, CUSTOMER) == ["◀ Prev"]  # the oldest page has no Next
    await bot.press(CUSTOMER, "Prev")
    assert purchase_amounts(bot.last_text(CUSTOMER)) == list(range(13, 3, -1))
    await bot.press(CUSTOMER, "Prev")
    assert purchase_amounts(bot.last_text(CUSTOMER)) == list(range(23, 13, -1))
    assert not bot.bad_requests()


async def test_a_purchase_recorded_while_paging_does_not_shift_the_pages(bot: BotHarness) -> None:
    customer_id = await card_with_purchases(bot, 12)
    await bot.store.link_telegram(PHONE, CUSTOMER)
    await bot.send(CUSTOMER, "/history")
    await bot.store.earn(customer_id, Decimal(99), actor_id=CASHIER, now=START)
    await bot.press(CUSTOMER, "Next")
    assert purchase_amounts(bot.last_text(CUSTOMER)) == [2, 1]


async def test_a_forged_page_button_never_shows_a_customer_another_card(bot: BotHarness) -> None:
    ann = await card_with_purchases(bot, 3)
    await card_with_purchases(bot, 1, OTHER_PHONE)
    await bot.store.link_telegram(OTHER_PHONE, CUSTOMER)

    await bot.press_data(CUSTOMER, f"hist:{ann}:o:9223372036854775807")
    await bot.press_data(STRANGER, f"hist:{ann}:n:0")
    assert bot.alerts() == ["That button is no longer active. Send /help to start again."] * 2
    assert bot.texts_to(CUSTOMER) == bot.texts_to(STRANGER) == []


async def test_staff_read_any_cards_history_and_corrections_are_marked(bot: BotHarness) -> None:
    customer_id = await card_with_purchases(bot, 11)
    first = (await bot.store.recent_entries(customer_id, 20))[-1]  # the 1.00 purchase
    assert first["amount"] == Decimal(1)
    await bot.store.void(
        first["id"], actor_id=CASHIER, now=START + dt.timedelta(days=20), key="v1", reason="typo"
    )

    await bot.send(CASHIER, "/history")
    assert "Whose history?" in bot.last_text(CASHIER)
    await bot.send(CASHIER, "/history 07400 123456")
    assert "Void of a purchase · -1 · “typo”" in bot.last_text(CASHIER)
    await bot.press(CASHIER, "Next")
    # The void is on the first page; the purchase it reversed, on the next, still says so.
    assert "Purchase (1.00 GBP) · +1 · voided" in bot.last_text(CASHIER)


async def test_history_refuses_a_customer_naming_a_card_and_helps_the_unlinked(
    bot: BotHarness,
) -> None:
    await card_with_purchases(bot, 1)
    await bot.send(CUSTOMER, "/history 07400 123456")
    assert "You can only see your own history" in bot.last_text(CUSTOMER)
    await bot.send(CUSTOMER, "/history")
    assert "isn't linked to a loyalty card" in bot.last_text(CUSTOMER)


async def test_rewards_marks_what_the_card_affords_and_what_is_missing(bot: BotHarness) -> None:
    customer_id = await card_with_purchases(bot, 0)
    await bot.store.earn(customer_id, Decimal(120), actor_id=CASHIER, now=START)
    await bot.store.link_telegram(PHONE, CUSTOMER)

    await bot.send(CUSTOMER, "/rewards")
    shown = bot.last_text(CUSTOMER)
    assert "Balance: 120 points" in shown
    assert "✅ Free coffee · 100 points · can have it now" in shown
    assert "• Slice of cake · 250 points · 130 to go" in shown
    assert "• £10 off your shop · 1,000 points · 880 to go" in shown

    await bot.send(CASHIER, "/rewards 07400 123456")
    assert bot.last_text(CASHIER) == shown
    await bot.send(STRANGER, "/rewards")
    assert "Link your card (/start)" in bot.last_text(STRANGER)
    assert "can have it now" not in bot.last_text(STRANGER)
