"""/status: a customer's own card, or any card for staff at the till.

    customer:  /status -> their card (or: link it first with /start)
               /status <anything else> -> "you can only see your own card" (reveals nothing)
    staff:     /status <card or phone> -> the card, with the phone masked
               /status -> customer? -> the card

Diagram: docs/diagrams/status.mmd. Rules: core/rules.py tier_progress, reward_options.
The card itself is drawn by bot/cards.py, which linking (bot/handlers/link.py) reuses.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, ContextTypes, ConversationHandler, MessageHandler, filters

from core.errors import LoyaltyError
from core.lookup import parse_reference
from core.types import Customer

from .. import confirm, flows, texts
from ..cards import card_text, send_card, staff_buttons
from ..customers import find_or_explain
from ..i18n import N_, _
from ..roles import requires, role_of
from ..services import Services, services

ASK_CUSTOMER = "status.customer"

NOT_YOURS = N_("You can only see your own card. Send /status on its own to see it.")
NOT_LINKED = N_(
    "Your Telegram account isn't linked to a loyalty card yet. Send /start and tap "
    "<b>Share my phone number</b> to link it."
)


# --- the conversation ---------------------------------------------------------------------


async def start_status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State:
    """Shows the sender's own card; staff name a card or phone, or are asked for one."""
    assert update.effective_user is not None and update.effective_message is not None
    confirm.drop(context)
    svc = services(context)
    reference = " ".join(context.args or [])
    # Not @requires: customers use /status too. Staff-only steps after this one are guarded.
    if await role_of(svc, update.effective_user.id) == "customer":
        await _own_card(update, svc, reference)
        return ConversationHandler.END
    if not reference.strip():
        await update.effective_message.reply_text(_(texts.ASK_CUSTOMER))
        return ASK_CUSTOMER
    customer = await find_or_explain(update, context, reference)
    if customer is None:
        return ASK_CUSTOMER
    text = await card_text(svc, customer, for_staff=True)
    await send_card(update.effective_message, text, buttons=staff_buttons(customer))
    return ConversationHandler.END


@requires("cashier")
async def got_customer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State:
    """Looks up the customer and shows their card."""
    assert update.effective_message is not None and update.effective_message.text is not None
    customer = await find_or_explain(update, context, update.effective_message.text)
    if customer is None:
        return ASK_CUSTOMER
    text = await card_text(services(context), customer, for_staff=True)
    await send_card(update.effective_message, text, buttons=staff_buttons(customer))
    return flows.END


async def _own_card(update: Update, svc: Services, reference: str) -> None:
    """A customer's /status: always exactly one answer, never about anybody else's card."""
    assert update.effective_user is not None and update.effective_message is not None
    own = await svc.store.customer_by_telegram(update.effective_user.id)
    if reference.strip() and not (own is not None and _names(reference, own, svc)):
        # Refused before any lookup, so the answer is the same whether that card exists or not.
        await update.effective_message.reply_text(_(NOT_YOURS))
        return
    if own is None:
        await update.effective_message.reply_text(_(NOT_LINKED))
        return
    await send_card(update.effective_message, await card_text(svc, own, for_staff=False))


def _names(reference: str, own: Customer, svc: Services) -> bool:
    """Whether `reference` is the customer's own card or phone number (no database lookup)."""
    try:
        kind, value = parse_reference(reference, svc.config.program.default_region)
    except LoyaltyError:
        return False
    return value == (own["card_number"] if kind == "card" else own["phone"])


def conversation() -> ConversationHandler:  # type: ignore[type-arg]
    return flows.conversation(
        name="status",
        entry=CommandHandler("status", start_status),
        states={ASK_CUSTOMER: [MessageHandler(filters.TEXT & ~filters.COMMAND, got_customer)]},
    )
