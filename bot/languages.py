"""Whose language a reply is written in: remembered choices, and the per-update setting.

`set_language` runs first for every update (bot/app.py, group -3) and sets the language for the
rest of that update (bot/i18n.py). A person's /language choice is kept in the `settings` table
(`language:<telegram user id>`), so it survives restarts, with the most recent few thousand in
memory: most updates then cost no extra read.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import cast

from telegram import Update
from telegram.ext import ContextTypes

from . import i18n
from .services import Services, services

_CACHE = "languages"  # svc.notes key: user id -> chosen language, or None for "none chosen"
CACHE_SIZE = 10_000


def setting_key(user_id: int) -> str:
    return f"language:{user_id}"


def _cache(svc: Services) -> OrderedDict[int, str | None]:
    return cast(OrderedDict[int, str | None], svc.notes.setdefault(_CACHE, OrderedDict()))


async def chosen(svc: Services, user_id: int) -> str | None:
    """The language `user_id` chose with /language, or None if they never did."""
    cache = _cache(svc)
    if user_id in cache:
        cache.move_to_end(user_id)
        return cache[user_id]
    stored = await svc.staff.get_setting(setting_key(user_id))
    language = stored if isinstance(stored, str) and stored in i18n.LANGUAGES else None
    _remember(cache, user_id, language)
    return language


async def choose(svc: Services, user_id: int, language: str) -> None:
    """Remembers `user_id`'s choice (a shipped language; checked by the caller)."""
    await svc.staff.set_setting(setting_key(user_id), language)
    _remember(_cache(svc), user_id, language)


def _remember(cache: OrderedDict[int, str | None], user_id: int, language: str | None) -> None:
    cache[user_id] = language
    cache.move_to_end(user_id)
    while len(cache) > CACHE_SIZE:
        cache.popitem(last=False)


async def language_for(svc: Services, user_id: int, telegram_code: str | None = None) -> str:
    """The language to write to `user_id` in: their choice, their app's, or the shop's."""
    return i18n.choose(await chosen(svc, user_id), telegram_code, svc.config.shop.language)


async def set_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every update: replies to it are written in its sender's language."""
    user = update.effective_user
    svc = services(context)
    if user is None:
        i18n.use(svc.config.shop.language)
        return
    i18n.use(await language_for(svc, user.id, user.language_code))
