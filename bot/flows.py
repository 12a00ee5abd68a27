"""What every conversation shares: previews that confirm exactly once, /cancel, idle timeout.

How conversations fit together (see docs/decisions.md, "Conversations"):
- Each ConversationHandler sits in its own handler group (bot/app.py). Entry commands return
  normally, so every other conversation also sees the command and ends itself
  (`FLOW_FALLBACKS`): starting /redeem in the middle of /earn ends /earn, and its preview expires.
- Steps inside a flow raise ApplicationHandlerStop (`stay`/`goto`), so a message that a flow
  consumed never also reaches the "free text outside a flow" hint in the last group.

Exactly once: a preview (earn, redeem, register) gets a fresh idempotency key, kept in the
user's `user_data` and sent in the Confirm button's data. The first Confirm takes the key out of
user_data and records with it; the database refuses a second entry with the same key. A later
press of the same button finds no pending key and is told "already done" (the key is in the
ledger) or "expired" (it is not: cancelled, replaced, or timed out). Another user pressing a
forged copy of the button has no such key in their user_data, so it can never confirm.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine
from typing import Any, NoReturn

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    TypeHandler,
)

from .services import services

PENDING = "pending"
IDLE_TIMEOUT = 300  # seconds: a flow left alone this long ends, and says so
KEY_PATTERN = r"[0-9a-f]{16}"
KINDS = ("reg", "earn", "redeem")  # what a Confirm button can confirm

# Commands that start a flow; sending one ends whatever flow was open (see module docstring).
# /help is not one of them: asking for help mid-flow should not lose the cashier's place.
FLOW_COMMANDS = (
    "start",
    "register",
    "earn",
    "redeem",
    "status",
    "report",
    "staff",
    "cancel",
    "claim",
    "digest",
)


def stay(state: object) -> NoReturn:
    """Ends this step in `state` and stops the update reaching later handler groups."""
    raise ApplicationHandlerStop(state)


# --- previews and their idempotency keys --------------------------------------------------


def new_preview(context: ContextTypes.DEFAULT_TYPE, kind: str, **data: Any) -> str:
    """Remembers what the Confirm button will do; returns the key its button carries."""
    key = secrets.token_hex(8)
    assert context.user_data is not None
    context.user_data[PENDING] = {"kind": kind, "key": key, **data}
    return key


def take_preview(context: ContextTypes.DEFAULT_TYPE, kind: str, key: str) -> dict[str, Any] | None:
    """The preview this button confirms, consumed so a second press can't reuse it; else None."""
    assert context.user_data is not None
    pending = context.user_data.get(PENDING)
    if not pending or pending.get("kind") != kind or pending.get("key") != key:
        return None
    del context.user_data[PENDING]
    return dict(pending)


async def claim_preview(
    update: Update, context: ContextTypes.DEFAULT_TYPE, kind: str
) -> tuple[str, dict[str, Any]]:
    """The Confirm button's key and its preview, consumed; the buttons are taken off.

    An older preview's button (or a second press) gets "already done" or "expired" and the
    step stays where it is: this never returns then.
    """
    query = update.callback_query
    assert query is not None
    key = key_of(update)
    pending = take_preview(context, kind, key)
    if pending is None:
        await answer_stale(update, context, kind, key)
        stay(None)
    await query.edit_message_reply_markup(None)
    return key, pending


def drop_preview(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Makes any open preview's Confirm say it has expired."""
    if context.user_data is not None:
        context.user_data.pop(PENDING, None)


def confirm_keyboard(kind: str, key: str, confirm: str = "✅ Confirm") -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(confirm, callback_data=f"{kind}:ok:{key}"),
                InlineKeyboardButton("✖ Cancel", callback_data=f"{kind}:no:{key}"),
            ]
        ]
    )


def confirm_pattern(kind: str) -> str:
    return rf"^{kind}:ok:{KEY_PATTERN}$"


def cancel_pattern(kind: str) -> str:
    return rf"^{kind}:no:{KEY_PATTERN}$"


def key_of(update: Update) -> str:
    """The idempotency key at the end of a confirm/cancel button's data."""
    assert update.callback_query is not None and update.callback_query.data is not None
    return update.callback_query.data.rsplit(":", 1)[-1]


async def answer_stale(
    update: Update, context: ContextTypes.DEFAULT_TYPE, kind: str, key: str
) -> None:
    """Says whether an old Confirm was already done or has expired; changes nothing."""
    query = update.callback_query
    assert query is not None
    done = await services(context).store.is_recorded(kind, key)
    if done:
        await query.answer("Already done ✔ — it was recorded once.", show_alert=True)
    else:
        await query.answer(
            f"This confirmation has expired. Start again with /{_COMMAND[kind]}.", show_alert=True
        )


_COMMAND = {"earn": "earn", "redeem": "redeem", "reg": "register"}


# --- ending flows -------------------------------------------------------------------------


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Ends the flow on /cancel; nothing was recorded."""
    drop_preview(context)
    if context.user_data is not None:
        context.user_data.pop("flow", None)
    if update.effective_message is not None:
        await update.effective_message.reply_text("Cancelled. Nothing was recorded.")
    stay(ConversationHandler.END)


async def cancel_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Ends the flow when its Cancel button is pressed; an older preview's Cancel ends nothing."""
    query = update.callback_query
    assert query is not None and query.data is not None
    pending = context.user_data.get(PENDING) if context.user_data is not None else None
    kind = query.data.split(":", 1)[0]
    if not pending or pending.get("kind") != kind or pending.get("key") != key_of(update):
        # Cancel under an earlier preview (or forged data): the open preview is another one.
        await query.answer("That is already closed; nothing to cancel.")
        stay(None)
    drop_preview(context)
    await query.answer("Cancelled")
    await query.edit_message_reply_markup(None)
    if query.message is not None:
        await context.bot.send_message(query.message.chat.id, "Cancelled. Nothing was recorded.")
    stay(ConversationHandler.END)


def drop_preview_of(context: ContextTypes.DEFAULT_TYPE, kind: str) -> None:
    """Expires the open preview only if it belongs to `kind`'s flow.

    When /earn arrives during /redeem, the earn flow (in one group) may already have made its
    new preview before the redeem flow (in another group) ends: dropping "any" preview here
    would expire the one just shown.
    """
    if context.user_data is not None:
        pending = context.user_data.get(PENDING)
        if pending and pending.get("kind") == kind:
            del context.user_data[PENDING]


def ending_on_other_command(
    kind: str | None,
) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, int]]:
    """The callback that ends a flow quietly when another flow's command arrives."""

    async def other_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """Ends this flow (expiring its own preview); the new command's own handler runs."""
        if kind is not None:
            drop_preview_of(context, kind)
        return ConversationHandler.END

    return other_command


async def idle_timeout(update: object, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Ends a flow left idle for IDLE_TIMEOUT seconds, and says so."""
    drop_preview(context)
    if isinstance(update, Update) and update.effective_chat is not None:
        await context.bot.send_message(
            update.effective_chat.id,
            "⌛ That was idle for 5 minutes, so I stopped it. Nothing was recorded. "
            "Start again whenever you're ready.",
        )
    return ConversationHandler.END


def flow_fallbacks(kind: str | None = None) -> list[BaseHandler[Update, Any, Any]]:
    """/cancel, and any other flow command ends the flow (see module docstring).

    An unknown command ("/ear") does not end it: the hint in the last group answers it and the
    flow carries on, which is kinder to a cashier with a queue.
    """
    return [
        CommandHandler("cancel", cancel),
        CommandHandler([c for c in FLOW_COMMANDS if c != "cancel"], ending_on_other_command(kind)),
    ]


def timeout_handlers() -> dict[object, list[BaseHandler[Update, Any, Any]]]:
    return {ConversationHandler.TIMEOUT: [TypeHandler(Update, idle_timeout)]}
