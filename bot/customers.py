"""Customers seen from the till: the "which customer?" step shared by /earn, /redeem and
/status, notifying a linked customer, and the button that shares a customer's own phone."""

from __future__ import annotations

import logging

from telegram import KeyboardButton, ReplyKeyboardMarkup, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from core.errors import LoyaltyError
from core.types import Customer

from . import texts
from .replies import friendly
from .services import services

log = logging.getLogger(__name__)


async def find_or_explain(
    update: Update, context: ContextTypes.DEFAULT_TYPE, reference: str
) -> Customer | None:
    """The customer `reference` names, or None after telling the sender why not."""
    try:
        return await services(context).store.find_customer(reference)
    except LoyaltyError as exc:
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            f"{friendly(exc)}\nSend the card or phone number again, or /cancel."
        )
        return None


async def notify_customer(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int | None, text: str, *, actor_id: int | None
) -> None:
    """Tells a linked customer what just happened on their card (never the cashier themself).

    `chat_id` is the result's notify_user_id: None when the card is not linked, or when the
    confirmation was a replay (they were told the first time), so nobody is told twice.
    A customer who blocked the bot must not make the cashier's confirmation fail: the points
    are already recorded, so a failed notification is logged and dropped.
    """
    if chat_id is None or chat_id == actor_id:
        return
    try:
        await context.bot.send_message(chat_id, text)
    except Forbidden:
        log.info("customer chat %s has blocked the bot; notification dropped", chat_id)
    except TelegramError as exc:
        log.warning("notification to customer chat %s failed: %s", chat_id, exc)


def share_keyboard() -> ReplyKeyboardMarkup:
    """The one-button keyboard that shares the sender's own phone (bot/handlers/link.py)."""
    return ReplyKeyboardMarkup(
        [[KeyboardButton(texts.SHARE_PHONE, request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
