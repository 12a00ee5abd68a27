"""/void and the ↩ Undo button: what the cashier, the admin and the customer see, and what the
ledger holds (a void entry reversing exactly one entry, balance == sum of the ledger)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core.types import Customer
from tests.support.harness import ADMIN, CASHIER, CUSTOMER, STRANGER, BotHarness

PHONE = "+447400123456"


@pytest.fixture
async def customer(bot: BotHarness) -> Customer:
    """Ann, linked to CUSTOMER's Telegram account, with 100 points from a purchase."""
    registered = await bot.store.register(
        {"name": "Ann Lee", "phone": PHONE, "email": None},
        actor_id=CASHIER,
        now=bot.services.clock(),
    )
    await bot.share_contact(CUSTOMER, PHONE)
    await bot.send(CASHIER, "/earn 07400123456 100")
    await bot.press(CASHIER, "Confirm")
    return await bot.store.get_customer(registered["customer"]["id"])


async def kinds_and_balance(bot: BotHarness, customer: Customer) -> tuple[list[str], int]:
    entries = await bot.store.recent_entries(customer["id"], 20)
    fresh = await bot.store.get_customer(customer["id"])
    assert await bot.store.ledger_sum(customer["id"]) == fresh["balance"]
    return [e["kind"] for e in reversed(entries)], fresh["balance"]


async def test_the_cashier_undoes_their_own_purchase_after_one_more_confirm(
    bot: BotHarness, customer: Customer
) -> None:
    assert "Ref #" in bot.last_text(CASHIER)

    await bot.press(CASHIER, "Undo")
    preview = bot.last_text(CASHIER)
    assert "↩ Void the purchase of 100.00 GBP" in preview
    assert "Takes back 100 points." in preview and "Balance 100 → 0" in preview
    assert await kinds_and_balance(bot, customer) == (["earn"], 100)  # nothing before Confirm

    await bot.press(CASHIER, "Confirm")

    assert "↩ Voided ref #" in bot.last_text(CASHIER)
    assert "New balance: 0 points" in bot.last_text(CASHIER)
    assert "A correction on your card: -100 points. Balance: 0 points." in bot.last_text(CUSTOMER)
    assert await kinds_and_balance(bot, customer) == (["earn", "void"], 0)


async def test_undo_pressed_twice_voids_once(bot: BotHarness, customer: Customer) -> None:
    await bot.press(CASHIER, "Undo")
    await bot.press(CASHIER, "Confirm")
    undo = bot.find_button(CASHIER, "Undo")

    await bot.press_data(CASHIER, undo[1]["callback_data"])

    assert "already reversed" in bot.last_text(CASHIER)
    assert await kinds_and_balance(bot, customer) == (["earn", "void"], 0)


async def test_after_the_undo_window_the_cashier_is_sent_to_an_admin(
    bot: BotHarness, customer: Customer
) -> None:
    later = bot.services.clock() + dt.timedelta(minutes=11)
    bot.services.clock = lambda: later

    await bot.press(CASHIER, "Undo")

    assert any("Undo works for 10 minutes" in a and "/void #" in a for a in bot.alerts())
    assert await kinds_and_balance(bot, customer) == (["earn"], 100)


async def test_another_cashier_or_a_customer_cannot_undo_it(
    bot: BotHarness, customer: Customer
) -> None:
    await bot.send(ADMIN, f"/staff add {STRANGER}")
    data = bot.find_button(CASHIER, "Undo")[1]["callback_data"]

    await bot.press_data(STRANGER, data)
    await bot.press_data(CUSTOMER, data)

    assert "Only the cashier who recorded it, or an admin, can undo it." in bot.alerts()
    assert any("Only shop staff" in a for a in bot.alerts())
    assert await kinds_and_balance(bot, customer) == (["earn"], 100)


async def test_an_admin_voids_a_redemption_from_the_list_and_its_code_stops_working(
    bot: BotHarness, customer: Customer
) -> None:
    await bot.send(CASHIER, "/redeem 07400123456 coffee")
    await bot.press(CASHIER, "Confirm")
    code = (await bot.store.recent_entries(customer["id"], 1))[0]["details"]["code"]

    await bot.send(ADMIN, "/void 07400123456")
    await bot.press(ADMIN, "Reward coffee")
    assert "Gives back 100 points." in bot.last_text(ADMIN)
    assert f"Code {code} will no longer be valid." in bot.last_text(ADMIN)
    await bot.press(ADMIN, "Confirm")

    assert f"Code {code} is no longer valid." in bot.last_text(ADMIN)
    assert await kinds_and_balance(bot, customer) == (["earn", "redeem", "void"], 100)
    assert not bot.bad_requests()


async def test_an_admin_voids_by_the_ref_on_the_receipt(
    bot: BotHarness, customer: Customer
) -> None:
    (earn,) = await bot.store.recent_entries(customer["id"], 1)

    await bot.send(ADMIN, f"/void #{earn['id']}")
    await bot.press(ADMIN, "Confirm")

    assert await kinds_and_balance(bot, customer) == (["earn", "void"], 0)


async def test_a_void_of_spent_points_takes_what_is_there_and_records_the_rest_as_owed(
    bot: BotHarness, customer: Customer
) -> None:
    await bot.send(CASHIER, "/redeem 07400123456 coffee")  # spends all 100
    await bot.press(CASHIER, "Confirm")
    (_redeemed, earn) = await bot.store.recent_entries(customer["id"], 2)

    await bot.send(ADMIN, f"/void #{earn['id']}")
    assert "will be owed" in bot.last_text(ADMIN)
    await bot.press(ADMIN, "Confirm")

    assert "100 points owed" in bot.last_text(ADMIN)
    fresh = await bot.store.get_customer(customer["id"])
    assert (fresh["balance"], fresh.get("points_owed")) == (0, 100)


async def test_a_cashier_cannot_use_void(bot: BotHarness, customer: Customer) -> None:
    await bot.send(CASHIER, "/void 07400123456")

    assert "Only an admin" in bot.last_text(CASHIER)
    assert await kinds_and_balance(bot, customer) == (["earn"], 100)


async def test_a_forged_pick_of_another_cards_entry_is_refused(
    bot: BotHarness, customer: Customer
) -> None:
    other = await bot.store.register(
        {"name": "Bo Chen", "phone": "+447400999888", "email": None},
        actor_id=CASHIER,
        now=bot.services.clock(),
    )
    await bot.store.earn(
        other["customer"]["id"], Decimal(5), actor_id=CASHIER, now=bot.services.clock()
    )
    (bo_entry,) = await bot.store.recent_entries(other["customer"]["id"], 1)
    await bot.send(ADMIN, "/void 07400123456")

    await bot.press_data(ADMIN, f"void:pick:{bo_entry['id']}")

    assert "That entry isn't on this card. Pick one from the list." in bot.alerts()
    assert await kinds_and_balance(bot, customer) == (["earn"], 100)


async def test_an_admin_demoted_after_the_preview_cannot_confirm_the_void(
    bot: BotHarness, customer: Customer
) -> None:
    (earn,) = await bot.store.recent_entries(customer["id"], 1)
    await bot.send(ADMIN, f"/staff add {STRANGER} admin")
    await bot.send(STRANGER, f"/void #{earn['id']}")
    await bot.send(ADMIN, f"/staff add {STRANGER}")  # now only a cashier

    await bot.press(STRANGER, "Confirm")

    assert any("Only an admin" in a for a in bot.alerts())
    assert await kinds_and_balance(bot, customer) == (["earn"], 100)


async def test_undo_of_an_entry_that_does_not_exist_gets_the_usual_one_line(
    bot: BotHarness, customer: Customer
) -> None:
    await bot.press_data(CASHIER, "undo:999999")

    assert "There is no entry #999999. Check the number and send it again." in bot.alerts()
    assert await kinds_and_balance(bot, customer) == (["earn"], 100)
