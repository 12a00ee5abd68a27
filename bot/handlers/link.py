"""Linking a customer's Telegram account to their card: they share their own phone number.

/start (bot/handlers/start.py) shows a "Share my phone number" button; the contact it sends arrives
here. Only the sender's own contact links: a contact card forwarded or picked from the address
book belongs to somebody else, and linking it would show a stranger that person's points.

Diagram: docs/diagrams/start-and-link.mmd. Storage: Store.link_telegram.
"""

from __future__ import annotations

import logging

from telegram import ReplyKeyboardRemove, Update
from telegram.ext import ContextTypes, MessageHandler, filters

from core.contact import normalize_phone
from core.errors import AlreadyLinked, InvalidContact, UnknownCustomer

from .. import texts
from ..cards import card_text, send_card
from ..customers import share_keyboard
from ..i18n import N_, _
from ..replies import friendly
from ..services import services

log = logging.getLogger(__name__)

NOT_YOUR_CONTACT = N_("Please share your own contact using the button below.")
NOT_REGISTERED = N_(
    "I can't find a loyalty card registered with that phone number. Please ask at the till "
    "to register; then tap <b>Share my phone number</b> again (or send /start)."
)


async def contact_shared(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Links the sender to the card registered with their own shared phone number."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and message.contact is not None and user is not None
    contact = message.contact
    # Telegram sets user_id only on the sender's own contact (the request_contact button).
    if contact.user_id != user.id:
        await message.reply_text(_(NOT_YOUR_CONTACT), reply_markup=share_keyboard())
        return
    svc = services(context)
    try:
        # Telegram sometimes drops the "+": a shared contact is always international.
        phone = normalize_phone(
            contact.phone_number, svc.config.program.default_region, international=True
        )
        customer = await svc.store.link_telegram(phone, user.id)
    except UnknownCustomer:
        await message.reply_text(_(NOT_REGISTERED))
        return
    except (AlreadyLinked, InvalidContact) as exc:
        await message.reply_text(friendly(exc), reply_markup=ReplyKeyboardRemove())
        return
    log.info("telegram user %s linked to customer %s", user.id, customer["id"])
    card = await card_text(svc, customer, for_staff=False)
    await send_card(
        message,
        "\n".join((_("✅ Linked! This is your loyalty card."), _(texts.LINK_NOTICE), "", card)),
        remove_keyboard=True,
    )


def handler() -> MessageHandler:  # type: ignore[type-arg]
    """For bot/app.py's last group: contacts are never part of a staff flow."""
    return MessageHandler(filters.CONTACT, contact_shared)
