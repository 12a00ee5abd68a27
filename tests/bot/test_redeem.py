"""/redeem through the real Application: what the cashier sees and what the ledger holds."""

from __future__ import annotations

import asyncio
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.handlers.redeem import PICK_PATTERN
from core.types import Reward
from tests.support.harness import ADMIN, CASHIER, CUSTOMER, STRANGER, BotHarness, make_config

pytestmark = pytest.mark.asyncio

PHONE = "+447400123456"


async def customer_with(bot: BotHarness, balance: int, name: str = "Ann Lee") -> dict[str, Any]:
    """A registered customer holding `balance` points (earned at 1 point per GBP, Bronze)."""
    now = bot.services.clock()
    result = await bot.store.register(
        {"name": name, "phone": PHONE, "email": None}, actor_id=CASHIER, now=now
    )
    customer_id = result["customer"]["id"]
    if balance:
        await bot.store.earn(customer_id, Decimal(balance), actor_id=CASHIER, now=now)
    return dict(await bot.store.get_customer(customer_id))


async def balance_of(bot: BotHarness, customer: dict[str, Any]) -> int:
    stored = await bot.store.get_customer(customer["id"])
    assert stored["balance"] == await bot.store.ledger_sum(customer["id"])
    return stored["balance"]


def button_data(bot: BotHarness, chat_id: int, label: str) -> str:
    return str(bot.find_button(chat_id, label)[1]["callback_data"])


async def test_redeem_step_by_step_deducts_points_and_gives_a_code(bot: BotHarness) -> None:
    customer = await customer_with(bot, 180)
    await bot.send(CASHIER, "/redeem")
    assert "card number" in bot.last_text(CASHIER)
    await bot.send(CASHIER, "07400 123456")
    assert "Balance: 180 points" in bot.last_text(CASHIER)
    await bot.press(CASHIER, "Free coffee")
    assert "Redeem Free coffee (100 points)?" in bot.last_text(CASHIER)
    assert "Balance 180 → 80" in bot.last_text(CASHIER)
    assert await balance_of(bot, customer) == 180  # nothing recorded before Confirm

    await bot.press(CASHIER, "Confirm")

    reply = bot.last_text(CASHIER)
    entry = (await bot.store.recent_entries(customer["id"], limit=1))[0]
    assert "Redeemed Free coffee" in reply
    assert "Points spent: 100 points" in reply
    assert "New balance: 80 points" in reply
    assert f"Code: {entry['details']['code']}" in reply
    assert entry["kind"] == "redeem" and entry["points"] == -100
    assert await balance_of(bot, customer) == 80
    assert not bot.bad_requests()


async def test_reward_buttons_show_the_points_missing(bot: BotHarness) -> None:
    await customer_with(bot, 180)
    await bot.send(CASHIER, "/redeem 07400123456")
    call, _ = bot.find_button(CASHIER, "Slice of cake")
    buttons = [b for row in call.params["reply_markup"]["inline_keyboard"] for b in row]
    labels = [b["text"] for b in buttons]
    assert labels == [
        "Free coffee · 100",
        "Slice of cake · 250 (missing 70)",
        "£10 off your shop · 1,000 (missing 820)",
    ]
    data = [b["callback_data"] for b in buttons]
    assert data == ["redeem:pick:coffee", "redeem:pick:cake", "redeem:pick:tenoff"]
    assert all(re.fullmatch(PICK_PATTERN, d) and len(d.encode()) <= 64 for d in data)


async def test_unaffordable_button_says_the_shortfall_and_stays_on_the_list(
    bot: BotHarness,
) -> None:
    customer = await customer_with(bot, 180)
    await bot.send(CASHIER, "/redeem 07400123456")
    await bot.press(CASHIER, "Slice of cake")
    assert "70 missing" in bot.alerts()[-1]
    assert "balance is 180" in bot.alerts()[-1]
    assert await balance_of(bot, customer) == 180
    await bot.press(CASHIER, "Free coffee")  # still on the list
    assert "Redeem Free coffee" in bot.last_text(CASHIER)


async def test_one_line_with_reward_id_goes_straight_to_confirm(bot: BotHarness) -> None:
    customer = await customer_with(bot, 300)
    await bot.send(CASHIER, "/redeem 07400 123456 CAKE")
    assert "Redeem Slice of cake (250 points)?" in bot.last_text(CASHIER)
    await bot.press(CASHIER, "Confirm")
    assert "New balance: 50 points" in bot.last_text(CASHIER)
    assert await balance_of(bot, customer) == 50


async def test_one_line_by_card_number_lists_the_rewards(bot: BotHarness) -> None:
    customer = await customer_with(bot, 120)
    await bot.send(CASHIER, f"/redeem {customer['card_number']}")
    assert "Balance: 120 points" in bot.last_text(CASHIER)
    assert "Which reward?" in bot.last_text(CASHIER)


async def test_not_enough_points_says_balance_and_shortfall_and_changes_nothing(
    bot: BotHarness,
) -> None:
    customer = await customer_with(bot, 180)
    await bot.send(CASHIER, "/redeem 07400123456 cake")
    reply = bot.last_text(CASHIER)
    assert "Not enough points: the balance is 180" in reply
    assert "70 short" in reply
    assert "Which reward?" in reply  # back on the list, to pick something affordable
    assert await balance_of(bot, customer) == 180
    assert all(e["kind"] != "redeem" for e in await bot.store.recent_entries(customer["id"]))


async def test_unknown_reward_id_lists_the_ids(bot: BotHarness) -> None:
    await customer_with(bot, 180)
    await bot.send(CASHIER, "/redeem 07400123456 cofee")
    assert "There is no reward “cofee”. Rewards: coffee, cake, tenoff." in bot.last_text(CASHIER)
    await bot.send(CASHIER, "coffee")  # typing the id works as well as tapping it
    assert "Redeem Free coffee" in bot.last_text(CASHIER)


async def test_forged_pick_of_unknown_reward_is_refused(bot: BotHarness) -> None:
    customer = await customer_with(bot, 500)
    await bot.send(CASHIER, "/redeem 07400123456")
    await bot.press_data(CASHIER, "redeem:pick:gold-bar")
    assert bot.alerts()[-1] == "That reward isn't on offer. Pick one from the list."
    assert await balance_of(bot, customer) == 500
    await bot.press(CASHIER, "Free coffee")
    assert "Redeem Free coffee" in bot.last_text(CASHIER)


async def test_double_tap_on_confirm_deducts_once(bot: BotHarness) -> None:
    customer = await customer_with(bot, 300)
    await bot.send(CASHIER, "/redeem 07400123456 coffee")
    await bot.press(CASHIER, "Confirm")
    await bot.press(CASHIER, "Confirm")
    assert await balance_of(bot, customer) == 200
    assert any("Already done" in alert for alert in bot.alerts())


async def test_customer_cannot_redeem(bot: BotHarness) -> None:
    await bot.send(STRANGER, "/redeem 07400123456 coffee")
    assert "Only shop staff" in bot.last_text(STRANGER)


async def test_forged_confirm_from_customer_changes_nothing(bot: BotHarness) -> None:
    customer = await customer_with(bot, 300)
    await bot.send(CASHIER, "/redeem 07400123456 coffee")
    await bot.press(CUSTOMER, "Confirm", on_behalf_of=CASHIER)
    assert await balance_of(bot, customer) == 300
    assert any("Only shop staff" in alert for alert in bot.alerts())


async def test_cancel_makes_confirm_expire(bot: BotHarness) -> None:
    customer = await customer_with(bot, 300)
    await bot.send(CASHIER, "/redeem 07400123456 coffee")
    await bot.send(CASHIER, "/cancel")
    assert "Nothing was recorded" in bot.last_text(CASHIER)
    await bot.press(CASHIER, "Confirm")
    assert any("expired" in alert for alert in bot.alerts())
    assert await balance_of(bot, customer) == 300


async def test_starting_earn_ends_the_redeem_flow(bot: BotHarness) -> None:
    customer = await customer_with(bot, 300)
    await bot.send(CASHIER, "/redeem 07400123456 coffee")
    redeem_confirm = button_data(bot, CASHIER, "Confirm")
    await bot.send(CASHIER, "/earn 07400123456 30")
    await bot.press(CASHIER, "Confirm")  # the newest Confirm: /earn's
    assert "+30 points" in bot.last_text(CASHIER)
    await bot.press_data(CASHIER, redeem_confirm)
    assert "expired" in bot.alerts()[-1]
    assert await balance_of(bot, customer) == 330


async def test_points_spent_by_another_cashier_since_the_preview_change_nothing(
    bot: BotHarness,
) -> None:
    customer = await customer_with(bot, 300)
    await bot.send(CASHIER, "/redeem 07400123456 cake")
    await bot.store.redeem(customer["id"], "cake", actor_id=ADMIN, now=bot.services.clock())
    await bot.press(CASHIER, "Confirm")
    assert "Not enough points: the balance is 50" in bot.last_text(CASHIER)
    assert "Nothing was changed" in bot.last_text(CASHIER)
    assert await balance_of(bot, customer) == 50


async def test_two_cashiers_confirming_at_once_spend_the_points_once(bot: BotHarness) -> None:
    customer = await customer_with(bot, 300)  # enough for one cake, not two
    await bot.send(ADMIN, "/redeem 07400123456 cake")
    await bot.send(CASHIER, "/redeem 07400123456 cake")

    await asyncio.gather(bot.press(ADMIN, "Confirm"), bot.press(CASHIER, "Confirm"))

    replies = [bot.last_text(ADMIN), bot.last_text(CASHIER)]
    assert sum("Redeemed Slice of cake" in r for r in replies) == 1
    assert sum("Not enough points: the balance is 50" in r for r in replies) == 1
    assert await balance_of(bot, customer) == 50
    entries = await bot.store.recent_entries(customer["id"], limit=10)
    assert [e["points"] for e in entries if e["kind"] == "redeem"] == [-250]


async def test_reset_mode_spends_the_whole_balance(tmp_path: Path) -> None:
    async with BotHarness(make_config(tmp_path, reset_after_redemption=True)) as bot:
        customer = await customer_with(bot, 180)
        await bot.send(CASHIER, "/redeem 07400123456 coffee")
        assert "Spends the whole balance, 180 points" in bot.last_text(CASHIER)
        await bot.press(CASHIER, "Confirm")
        reply = bot.last_text(CASHIER)
        assert "Points spent: 180 points" in reply
        assert "New balance: 0 points (reset to 0 after a redemption)" in reply
        assert await balance_of(bot, customer) == 0


async def test_html_in_names_is_shown_as_typed(tmp_path: Path) -> None:
    rewards = (Reward("tea", "Tea & <scone>", 50),)
    async with BotHarness(make_config(tmp_path, rewards=rewards)) as bot:
        customer = await customer_with(bot, 60, name="<b>Zoë & Co</b>")
        await bot.store.link_telegram(PHONE, CUSTOMER)
        await bot.send(CASHIER, "/redeem 07400123456")
        assert "<b>Zoë & Co</b>" in bot.last_text(CASHIER)
        await bot.press(CASHIER, "Tea & <scone>")
        assert "Redeem Tea & <scone> (50 points)?" in bot.last_text(CASHIER)
        await bot.press(CASHIER, "Confirm")
        assert "Redeemed Tea & <scone>" in bot.last_text(CASHIER)
        assert "You redeemed Tea & <scone>" in bot.last_text(CUSTOMER)
        assert await balance_of(bot, customer) == 10
        assert not bot.bad_requests()


async def test_linked_customer_is_told_reward_points_balance_and_code(bot: BotHarness) -> None:
    customer = await customer_with(bot, 300)
    await bot.store.link_telegram(PHONE, CUSTOMER)
    await bot.send(CASHIER, "/redeem 07400123456 cake")
    await bot.press(CASHIER, "Confirm")
    entry = (await bot.store.recent_entries(customer["id"], limit=1))[0]
    assert bot.last_text(CUSTOMER) == (
        f"🎁 You redeemed Slice of cake for 250 points. Balance: 50 points. "
        f"Your code: {entry['details']['code']}"
    )
