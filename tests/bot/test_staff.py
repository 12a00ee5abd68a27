"""/staff, invite links and /claim through the real Application: what people see, what the
staff table holds, and the command menus Telegram was given."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core.config import StaffConfig
from tests.support.harness import ADMIN, CASHIER, CUSTOMER, STRANGER, BotHarness, make_config

pytestmark = pytest.mark.asyncio

NEWCOMER = 5005


@pytest.fixture
async def unclaimed(tmp_path: Path) -> AsyncIterator[BotHarness]:
    """A bot whose config names no staff at all: it announces a /claim code at start-up."""
    config = dataclasses.replace(make_config(tmp_path), staff=StaffConfig())
    async with BotHarness(config) as harness:
        yield harness


def announced_code(bot: BotHarness) -> str:
    (notice,) = bot.announcements
    match = re.search(r"/claim (\S+)", notice)
    assert match is not None, notice
    return match.group(1)


def menu_commands(bot: BotHarness, user_id: int) -> list[str] | None:
    """The commands last set for `user_id`'s chat scope; None if the last call deleted them."""
    latest: list[str] | None = None
    for call in bot.emulator.calls:
        scope: Any = call.params.get("scope")
        if not call.ok or not isinstance(scope, dict) or scope.get("chat_id") != user_id:
            continue
        if call.method == "setMyCommands":
            latest = [c["command"] for c in call.params["commands"]]
        elif call.method == "deleteMyCommands":
            latest = None
    return latest


async def invite_link(bot: BotHarness, role: str = "") -> str:
    await bot.send(ADMIN, f"/staff invite {role}".strip())
    match = re.search(r"https://t\.me/loyalty_test_bot\?start=(\S+)", bot.last_text(ADMIN))
    assert match is not None, bot.last_text(ADMIN)
    return match.group(1)


# --- the first admin ------------------------------------------------------------------------


async def test_claim_with_the_announced_code_makes_the_sender_admin(
    unclaimed: BotHarness,
) -> None:
    code = announced_code(unclaimed)

    await unclaimed.send(STRANGER, f"/claim {code}")

    assert "You're the admin now" in unclaimed.last_text(STRANGER)
    assert "/staff" in unclaimed.last_text(STRANGER)  # the admin help follows
    assert await unclaimed.staff.role_of(STRANGER) == "admin"
    assert "staff" in (menu_commands(unclaimed, STRANGER) or [])
    await unclaimed.send(STRANGER, "/staff")
    assert "Admins" in unclaimed.last_text(STRANGER)
    assert not unclaimed.bad_requests()


async def test_the_claim_code_works_only_once(unclaimed: BotHarness) -> None:
    code = announced_code(unclaimed)
    await unclaimed.send(STRANGER, f"/claim {code}")

    await unclaimed.send(CUSTOMER, f"/claim {code}")

    assert unclaimed.last_text(CUSTOMER) == "This bot already has an admin."
    assert await unclaimed.staff.role_of(CUSTOMER) is None


@pytest.mark.parametrize("sent", ["/claim deadbeef", "/claim", "/claim Ünïcode", "/claim a b"])
async def test_a_wrong_claim_code_is_refused(unclaimed: BotHarness, sent: str) -> None:
    await unclaimed.send(STRANGER, sent)

    assert unclaimed.last_text(STRANGER) == "That code isn't valid."
    assert await unclaimed.staff.admin_count() == 0


async def test_claim_guessing_stops_after_five_wrong_codes(unclaimed: BotHarness) -> None:
    code = announced_code(unclaimed)
    for guess in range(5):
        await unclaimed.send(STRANGER, f"/claim {guess:08x}")

    await unclaimed.send(STRANGER, f"/claim {code}")  # even the right code, now

    assert "Too many wrong codes" in unclaimed.last_text(STRANGER)
    assert await unclaimed.staff.admin_count() == 0
    await unclaimed.send(CUSTOMER, f"/claim {code}")  # someone else is not locked out
    assert await unclaimed.staff.role_of(CUSTOMER) == "admin"


async def test_a_configured_bot_announces_no_claim_and_refuses_one(bot: BotHarness) -> None:
    assert bot.announcements == []

    await bot.send(STRANGER, "/claim 12345678")

    assert bot.last_text(STRANGER) == "This bot already has an admin."


# --- /staff: list, add, remove --------------------------------------------------------------


async def test_staff_lists_config_and_database_staff(bot: BotHarness) -> None:
    await bot.staff.add(NEWCOMER, "cashier", by=ADMIN, now=bot.services.clock(), name="Zoë <O>")

    await bot.send(ADMIN, "/staff")

    text = bot.last_text(ADMIN)
    admins, cashiers = text.split("Cashiers")
    assert f"{ADMIN} · from config file" in admins
    assert f"{CASHIER} · from config file" in cashiers
    assert f"{NEWCOMER} Zoë <O>" in cashiers
    assert f"<code>{NEWCOMER}</code>" in (bot.said_to(ADMIN)[-1].text or "")
    assert not bot.bad_requests()


@pytest.mark.parametrize("user_id", [CASHIER, CUSTOMER, STRANGER])
async def test_only_admins_can_use_staff(bot: BotHarness, user_id: int) -> None:
    await bot.send(user_id, f"/staff add {NEWCOMER}")

    assert "Only an admin" in bot.last_text(user_id)
    assert await bot.staff.role_of(NEWCOMER) is None


async def test_an_added_cashier_can_earn_and_gets_the_staff_menu(bot: BotHarness) -> None:
    await bot.send(STRANGER, "/earn")
    assert "Only shop staff" in bot.last_text(STRANGER)

    await bot.send(ADMIN, f"/staff add {STRANGER}")

    assert f"{STRANGER} is now cashier" in bot.last_text(ADMIN)
    assert await bot.staff.role_of(STRANGER) == "cashier"
    assert "earn" in (menu_commands(bot, STRANGER) or [])
    assert "staff" not in (menu_commands(bot, STRANGER) or [])
    assert "You're now cashier here" in bot.last_text(STRANGER)
    await bot.send(STRANGER, "/earn")
    assert "card number" in bot.last_text(STRANGER)
    await bot.send(STRANGER, "/cancel")
    await bot.send(STRANGER, "/staff")
    assert "Only an admin" in bot.last_text(STRANGER)


async def test_an_added_admin_can_manage_staff(bot: BotHarness) -> None:
    await bot.send(ADMIN, f"/staff add {STRANGER} admin")

    assert await bot.staff.role_of(STRANGER) == "admin"
    assert "staff" in (menu_commands(bot, STRANGER) or [])
    await bot.send(STRANGER, f"/staff add {NEWCOMER}")
    assert await bot.staff.role_of(NEWCOMER) == "cashier"


async def test_a_removed_cashier_can_no_longer_earn(bot: BotHarness) -> None:
    await bot.send(ADMIN, f"/staff add {STRANGER}")

    await bot.send(ADMIN, f"/staff remove {STRANGER}")

    assert f"Removed {STRANGER}" in bot.last_text(ADMIN)
    assert await bot.staff.role_of(STRANGER) is None
    assert menu_commands(bot, STRANGER) is None
    await bot.send(STRANGER, "/earn")
    assert "Only shop staff" in bot.last_text(STRANGER)


async def test_removing_a_config_listed_cashier_points_at_the_config_file(bot: BotHarness) -> None:
    await bot.send(ADMIN, f"/staff remove {CASHIER}")

    assert "config file" in bot.last_text(ADMIN)
    await bot.send(CASHIER, "/earn")
    assert "card number" in bot.last_text(CASHIER)


async def test_removing_someone_who_is_not_staff_says_so(bot: BotHarness) -> None:
    await bot.send(ADMIN, f"/staff remove {STRANGER}")

    assert bot.last_text(ADMIN) == f"{STRANGER} isn't staff."


async def test_the_last_admin_cannot_remove_or_demote_themselves(unclaimed: BotHarness) -> None:
    await unclaimed.send(STRANGER, f"/claim {announced_code(unclaimed)}")

    await unclaimed.send(STRANGER, f"/staff remove {STRANGER}")
    assert "only admin" in unclaimed.last_text(STRANGER)
    await unclaimed.send(STRANGER, f"/staff add {STRANGER}")
    assert "only admin" in unclaimed.last_text(STRANGER)

    assert await unclaimed.staff.role_of(STRANGER) == "admin"


async def test_an_admin_with_a_second_admin_may_step_down(unclaimed: BotHarness) -> None:
    await unclaimed.send(STRANGER, f"/claim {announced_code(unclaimed)}")
    await unclaimed.send(STRANGER, f"/staff add {NEWCOMER} admin")

    await unclaimed.send(STRANGER, f"/staff remove {STRANGER}")

    assert await unclaimed.staff.role_of(STRANGER) is None
    assert await unclaimed.staff.role_of(NEWCOMER) == "admin"


@pytest.mark.parametrize(
    "sent",
    [
        "/staff add",
        "/staff add bob",
        "/staff add -5",
        "/staff add 0",
        "/staff add 123 boss",
        "/staff remove",
        "/staff remove 12x",
        "/staff invite owner",
        "/staff fire 123",
    ],
)
async def test_bad_staff_input_gets_a_one_line_usage_hint(bot: BotHarness, sent: str) -> None:
    await bot.send(ADMIN, sent)

    assert bot.last_text(ADMIN).startswith("Usage: /staff")
    assert "\n" not in bot.last_text(ADMIN)
    assert [m["telegram_user_id"] for m in await bot.staff.members()] == []
    assert not bot.bad_requests()


# --- invite links ---------------------------------------------------------------------------


async def test_an_invite_link_makes_a_stranger_cashier_once(bot: BotHarness) -> None:
    code = await invite_link(bot)

    await bot.send(STRANGER, f"/start {code}", first_name="Sam")

    assert "Welcome to the team, Sam! You're now cashier" in bot.last_text(STRANGER)
    assert await bot.staff.role_of(STRANGER) == "cashier"
    (member,) = await bot.staff.members()
    assert member["name"] == "Sam"
    assert "earn" in (menu_commands(bot, STRANGER) or [])

    await bot.send(NEWCOMER, f"/start {code}")

    assert "isn't valid" in bot.last_text(NEWCOMER)
    assert await bot.staff.role_of(NEWCOMER) is None
    assert not bot.bad_requests()


async def test_an_admin_invite_makes_an_admin(bot: BotHarness) -> None:
    code = await invite_link(bot, "admin")
    assert "new admin" in bot.last_text(ADMIN)

    await bot.send(STRANGER, f"/start {code}")

    assert await bot.staff.role_of(STRANGER) == "admin"
    assert "staff" in (menu_commands(bot, STRANGER) or [])


async def test_cashiers_cannot_create_invites(bot: BotHarness) -> None:
    await bot.send(CASHIER, "/staff invite")

    assert "Only an admin" in bot.last_text(CASHIER)
    assert "t.me" not in " ".join(bot.texts_to(CASHIER))


@pytest.mark.parametrize("typo", ["x", "X" * 40, "<b>", "ïnv"])
async def test_forged_or_typoed_invite_codes_are_refused(bot: BotHarness, typo: str) -> None:
    code = await invite_link(bot)

    await bot.send(STRANGER, f"/start inv{typo}")
    await bot.send(STRANGER, f"/start {code[:-1]}")

    assert all("isn't valid" in t for t in bot.texts_to(STRANGER))
    assert len(bot.texts_to(STRANGER)) == 2
    assert await bot.staff.role_of(STRANGER) is None
    await bot.send(NEWCOMER, f"/start {code}")  # the real link still works
    assert await bot.staff.role_of(NEWCOMER) == "cashier"
    assert not bot.bad_requests()


async def test_staff_opening_an_invite_leave_it_unused(bot: BotHarness) -> None:
    code = await invite_link(bot)

    await bot.send(ADMIN, f"/start {code}")

    assert "already admin" in bot.last_text(ADMIN)
    await bot.send(STRANGER, f"/start {code}")
    assert await bot.staff.role_of(STRANGER) == "cashier"


async def test_an_expired_invite_is_refused(bot: BotHarness) -> None:
    code = await invite_link(bot)
    started = bot.services.clock()
    bot.services.clock = lambda: started + dt.timedelta(days=8)

    await bot.send(STRANGER, f"/start {code}")

    assert "isn't valid" in bot.last_text(STRANGER)
    assert await bot.staff.role_of(STRANGER) is None


async def test_removing_a_promoted_config_cashier_leaves_them_cashier(bot: BotHarness) -> None:
    await bot.send(ADMIN, f"/staff add {CASHIER} admin")
    assert "staff" in (menu_commands(bot, CASHIER) or [])

    await bot.send(ADMIN, f"/staff remove {CASHIER}")

    assert "still cashier from the config file" in bot.last_text(ADMIN)
    assert await bot.staff.role_of(CASHIER) is None
    assert "staff" not in (menu_commands(bot, CASHIER) or ["staff"])
