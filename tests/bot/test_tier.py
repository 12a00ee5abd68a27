"""The tier policy through the real Application: /tier pins, /status progress, the daily job.

The job is run by calling it (`job.run(app)`), as the JobQueue would at its time.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot import tiers_job
from core.types import TierPolicy
from tests.support.harness import ADMIN, CASHIER, CUSTOMER, BotHarness, make_config

pytestmark = pytest.mark.asyncio

PHONE = "+447400123456"
NOW = dt.datetime(2026, 3, 14, 10, 0, tzinfo=dt.UTC)


class Clock:
    """The bot's clock, moved by the test."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


async def customer(bot: BotHarness, spent: str | None = None) -> dict[str, Any]:
    now = bot.services.clock()
    result = await bot.store.register(
        {"name": "Ann Lee", "phone": PHONE, "email": None}, actor_id=CASHIER, now=now
    )
    if spent is not None:
        await bot.store.earn(result["customer"]["id"], Decimal(spent), actor_id=CASHIER, now=now)
    await bot.store.link_telegram(PHONE, CUSTOMER)
    return dict(result["customer"])


async def test_an_admin_pins_a_tier_with_a_typo_and_a_reason(bot: BotHarness) -> None:
    ann = await customer(bot, "100")
    await bot.send(ADMIN, "/tier 07400 123456 gld founding member")

    reply = bot.last_text(ADMIN)
    assert "Ann Lee" in reply and "is now Gold, pinned (was Bronze)" in reply
    stored = await bot.store.get_customer(ann["id"])
    assert (stored["tier"], stored.get("pinned_tier")) == ("Gold", "Gold")
    [record] = await bot.store.audit_log(customer_id=ann["id"], limit=1)
    assert record["action"] == "tier_pin"
    assert record["details"]["reason"] == "founding member"

    await bot.send(CUSTOMER, "/status")
    assert "Balance: 100 points · Gold (set by the shop)" in bot.last_text(CUSTOMER)
    assert "founding member" not in bot.last_text(CUSTOMER)  # the reason is for staff
    await bot.send(ADMIN, f"/status {ann['card_number']}")
    assert "📌 Tier pinned by an admin: founding member" in bot.last_text(ADMIN)

    # The next purchase earns at Gold's ×1.5.
    await bot.send(CASHIER, "/earn 07400123456 10")
    assert "10.00 GBP → 15 points, Gold ×1.5" in bot.last_text(CASHIER)


async def test_auto_unpins_and_the_policy_decides_again(bot: BotHarness) -> None:
    ann = await customer(bot, "600")
    await bot.send(ADMIN, "/tier 07400123456 Bronze penalty for abuse")
    assert (await bot.store.get_customer(ann["id"]))["tier"] == "Bronze"

    await bot.send(ADMIN, "/tier 07400123456 auto reviewed")
    assert "follows the tier policy again: Silver (was Bronze, pinned)" in bot.last_text(ADMIN)
    stored = await bot.store.get_customer(ann["id"])
    assert (stored["tier"], stored.get("pinned_tier")) == ("Silver", None)
    await bot.send(ADMIN, "/tier 07400123456 auto again")
    assert "isn't pinned" in bot.last_text(ADMIN)


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("/tier", "Tiers: Bronze, Silver, Gold."),
        ("/tier 07400123456", "Tiers: Bronze, Silver, Gold."),
        ("/tier 07400123456 Platinum vip", "“Platinum” is not a tier here"),
        ("/tier 07400123456 Gold", "Say why, after the tier"),
        ("/tier 07400 999999 Gold vip", "07400 999999"),
    ],
)
async def test_each_mistake_gets_one_line_and_changes_nothing(
    bot: BotHarness, line: str, says: str
) -> None:
    ann = await customer(bot)
    await bot.send(ADMIN, line)
    assert says in bot.last_text(ADMIN)
    assert (await bot.store.get_customer(ann["id"]))["tier"] == "Bronze"
    assert not [
        r for r in await bot.store.audit_log(customer_id=ann["id"]) if "tier" in r["action"]
    ]


async def test_a_cashier_cannot_pin(bot: BotHarness) -> None:
    ann = await customer(bot)
    await bot.send(CASHIER, "/tier 07400123456 Gold friend")
    assert "Gold" not in bot.last_text(CASHIER)
    assert (await bot.store.get_customer(ann["id"]))["tier"] == "Bronze"


async def test_in_reset_mode_progress_counts_points_earned_not_the_balance(tmp_path: Path) -> None:
    async with BotHarness(make_config(tmp_path, reset_after_redemption=True)) as bot:
        await customer(bot, "200")
        await bot.send(CASHIER, "/redeem 07400123456 coffee")
        await bot.press(CASHIER, "Confirm")
        await bot.send(CUSTOMER, "/status")
        card = bot.last_text(CUSTOMER)
        assert "Balance: 0 points · Bronze" in card
        assert "200 points earned in all · 300 more to Silver" in card


async def calendar_bot(tmp_path: Path) -> BotHarness:
    policy = TierPolicy(basis="calendar_year", timezone="Europe/London")
    return BotHarness(make_config(tmp_path, tier_policy=policy))


async def test_calendar_year_card_says_how_long_a_tier_lasts_and_what_keeps_it(
    tmp_path: Path,
) -> None:
    async with await calendar_bot(tmp_path) as bot:
        clock = Clock(dt.datetime(2026, 12, 31, 23, 59, 59, tzinfo=dt.UTC))  # the last second
        bot.services.clock = clock
        await customer(bot, "600")
        await bot.send(CUSTOMER, "/status")
        card = bot.last_text(CUSTOMER)
        assert "Balance: 600 points · Silver" in card
        assert "600 points earned this year · 1,400 more this year to Gold" in card
        assert "(Silver until 31 Dec 2027)" in card

        clock.now = dt.datetime(2027, 1, 1, 0, 0, 1, tzinfo=dt.UTC)  # a new year
        await bot.send(CUSTOMER, "/status")
        card = bot.last_text(CUSTOMER)
        assert "Balance: 600 points · Silver" in card
        assert "0 points earned this year · 500 more this year to keep Silver" in card
        assert "(Silver until 31 Dec 2027)" in card


async def test_the_daily_job_drops_a_tier_whose_year_is_over(tmp_path: Path) -> None:
    async with await calendar_bot(tmp_path) as bot:
        clock = Clock(dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC))
        bot.services.clock = clock
        ann = await customer(bot, "600")
        assert bot.app.job_queue is not None
        jobs = bot.app.job_queue.get_jobs_by_name(tiers_job.JOB_NAME)
        daily = [j for j in jobs if j.next_t is not None and j.next_t.tzinfo is not None]
        assert daily, "the job is scheduled"

        clock.now = dt.datetime(2028, 1, 1, 0, 5, tzinfo=dt.UTC)
        await daily[-1].run(bot.app)
        await daily[-1].run(bot.app)  # a restart the same day changes nothing more
        stored = await bot.store.get_customer(ann["id"])
        assert stored["tier"] == "Bronze"
        drops = [
            r
            for r in await bot.store.audit_log(customer_id=ann["id"])
            if r["action"] == "tier_drop"
        ]
        assert len(drops) == 1
        await bot.send(CUSTOMER, "/status")
        assert "0 points earned this year · 500 more this year to Silver" in bot.last_text(CUSTOMER)


async def test_a_calendar_year_earn_previews_the_points_the_store_records(tmp_path: Path) -> None:
    async with await calendar_bot(tmp_path) as bot:
        bot.services.clock = Clock(dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.UTC))
        ann = await customer(bot, "450")  # 450 points this year
        await bot.send(CASHIER, "/earn 07400123456 100")
        preview = bot.last_text(CASHIER)
        assert "100.00 GBP → 100 points, Bronze ×1" in preview
        assert "🎉 This takes them to Silver!" in preview
        await bot.press(CASHIER, "Confirm")
        assert (await bot.store.get_customer(ann["id"]))["tier"] == "Silver"
        await bot.send(CUSTOMER, "/status")
        card = bot.last_text(CUSTOMER)
        assert "550 points earned this year · 1,450 more this year to Gold" in card
        assert "(Silver until 31 Dec 2028)" in card
