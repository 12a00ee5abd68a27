"""/find: staff find a customer by name or e-mail, for the customer who has neither their card
nor their phone number to hand (cashiers and admins).

    /find Chris -> up to MATCHES buttons "Chris Lee · +44 ••• ••3456 · 4821 3379"
                -> tap one: the card, with [➕ Earn] [🎁 Redeem] [🔄 Status] (bot/handlers/card.py)

Case and accents are ignored ("zoe" finds "Zoë"), and the query may be any part of the name or
the e-mail. Phones are masked on the buttons: a list of names is shown at a till, often within
sight of other customers. Search: core/search.py (folding), core/db/finding.py (the query).
"""

from __future__ import annotations

from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from core.cards import format_card
from core.contact import mask_phone
from core.db import finding
from core.search import MAX_QUERY, MIN_QUERY, fold

from .. import confirm
from ..flows import go_data
from ..format import esc
from ..i18n import N_, _
from ..roles import requires
from ..services import services

MATCHES: Final = 8  # buttons; one more is read to know whether there were more

USAGE = N_(
    "Send <code>/find</code> with part of the customer's name or e-mail, e.g. "
    "<code>/find Chris</code>."
)


@requires("cashier")
async def find_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Lists the customers whose name or e-mail contains the words sent, as buttons."""
    assert update.effective_message is not None
    confirm.drop(context)
    query = " ".join(context.args or [])
    folded = fold(query)
    if not folded:
        await update.effective_message.reply_text(_(USAGE))
        return
    if len(folded) < MIN_QUERY or len(folded) > MAX_QUERY:
        await update.effective_message.reply_text(
            _("Please send between {least} and {most} characters of the name or e-mail.").format(
                least=MIN_QUERY, most=MAX_QUERY
            )
        )
        return
    found = await services(context).store.unit.read(finding.search, query, MATCHES + 1)
    if not found:
        await update.effective_message.reply_text(
            _(
                "Nobody's name or e-mail contains “{query}”. Check the spelling, or try "
                "their card or phone number with /status."
            ).format(query=esc(query))
        )
        return
    buttons = [
        [
            InlineKeyboardButton(
                # Button labels are plain text, never parsed: no escaping.
                f"{c['name'][:30]} · {mask_phone(c['phone']) if c['phone'] else '—'} · "
                f"{format_card(c['card_number'])}",
                callback_data=go_data("status", c["id"]),
            )
        ]
        for c in found[:MATCHES]
    ]
    more = (
        "\n" + _("More than {n} match: add more of the name to narrow it down.").format(n=MATCHES)
        if len(found) > MATCHES
        else ""
    )
    await update.effective_message.reply_text(
        _("Customers matching “{query}”: tap one to open their card.").format(query=esc(query))
        + more,
        reply_markup=InlineKeyboardMarkup(buttons),
    )
