"""Command menus per role: each person sees only the commands they can use.

Set for everyone at start-up (bot/app.py post_init) and for one person whenever their role
or language changes (bot/handlers/staff.py, bot/handlers/language.py). Menus are a
convenience: a failure here is logged, never a reason not to start or not to finish a change.

In the reader's language, as Telegram chooses a menu: the most specific scope first, and in a
scope the menu for the user's app language (language_code) before the one without. So:
- customers: one menu for all private chats in the shop's language, and one per shipped
  language (language_code) for whose app is set to it;
- staff (cashiers, admins) and anyone who chose a language with /language: their own chat's
  menu (BotCommandScopeChat), with and without each language_code. Without a choice, each
  language_code gets the menu in that language (replies follow the app's language too); with
  one, every variant is in the chosen language, so an app set to another language does not
  override the choice.
- a customer with no choice: their chat's menus deleted, so the customers' menus apply.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from typing import Final

from telegram import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from telegram.error import TelegramError
from telegram.ext import Application

from core.types import Role

from . import i18n, languages
from .i18n import N_, _
from .roles import role_of
from .services import services_of

log = logging.getLogger(__name__)

# (command, description): descriptions are marked for the catalogs and translated per menu.
CUSTOMER_COMMANDS: Final = [
    ("status", N_("My points, tier and rewards")),
    ("card", N_("My card's QR code, for the till")),
    ("history", N_("Everything on my card")),
    ("rewards", N_("Rewards, and what I can have now")),
    ("campaigns", N_("Offers running now and next")),
    ("birthday", N_("My birthday, for a birthday treat")),
    ("invite", N_("Invite a friend: points for you both")),
    ("start", N_("Link my card")),
    ("notifications", N_("Messages about my points on or off")),
    ("mydata", N_("Everything you hold about me")),
    ("forget", N_("Erase my personal details")),
    ("privacy", N_("What you store and why")),
    ("language", N_("Change the language")),
    ("help", N_("What I can do")),
]
CASHIER_COMMANDS: Final = [
    ("earn", N_("Record a purchase")),
    ("redeem", N_("Redeem a reward")),
    ("register", N_("Register a new customer")),
    ("status", N_("Look up a card")),
    ("find", N_("Find a customer by name or e-mail")),
    ("history", N_("A card's whole history")),
    ("rewards", N_("Rewards, or what a card can have now")),
    ("refund", N_("Goods returned: take back points")),
    ("campaigns", N_("Offers running now and next")),
    ("birthday", N_("Set a customer's birthday")),
    ("language", N_("Change the language")),
    ("cancel", N_("Stop what I'm doing")),
    ("help", N_("Commands and examples")),
]
ADMIN_COMMANDS: Final = [
    *CASHIER_COMMANDS[:-3],
    ("report", N_("How the program is doing")),
    ("digest", N_("A daily or weekly summary")),
    ("void", N_("Cancel a purchase or redemption")),
    ("staff", N_("Manage staff")),
    ("adjust", N_("Add or take away points by hand")),
    ("audit", N_("Who did what, and when")),
    ("tier", N_("Pin or unpin a customer's tier")),
    ("edit", N_("Correct a customer's details")),
    ("forget", N_("Erase a customer's details")),
    *CASHIER_COMMANDS[-3:],
]
MENUS: Final[dict[Role, list[tuple[str, str]]]] = {
    "customer": CUSTOMER_COMMANDS,
    "cashier": CASHIER_COMMANDS,
    "admin": ADMIN_COMMANDS,
}


def menu(role: Role, language: str) -> list[BotCommand]:
    """The command menu of `role`, written in `language`."""
    with i18n.speaking(language):
        return [BotCommand(command, _(description)) for command, description in MENUS[role]]


# Staff whose menus are set at start-up in parallel; each person's menus (one per language
# code and one without) are set at once, so 4 people make 16 calls: the bot's connections
# to the Bot API (bot/app.py BOT_API_CONNECTIONS).
MENU_CALLS_AT_ONCE = 4
MENUS_SETTING = "command_menus"  # the fingerprint of the menus last set in full
# Part of the fingerprint: a change in how menus are laid out (which scopes and language codes
# get one) sets them all again at the next start.
MENUS_LAYOUT = "chat menus per language_code"


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
    fingerprint = _menus_fingerprint(app.bot.id, roles, svc.config.shop.language)
    if await svc.staff.get_setting(MENUS_SETTING) == fingerprint:
        return
    everyone = BotCommandScopeAllPrivateChats()
    try:
        # The shop's language for everyone, and each shipped language for whose Telegram app
        # is set to it (Telegram picks by the user's language_code).
        await app.bot.set_my_commands(menu("customer", svc.config.shop.language), scope=everyone)
        for language in i18n.LANGUAGES:
            await app.bot.set_my_commands(
                menu("customer", language), scope=everyone, language_code=language
            )
    except TelegramError as exc:  # menus are a convenience: never a reason not to start
        log.warning("could not set the command menus: %s", exc)
        return
    # Each staff member's menus, a few people at a time: one call after another, 50 staff at
    # 100 ms a call held start-up for 5 s (bench/throughput.py).
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
    """`user_id`'s own menus: one without a language_code and one per shipped language, all at
    once (a start-up with 50 staff makes 200 calls); raises the first TelegramError."""
    svc = services_of(app)
    role = await role_of(svc, user_id)
    chosen = languages.chosen(svc, user_id)
    scope = BotCommandScopeChat(user_id)
    codes: list[str | None] = [None, *i18n.LANGUAGES]
    if role == "customer" and chosen is None:  # the menus for everyone, in their app's language
        calls = [app.bot.delete_my_commands(scope=scope, language_code=code) for code in codes]
    else:  # staff, or someone who chose a language: menus of their own
        calls = [
            app.bot.set_my_commands(
                menu(role, chosen or code or svc.config.shop.language),
                scope=scope,
                language_code=code,
            )
            for code in codes
        ]
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


def _menus_fingerprint(bot_id: int, roles: dict[int, Role], default_language: str) -> str:
    """A digest of everything the command menus depend on."""
    menus = [
        [(c.command, c.description) for c in menu(role, language)]
        for role in MENUS
        for language in i18n.LANGUAGES
    ]
    facts = json.dumps([MENUS_LAYOUT, bot_id, menus, sorted(roles.items()), default_language])
    return hashlib.sha256(facts.encode()).hexdigest()


async def refresh_menu(app: Application, user_id: int) -> None:  # type: ignore[type-arg]
    """Gives `user_id` the command menu of their new role; menus are a convenience only."""
    try:
        await set_menu_for(app, user_id)
    except TelegramError as exc:  # e.g. they have never opened the bot: the menu can wait
        log.warning("could not set the command menu for user %s: %s", user_id, exc)
