"""/adjust through the real Application: what the admin and the customer see, and what the
ledger and the audit trail hold."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from core.cards import format_card
from core.types import Customer
from tests.support.harness import ADMIN, CASHIER, CUSTOMER, BotHarness, make_config

pytestmark = pytest.mark.asyncio

PHONE = "+447400123456"
ADDED_ADMIN = 5005  # an admin added from Telegram, so removable (config admins are not)


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with BotHarness(make_config(tmp_path)) as harness:
        yield harness


async def ann(bot: BotHarness, points: int = 0, *, linked: bool = False) -> Customer:
    """Ann Lee with `points` from one purchase (Bronze: 1 point per GBP)."""
    now = bot.services.clock()
    result = await bot.store.register(
        {"name": "Ann Lee", "phone": PHONE, "email": None}, actor_id=CASHIER, now=now
    )
    customer = result["customer"]
    if points:
        await bot.store.earn(customer["id"], Decimal(points), actor_id=CASHIER, now=now)
    if linked:
        await bot.store.link_telegram(PHONE, CUSTOMER)
    return await bot.store.get_customer(customer["id"])


async def books(bot: BotHarness, customer: Customer) -> tuple[int, int, int]:
    """(balance, ledger sum, points owed): the balance always equals the ledger's sum."""
    stored = await bot.store.get_customer(customer["id"])
    return stored["balance"], await bot.store.ledger_sum(customer["id"]), stored["points_owed"]


async def test_one_line_adjust_previews_then_records_and_tells_admin_and_customer(
    bot: BotHarness,
) -> None:
    customer = await ann(bot, 120, linked=True)
    card = format_card(customer["card_number"])

    await bot.send(ADMIN, "/adjust 07400 123456 +50 goodwill for the late order")

    assert bot.last_text(ADMIN) == (
        f"Ann Lee · card {card} · Adjust +50 points: goodwill for the late order.\n"
        "Balance 120 → 170"
    )
    assert await books(bot, customer) == (120, 120, 0)  # nothing before Confirm

    await bot.press(ADMIN, "Confirm")

    entry = (await bot.store.recent_entries(customer["id"], 1))[0]
    assert bot.last_text(ADMIN) == (
        f"✅ Adjusted card {card} by +50 points: goodwill for the late order.\n"
        f"New balance: 170 points · Bronze · entry #{entry['id']}"
    )
    assert bot.last_text(CUSTOMER) == (
        "🛠 Your card was adjusted by +50 points: goodwill for the late order. Balance: 170 points."
    )
    assert "Adjusted ✔" in bot.alerts()
    assert (entry["kind"], entry["points"], entry["note"], entry["actor_id"]) == (
        "adjust",
        50,
        "goodwill for the late order",
        ADMIN,
    )
    assert await books(bot, customer) == (170, 170, 0)
    record = (await bot.store.audit_log(customer_id=customer["id"]))[0]
    assert (record["action"], record["actor_id"], record["entry_id"]) == (
        "adjust",
        ADMIN,
        entry["id"],
    )
    assert record["details"]["reason"] == "goodwill for the late order"
    assert record["details"]["gross"] == 50
    assert not bot.bad_requests()


async def test_adjust_step_by_step_asks_customer_points_and_reason(bot: BotHarness) -> None:
    customer = await ann(bot, 120)
    card = format_card(customer["card_number"])

    await bot.send(ADMIN, "/adjust")
    assert "Whose card?" in bot.last_text(ADMIN)
    await bot.send(ADMIN, card)
    assert bot.last_text(ADMIN) == (
        f"Ann Lee · card {card} · Bronze · 120 points\n"
        "How many points? Send +50 to add or -20 to take away (/cancel to stop)."
    )
    await bot.send(ADMIN, "-20")
    assert bot.last_text(ADMIN).startswith("Why? Send the reason in a few words")
    await bot.send(ADMIN, "double scan")
    assert bot.last_text(ADMIN) == (
        f"Ann Lee · card {card} · Adjust -20 points: double scan.\nBalance 120 → 100"
    )
    assert await books(bot, customer) == (120, 120, 0)

    await bot.press(ADMIN, "Confirm")

    assert bot.last_text(ADMIN).startswith(f"✅ Adjusted card {card} by -20 points: double scan.")
    assert await books(bot, customer) == (100, 100, 0)
    entry = (await bot.store.recent_entries(customer["id"], 1))[0]
    assert (entry["kind"], entry["points"], entry["note"]) == ("adjust", -20, "double scan")
    actions = [r["action"] for r in await bot.store.audit_log(actor_id=ADMIN)]
    assert actions == ["adjust"]
    assert not bot.bad_requests()


async def test_a_missing_reason_is_asked_for_and_the_preview_follows(bot: BotHarness) -> None:
    customer = await ann(bot, 10)

    await bot.send(ADMIN, "/adjust 07400123456 +5")

    assert bot.last_text(ADMIN).startswith("Why? Send the reason in a few words")
    assert "Confirm" not in str(bot.said_to(ADMIN)[-1].params)
    await bot.send(ADMIN, "birthday")
    assert "Adjust +5 points: birthday." in bot.last_text(ADMIN)
    await bot.press(ADMIN, "Confirm")
    assert await books(bot, customer) == (15, 15, 0)


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("50", "“50” has no sign: send +50 to add points or -50 to take them away."),
        ("lots", "“lots” is not a number of points: send +50 to add or -20 to take away."),
        ("+0", "an adjustment must add or take away at least one point."),
        ("+1,000,001", "1,000,001 points is beyond the 1,000,000 limit (probably a typo)."),
        ("+99999999999999999999", "that is beyond the 1,000,000 limit (probably a typo)."),
    ],
)
async def test_points_without_a_sign_or_out_of_range_are_asked_again(
    bot: BotHarness, typed: str, why: str
) -> None:
    customer = await ann(bot, 10)
    await bot.send(ADMIN, "/adjust 07400123456")

    await bot.send(ADMIN, typed)
    if bot.last_text(ADMIN).startswith("Why?"):  # zero and the limit are core's: at the preview
        await bot.send(ADMIN, "a reason")

    assert why in bot.last_text(ADMIN)
    assert bot.last_text(ADMIN).endswith(
        "Send the points again, like +50 or -20 (/cancel to stop)."
    )
    await bot.send(ADMIN, "+5")  # still asking for the points
    assert bot.last_text(ADMIN).startswith("Why?")
    assert await books(bot, customer) == (10, 10, 0)


async def test_taking_away_more_than_the_card_holds_owes_the_rest_and_says_so(
    bot: BotHarness,
) -> None:
    customer = await ann(bot, 35, linked=True)

    await bot.send(ADMIN, "/adjust 07400123456 -50 double scan")
    assert "Balance 35 → 0" in bot.last_text(ADMIN)
    assert (
        "⚠️ The card holds 35 points, so only 35 points can come off now: 15 points will be "
        "owed, taken from the next points they get."
    ) in bot.last_text(ADMIN)
    await bot.press(ADMIN, "Confirm")

    assert (
        "⚠️ 15 points could not come off (the card held only 35 points): it owes 15 points, "
        "taken from the next points they get."
    ) in bot.last_text(ADMIN)
    assert bot.last_text(CUSTOMER) == (
        "🛠 Your card was adjusted by -50 points: double scan. Balance: 0 points. "
        "You owe 15 points, taken from the next points you get."
    )
    assert await books(bot, customer) == (0, 0, 15)

    # Points added later pay what is owed first.
    await bot.send(ADMIN, "/adjust 07400123456 +50 goodwill")
    assert "Ann Lee" in bot.last_text(ADMIN) and "Balance 0 → 35" in bot.last_text(ADMIN)
    assert "They owe 15 points: 15 of these pay that, and 35 reach the card." in (
        bot.last_text(ADMIN)
    )
    await bot.press(ADMIN, "Confirm")

    assert "15 points paid what the card owed. Nothing is owed now." in bot.last_text(ADMIN)
    assert bot.last_text(CUSTOMER) == (
        "🛠 Your card was adjusted by +50 points: goodwill. Balance: 35 points. "
        "15 of them paid points you owed. Nothing is owed now."
    )
    assert await books(bot, customer) == (35, 35, 0)
    assert not bot.bad_requests()


async def test_the_step_shows_what_a_card_owes(bot: BotHarness) -> None:
    customer = await ann(bot, 10)
    await bot.store.adjust(
        customer["id"], -30, "double scan", actor_id=ADMIN, now=bot.services.clock(), key=None
    )

    await bot.send(ADMIN, "/adjust 07400123456")

    assert "Bronze · 0 points · owes 20 points" in bot.last_text(ADMIN)


async def test_an_adjustment_past_a_threshold_promotes_and_says_so(bot: BotHarness) -> None:
    customer = await ann(bot, 480, linked=True)

    await bot.send(ADMIN, "/adjust 07400123456 +30 birthday")
    assert "🎉 This takes them to Silver!" in bot.last_text(ADMIN)
    await bot.press(ADMIN, "Confirm")

    assert bot.last_text(ADMIN).endswith("🎉 Tier up: now Silver!")
    assert bot.last_text(CUSTOMER).endswith("🎉 Tier up: now Silver!")
    assert (await bot.store.get_customer(customer["id"]))["tier"] == "Silver"


async def test_phone_numbers_and_emails_are_left_out_of_the_reason(bot: BotHarness) -> None:
    customer = await ann(bot, 10)

    await bot.send(ADMIN, "/adjust 07400123456 +5 called her on 07400 999999 and ann@example.com")

    assert "Adjust +5 points: called her on <phone> and <email>." in bot.last_text(ADMIN)
    assert "Phone numbers and e-mails are left out of a reason" in bot.last_text(ADMIN)
    await bot.press(ADMIN, "Confirm")
    entry = (await bot.store.recent_entries(customer["id"], 1))[0]
    assert entry["note"] == "called her on <phone> and <email>"
    record = (await bot.store.audit_log(customer_id=customer["id"]))[0]
    assert "999999" not in str(record["details"]) and "@" not in str(record["details"])
    assert not bot.bad_requests()


async def test_a_cashier_is_refused_and_nothing_changes(bot: BotHarness) -> None:
    customer = await ann(bot, 10)

    await bot.send(CASHIER, "/adjust 07400123456 +50 goodwill")

    assert bot.last_text(CASHIER) == "Only an admin (owner or manager) can do that."
    await bot.send(CASHIER, "+50")  # no flow was opened: this is free text
    assert "Adjust" not in bot.last_text(CASHIER)
    assert await books(bot, customer) == (10, 10, 0)


async def test_a_forged_confirm_from_a_customer_changes_nothing(bot: BotHarness) -> None:
    customer = await ann(bot, 10, linked=True)
    await bot.send(ADMIN, "/adjust 07400123456 +500 goodwill")

    await bot.press(CUSTOMER, "Confirm", on_behalf_of=ADMIN)

    assert any("Only shop staff" in alert for alert in bot.alerts())
    assert await books(bot, customer) == (10, 10, 0)
    assert [r["action"] for r in await bot.store.audit_log(customer_id=customer["id"])] == [
        "earn",
        "register",
    ]
    await bot.press(ADMIN, "Confirm")  # the admin's own preview is still open
    assert await books(bot, customer) == (510, 510, 0)


async def test_an_admin_demoted_after_the_preview_cannot_confirm_it(bot: BotHarness) -> None:
    customer = await ann(bot, 10)
    await bot.staff.add(ADDED_ADMIN, "admin", by=ADMIN, now=bot.services.clock())
    await bot.send(ADDED_ADMIN, "/adjust 07400123456 +50 goodwill")
    assert "Adjust +50 points" in bot.last_text(ADDED_ADMIN)
    await bot.staff.add(ADDED_ADMIN, "cashier", by=ADMIN, now=bot.services.clock())

    await bot.press(ADDED_ADMIN, "Confirm")

    assert "Only an admin (owner or manager) can do that." in bot.alerts()
    assert await books(bot, customer) == (10, 10, 0)


async def test_a_double_tap_on_confirm_adjusts_once(bot: BotHarness) -> None:
    customer = await ann(bot, 10)
    await bot.send(ADMIN, "/adjust 07400123456 +5 goodwill")

    await bot.press(ADMIN, "Confirm")
    await bot.press(ADMIN, "Confirm")

    assert await books(bot, customer) == (15, 15, 0)
    assert any("Already done" in alert for alert in bot.alerts())


async def test_an_unknown_customer_is_named_and_asked_again(bot: BotHarness) -> None:
    await ann(bot)

    await bot.send(ADMIN, "/adjust 07400 999999 +50 goodwill")

    assert bot.last_text(ADMIN).startswith("I can't find a customer with “07400 999999”.")
    await bot.send(ADMIN, "07400 123456")
    assert "How many points?" in bot.last_text(ADMIN)


async def test_cancel_at_the_preview_records_nothing(bot: BotHarness) -> None:
    customer = await ann(bot, 10)
    await bot.send(ADMIN, "/adjust 07400123456 +5 goodwill")

    await bot.press(ADMIN, "Cancel")

    assert bot.last_text(ADMIN) == "Cancelled. Nothing was recorded."
    await bot.press(ADMIN, "Confirm")
    assert any("Start again with /adjust" in alert for alert in bot.alerts())
    assert await books(bot, customer) == (10, 10, 0)


async def test_the_card_shows_the_adjustment_with_its_reason(bot: BotHarness) -> None:
    await ann(bot, 10, linked=True)
    await bot.send(ADMIN, "/adjust 07400123456 +5 goodwill for the late order")
    await bot.press(ADMIN, "Confirm")

    await bot.send(CUSTOMER, "/status")

    assert "Adjustment: goodwill for the late order · +5" in bot.last_text(CUSTOMER)
