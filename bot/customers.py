"""Customers seen from the till: the "which customer?" step shared by /earn, /redeem and
/status, and the button that shares a customer's own phone. (Telling a linked customer about a
change: bot/delivery.py.)"""

from __future__ import annotations

import logging

from telegram import KeyboardButton, ReplyKeyboardMarkup, Update
from telegram.ext import ContextTypes

from core.errors import LoyaltyError, UnknownCustomer
from core.types import Customer

from . import flows, texts
from .i18n import _
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
            f"{friendly(exc)}\n" + _("Send the card or phone number again, or /cancel.")
        )
        return None


async def customer_from_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE
) -> Customer | None:
    """The customer a `go:` button names (bot/flows.py), read afresh, with the press answered;
    None (after a popup) if there is no such customer or the data is not a `go:` button's.

    The caller has checked the presser's role: the id is the client's to choose, and only
    staff may open any card.
    """
    query = update.callback_query
    assert query is not None
    customer_id = flows.go_target(query.data)
    try:
        if customer_id is None:
            raise UnknownCustomer("?")
        customer = await services(context).store.get_customer(customer_id)
    except UnknownCustomer:
        await query.answer(_(texts.NO_LONGER_ACTIVE), show_alert=True)
        return None
    await query.answer()
    return customer


def share_keyboard() -> ReplyKeyboardMarkup:
    """The one-button keyboard that shares the sender's own phone (bot/handlers/link.py)."""
    return ReplyKeyboardMarkup(
        [[KeyboardButton(_(texts.SHARE_PHONE), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
