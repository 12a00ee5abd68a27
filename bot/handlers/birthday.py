"""/birthday: a customer gives (or changes) their birthday; staff set anyone's.

    customer:  /birthday            -> the birthday on their card, and how to change it
               /birthday 14/03      -> set (day and month; a year is optional)
               /birthday remove     -> forgotten
    staff:     /birthday <card or phone> <birthday or "remove">

The birthday bonus itself is bot/birthdays.py's daily job. Rules: core/birthdays.py.
"""

from __future__ import annotations

import datetime as dt

from telegram import Update
from telegram.ext import ContextTypes

from core.birthdays import EXAMPLE, parse_birthday, shown
from core.errors import LoyaltyError
from core.types import Customer

from ..customers import find_or_explain
from ..format import customer_line
from ..replies import friendly
from ..roles import role_of
from ..services import Services, services

REMOVE = ("remove", "delete", "none", "clear")
NOT_LINKED = (
    "Your Telegram account isn't linked to a loyalty card yet. Send /start and tap "
    "<b>Share my phone number</b> to link it."
)
STAFF_USAGE = (
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
            await update.effective_message.reply_text(STAFF_USAGE)
            return
        customer = await find_or_explain(update, context, " ".join(args[:-1]))
        if customer is None:
            return
        await _set(update, svc, customer, args[-1], whose=customer_line(customer))
        return
    own = await svc.store.customer_by_telegram(update.effective_user.id)
    if own is None:
        await update.effective_message.reply_text(NOT_LINKED)
        return
    if not args:
        birthday = await svc.store.birthday(own["id"])
        now = (
            f"Your birthday on the card: <b>{shown(birthday)}</b>."
            if birthday is not None
            else "There's no birthday on your card yet."
        )
        await update.effective_message.reply_text(
            f"{now} Send <code>/birthday 14/03</code> to set it (a year is optional), "
            "or <code>/birthday remove</code>."
        )
        return
    await _set(update, svc, own, " ".join(args), whose="your card")


async def _set(update: Update, svc: Services, customer: Customer, text: str, *, whose: str) -> None:
    assert update.effective_user is not None and update.effective_message is not None
    now = svc.clock()
    birthday: dt.date | None = None
    if text.strip().lower() not in REMOVE:
        today = now.astimezone(svc.config.reports.tzinfo).date()
        try:
            birthday = parse_birthday(text, today)
        except LoyaltyError as exc:
            await update.effective_message.reply_text(
                f"{friendly(exc)} Send it {EXAMPLE}." if "like" not in str(exc) else friendly(exc)
            )
            return
    await svc.store.set_birthday(
        customer["id"], birthday, actor_id=update.effective_user.id, now=now
    )
    if birthday is None:
        await update.effective_message.reply_text(f"Birthday removed from {whose}.")
        return
    bonus = svc.config.birthday.bonus
    treat = f" 🎂 There's a {bonus:,}-point treat in your birthday week." if bonus else ""
    await update.effective_message.reply_text(
        f"Birthday saved on {whose}: <b>{shown(birthday)}</b>.{treat}"
    )
