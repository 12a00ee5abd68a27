"""Linking a Telegram account by sharing a contact: who gets linked, and what they see."""

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
NOW = dt.datetime(2026, 3, 14, 10, 0, tzinfo=dt.UTC)


async def register(bot: BotHarness, phone: str = PHONE, name: str = "Ann Lee") -> dict[str, Any]:
    result = await bot.store.register(
        {"name": name, "phone": phone, "email": None}, actor_id=CASHIER, now=NOW
    )
    return dict(result["customer"])


def removes_keyboard(calls: list[SentCall]) -> bool:
    return any(
        isinstance(c.params.get("reply_markup"), dict)
        and c.params["reply_markup"].get("remove_keyboard") is True
        for c in calls
    )


async def test_sharing_your_own_contact_links_the_card_and_shows_it(bot: BotHarness) -> None:
    ann = await register(bot)
    await bot.store.earn(ann["id"], Decimal("30"), actor_id=CASHIER, now=NOW)

    calls = await bot.share_contact(CUSTOMER, PHONE)

    linked = await bot.store.get_customer(ann["id"])
    assert linked["telegram_user_id"] == CUSTOMER
    text = bot.last_text(CUSTOMER)
    assert "Linked" in text
    assert format_card(ann["card_number"]) in text
    assert "Balance: 30 points · Bronze" in text
    assert "Purchase (30.00 GBP) · +30" in text
    assert removes_keyboard(calls)
    assert not bot.bad_requests()


async def test_status_after_linking_shows_the_linked_card(bot: BotHarness) -> None:
    await register(bot)
    await bot.share_contact(CUSTOMER, PHONE)
    await bot.send(CUSTOMER, "/status")
    assert "Ann Lee" in bot.last_text(CUSTOMER)


async def test_a_number_shared_without_the_plus_still_links(bot: BotHarness) -> None:
    ann = await register(bot)
    await bot.share_contact(CUSTOMER, "447400123456")
    assert (await bot.store.get_customer(ann["id"]))["telegram_user_id"] == CUSTOMER
    assert "Linked" in bot.last_text(CUSTOMER)


async def test_someone_elses_contact_is_refused_and_links_nothing(bot: BotHarness) -> None:
    ann = await register(bot)

    await bot.share_contact(STRANGER, PHONE, contact_user_id=CUSTOMER)

    assert "Please share your own contact using the button" in bot.last_text(STRANGER)
    assert "Ann" not in bot.last_text(STRANGER)
    assert (await bot.store.get_customer(ann["id"]))["telegram_user_id"] is None
    assert await bot.store.customer_by_telegram(STRANGER) is None


async def test_a_contact_without_a_telegram_account_is_refused(bot: BotHarness) -> None:
    ann = await register(bot)
    # An address-book contact with no Telegram account carries no user_id at all.
    update = {
        "update_id": 99,
        "message": {
            "message_id": 99,
            "date": int(NOW.timestamp()),
            "chat": {"id": STRANGER, "type": "private", "first_name": "Test"},
            "from": {"id": STRANGER, "is_bot": False, "first_name": "Test"},
            "contact": {"phone_number": PHONE, "first_name": "Ann"},
        },
    }
    calls = await bot._feed(update)
    assert any("Please share your own contact" in (c.text or "") for c in calls)
    assert (await bot.store.get_customer(ann["id"]))["telegram_user_id"] is None


async def test_an_unregistered_phone_is_told_to_register_at_the_till(bot: BotHarness) -> None:
    await bot.share_contact(STRANGER, "+447400999999")
    text = bot.last_text(STRANGER)
    assert "ask at the till" in text
    assert "again" in text
    assert await bot.store.customer_by_telegram(STRANGER) is None


async def test_a_second_account_sharing_a_linked_phone_is_told_it_is_linked(
    bot: BotHarness,
) -> None:
    ann = await register(bot)
    await bot.share_contact(CUSTOMER, PHONE)

    await bot.share_contact(STRANGER, PHONE)

    assert "already linked to another Telegram account" in bot.last_text(STRANGER)
    assert "Ann" not in bot.last_text(STRANGER)
    assert (await bot.store.get_customer(ann["id"]))["telegram_user_id"] == CUSTOMER


async def test_sharing_again_keeps_the_link_and_shows_the_card(bot: BotHarness) -> None:
    ann = await register(bot)
    await bot.share_contact(CUSTOMER, PHONE)
    await bot.share_contact(CUSTOMER, PHONE)
    assert (await bot.store.get_customer(ann["id"]))["telegram_user_id"] == CUSTOMER
    assert "Ann Lee" in bot.last_text(CUSTOMER)


async def test_staff_sharing_their_contact_are_linked_like_a_customer(bot: BotHarness) -> None:
    ann = await register(bot)
    await bot.share_contact(CASHIER, PHONE)
    assert (await bot.store.get_customer(ann["id"]))["telegram_user_id"] == CASHIER
    assert "•••" not in bot.last_text(CASHIER)  # their own card, not the till view


async def test_names_with_html_characters_render_cleanly_on_linking(bot: BotHarness) -> None:
    await register(bot, name='<i>Zoë & "O\'Brien"</i>')
    await bot.share_contact(CUSTOMER, PHONE)
    assert '<i>Zoë & "O\'Brien"</i>' in bot.last_text(CUSTOMER)
    assert not bot.bad_requests()
