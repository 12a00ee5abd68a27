"""Whose language a reply is written in: remembered choices, and the per-update setting.

`set_language` runs first for every update (bot/app.py, group -3) and sets the language for the
rest of that update (bot/i18n.py). A person's /language choice is kept in the `settings` table
(`language:<telegram user id>`), so it survives restarts. Only those who chose have a row, a
few at most per shop, so all of them are read once at start-up (`load`, from post_init) and
kept in memory: an update costs no read. One bot serves a database at a time (core/db/lock.py),
so the memory copy is the truth while it runs.
"""

from __future__ import annotations

from typing import cast

from telegram import Update
from telegram.ext import ContextTypes

from . import i18n
from .services import Services, services

_CHOSEN = "languages"  # svc.notes key: user id -> chosen language
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


def language_for(svc: Services, user_id: int, telegram_code: str | None = None) -> str:
    """The language to write to `user_id` in: their choice, their app's, or the shop's."""
    return i18n.choose(chosen(svc, user_id), telegram_code, svc.config.shop.language)


async def set_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every update: replies to it are written in its sender's language."""
    user = update.effective_user
    svc = services(context)
    if user is None:
        i18n.use(svc.config.shop.language)
        return
    i18n.use(language_for(svc, user.id, user.language_code))
