"""The customer's QR card (/card) and what scanning one does (/start t_… and /start c_…).

    customer: /card -> a QR code of t.me/<bot>?start=t_<signed token>, valid TOKEN_TTL
    staff:    scans it (the phone's camera opens Telegram: "/start t_…") -> the customer's card
              with [➕ Earn] [🎁 Redeem] [🔄 Status]; a printed card ("/start c_<card number>",
              `loyalty-bot cards`) does the same
    anyone else who opens either link learns nothing: one fixed reply, whoever's code it is,
              valid, expired or forged
    [🔄 Status] (any `go:status:<id>` button: /find's matches too) -> that card, staff only

Tokens: core/card_tokens.py (signed with the database's secret, core/db/secret.py). The card:
bot/cards.py. Earn and Redeem start their flows (bot/handlers/earn.py, redeem.py) through the
`go:` buttons of bot/flows.py.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from core import card_tokens
from core.db.secret import card_secret
from core.errors import LoyaltyError

from .. import confirm
from ..cards import card_text, send_card, staff_buttons
from ..customers import customer_from_button
from ..i18n import N_, _, ngettext
from ..qr import card_png
from ..replies import friendly
from ..roles import requires, role_of
from ..services import Services, services

log = logging.getLogger(__name__)

# The one answer a customer or stranger gets from a scanned link: the same for every code,
# so opening someone's screenshot says nothing about them (not even whether it was valid).
# Marked with N_ and translated where sent.
FOR_STAFF_ONLY = N_(
    "That code is a loyalty card, for the staff at the till to scan. "
    "To show your own card, send /card."
)
NOT_LINKED = N_(
    "Your Telegram account isn't linked to a loyalty card yet. Send /start and tap "
    "<b>Share my phone number</b> to link it."
)
STAFF_CARD = N_(
    "/card shows a customer their QR card for the till. To open a card, scan theirs, or use "
    "/status, /find or a card number."
)
_SECRET_NOTE = "card_secret"  # Services.notes: the signing secret, read once per process


async def _secret(svc: Services) -> bytes:
    held = svc.notes.get(_SECRET_NOTE)
    if isinstance(held, bytes):
        return held
    secret = await card_secret(svc.engine)
    svc.notes[_SECRET_NOTE] = secret
    return secret


async def show_qr_card(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Sends the customer a fresh QR code of their card, valid for a few minutes."""
    assert update.effective_user is not None and update.effective_message is not None
    confirm.drop(context)
    svc = services(context)
    if await role_of(svc, update.effective_user.id) != "customer":
        await update.effective_message.reply_text(_(STAFF_CARD))
        return
    own = await svc.store.customer_by_telegram(update.effective_user.id)
    if own is None:
        await update.effective_message.reply_text(_(NOT_LINKED))
        return
    token = card_tokens.sign(own["id"], await _secret(svc), now=svc.clock())
    link = card_tokens.deep_link(context.bot.username, token)
    minutes = int(card_tokens.TOKEN_TTL.total_seconds() // 60)
    await update.effective_message.reply_photo(
        card_png(link),
        caption=_("💳 Your loyalty card. Show this code at the till: the cashier scans it.")
        + "\n"
        + ngettext(
            "It works for {n} minute; send /card again for a fresh one.",
            "It works for {n} minutes; send /card again for a fresh one.",
            minutes,
        ).format(n=minutes),
    )


async def open_scanned(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A scanned card code: staff get the customer's card; anyone else a fixed reply."""
    assert update.effective_user is not None and update.effective_message is not None
    confirm.drop(context)
    svc = services(context)
    if await role_of(svc, update.effective_user.id) == "customer":
        # Nothing read, nothing checked: the reply can't depend on whose code it is.
        await update.effective_message.reply_text(_(FOR_STAFF_ONLY))
        return
    payload = (context.args or [""])[0]
    try:
        kind, value = card_tokens.read_payload(payload)
        if kind == "token":
            customer_id = card_tokens.verify(value, await _secret(svc), now=svc.clock())
            customer = await svc.store.get_customer(customer_id)
        else:
            customer = await svc.store.find_customer(value)
    except LoyaltyError as exc:
        # The payload is a credential while it is valid: it is never logged.
        log.info("user %s opened a card code that was refused: %s", update.effective_user.id, exc)
        await update.effective_message.reply_text(friendly(exc))
        return
    text = await card_text(svc, customer, for_staff=True)
    await send_card(update.effective_message, text, buttons=staff_buttons(customer))


@requires("cashier")
async def go_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A `go:` button in the last group: Status shows the card; Earn and Redeem were started
    by their flows in earlier groups, so there is nothing left to do for them here."""
    query = update.callback_query
    assert query is not None and query.data is not None
    if not query.data.startswith("go:status:"):
        return
    customer = await customer_from_button(update, context)
    if customer is None or update.effective_message is None:
        return
    text = await card_text(services(context), customer, for_staff=True)
    await send_card(update.effective_message, text, buttons=staff_buttons(customer))
