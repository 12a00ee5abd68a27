"""Customers seen from the till: the "which customer?" step shared by /earn, /redeem and
/status, and the button that shares a customer's own phone. (Telling a linked customer about a
change: bot/delivery.py.)"""

from __future__ import annotations

import logging

from telegram import KeyboardButton, ReplyKeyboardMarkup, Update
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


def share_keyboard() -> ReplyKeyboardMarkup:
    """The one-button keyboard that shares the sender's own phone (bot/handlers/link.py)."""
    return ReplyKeyboardMarkup(
        [[KeyboardButton(texts.SHARE_PHONE, request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
