"""The command menus set at start-up: each person sees the commands of their role, one menu
Telegram refuses does not leave the other staff without theirs, and a restart with nothing
changed sets none again (Telegram keeps them)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from bot.offline import RequestRefused
from core.config import Config, StaffConfig
from tests.support.harness import ADMIN, BotHarness, make_config

CASHIERS = tuple(range(7_000_001, 7_000_021))  # more staff than the menus set at once
NEVER_OPENED_THE_BOT = CASHIERS[3]
NEWCOMER = 5005


def with_staff(tmp_path: Path, cashiers: tuple[int, ...] = CASHIERS) -> Config:
    """The same database file every time for one tmp_path: a restart of the same bot."""
    config = make_config(tmp_path)
    return dataclasses.replace(config, staff=StaffConfig(admins=(ADMIN,), cashiers=cashiers))


def refusing_menus_for(bot: BotHarness, chat_id: int) -> None:
    """Telegram answers "chat not found" for the chat of someone who never opened the bot."""
    methods = bot.emulator._methods  # the fake's method table: no public hook for this
    set_commands = methods["setMyCommands"]

    def refusing(params: dict[str, Any], files: Any, names: Any) -> Any:
        if params.get("scope", {}).get("chat_id") == chat_id:
            raise RequestRefused("Bad Request: chat not found")
        return set_commands(params, files, names)

    methods["setMyCommands"] = refusing


def menus(bot: BotHarness) -> dict[Any, list[str]]:
    """Chat id (or scope type) -> the commands it was last given at start-up."""
    given: dict[Any, list[str]] = {}
    for call in bot.emulator.calls:
        scope: Any = call.params.get("scope")
        if call.ok and call.method == "setMyCommands" and isinstance(scope, dict):
            given[scope.get("chat_id", scope["type"])] = [
                c["command"] for c in call.params["commands"]
            ]
    return given


async def test_at_start_up_every_staff_member_gets_the_menu_of_their_role(
    tmp_path: Path,
) -> None:
    async with BotHarness(with_staff(tmp_path)) as bot:
        given = menus(bot)

    assert "staff" in given[ADMIN]
    assert all("earn" in given[c] and "staff" not in given[c] for c in CASHIERS)
    assert "earn" not in given["all_private_chats"]


async def test_a_menu_telegram_refuses_leaves_the_other_staff_their_menus(
    tmp_path: Path,
) -> None:
    bot = BotHarness(with_staff(tmp_path))
    refusing_menus_for(bot, NEVER_OPENED_THE_BOT)

    async with bot:
        given = menus(bot)

    assert NEVER_OPENED_THE_BOT not in given
    assert {ADMIN, *CASHIERS} - {NEVER_OPENED_THE_BOT} <= set(given)


async def test_a_restart_with_the_same_staff_sets_no_menus_again(tmp_path: Path) -> None:
    async with BotHarness(with_staff(tmp_path)):
        pass

    async with BotHarness(with_staff(tmp_path)) as restarted:
        assert menus(restarted) == {}


async def test_a_restart_after_the_staff_changed_sets_every_menu_again(tmp_path: Path) -> None:
    async with BotHarness(with_staff(tmp_path)):
        pass

    async with BotHarness(with_staff(tmp_path, (*CASHIERS, NEWCOMER))) as restarted:
        given = menus(restarted)

    assert {ADMIN, NEWCOMER, *CASHIERS} <= set(given)


async def test_a_menu_that_failed_is_set_at_the_next_start(tmp_path: Path) -> None:
    first = BotHarness(with_staff(tmp_path))
    refusing_menus_for(first, NEVER_OPENED_THE_BOT)
    async with first:
        pass

    async with BotHarness(with_staff(tmp_path)) as restarted:
        assert "earn" in menus(restarted)[NEVER_OPENED_THE_BOT]


async def test_a_restart_after_a_staff_change_in_telegram_sets_every_menu_again(
    tmp_path: Path,
) -> None:
    async with BotHarness(with_staff(tmp_path)) as bot:
        await bot.send(ADMIN, f"/staff add {NEWCOMER}")
        assert "earn" in menus(bot)[NEWCOMER]

    async with BotHarness(with_staff(tmp_path)) as restarted:
        assert "earn" in menus(restarted)[NEWCOMER]


async def test_a_menu_change_telegram_refused_while_running_is_put_right_at_the_next_start(
    tmp_path: Path,
) -> None:
    cashier = CASHIERS[0]
    async with BotHarness(with_staff(tmp_path)) as bot:
        await bot.send(ADMIN, f"/staff add {cashier} admin")  # their menu gains /staff...
        refusing_menus_for(bot, cashier)
        await bot.send(ADMIN, f"/staff remove {cashier}")  # ...and keeps it: refused
        assert "staff" in menus(bot)[cashier]

    async with BotHarness(with_staff(tmp_path)) as restarted:
        assert "staff" not in menus(restarted)[cashier]
