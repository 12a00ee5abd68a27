"""/card and scanning it: the customer's QR code, the card it opens for staff, and what
anybody else learns from it (nothing); printed cards; the one-tap buttons under a card and
under an earn's result."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from bot.qr import card_png
from core.card_tokens import TOKEN_TTL, deep_link, sign
from core.db.secret import card_secret
from tests.support.harness import ADMIN, CASHIER, CUSTOMER, STRANGER, BotHarness

pytestmark = pytest.mark.asyncio

PHONE, OTHER_PHONE = "+447400123456", "+447400654321"
BOT_NAME = "loyalty_test_bot"  # what the offline Bot API's getMe answers
FOR_STAFF_ONLY = "That code is a loyalty card, for the staff at the till to scan."


async def register(bot: BotHarness, name: str = "Ann Lee", phone: str = PHONE) -> dict[str, Any]:
    result = await bot.store.register(
        {"name": name, "phone": phone, "email": None}, actor_id=CASHIER, now=bot.services.clock()
    )
    return dict(result["customer"])


async def token_for(bot: BotHarness, customer_id: int, now: dt.datetime) -> str:
    return sign(customer_id, await card_secret(bot.services.engine), now=now)


def photos_to(bot: BotHarness, chat_id: int) -> list[Any]:
    return [c for c in bot.said_to(chat_id) if c.method == "sendPhoto"]


async def test_card_sends_the_customer_a_qr_code_of_a_signed_link_to_their_card(
    bot: BotHarness,
) -> None:
    ann = await register(bot)
    await bot.store.link_telegram(PHONE, CUSTOMER)
    now = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
    bot.services.clock = lambda: now

    await bot.send(CUSTOMER, "/card")

    (photo,) = photos_to(bot, CUSTOMER)
    link = deep_link(BOT_NAME, await token_for(bot, ann["id"], now))
    assert photo.files["photo"] == card_png(link)  # the code is exactly that link
    assert "works for 5 minutes" in str(photo.params["caption"])
    assert not bot.bad_requests()


async def test_card_tells_an_unlinked_customer_how_to_link_and_staff_what_it_is_for(
    bot: BotHarness,
) -> None:
    await bot.send(STRANGER, "/card")
    assert "isn't linked to a loyalty card" in bot.last_text(STRANGER)
    await bot.send(CASHIER, "/card")
    assert "shows a customer their QR card" in bot.last_text(CASHIER)
    assert photos_to(bot, STRANGER) == photos_to(bot, CASHIER) == []


async def test_a_cashier_scanning_the_code_gets_the_card_and_earns_in_one_tap(
    bot: BotHarness,
) -> None:
    ann = await register(bot)
    token = await token_for(bot, ann["id"], bot.services.clock())

    await bot.send(CASHIER, f"/start {token}")

    card = bot.last_text(CASHIER)
    assert "Ann Lee · card" in card and "Phone: +44 ••• ••3456" in card
    await bot.press(CASHIER, "Earn")
    assert "Ann Lee" in bot.last_text(CASHIER)
    assert "How much did they spend" in bot.last_text(CASHIER)
    await bot.send(CASHIER, "12.50")
    await bot.press(CASHIER, "Confirm")
    assert "+12 points for 12.50 GBP" in bot.last_text(CASHIER)
    assert (await bot.store.get_customer(ann["id"]))["balance"] == 12

    # The second purchase of the same customer: one tap, no number typed.
    await bot.press(CASHIER, "Same customer again")
    assert "How much did they spend" in bot.last_text(CASHIER)
    await bot.send(CASHIER, "8")
    await bot.press(CASHIER, "Confirm")
    assert "New balance: 20 points" in bot.last_text(CASHIER)
    assert await bot.store.ledger_sum(ann["id"]) == 20
    assert not bot.bad_requests()


async def test_redeem_and_status_buttons_under_a_scanned_card(bot: BotHarness) -> None:
    ann = await register(bot)
    await bot.store.earn(ann["id"], Decimal(150), actor_id=CASHIER, now=bot.services.clock())
    await bot.send(ADMIN, f"/start {await token_for(bot, ann['id'], bot.services.clock())}")

    await bot.press(ADMIN, "Redeem")
    assert "Which reward?" in bot.last_text(ADMIN)
    await bot.press(ADMIN, "Free coffee")
    await bot.press(ADMIN, "Confirm")
    assert (await bot.store.get_customer(ann["id"]))["balance"] == 50

    await bot.press(ADMIN, "Status")
    assert "Balance: 50 points" in bot.last_text(ADMIN)
    assert not bot.bad_requests()


async def test_an_expired_or_forged_code_is_refused_and_opens_nothing(bot: BotHarness) -> None:
    ann = await register(bot)
    issued = bot.services.clock()
    token = await token_for(bot, ann["id"], issued)
    bot.services.clock = lambda: issued + TOKEN_TTL

    await bot.send(CASHIER, f"/start {token}")
    assert "That card code has expired" in bot.last_text(CASHIER)

    forged = sign(ann["id"], b"not the shop's secret", now=issued + TOKEN_TTL)
    await bot.send(CASHIER, f"/start {forged}")
    assert "not a valid card code" in bot.last_text(CASHIER)
    await bot.send(CASHIER, "/start t_short")
    assert "not a valid card code" in bot.last_text(CASHIER)
    assert not any("Ann Lee" in text for text in bot.texts_to(CASHIER))


async def test_a_customer_opening_anyones_code_learns_nothing(bot: BotHarness) -> None:
    ann = await register(bot)
    await register(bot, "Bob Roe", OTHER_PHONE)
    await bot.store.link_telegram(OTHER_PHONE, CUSTOMER)
    now = bot.services.clock()
    valid = await token_for(bot, ann["id"], now)
    expired = await token_for(bot, ann["id"], now - TOKEN_TTL)
    forged = sign(ann["id"], b"guess", now=now)

    for user in (CUSTOMER, STRANGER):
        for payload in (valid, expired, forged, f"c_{ann['card_number']}", "c_12345678"):
            await bot.send(user, f"/start {payload}")
            assert bot.last_text(user).startswith(FOR_STAFF_ONLY)
        assert not any("Ann" in t or "point" in t for t in bot.texts_to(user))


async def test_a_printed_cards_link_opens_the_card_for_staff_and_checks_its_digit(
    bot: BotHarness,
) -> None:
    ann = await register(bot)
    number = ann["card_number"]
    await bot.send(CASHIER, f"/start c_{number}")
    assert "Ann Lee · card" in bot.last_text(CASHIER)

    typo = number[:-1] + str((int(number[-1]) + 1) % 10)
    await bot.send(CASHIER, f"/start c_{typo}")
    assert "not a valid card code" in bot.last_text(CASHIER)


async def test_a_customer_pressing_a_forged_earn_or_status_button_is_refused(
    bot: BotHarness,
) -> None:
    ann = await register(bot)
    for data in (f"go:earn:{ann['id']}", f"go:redeem:{ann['id']}", f"go:status:{ann['id']}"):
        await bot.press_data(CUSTOMER, data)
    assert bot.alerts() == ["Only shop staff can do that. Send /help to see what you can do."] * 3
    assert bot.texts_to(CUSTOMER) == []


async def test_a_button_for_a_customer_that_does_not_exist_changes_nothing(
    bot: BotHarness,
) -> None:
    await bot.press_data(CASHIER, "go:earn:999")
    await bot.press_data(CASHIER, "go:status:999")
    assert bot.alerts() == ["That button is no longer active. Send /help to start again."] * 2
    assert bot.texts_to(CASHIER) == []


async def test_staff_status_shows_the_buttons_and_a_button_ends_an_open_flow(
    bot: BotHarness,
) -> None:
    ann = await register(bot)
    await bot.send(CASHIER, "/status 07400 123456")
    await bot.send(CASHIER, "/redeem")  # a flow left open at "which customer?"
    await bot.press(CASHIER, "Earn")
    assert "How much did they spend" in bot.last_text(CASHIER)
    await bot.send(CASHIER, "5")  # the amount, not a card number for /redeem
    assert "5.00 GBP → 5 points" in bot.last_text(CASHIER)
    assert (await bot.store.get_customer(ann["id"]))["balance"] == 0
    assert not bot.bad_requests()
