"""The one error handler: anything a handler did not expect ends here.

It logs the traceback (the log filter in bot/logs.py keeps tokens and phone numbers out), tells
the user in one line what became of their request, and stops the update there.

What it says is the truth, never a guess: "nothing was changed" only when nothing was committed
while handling this update (every change is one transaction, so an exception before the commit
rolled it back). When something was committed first, the user is told it was saved and where to
check, so a cashier never types a recorded earn again. The count of commits comes from the
database engine (core/db/engine.count_commits), started by `start_counting` for every update.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from core.db.engine import count_commits

from .i18n import N_, _

log = logging.getLogger(__name__)

SORRY = N_("Sorry, something went wrong on our side and nothing was changed. Please try again.")
SORRY_AFTER_SAVING = N_(
    "Sorry, something went wrong on our side after your change was saved, so I couldn't finish "
    "the reply. It IS recorded: check with /status before doing it again."
)

_COMMITS: ContextVar[Callable[[], int] | None] = ContextVar("update_commits", default=None)


async def start_counting(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs first for every update (bot/app.py): from here on, commits are counted."""
    _COMMITS.set(count_commits())


def committed_so_far() -> int:
    """Transactions committed while handling the current update (0 outside one)."""
    reader = _COMMITS.get()
    return 0 if reader is None else reader()


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Logs the exception with its traceback and tells the user what became of their request."""
    saved = committed_so_far() > 0
    log.error(
        "unhandled exception while handling an update (%s)",
        "after a commit" if saved else "nothing committed",
        exc_info=context.error,
    )
    if not isinstance(update, Update):
        return
    # In the sender's language (bot/languages.set_language ran first for this update).
    text = _(SORRY_AFTER_SAVING if saved else SORRY)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, text)
    except TelegramError:  # e.g. the callback query is too old to answer, or no network
        log.warning("could not tell the user about the error")
    # Without this, the update would go on to later handler groups after the failing one: the
    # "free text" hint or the stale-button answer would follow the apology (two replies).
    raise ApplicationHandlerStop
