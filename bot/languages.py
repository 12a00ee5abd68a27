"""Whose language a reply is written in: remembered choices, and the per-update setting.

`set_language` runs first for every update (bot/app.py, group -3) and sets the language for the
rest of that update (bot/i18n.py). A person's /language choice is kept in the `settings` table
(`language:<telegram user id>`), so it survives restarts. Only those who chose have a row, a
few at most per shop, so all of them are read once at start-up (`load`, from post_init) and
kept in memory: an update costs no read. One bot serves a database at a time (core/db/lock.py),
so the memory copy is the truth while it runs.

A notice goes to someone who did not send the update in hand (the customer hearing about points
earned at the till), so their app's `language_code` is not on it. The app language of everyone
seen since start-up is kept in memory for that (`_SEEN`, the newest SEEN_AT_MOST people), so a
Spanish phone that linked its card or asked /status gets its notices in Spanish without ever
choosing. After a restart, until that person writes again, a notice falls back to their /language
choice or the shop's language: not stored, because every customer's row would be a write per
language change and a read per notice for a guess the person can fix with /language.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Final, cast

from telegram import Update
from telegram.ext import ContextTypes

from . import i18n
from .services import Services, services

_CHOSEN = "languages"  # svc.notes key: user id -> chosen language
_SEEN = "app_languages"  # svc.notes key: user id -> their app's shipped language, newest last
SEEN_AT_MOST: Final = 100_000  # a few MB; the people who wrote most recently
PREFIX = "language:"


def setting_key(user_id: int) -> str:
    return f"{PREFIX}{user_id}"


def _chosen(svc: Services) -> dict[int, str]:
    return cast(dict[int, str], svc.notes.setdefault(_CHOSEN, {}))


async def load(svc: Services) -> None:
    """Reads every remembered choice (at start-up)."""
    stored = await svc.staff.settings_starting(PREFIX)
    _chosen(svc).update(
        {
            int(key.removeprefix(PREFIX)): value
            for key, value in stored.items()
            if key.removeprefix(PREFIX).isdigit() and value in i18n.LANGUAGES
        }
    )


def chosen(svc: Services, user_id: int) -> str | None:
    """The language `user_id` chose with /language, or None if they never did."""
    return _chosen(svc).get(user_id)


async def choose(svc: Services, user_id: int, language: str) -> None:
    """Remembers `user_id`'s choice (a shipped language; checked by the caller)."""
    await svc.staff.set_setting(setting_key(user_id), language)
    _chosen(svc)[user_id] = language


def _seen(svc: Services) -> OrderedDict[int, str]:
    return cast(OrderedDict[int, str], svc.notes.setdefault(_SEEN, OrderedDict()))


def _saw(svc: Services, user_id: int, telegram_code: str | None) -> None:
    """Remembers the app language `user_id` wrote with, for notices sent to them later."""
    language = i18n.supported(telegram_code)
    if language is None:
        return
    seen = _seen(svc)
    seen[user_id] = language
    seen.move_to_end(user_id)
    if len(seen) > SEEN_AT_MOST:
        seen.popitem(last=False)


def language_for(svc: Services, user_id: int, telegram_code: str | None = None) -> str:
    """The language to write to `user_id` in: their choice, their app's (on the update, or as
    last seen), or the shop's."""
    app = telegram_code or _seen(svc).get(user_id)
    return i18n.choose(chosen(svc, user_id), app, svc.config.shop.language)


async def set_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every update: replies to it are written in its sender's language."""
    user = update.effective_user
    svc = services(context)
    if user is None:
        i18n.use(svc.config.shop.language)
        return
    _saw(svc, user.id, user.language_code)
    i18n.use(language_for(svc, user.id, user.language_code))
