"""/campaigns, and campaigns at /earn, /refund and /void: what people see, what the ledger holds.

The shop is in Europe/London; the bot's clock is set to a Tuesday in January (GMT) unless a
test moves it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from core.types import BillLevel, Campaign, Customer
from tests.support.harness import ADMIN, CASHIER, CUSTOMER, STRANGER, BotHarness, make_config

pytestmark = pytest.mark.asyncio

PHONE = "+447400123456"
TUESDAY_NOON = dt.datetime(2026, 1, 6, 12, 0, tzinfo=dt.UTC)

DOUBLE_TUESDAY = Campaign(
    name="Double Tuesday",
    start=dt.date(2026, 1, 1),
    weekdays=frozenset({1}),
    hours=(dt.time(10), dt.time(14)),
    multiplier=Decimal(2),
)
BIG_BASKET = Campaign(
    name="Big basket",
    start=dt.date(2026, 1, 1),
    bill_bonus=(BillLevel(Decimal(250), 25), BillLevel(Decimal(500), 60)),
)
WELCOME = Campaign(name="Welcome", start=dt.date(2026, 1, 1), first_purchase_bonus=50)
STAFF_TEST = Campaign(
    name="Till test <b>", start=dt.date(2026, 1, 1), multiplier=Decimal(3), public=False
)
SUMMER = Campaign(
    name="Summer", start=dt.date(2026, 6, 1), end=dt.date(2026, 8, 31), multiplier=Decimal("1.5")
)


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    config = make_config(
        tmp_path,
        campaigns=(DOUBLE_TUESDAY, BIG_BASKET, WELCOME, SUMMER),
        min_purchase=Decimal("2.00"),
    )
    async with BotHarness(config) as harness:
        harness.services.clock = lambda: TUESDAY_NOON
        yield harness


async def customer(bot: BotHarness) -> Customer:
    registered = await bot.store.register(
        {"name": "Ann Lee", "phone": PHONE, "email": None}, actor_id=CASHIER, now=TUESDAY_NOON
    )
    await bot.share_contact(CUSTOMER, PHONE)
    return registered["customer"]


# --- /campaigns ------------------------------------------------------------------------------


async def test_campaigns_lists_what_runs_now_and_what_is_next(bot: BotHarness) -> None:
    await bot.send(STRANGER, "/campaigns")
    text = bot.last_text(STRANGER)
    running, coming = text.split("Coming up")
    assert "Running now" in running
    assert "• Double Tuesday: ×2 points · Tue · 10:00–14:00" in running
    assert "• Big basket: bonus points on a bigger bill (+25 from 250.00 GBP" in running
    assert "+50 points on your first purchase" in running
    assert "• Summer: ×1.5 points · until 31 Aug 2026 · next from Mon 01 Jun 00:00" in coming


async def test_admins_see_the_campaigns_customers_do_not(tmp_path: Path) -> None:
    config = make_config(tmp_path, campaigns=(STAFF_TEST,))
    async with BotHarness(config) as bot:
        bot.services.clock = lambda: TUESDAY_NOON
        await bot.send(CUSTOMER, "/campaigns")
        assert bot.last_text(CUSTOMER) == (
            "No offers are running or planned just now. Check again soon!"
        )
        await bot.send(ADMIN, "/campaigns")
        assert (
            "• Till test <b> (staff only): ×3 points"
        )  # escaped: shown as typed in bot.last_text(ADMIN)
        assert not bot.bad_requests()


async def test_a_campaign_outside_its_hours_is_listed_as_coming_up(bot: BotHarness) -> None:
    bot.services.clock = lambda: TUESDAY_NOON + dt.timedelta(hours=3)  # 15:00, after hours
    await bot.send(CUSTOMER, "/campaigns")
    coming = bot.last_text(CUSTOMER).split("Coming up")[1]
    assert "Double Tuesday" in coming and "next from Tue 13 Jan 10:00" in coming


# --- /earn with campaigns --------------------------------------------------------------------


async def test_the_preview_names_each_campaign_and_the_entry_keeps_them(bot: BotHarness) -> None:
    ann = await customer(bot)
    await bot.send(CASHIER, "/earn 07400123456 250.00")
    preview = bot.last_text(CASHIER)
    # floor(250 x 1 x 2) = 500, +25 for a 250.00 bill, +50 for the first purchase
    assert (
        "250.00 GBP → 575 points, Bronze ×1.0, Double Tuesday ×2, Big basket +25, "
        "Welcome +50" in preview
    )
    await bot.press(CASHIER, "Confirm")

    assert "+575 points for 250.00 GBP (Double Tuesday ×2, Big basket +25, Welcome +50)" in (
        bot.last_text(CASHIER)
    )
    assert "You earned 575 points" in bot.last_text(CUSTOMER)
    (entry,) = [e for e in await bot.store.recent_entries(ann["id"]) if e["kind"] == "earn"]
    assert entry["points"] == 575
    assert entry["details"]["campaign_multiplier"] == "2"
    assert [c["name"] for c in entry["details"]["campaigns"]] == [  # type: ignore[attr-defined]
        "Double Tuesday",
        "Big basket",
        "Welcome",
    ]


async def test_the_first_purchase_bonus_is_given_once(bot: BotHarness) -> None:
    ann = await customer(bot)
    for _ in range(2):
        await bot.send(CASHIER, "/earn 07400123456 10")
        await bot.press(CASHIER, "Confirm")
    assert (await bot.store.get_customer(ann["id"]))["balance"] == (20 + 50) + 20


async def test_a_purchase_below_the_minimum_is_refused_before_confirm(bot: BotHarness) -> None:
    ann = await customer(bot)
    await bot.send(CASHIER, "/earn 07400123456 1.99")
    assert bot.last_text(CASHIER) == (
        "1.99 GBP earns no points: purchases from 2.00 GBP earn points. Nothing was recorded."
    )
    assert await bot.store.recent_entries(ann["id"]) == []
    await bot.send(CASHIER, "hello")  # the flow is over: free text gets the usual hint
    assert "Send /earn" in bot.last_text(CASHIER)


async def test_refunds_and_a_void_reverse_exactly_what_the_campaigns_gave(
    bot: BotHarness,
) -> None:
    ann = await customer(bot)
    await bot.send(CASHIER, "/earn 07400123456 600")  # 1200 + 60 + 50 = 1310
    await bot.press(CASHIER, "Confirm")
    (earn,) = await bot.store.recent_entries(ann["id"], 1)
    assert earn["points"] == 1310

    # 200.00 back: 400.00 stands, down to the 250 step: 400 points and 60 - 25 of the bonus
    await bot.send(CASHIER, f"/refund #{earn['id']}")
    await bot.send(CASHIER, "200")
    assert "Takes back 435 points" in bot.last_text(CASHIER)
    await bot.press(CASHIER, "Confirm")
    assert (await bot.store.get_customer(ann["id"]))["balance"] == 1310 - 435

    # A later day, no campaign running: the void still takes exactly what is left
    bot.services.clock = lambda: TUESDAY_NOON + dt.timedelta(days=1)
    await bot.store.void(earn["id"], actor_id=ADMIN, now=bot.services.clock(), key="v1")
    after = await bot.store.get_customer(ann["id"])
    assert (after["balance"], after["lifetime_earned"]) == (0, 0)
    assert await bot.store.ledger_sum(ann["id"]) == 0


async def test_replaying_a_confirm_does_not_earn_the_campaigns_twice(bot: BotHarness) -> None:
    ann = await customer(bot)
    await bot.send(CASHIER, "/earn 07400123456 300")
    await bot.press(CASHIER, "Confirm")
    await bot.press(CASHIER, "Confirm")
    fresh = await bot.store.get_customer(ann["id"])
    assert fresh["balance"] == 600 + 25 + 50
