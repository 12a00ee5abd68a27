"""The one error handler: anything a handler did not expect ends here.

It logs the traceback (the log filter in bot/logs.py keeps tokens and phone numbers out),
tells the user in one line that nothing was changed, and stops the update there. "Nothing was
changed" is true by construction: every change of points is a single database transaction
(core/db/store.py), so an exception either happened before the commit (rolled back) or after
it (already complete).
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

log = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong on our side and nothing was changed. Please try again."


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Logs the exception with its traceback and tells the user nothing was changed."""
    log.error("unhandled exception while handling an update", exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(SORRY, show_alert=True)
        elif update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, SORRY)
    except TelegramError:  # e.g. the callback query is too old to answer, or no network
        log.warning("could not tell the user about the error")
    # Without this, the update would go on to later handler groups after the failing one: the
    # "free text" hint or the stale-button answer would follow the apology (two replies).
    raise ApplicationHandlerStop
