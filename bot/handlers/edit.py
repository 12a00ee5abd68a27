"""/edit: an admin corrects a customer's name, phone number or e-mail (issue 14).

    /edit <card or phone> <name|phone|email> <new value>
    e.g. /edit 4821 3379 phone 07400 123457 · /edit 4821 3379 email none

One line, no Confirm: nothing about points changes, and the reply shows what was changed so a
typo is put right with another /edit. The new value is checked as /register checks it
(core/contact.py); the change is audited with the fields changed, never their values
(core/db/privacy.py edit).
"""

from __future__ import annotations

from typing import Final

from telegram import Update
from telegram.ext import ContextTypes

from core import privacy
from core.contact import format_phone, normalize_email, normalize_name, normalize_phone
from core.errors import AlreadyForgotten, LoyaltyError

from ..format import card, esc
from ..i18n import N_, _
from ..replies import friendly
from ..roles import requires
from ..services import services

USAGE: Final = N_(
    "Send <code>/edit &lt;card or phone&gt; name|phone|email &lt;new value&gt;</code>, e.g. "
    "<code>/edit 4821 3379 phone 07400 123457</code> "
    "(<code>email none</code> removes the e-mail)."
)
NO_EMAIL: Final = frozenset({"none", "-", "—", "remove", "delete"})
# A whole sentence per field, so a translation words each its own way. The field's name in
# the command (name, phone, email) is a word typed, so it stays as it is.
NO_VALUE: Final = N_("Send the new {column} after the word “{column}”.")
UNCHANGED: Final = {
    "name": N_("Nothing to change: that is already their name."),
    "phone": N_("Nothing to change: that is already their phone."),
    "email": N_("Nothing to change: that is already their email."),
}
CHANGED: Final = {
    "name": N_("✏️ Card {card}: name is now {value}. Recorded in the audit trail."),
    "phone": N_("✏️ Card {card}: phone is now {value}. Recorded in the audit trail."),
    "email": N_("✏️ Card {card}: e-mail is now {value}. Recorded in the audit trail."),
}


def _split(words: list[str]) -> tuple[str, str, str] | None:
    """(reference, column, new value) from the words after /edit; None if no field is named.

    The field is the first known word after at least one word of reference: card and phone
    numbers are digits, so the new value may itself contain a field's name."""
    for i, word in enumerate(words[1:], start=1):
        column = privacy.EDITABLE.get(word.lower())
        if column is not None:
            return " ".join(words[:i]), column, " ".join(words[i + 1 :]).strip()
    return None


@requires("admin")
async def edit_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Changes one contact detail of a customer, checked and audited."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    svc = services(context)
    parts = _split(context.args or [])
    if parts is None:
        await message.reply_text(_(USAGE))
        return
    reference, column, raw = parts
    if not raw and column != "email":
        await message.reply_text(f"{_(NO_VALUE).format(column=column)} {_(USAGE)}")
        return
    try:
        customer = await svc.store.find_customer(reference)
        if privacy.is_forgotten(customer):
            raise AlreadyForgotten(customer["card_number"])
        value: str | None
        if column == "name":
            value = normalize_name(raw)
        elif column == "phone":
            value = normalize_phone(raw, svc.config.program.default_region)
        else:
            value = None if raw.lower() in NO_EMAIL else normalize_email(raw)
        if customer.get(column) == value:
            await message.reply_text(_(UNCHANGED[column]))
            return
        updated = await svc.store.edit_customer(
            customer["id"], {column: value}, actor_id=user.id, now=svc.clock()
        )
    except LoyaltyError as exc:
        await message.reply_text(friendly(exc))
        return
    shown = {
        "name": esc(updated["name"]),
        "phone": format_phone(updated["phone"]) if updated["phone"] else "—",
        "email": esc(updated["email"]) if updated["email"] else _("none"),
    }[column]
    await message.reply_text(
        _(CHANGED[column]).format(card=card(updated["card_number"]), value=shown)
    )
