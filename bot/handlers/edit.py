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
from ..replies import friendly
from ..roles import requires
from ..services import services

USAGE: Final = (
    "Send <code>/edit &lt;card or phone&gt; name|phone|email &lt;new value&gt;</code>, e.g. "
    "<code>/edit 4821 3379 phone 07400 123457</code> "
    "(<code>email none</code> removes the e-mail)."
)
NO_EMAIL: Final = frozenset({"none", "-", "—", "remove", "delete"})


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
        await message.reply_text(USAGE)
        return
    reference, column, raw = parts
    if not raw and column != "email":
        await message.reply_text(f"Send the new {column} after the word “{column}”. {USAGE}")
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
            await message.reply_text(f"Nothing to change: that is already their {column}.")
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
        "email": esc(updated["email"] or "none"),
    }[column]
    field = "e-mail" if column == "email" else column
    await message.reply_text(
        f"✏️ Card {card(updated['card_number'])}: {field} is now {shown}. "
        "Recorded in the audit trail."
    )
