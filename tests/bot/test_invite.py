"""/invite and referral links, through the real Application: who gets what, once.

Ann (CUSTOMER) has a linked card and invites; Bob (STRANGER) opens her link, registers at the
till after that, links his card, and buys.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.types import Customer
from tests.support.harness import CASHIER, CUSTOMER, STRANGER, BotHarness, make_config

pytestmark = pytest.mark.asyncio

ANN, BOB, CAT = "+447400123456", "+447400222333", "+447400444555"
START = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
LINK = re.compile(r"https://t\.me/loyalty_test_bot\?start=(ref_\w+)")


class Clock:
    """The bot's clock, moved on a minute at each reading: every step happens after the last."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(minutes=1)
        return self.now


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    config = make_config(tmp_path, referral_bonus=50, referral_monthly_limit=1)
    async with BotHarness(config) as harness:
        harness.services.clock = Clock()
        yield harness


async def register(bot: BotHarness, phone: str, name: str) -> Customer:
    result = await bot.store.register(
        {"name": name, "phone": phone, "email": None}, actor_id=CASHIER, now=bot.services.clock()
    )
    return result["customer"]


async def ann_invites(bot: BotHarness) -> tuple[Customer, str]:
    ann = await register(bot, ANN, "Ann Lee")
    await bot.share_contact(CUSTOMER, ANN)
    await bot.send(CUSTOMER, "/invite")
    text = bot.last_text(CUSTOMER)
    assert "When they join and make their first purchase, you each get 50 points." in text
    match = LINK.search(text)
    assert match is not None
    return ann, match[1]


async def balance(bot: BotHarness, customer: Customer) -> int:
    fresh = await bot.store.get_customer(customer["id"])
    assert await bot.store.ledger_sum(customer["id"]) == fresh["balance"]
    return fresh["balance"]


async def test_an_invited_friends_first_purchase_gives_both_the_bonus_once(
    bot: BotHarness,
) -> None:
    ann, payload = await ann_invites(bot)
    await bot.send(STRANGER, f"/start {payload}")
    assert "your first purchase then earns you and your friend 50 points each" in (
        bot.last_text(STRANGER)
    )
    bob = await register(bot, BOB, "Bob Ray")
    await bot.share_contact(STRANGER, BOB)

    for _ in range(2):
        await bot.send(CASHIER, "/earn 07400222333 10")
        await bot.press(CASHIER, "Confirm")

    assert await balance(bot, bob) == 10 + 50 + 10
    assert await balance(bot, ann) == 50
    entries = [e for e in await bot.store.recent_entries(ann["id"]) if e["kind"] == "bonus"]
    assert [e["details"]["reason"] for e in entries] == ["referral"]


async def test_the_same_invite_link_a_second_time_is_still_one_referral(bot: BotHarness) -> None:
    ann, payload = await ann_invites(bot)
    await bot.send(STRANGER, f"/start {payload}")
    await bot.send(STRANGER, f"/start {payload}")
    bob = await register(bot, BOB, "Bob Ray")
    await bot.share_contact(STRANGER, BOB)
    await bot.send(CASHIER, "/earn 07400222333 10")
    await bot.press(CASHIER, "Confirm")
    assert (await balance(bot, bob), await balance(bot, ann)) == (60, 50)


async def test_opening_your_own_link_refers_nobody(bot: BotHarness) -> None:
    ann, payload = await ann_invites(bot)
    await bot.send(CUSTOMER, f"/start {payload}")
    assert bot.last_text(CUSTOMER) == "That's your own invite link: send it to a friend instead. 🙂"
    await bot.send(CASHIER, "/earn 07400123456 10")
    await bot.press(CASHIER, "Confirm")
    assert await balance(bot, ann) == 10


async def test_a_card_registered_before_the_click_is_not_a_referral(bot: BotHarness) -> None:
    bob = await register(bot, BOB, "Bob Ray")  # already a customer, not linked yet
    ann, payload = await ann_invites(bot)
    await bot.send(STRANGER, f"/start {payload}")
    await bot.share_contact(STRANGER, BOB)
    await bot.send(CASHIER, "/earn 07400222333 10")
    await bot.press(CASHIER, "Confirm")
    assert (await balance(bot, bob), await balance(bot, ann)) == (10, 0)


async def test_a_linked_customer_opening_a_link_is_told_it_is_for_new_customers(
    bot: BotHarness,
) -> None:
    _, payload = await ann_invites(bot)
    await register(bot, BOB, "Bob Ray")
    await bot.share_contact(STRANGER, BOB)
    await bot.send(STRANGER, f"/start {payload}")
    assert "invites are for new customers" in bot.last_text(STRANGER)


async def test_the_referrer_is_rewarded_up_to_the_monthly_limit(bot: BotHarness) -> None:
    ann, payload = await ann_invites(bot)
    friends = [(STRANGER, BOB, "07400222333"), (STRANGER + 1, CAT, "07400444555")]
    for user_id, phone, typed in friends:
        await bot.send(user_id, f"/start {payload}")
        await register(bot, phone, "Friend")
        await bot.share_contact(user_id, phone)
        await bot.send(CASHIER, f"/earn {typed} 10")
        await bot.press(CASHIER, "Confirm")
    assert await balance(bot, ann) == 50  # [referral] monthly_limit = 1
    cat = await bot.store.find_customer(CAT)
    assert await balance(bot, cat) == 60  # the invited friend still gets theirs


async def test_invite_needs_a_linked_card_and_a_bad_link_is_explained(bot: BotHarness) -> None:
    await bot.send(STRANGER, "/invite")
    assert "isn't linked to a loyalty card yet" in bot.last_text(STRANGER)
    await bot.send(STRANGER, "/start ref_nosuchcode")
    assert bot.last_text(STRANGER) == "That invite link doesn't work (it may have been mistyped)."
    assert not bot.bad_requests()


async def test_invite_is_off_without_a_referral_bonus(tmp_path: Path) -> None:
    async with BotHarness(make_config(tmp_path)) as bot:
        await bot.send(CUSTOMER, "/invite")
        assert bot.last_text(CUSTOMER) == "Invitations aren't running just now."
