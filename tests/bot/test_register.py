"""/register through the real Application: what the cashier sees and what the database holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.handlers.register import SKIP_EMAIL
from core.cards import format_card
from core.types import Customer
from tests.support.harness import CASHIER, CUSTOMER, STRANGER, BotHarness, make_config

pytestmark = pytest.mark.asyncio

PHONE = "+447400123456"
TRICKY_NAME = "<b>Zoë_O'Brien*"


async def fill_in(bot: BotHarness, name: str, phone: str, email: str) -> None:
    """Answers the three questions of /register, up to the summary."""
    await bot.send(CASHIER, "/register")
    await bot.send(CASHIER, name)
    await bot.send(CASHIER, phone)
    await bot.send(CASHIER, email)


async def registered(bot: BotHarness, phone: str = PHONE) -> Customer | None:
    return await bot.store.customer_by_phone(phone)


async def test_tricky_name_passes_through_every_message_literally(bot: BotHarness) -> None:
    await bot.send(CASHIER, "/register")
    assert "name" in bot.last_text(CASHIER) and "/cancel" in bot.last_text(CASHIER)
    await bot.send(CASHIER, TRICKY_NAME)
    assert TRICKY_NAME in bot.last_text(CASHIER)
    assert "phone number" in bot.last_text(CASHIER) and "/cancel" in bot.last_text(CASHIER)
    await bot.send(CASHIER, "+44 7400 123456")
    assert "e-mail" in bot.last_text(CASHIER) and "/cancel" in bot.last_text(CASHIER)
    await bot.send(CASHIER, "zoe@example.com")

    summary = bot.last_text(CASHIER)
    assert f"Name: {TRICKY_NAME}" in summary
    assert "Phone: +44 7400 123456" in summary
    assert "E-mail: zoe@example.com" in summary
    assert await registered(bot) is None  # nothing saved before Confirm

    await bot.press(CASHIER, "Confirm")

    customer = await registered(bot)
    assert customer is not None
    assert customer["name"] == TRICKY_NAME
    assert customer["email"] == "zoe@example.com"
    reply = bot.last_text(CASHIER)
    assert f"Registered {TRICKY_NAME}" in reply
    assert f"Card number: {format_card(customer['card_number'])}" in reply
    assert "Welcome bonus" not in reply  # the default program has no signup bonus
    assert not bot.bad_requests()


async def test_signup_bonus_is_shown_and_credited(tmp_path: Path) -> None:
    async with BotHarness(make_config(tmp_path, signup_bonus=50)) as bot:
        await fill_in(bot, "Ann Lee", "07400 123456", "-")
        await bot.press(CASHIER, "Confirm")

        assert "Welcome bonus: 50 points" in bot.last_text(CASHIER)
        customer = await registered(bot)
        assert customer is not None and customer["balance"] == 50
        entries = await bot.store.recent_entries(customer["id"])
        assert [(e["kind"], e["points"]) for e in entries] == [("signup_bonus", 50)]


async def test_invalid_phone_says_why_and_asks_again(bot: BotHarness) -> None:
    await bot.send(CASHIER, "/register")
    await bot.send(CASHIER, "Ann Lee")
    await bot.send(CASHIER, "12345")
    assert "too short" in bot.last_text(CASHIER)
    assert "phone number again" in bot.last_text(CASHIER)
    await bot.send(CASHIER, "07400 123456")  # still in the phone step
    assert "e-mail" in bot.last_text(CASHIER)


async def test_name_without_letters_asks_again(bot: BotHarness) -> None:
    await bot.send(CASHIER, "/register")
    await bot.send(CASHIER, "12345")
    assert "at least one letter" in bot.last_text(CASHIER)
    await bot.send(CASHIER, "Ann Lee")
    assert "phone number of Ann Lee" in bot.last_text(CASHIER)


async def test_phone_already_registered_is_refused_naming_the_card(bot: BotHarness) -> None:
    await fill_in(bot, "Ann Lee", "+44 7400 123456", "skip")
    await bot.press(CASHIER, "Confirm")
    first = await registered(bot)
    assert first is not None

    await bot.send(CASHIER, "/register")
    await bot.send(CASHIER, "Bob Ray")
    await bot.send(CASHIER, "07400123456")  # the same number written the local way

    reply = bot.last_text(CASHIER)
    assert f"already registered on card {format_card(first['card_number'])}" in reply
    assert "different phone number" in reply
    await bot.send(CASHIER, "07400 654321")  # still in the phone step: another number works
    assert "e-mail" in bot.last_text(CASHIER)


async def test_phone_taken_between_summary_and_confirm_is_refused_on_confirm(
    bot: BotHarness,
) -> None:
    await fill_in(bot, "Ann Lee", "07400 123456", "-")
    # Another till registers the same number while the summary waits.
    other = await bot.store.register(
        {"name": "Ann L.", "phone": PHONE, "email": None},
        actor_id=CASHIER,
        now=bot.services.clock(),
    )
    await bot.press(CASHIER, "Confirm")

    card_number = format_card(other["customer"]["card_number"])
    assert f"already registered on card {card_number}" in bot.last_text(CASHIER)
    assert "Nothing was saved" in bot.last_text(CASHIER)
    customer = await registered(bot)
    assert customer is not None and customer["name"] == "Ann L."


async def test_invalid_email_says_why_and_asks_again(bot: BotHarness) -> None:
    await bot.send(CASHIER, "/register")
    await bot.send(CASHIER, "Ann Lee")
    await bot.send(CASHIER, "07400 123456")
    await bot.send(CASHIER, "not-an-email")
    assert "e-mail won't work" in bot.last_text(CASHIER)
    assert "e-mail again" in bot.last_text(CASHIER)
    await bot.send(CASHIER, "Ann@Example.com")  # still in the e-mail step
    assert "E-mail: Ann@example.com" in bot.last_text(CASHIER)
    assert not bot.bad_requests()


async def test_skip_button_registers_without_email(bot: BotHarness) -> None:
    await bot.send(CASHIER, "/register")
    await bot.send(CASHIER, "Ann Lee")
    await bot.send(CASHIER, "07400 123456")
    _, button = bot.find_button(CASHIER, "Skip")
    assert button["callback_data"] == SKIP_EMAIL

    await bot.press(CASHIER, "Skip")

    assert "E-mail: none" in bot.last_text(CASHIER)
    await bot.press(CASHIER, "Confirm")
    customer = await registered(bot)
    assert customer is not None and customer["email"] is None
    assert not bot.bad_requests()


@pytest.mark.parametrize("typed", ["skip", "SKIP", "-"])
async def test_typing_skip_or_dash_means_no_email(bot: BotHarness, typed: str) -> None:
    await fill_in(bot, "Ann Lee", "07400 123456", typed)
    assert "E-mail: none" in bot.last_text(CASHIER)


async def test_double_tap_on_confirm_registers_once(bot: BotHarness) -> None:
    await fill_in(bot, "Ann Lee", "07400 123456", "-")
    await bot.press(CASHIER, "Confirm")
    await bot.press(CASHIER, "Confirm")

    assert any("Already done" in alert for alert in bot.alerts())
    customer = await registered(bot)
    assert customer is not None
    texts = bot.texts_to(CASHIER)
    assert sum("Registered Ann Lee" in t for t in texts) == 1


async def test_forged_confirm_from_customer_registers_nobody(bot: BotHarness) -> None:
    await fill_in(bot, "Ann Lee", "07400 123456", "-")
    await bot.press(CUSTOMER, "Confirm", on_behalf_of=CASHIER)

    assert any("Only shop staff" in alert for alert in bot.alerts())
    assert await registered(bot) is None


async def test_cancel_makes_confirm_expire(bot: BotHarness) -> None:
    await fill_in(bot, "Ann Lee", "07400 123456", "-")
    await bot.send(CASHIER, "/cancel")
    assert "Nothing was recorded" in bot.last_text(CASHIER)

    await bot.press(CASHIER, "Confirm")

    assert any("expired" in alert and "/register" in alert for alert in bot.alerts())
    assert await registered(bot) is None


async def test_cancel_button_saves_nothing(bot: BotHarness) -> None:
    await fill_in(bot, "Ann Lee", "07400 123456", "-")
    await bot.press(CASHIER, "Cancel")
    assert "Nothing was recorded" in bot.last_text(CASHIER)
    assert await registered(bot) is None


async def test_text_while_summary_waits_points_at_the_buttons(bot: BotHarness) -> None:
    await fill_in(bot, "Ann Lee", "07400 123456", "-")
    await bot.send(CASHIER, "yes")
    assert "press ✅ Confirm" in bot.last_text(CASHIER)
    await bot.press(CASHIER, "Confirm")  # the summary is still open
    assert await registered(bot) is not None


async def test_stranger_cannot_register(bot: BotHarness) -> None:
    await bot.send(STRANGER, "/register")
    assert "Only shop staff" in bot.last_text(STRANGER)
    await bot.send(STRANGER, "Ann Lee")  # no flow was opened: this is not taken as a name
    assert "phone number" not in bot.last_text(STRANGER)


async def test_stranger_pressing_skip_changes_nothing(bot: BotHarness) -> None:
    await bot.press_data(STRANGER, SKIP_EMAIL)
    assert any("no longer active" in alert for alert in bot.alerts())
    assert not any("E-mail:" in t for t in bot.texts_to(STRANGER))
