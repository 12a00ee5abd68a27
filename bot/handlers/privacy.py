"""A customer's data under their control (issue 14): /privacy, /notifications, /mydata, /forget.

    /privacy                  what is stored, why, who sees it
    /notifications [on|off]   notices about the card on or off (core/db/outbox.py honours it)
    /mydata                   everything held about the asker: a message and a JSON file
    /forget                   what is erased and kept [🗑 Forget me | ✖ Keep my card]
                              -> personal data erased (core/db/privacy.py)
    /forget <card or phone>   the same, by an admin for a customer who asks at the till

A customer is whoever is linked to the card (their own Telegram account): they only ever see
or erase their own. The Forget button is re-checked when pressed: an admin must still be an
admin, and a customer's card must still be linked to them (in the erasing transaction itself).
Diagram: docs/diagrams/privacy.mmd. What is erased and kept, and why: docs/decisions.md.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Final, Literal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from core import privacy
from core.contact import format_phone
from core.errors import LoyaltyError, UnknownCustomer
from core.types import Customer

from .. import texts
from ..format import card, entry_lines, esc, points, split_message
from ..i18n import _
from ..replies import friendly
from ..roles import at_least, refuse, role_of
from ..services import services

log = logging.getLogger(__name__)

PATTERN: Final = r"^forget:(ok|no):[0-9a-f]{16}$"
_PENDING: Final = "forget"  # the user_data key of the open /forget question
_ON: Final = frozenset({"on", "yes", "start", "enable", "resume"})
_OFF: Final = frozenset({"off", "no", "stop", "disable", "mute", "pause"})

NOT_LINKED: Final = (
    "No loyalty card is linked to this Telegram account, so I hold nothing about you here. "
    "To link your card, send /start and tap <b>Share my phone number</b>."
)


@dataclass(frozen=True)
class Pending:
    """The open /forget question: whose card, asked by whom, and the key its buttons carry."""

    customer_id: int
    key: str
    by: Literal["customer", "admin"]


async def privacy_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Says what is stored, why, who sees it, and how to get it or erase it."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(_(texts.PRIVACY))


async def notifications_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Shows, or turns on or off, the notices about the asker's card."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    svc = services(context)
    customer = await svc.store.customer_by_telegram(user.id)
    if customer is None:
        await message.reply_text(NOT_LINKED)
        return
    word = " ".join(context.args or []).strip().lower()
    if not word:
        on = await svc.store.notifications_on(customer["id"])
        other = "off" if on else "on"
        await message.reply_text(
            f"🔔 Notifications about your points are <b>{'on' if on else 'off'}</b>. "
            f"Send /notifications {other} to turn them {other}."
        )
        return
    if word not in _ON | _OFF:
        await message.reply_text("Send /notifications on or /notifications off.")
        return
    on = word in _ON
    await svc.store.set_notifications(customer["id"], on, actor_id=user.id, now=svc.clock())
    if on:
        await message.reply_text("🔔 Notifications are on: I'll tell you when your points change.")
    else:
        await message.reply_text(
            "🔕 Notifications are off: I won't message you when your points change. "
            "/status still shows your card; /notifications on turns them back on."
        )


async def mydata_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Sends everything held about the asker: a readable message, then the same as JSON."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    svc = services(context)
    found = await svc.store.my_data(user.id)
    if found is None:
        await message.reply_text(NOT_LINKED)
        return
    customer, notify, entries, records = found
    tz = svc.config.reports.tzinfo
    local = []
    for entry in entries:
        shown = entry.copy()
        shown["created_at"] = entry["created_at"].astimezone(tz)
        local.append(shown)
    lines = [
        "<b>What we hold about you</b>",
        f"Card: {card(customer['card_number'])}, since "
        f"{customer['created_at'].astimezone(tz):%d %b %Y}",
        f"Name: {esc(customer['name'])}",
        f"Phone: {format_phone(customer['phone']) if customer['phone'] else '—'}",
        f"E-mail: {esc(customer['email'] or '—')}",
        "Telegram: this account is linked to the card",
        f"Balance: <b>{points(customer['balance'])}</b> · {esc(customer['tier'])} "
        f"({customer['lifetime_earned']:,} earned, {customer['lifetime_redeemed']:,} spent "
        "in all)",
        f"Notifications: {'on' if notify else 'off'} (/notifications)",
        f"Audit records about you: {len(records)} (who recorded what, and when)",
        "",
        f"<b>Every points entry</b> ({len(entries)})",
        *(entry_lines(local, svc.config.program.currency) or ["None yet."]),
        "",
        "The attached file holds all of it. /forget erases your personal details; "
        "/privacy says why we keep what we keep.",
    ]
    for chunk in split_message("\n".join(lines)):
        await message.reply_text(chunk)
    data = privacy.export(
        customer, notify=notify, entries=entries, audit=records, exported_at=svc.clock()
    )
    await context.bot.send_document(
        message.chat.id,
        json.dumps(data, indent=2, ensure_ascii=False).encode(),
        filename=f"my-loyalty-data-{customer['card_number']}.json",
        caption="📄 Your data as JSON",
    )


def _forget_question(customer: Customer, *, by: Literal["customer", "admin"]) -> str:
    """What /forget will erase and keep, shown before the button (docs/decisions.md)."""
    whose = "your" if by == "customer" else "the customer's"
    head = "🗑 <b>Forget me</b>" if by == "customer" else f"🗑 <b>Forget</b> {esc(customer['name'])}"
    return (
        f"{head} · card {card(customer['card_number'])}\n\n"
        f"<b>Erased:</b> {whose} name, phone number, e-mail address and the link to Telegram, "
        "also wherever our records and messages mention them.\n"
        f"<b>Kept, without a name:</b> the card number with its "
        f"{points(customer['balance'])} (a physical card still works at the till), and every "
        "points entry, so the shop's books still add up.\n"
        "Notices stop, and the card can no longer be found by phone number. "
        "This cannot be undone."
    )


def _buttons(key: str, *, by: Literal["customer", "admin"]) -> InlineKeyboardMarkup:
    keep = "✖ Keep my card" if by == "customer" else "✖ Cancel"
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "🗑 Forget me" if by == "customer" else "🗑 Forget",
                    callback_data=f"forget:ok:{key}",
                ),
                InlineKeyboardButton(keep, callback_data=f"forget:no:{key}"),
            ]
        ]
    )


async def forget_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Asks before erasing: the asker's own card, or (admins) the card or phone given."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and context.user_data is not None
    svc = services(context)
    reference = " ".join(context.args or []).strip()
    by: Literal["customer", "admin"]
    if reference:
        if not at_least(await role_of(svc, user.id), "admin"):
            await message.reply_text(
                "Only an admin can forget another customer. To erase your own details, "
                "send /forget on its own."
            )
            return
        try:
            customer = await svc.store.find_customer(reference)
        except LoyaltyError as exc:
            await message.reply_text(friendly(exc))
            return
        by = "admin"
    else:
        found = await svc.store.customer_by_telegram(user.id)
        if found is None:
            hint = (
                " Admins: /forget 4821 3379 (a card or phone)."
                if at_least(await role_of(svc, user.id), "admin")
                else ""
            )
            await message.reply_text(NOT_LINKED + hint)
            return
        customer, by = found, "customer"
    if privacy.is_forgotten(customer):
        await message.reply_text(
            f"Card {card(customer['card_number'])} was already forgotten: nothing personal is "
            "left to erase."
        )
        return
    key = secrets.token_hex(8)
    context.user_data[_PENDING] = Pending(customer["id"], key, by)
    await message.reply_text(_forget_question(customer, by=by), reply_markup=_buttons(key, by=by))


async def forget_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Erases on 🗑 (re-checking who presses it), or keeps everything on ✖."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None and context.user_data is not None
    match = re.fullmatch(r"forget:(ok|no):([0-9a-f]{16})", query.data or "")
    assert match is not None  # the handler's pattern
    pending = context.user_data.get(_PENDING)
    if not isinstance(pending, Pending) or pending.key != match[2]:
        await query.answer("This question has expired. Send /forget again.", show_alert=True)
        return
    del context.user_data[_PENDING]  # taken first: a double tap finds nothing to confirm
    await query.edit_message_reply_markup(None)
    chat = query.message.chat.id if query.message is not None else user.id
    if match[1] == "no":
        await query.answer("Kept")
        await context.bot.send_message(chat, "Nothing was erased. Your card is as it was.")
        return
    svc = services(context)
    if pending.by == "admin" and not at_least(await role_of(svc, user.id), "admin"):
        await refuse(update, "Only an admin (owner or manager) can do that.")
        return
    try:
        customer = await svc.store.forget(
            pending.customer_id,
            owner=user.id if pending.by == "customer" else None,
            actor_id=user.id,
            by=pending.by,
            now=svc.clock(),
        )
    except UnknownCustomer:
        await query.answer()
        await context.bot.send_message(
            chat, "That card is no longer linked to this account. Nothing was erased."
        )
        return
    except LoyaltyError as exc:
        await query.answer()
        await context.bot.send_message(chat, friendly(exc))
        return
    log.info("customer %s forgotten (by %s %s)", customer["id"], pending.by, user.id)
    await query.answer("Done")
    kept = f"card {card(customer['card_number'])} keeps its {points(customer['balance'])}"
    if pending.by == "customer":
        text = (
            f"✅ Done: your personal details are erased and this account is unlinked. Your "
            f"{kept}, so the physical card still works at the till. Thank you for being with us."
        )
    else:
        text = f"✅ Forgotten: personal details erased; {kept}. Recorded in the audit trail."
    await context.bot.send_message(chat, text)
