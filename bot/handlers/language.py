"""/language: the person picks the language the bot writes to them in (everyone may).

    /language            -> "Which language?" with a button per shipped language
    [Español]            -> remembered (settings table), this and every later reply in it,
                            and their command menu redrawn in it
    /language es         -> the same without the buttons

Without a choice the bot follows the person's Telegram app language, else the shop's
(bot/i18n.py says how texts are translated, bot/languages.py where choices are kept).
"""

from __future__ import annotations

import re
from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from .. import i18n, languages
from ..i18n import _
from ..menus import refresh_menu
from ..services import services

PREFIX: Final = "language:"
PATTERN: Final = re.compile(rf"^{PREFIX}")


def _buttons() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(name, callback_data=f"{PREFIX}{code}")]
            for code, name in i18n.LANGUAGES.items()
        ]
    )


async def language_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offers the languages, or sets the one named (`/language es`)."""
    assert update.effective_user is not None and update.effective_message is not None
    wanted = " ".join(context.args or []).strip()
    if not wanted:
        await update.effective_message.reply_text(
            _("Which language should I write to you in?"), reply_markup=_buttons()
        )
        return
    code = i18n.supported(wanted) or _by_name(wanted)
    if code is None:
        names = ", ".join(f"{name} ({c})" for c, name in i18n.LANGUAGES.items())
        await update.effective_message.reply_text(
            _("I don't speak that one yet. I can write in: {names}.").format(names=names),
            reply_markup=_buttons(),
        )
        return
    await _set(update, context, code)
    await update.effective_message.reply_text(_done())


async def language_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A language button: the data is checked, since a client can send any."""
    query = update.callback_query
    assert query is not None and query.data is not None
    code = query.data.removeprefix(PREFIX)
    if code not in i18n.LANGUAGES:
        await query.answer(_("That button is no longer active. Send /help to start again."))
        return
    await _set(update, context, code)
    await query.answer()
    await query.edit_message_text(_done())


async def _set(update: Update, context: ContextTypes.DEFAULT_TYPE, code: str) -> None:
    assert update.effective_user is not None
    await languages.choose(services(context), update.effective_user.id, code)
    i18n.use(code)  # this very reply already in the new language
    await refresh_menu(context.application, update.effective_user.id)


def _done() -> str:
    return _("✅ From now on I'll write to you in English. /help lists what I can do.")


def _by_name(text: str) -> str | None:
    """'español', 'Russian', 'русский' -> the code; typed names are forgiving of case."""
    folded = text.casefold()
    english = {"english": "en", "spanish": "es", "russian": "ru"}
    for code, name in i18n.LANGUAGES.items():
        if name.casefold() == folded:
            return code
    return english.get(folded)
