"""/birthday: a customer gives (or changes) their birthday; staff set anyone's.

    customer:  /birthday            -> the birthday on their card, and how to change it
               /birthday 14/03      -> set (day and month; a year is optional)
               /birthday remove     -> forgotten
    staff:     /birthday <card or phone> <birthday or "remove">

The birthday bonus itself is bot/birthdays.py's daily job. Rules: core/birthdays.py.
"""

from __future__ import annotations

import datetime as dt

from babel.dates import format_skeleton
from telegram import Update
from telegram.ext import ContextTypes

from core.birthdays import NO_YEAR, parse_birthday, shown
from core.errors import LoyaltyError
from core.types import Customer

from .. import i18n
from ..customers import find_or_explain
from ..format import customer_line, number
from ..i18n import N_, _
from ..replies import friendly
from ..roles import role_of
from ..services import Services, services

REMOVE = ("remove", "delete", "none", "clear")
# Marked with N_ and translated where sent.
NOT_LINKED = N_(
    "Your Telegram account isn't linked to a loyalty card yet. Send /start and tap "
    "<b>Share my phone number</b> to link it."
)
STAFF_USAGE = N_(
    "Send <code>/birthday &lt;card or phone&gt; &lt;birthday&gt;</code>, e.g. "
    "<code>/birthday 4821 3379 14/03</code> (or <code>remove</code> instead of the date)."
)


async def birthday_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Shows or sets the sender's own birthday; staff name the card first."""
    assert update.effective_user is not None and update.effective_message is not None
    svc = services(context)
    args = context.args or []
    if await role_of(svc, update.effective_user.id) != "customer":
        if len(args) < 2:
            await update.effective_message.reply_text(_(STAFF_USAGE))
            return
        customer = await find_or_explain(update, context, " ".join(args[:-1]))
        if customer is None:
            return
        await _set(update, svc, customer, args[-1], whose=customer_line(customer), own=False)
        return
    own = await svc.store.customer_by_telegram(update.effective_user.id)
    if own is None:
        await update.effective_message.reply_text(_(NOT_LINKED))
        return
    if not args:
        birthday = await svc.store.birthday(own["id"])
        now = (
            _("Your birthday on the card: <b>{birthday}</b>.").format(birthday=_shown(birthday))
            if birthday is not None
            else _("There's no birthday on your card yet.")
        )
        how = _(
            "Send <code>/birthday 14/03</code> to set it (a year is optional), "
            "or <code>/birthday remove</code>."
        )
        await update.effective_message.reply_text(f"{now} {how}")
        return
    await _set(update, svc, own, " ".join(args), whose="", own=True)


async def _set(
    update: Update, svc: Services, customer: Customer, text: str, *, whose: str, own: bool
) -> None:
    """Sets or removes the birthday; `whose` is the card's line when staff set it."""
    assert update.effective_user is not None and update.effective_message is not None
    now = svc.clock()
    birthday: dt.date | None = None
    if text.strip().lower() not in REMOVE:
        today = now.astimezone(svc.config.reports.tzinfo).date()
        try:
            birthday = parse_birthday(text, today)
        except LoyaltyError as exc:
            await update.effective_message.reply_text(
                friendly(exc) + " " + _("Send it like 14/03 or 14/03/1990.")
                if "like" not in str(exc)
                else friendly(exc)
            )
            return
    await svc.store.set_birthday(
        customer["id"], birthday, actor_id=update.effective_user.id, now=now
    )
    if birthday is None:
        await update.effective_message.reply_text(
            _("Birthday removed from your card.")
            if own
            else _("Birthday removed from {customer}.").format(customer=whose)
        )
        return
    bonus = svc.config.birthday.bonus
    treat = (
        " "
        + _("🎂 There's a {bonus}-point treat in your birthday week.").format(bonus=number(bonus))
        if bonus
        else ""
    )
    saved = (
        _("Birthday saved on your card: <b>{birthday}</b>.")
        if own
        else _("Birthday saved on {customer}: <b>{birthday}</b>.")
    )
    await update.effective_message.reply_text(
        saved.format(customer=whose, birthday=_shown(birthday)) + treat
    )


def _shown(birthday: dt.date) -> str:
    """'14 March', '14 марта 1990': the birthday the reader's way."""
    language = i18n.current()
    if language == i18n.SOURCE:
        return shown(birthday)
    skeleton = "MMMMd" if birthday.year == NO_YEAR else "yMMMMd"  # "14 de marzo", "14 марта"
    return format_skeleton(skeleton, birthday, locale=language)
