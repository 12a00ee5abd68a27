"""/status through the real Application: a customer's own card, and staff looking one up."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from bot.offline import SentCall
from core.cards import format_card
from tests.support.harness import CASHIER, CUSTOMER, STRANGER, BotHarness

pytestmark = pytest.mark.asyncio

PHONE = "+447400123456"
OTHER_PHONE = "+447400654321"
NOW = dt.datetime(2026, 3, 14, 10, 0, tzinfo=dt.UTC)  # GMT in the shop: UTC == local


async def register(
    bot: BotHarness, phone: str = PHONE, name: str = "Ann Lee", now: dt.datetime = NOW
) -> dict[str, Any]:
    result = await bot.store.register(
        {"name": name, "phone": phone, "email": None}, actor_id=CASHIER, now=now
    )
    return dict(result["customer"])


async def earn(bot: BotHarness, customer_id: int, amount: str, now: dt.datetime) -> None:
    await bot.store.earn(customer_id, Decimal(amount), actor_id=CASHIER, now=now)


def messages(calls: list[SentCall]) -> list[SentCall]:
    return [c for c in calls if c.method == "sendMessage"]


async def test_linked_customer_sees_balance_tier_next_tier_rewards_and_last_five_entries(
    bot: BotHarness,
) -> None:
    ann = await register(bot)
    # Seven purchases of 20..26 GBP, a minute apart: 161 points, Bronze, coffee affordable.
    for minute, amount in enumerate(range(20, 27)):
        await earn(bot, ann["id"], str(amount), NOW + dt.timedelta(minutes=minute))
    await bot.store.link_telegram(PHONE, CUSTOMER)

    calls = await bot.send(CUSTOMER, "/status")

    assert len(messages(calls)) == 1
    card = bot.last_text(CUSTOMER)
    assert "Ann Lee" in card
    assert format_card(ann["card_number"]) in card
    assert "Balance: 161 points · Bronze" in card
    assert "161 points earned in all · 339 more to Silver" in card
    assert "Rewards available now: Free coffee (100)" in card
    assert "Slice of cake" not in card  # 250: not affordable yet
    assert card.count("GBP)") == 5
    for amount in range(22, 27):
        assert f"({amount}.00 GBP)" in card
    assert "(21.00 GBP)" not in card and "(20.00 GBP)" not in card
    assert "14 Mar 10:06 · Purchase (26.00 GBP) · +26" in card
    assert "•••" not in card  # the masked phone is for staff
    assert not bot.bad_requests()


async def test_card_shows_times_in_the_shops_time_zone(bot: BotHarness) -> None:
    ann = await register(bot)
    await earn(bot, ann["id"], "5", dt.datetime(2026, 7, 1, 10, 30, tzinfo=dt.UTC))
    await bot.store.link_telegram(PHONE, CUSTOMER)
    await bot.send(CUSTOMER, "/status")
    assert "01 Jul 11:30 · Purchase" in bot.last_text(CUSTOMER)  # London is on BST in July


async def test_customer_short_of_every_reward_sees_what_the_next_one_needs(
    bot: BotHarness,
) -> None:
    ann = await register(bot)
    await earn(bot, ann["id"], "40", NOW)
    await bot.store.link_telegram(PHONE, CUSTOMER)
    await bot.send(CUSTOMER, "/status")
    assert "Next reward: Free coffee, 60 points to go" in bot.last_text(CUSTOMER)


async def test_unlinked_customer_is_told_to_link_with_start(bot: BotHarness) -> None:
    await register(bot)
    calls = await bot.send(STRANGER, "/status")
    assert len(messages(calls)) == 1
    assert "/start" in bot.last_text(STRANGER)
    assert "Share my phone number" in bot.last_text(STRANGER)


async def test_customer_asking_for_someone_elses_card_is_refused_without_revealing_it(
    bot: BotHarness,
) -> None:
    await register(bot)
    bob = await register(bot, OTHER_PHONE, "Bob Stone")
    await bot.store.link_telegram(PHONE, CUSTOMER)

    await bot.send(CUSTOMER, f"/status {bob['card_number']}")
    existing = bot.last_text(CUSTOMER)
    await bot.send(CUSTOMER, "/status 07400 654321")
    by_phone = bot.last_text(CUSTOMER)
    await bot.send(CUSTOMER, "/status 07400 999999")  # nobody has this number
    missing = bot.last_text(CUSTOMER)

    assert "You can only see your own card" in existing
    assert existing == by_phone == missing  # the same words whether the card exists or not
    assert all("Bob" not in text for text in bot.texts_to(CUSTOMER))


async def test_unlinked_customer_naming_a_card_gets_the_same_refusal(bot: BotHarness) -> None:
    ann = await register(bot)
    calls = await bot.send(STRANGER, f"/status {ann['card_number']}")
    assert len(messages(calls)) == 1
    assert "You can only see your own card" in bot.last_text(STRANGER)
    assert "Ann" not in bot.last_text(STRANGER)


async def test_customer_naming_their_own_card_sees_it(bot: BotHarness) -> None:
    ann = await register(bot)
    await bot.store.link_telegram(PHONE, CUSTOMER)
    await bot.send(CUSTOMER, f"/status {format_card(ann['card_number'])}")
    assert "Ann Lee" in bot.last_text(CUSTOMER)


async def test_staff_status_with_a_phone_shows_the_card_with_a_masked_phone(
    bot: BotHarness,
) -> None:
    ann = await register(bot)
    await earn(bot, ann["id"], "12.50", NOW)

    await bot.send(CASHIER, "/status 07400 123456")

    card = bot.last_text(CASHIER)
    assert "Ann Lee" in card
    assert "Phone: +44 ••• ••3456" in card
    assert "7400123456" not in card and "7400 123456" not in card
    assert "Balance: 12 points · Bronze" in card
    assert "Purchase (12.50 GBP) · +12" in card
    assert not bot.bad_requests()


async def test_staff_status_then_typed_card_shows_the_card(bot: BotHarness) -> None:
    ann = await register(bot)
    await bot.send(CASHIER, "/status")
    assert "card number" in bot.last_text(CASHIER)
    await bot.send(CASHIER, format_card(ann["card_number"]))
    assert "Ann Lee" in bot.last_text(CASHIER)
    await bot.send(CASHIER, "hello")  # the flow has ended: free text gets the usual hint
    assert "Send /earn" in bot.last_text(CASHIER)


async def test_staff_typo_in_a_card_number_says_so_and_asks_again(bot: BotHarness) -> None:
    ann = await register(bot)
    number = ann["card_number"]
    typo = number[:-1] + str((int(number[-1]) + 1) % 10)
    await bot.send(CASHIER, "/status")
    await bot.send(CASHIER, typo)
    assert "doesn't check out" in bot.last_text(CASHIER)
    await bot.send(CASHIER, number)  # still asking
    assert "Ann Lee" in bot.last_text(CASHIER)


async def test_staff_status_for_an_unknown_card_offers_register(bot: BotHarness) -> None:
    await bot.send(CASHIER, "/status 07400 999999")
    assert "/register" in bot.last_text(CASHIER)


async def test_someone_removed_from_staff_mid_lookup_cannot_finish_it(bot: BotHarness) -> None:
    ann = await register(bot)
    await bot.staff.add(STRANGER, "cashier", by=CASHIER, now=NOW)
    await bot.send(STRANGER, "/status")
    assert "card number" in bot.last_text(STRANGER)
    await bot.staff.remove(STRANGER)

    await bot.send(STRANGER, ann["card_number"])

    assert "Only shop staff" in bot.last_text(STRANGER)
    assert all("Ann" not in text for text in bot.texts_to(STRANGER))


async def test_names_with_html_characters_render_cleanly(bot: BotHarness) -> None:
    await register(bot, name="<b>Zoë & O'Brien</b>")
    await bot.store.link_telegram(PHONE, CUSTOMER)
    await bot.send(CUSTOMER, "/status")
    assert "<b>Zoë & O'Brien</b>" in bot.last_text(CUSTOMER)
    await bot.send(CASHIER, "/status 07400123456")
    assert "<b>Zoë & O'Brien</b>" in bot.last_text(CASHIER)
    assert not bot.bad_requests()


async def test_status_in_the_middle_of_earn_ends_earn(bot: BotHarness) -> None:
    ann = await register(bot)
    await bot.send(CASHIER, "/earn 07400123456")
    await bot.send(CASHIER, "/status 07400123456")
    assert "Ann Lee" in bot.last_text(CASHIER)
    await bot.send(CASHIER, "25")  # no longer the earn flow's amount step
    assert "Send /earn" in bot.last_text(CASHIER)
    assert (await bot.store.get_customer(ann["id"]))["balance"] == 0
