"""Command menus per role: each person sees only the commands they can use.

Set for everyone at start-up (bot/app.py post_init) and for one person whenever their role
changes (bot/handlers/staff.py). Menus are a convenience: a failure here is logged, never a
reason not to start or not to finish a staff change.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging

from telegram import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from telegram.error import TelegramError
from telegram.ext import Application

from core.types import Role

from .roles import role_of
from .services import services_of

log = logging.getLogger(__name__)

CUSTOMER_COMMANDS = [
    BotCommand("status", "My points, tier and rewards"),
    BotCommand("start", "Link my card"),
    BotCommand("notifications", "Messages about my points on or off"),
    BotCommand("mydata", "Everything you hold about me"),
    BotCommand("forget", "Erase my personal details"),
    BotCommand("privacy", "What you store and why"),
    BotCommand("help", "What I can do"),
]
CASHIER_COMMANDS = [
    BotCommand("earn", "Record a purchase"),
    BotCommand("redeem", "Redeem a reward"),
    BotCommand("register", "Register a new customer"),
    BotCommand("status", "Look up a card"),
    BotCommand("refund", "Goods returned: take back points"),
    BotCommand("cancel", "Stop what I'm doing"),
    BotCommand("help", "Commands and examples"),
]
ADMIN_COMMANDS = [
    *CASHIER_COMMANDS[:-2],
    BotCommand("report", "How the program is doing"),
    BotCommand("digest", "A daily or weekly summary"),
    BotCommand("void", "Cancel a purchase or redemption"),
    BotCommand("staff", "Manage staff"),
    BotCommand("adjust", "Add or take away points by hand"),
    BotCommand("audit", "Who did what, and when"),
    BotCommand("edit", "Correct a customer's details"),
    BotCommand("forget", "Erase a customer's details"),
    *CASHIER_COMMANDS[-2:],
]

MENU_CALLS_AT_ONCE = 8  # staff command menus set at start-up in parallel
MENUS_SETTING = "command_menus"  # the fingerprint of the menus last set in full


async def set_command_menus(app: Application) -> None:  # type: ignore[type-arg]
    """Each person sees only the commands they can use (command scopes).

    Telegram keeps menus across restarts, so they are set only when what they depend on (the
    bot, the command lists, who is staff in which role) changed since they were last all set.
    """
    svc = services_of(app)
    staff_ids = {
        *svc.config.staff.admins,
        *svc.config.staff.cashiers,
        *(m["telegram_user_id"] for m in await svc.staff.members()),
    }
    roles = {user_id: await role_of(svc, user_id) for user_id in sorted(staff_ids)}
    fingerprint = _menus_fingerprint(app.bot.id, roles)
    if await svc.staff.get_setting(MENUS_SETTING) == fingerprint:
        return
    try:
        await app.bot.set_my_commands(CUSTOMER_COMMANDS, scope=BotCommandScopeAllPrivateChats())
    except TelegramError as exc:  # menus are a convenience: never a reason not to start
        log.warning("could not set the command menus: %s", exc)
        return
    # One call per staff member, a few at a time: one after another, 50 staff at 100 ms a call
    # held start-up for 5 s (bench/throughput.py).
    turns = asyncio.Semaphore(MENU_CALLS_AT_ONCE)

    async def menu_for(user_id: int) -> None:
        async with turns:
            await _set_menu(app, user_id)

    results = await asyncio.gather(*map(menu_for, roles), return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    for failure in failures:
        if not isinstance(failure, TelegramError):
            raise failure
    if failures:  # not remembered: the next start tries them all again
        log.warning("could not set %d staff command menus: %s", len(failures), failures[0])
    else:
        await svc.staff.set_setting(MENUS_SETTING, fingerprint)


async def set_menu_for(app: Application, user_id: int) -> None:  # type: ignore[type-arg]
    """The menu for one person, by their current role (called when staff change)."""
    # Forget what the menus were last set to: if this call fails, the next start sets them all.
    await services_of(app).staff.set_setting(MENUS_SETTING, None)
    await _set_menu(app, user_id)


async def _set_menu(app: Application, user_id: int) -> None:  # type: ignore[type-arg]
    role = await role_of(services_of(app), user_id)
    commands = {"admin": ADMIN_COMMANDS, "cashier": CASHIER_COMMANDS}.get(role)
    scope = BotCommandScopeChat(user_id)
    if commands is None:
        await app.bot.delete_my_commands(scope=scope)
    else:
        await app.bot.set_my_commands(commands, scope=scope)


def _menus_fingerprint(bot_id: int, roles: dict[int, Role]) -> str:
    """A digest of everything the command menus depend on."""
    menus = [
        [(c.command, c.description) for c in commands]
        for commands in (CUSTOMER_COMMANDS, CASHIER_COMMANDS, ADMIN_COMMANDS)
    ]
    facts = json.dumps([bot_id, menus, sorted(roles.items())])
    return hashlib.sha256(facts.encode()).hexdigest()


async def refresh_menu(app: Application, user_id: int) -> None:  # type: ignore[type-arg]
    """Gives `user_id` the command menu of their new role; menus are a convenience only."""
    try:
        await set_menu_for(app, user_id)
    except TelegramError as exc:  # e.g. they have never opened the bot: the menu can wait
        log.warning("could not set the command menu for user %s: %s", user_id, exc)
