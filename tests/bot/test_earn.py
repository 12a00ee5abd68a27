"""/earn through the real Application: what the cashier sees and what the ledger holds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.support.harness import CASHIER, CUSTOMER, STRANGER, BotHarness

pytestmark = pytest.mark.asyncio

PHONE = "+447400123456"


async def register(bot: BotHarness, phone: str = PHONE, name: str = "Ann Lee") -> dict[str, Any]:
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


# --- amounts that can't be misread (docs/decisions.md, "What an amount may look like") ------

AGAIN = "Send the amount again, like 25.50 (/cancel to stop)."


async def holds_nothing(bot: BotHarness, customer: dict[str, Any]) -> bool:
    stored = await bot.store.get_customer(customer["id"])
    return stored["balance"] == 0 and await bot.store.ledger_sum(customer["id"]) == 0


@pytest.mark.parametrize(
    "line",
    [
        "/earn 07400 123456 12.50 GBP",
        "/earn 07400123456 12.50 gbp",
        "/earn 07400 123456 12.50GBP",
        "/earn 07400 123456 GBP 12.50",
        "/earn +44 7400 123456 £ 12.50",
        "/earn 07400 123456 12,50 £",
    ],
)
async def test_one_line_earn_takes_the_shops_currency_after_or_before_the_amount(
    bot: BotHarness, line: str
) -> None:
    customer = await register(bot)
    await bot.send(CASHIER, line)
    assert "12.50 GBP → 12 points" in bot.last_text(CASHIER)
    await bot.press(CASHIER, "Confirm")
    assert "+12 points for 12.50 GBP" in bot.last_text(CASHIER)
    assert (await bot.store.get_customer(customer["id"]))["balance"] == 12
    assert not bot.bad_requests()


async def test_a_card_number_typed_in_two_groups_works_in_the_one_line_form(
    bot: BotHarness,
) -> None:
    customer = await register(bot)
    card = customer["card_number"]
    await bot.send(CASHIER, f"/earn {card[:4]} {card[4:]}")  # no amount: it is asked for
    assert "How much did they spend" in bot.last_text(CASHIER)
    await bot.send(CASHIER, f"/earn {card[:4]} {card[4:]} 12.50 GBP")
    assert "12.50 GBP → 12 points" in bot.last_text(CASHIER)


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("12.", "12.00 GBP → 12 points"),
        (".5", "0.50 GBP is too little for a point. Nothing was recorded."),
        ("12.50 GBP", "12.50 GBP"),
    ],
)
async def test_a_trailing_or_leading_point_and_a_code_are_read_as_the_step_answer(
    bot: BotHarness, typed: str, amount: str
) -> None:
    await register(bot)
    await bot.send(CASHIER, "/earn 07400123456")
    await bot.send(CASHIER, typed)
    assert amount in bot.last_text(CASHIER)


REFUSED = [
    ("12 50", "“12 50” has a space inside: send 12.50 or 1250, whichever you meant"),
    ("1 250", "“1 250” has a space inside: send 1250 if that is what you meant"),
    ("1£2", "“1£2” has “£” between its digits: send only digits and a decimal point, like 25.50"),
    ("$12", "this shop counts in GBP, not $: send the amount in GBP, like 25.50"),
    ("€12", "this shop counts in GBP, not €: send the amount in GBP, like 25.50"),
    ("12 EUR", "this shop counts in GBP, not EUR: send the amount in GBP, like 25.50"),
    ("1.250", "“1.250” could mean 1.25 or 1250: send the one you meant"),
]


@pytest.mark.parametrize(("typed", "why"), REFUSED)
async def test_an_amount_that_could_be_misread_is_refused_in_one_line_and_asked_again(
    bot: BotHarness, typed: str, why: str
) -> None:
    customer = await register(bot)
    await bot.send(CASHIER, "/earn 07400123456")
    await bot.send(CASHIER, typed)
    assert bot.last_text(CASHIER) == f"That amount won't work: {why}.\n{AGAIN}"
    assert await holds_nothing(bot, customer)
    await bot.send(CASHIER, "12.50")  # still in the amount step
    assert "12.50 GBP → 12 points" in bot.last_text(CASHIER)
    assert await holds_nothing(bot, customer)  # nothing until Confirm
    assert not bot.bad_requests()


@pytest.mark.parametrize(("typed", "why"), REFUSED)
async def test_the_one_line_form_refuses_the_same_amounts_the_same_way(
    bot: BotHarness, typed: str, why: str
) -> None:
    customer = await register(bot)
    await bot.send(CASHIER, f"/earn 07400 123456 {typed}")
    assert bot.last_text(CASHIER) == f"That amount won't work: {why}.\n{AGAIN}"
    assert await holds_nothing(bot, customer)
    await bot.send(CASHIER, "12.50 GBP")  # the customer is kept: only the amount is asked again
    assert "Ann Lee" in bot.last_text(CASHIER)
    assert "12.50 GBP → 12 points" in bot.last_text(CASHIER)


async def test_the_confirm_of_a_refused_amount_never_appears(bot: BotHarness) -> None:
    customer = await register(bot)
    await bot.send(CASHIER, "/earn 07400 123456 12 50")
    assert not any(c.params.get("reply_markup") for c in bot.said_to(CASHIER))
    assert await holds_nothing(bot, customer)


@pytest.mark.parametrize(
    ("line", "quoted"),
    [
        ("/earn 07400 999999 12.50 GBP", "I can't find a customer with “07400 999999”"),
        ("/earn 07400 999999", "I can't find a customer with “07400 999999”"),
        ("/earn 07700 900123 150 GBP", "“07700 900123” is not a card number or a phone number"),
    ],
)
async def test_a_bad_customer_with_a_currency_code_is_about_the_customer(
    bot: BotHarness, line: str, quoted: str
) -> None:
    await bot.send(CASHIER, line)
    reply = bot.last_text(CASHIER)
    assert reply.startswith(quoted)
    assert "GBP" not in reply.split("\n")[0]
