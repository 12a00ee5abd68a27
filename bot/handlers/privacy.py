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
from ..format import card, date, entry_lines, esc, number, points, split_message
from ..i18n import N_, _
from ..replies import friendly
from ..roles import at_least, refuse, role_of
from ..services import services

log = logging.getLogger(__name__)

PATTERN: Final = r"^forget:(ok|no):[0-9a-f]{16}$"
_PENDING: Final = "forget"  # the user_data key of the open /forget question
_ON: Final = frozenset({"on", "yes", "start", "enable", "resume"})
_OFF: Final = frozenset({"off", "no", "stop", "disable", "mute", "pause"})

NOT_LINKED: Final = N_(
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
        await message.reply_text(_(NOT_LINKED))
        return
    word = " ".join(context.args or []).strip().lower()
    if not word:
        on = await svc.store.notifications_on(customer["id"])
        await message.reply_text(
            _(
                "🔔 Notifications about your points are <b>on</b>. "
                "Send /notifications off to turn them off."
            )
            if on
            else _(
                "🔔 Notifications about your points are <b>off</b>. "
                "Send /notifications on to turn them on."
            )
        )
        return
    if word not in _ON | _OFF:
        await message.reply_text(_("Send /notifications on or /notifications off."))
        return
    on = word in _ON
    await svc.store.set_notifications(customer["id"], on, actor_id=user.id, now=svc.clock())
    if on:
        await message.reply_text(
            _("🔔 Notifications are on: I'll tell you when your points change.")
        )
    else:
        await message.reply_text(
            _(
                "🔕 Notifications are off: I won't message you when your points change. "
                "/status still shows your card; /notifications on turns them back on."
            )
        )


async def mydata_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Sends everything held about the asker: a readable message, then the same as JSON."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    svc = services(context)
    found = await svc.store.my_data(user.id)
    if found is None:
        await message.reply_text(_(NOT_LINKED))
        return
    customer, notify, entries, records = found
    tz = svc.config.reports.tzinfo
    local = []
    for entry in entries:
        shown = entry.copy()
        shown["created_at"] = entry["created_at"].astimezone(tz)
        local.append(shown)
    lines = [
        _("<b>What we hold about you</b>"),
        _("Card: {card}, since {date}").format(
            card=card(customer["card_number"]), date=date(customer["created_at"].astimezone(tz))
        ),
        _("Name: {name}").format(name=esc(customer["name"])),
        _("Phone: {phone}").format(
            phone=format_phone(customer["phone"]) if customer["phone"] else "—"
        ),
        _("E-mail: {email}").format(email=esc(customer["email"] or "—")),
        _("Telegram: this account is linked to the card"),
        _("Balance: <b>{points}</b> · {tier} ({earned} earned, {spent} spent in all)").format(
            points=points(customer["balance"]),
            tier=esc(customer["tier"]),
            earned=number(customer["lifetime_earned"]),
            spent=number(customer["lifetime_redeemed"]),
        ),
        _("Notifications: on (/notifications)")
        if notify
        else _("Notifications: off (/notifications)"),
        _("Audit records about you: {n} (who recorded what, and when)").format(n=len(records)),
        "",
        _("<b>Every points entry</b> ({n})").format(n=len(entries)),
        *(entry_lines(local, svc.config.program.currency) or [_("None yet.")]),
        "",
        _(
            "The attached file holds all of it. /forget erases your personal details; "
            "/privacy says why we keep what we keep."
        ),
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
        caption=_("📄 Your data as JSON"),
    )


def _forget_question(customer: Customer, *, by: Literal["customer", "admin"]) -> str:
    """What /forget will erase and keep, shown before the button (docs/decisions.md)."""
    card_no = card(customer["card_number"])
    if by == "customer":
        head = _("🗑 <b>Forget me</b> · card {card}").format(card=card_no)
        erased = _(
            "<b>Erased:</b> your name, phone number, e-mail address and the link to Telegram, "
            "also wherever our records and messages mention them."
        )
    else:
        head = _("🗑 <b>Forget</b> {name} · card {card}").format(
            name=esc(customer["name"]), card=card_no
        )
        erased = _(
            "<b>Erased:</b> the customer's name, phone number, e-mail address and the link to "
            "Telegram, also wherever our records and messages mention them."
        )
    kept = _(
        "<b>Kept, without a name:</b> the card number with its {points} (a physical card still "
        "works at the till), and every points entry, so the shop's books still add up."
    ).format(points=points(customer["balance"]))
    final = _(
        "Notices stop, and the card can no longer be found by phone number. This cannot be undone."
    )
    return f"{head}\n\n{erased}\n{kept}\n{final}"


def _buttons(key: str, *, by: Literal["customer", "admin"]) -> InlineKeyboardMarkup:
    keep = _("✖ Keep my card") if by == "customer" else _("✖ Cancel")
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _("🗑 Forget me") if by == "customer" else _("🗑 Forget"),
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
                _(
                    "Only an admin can forget another customer. To erase your own details, "
                    "send /forget on its own."
                )
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
                " " + _("Admins: /forget 4821 3379 (a card or phone).")
                if at_least(await role_of(svc, user.id), "admin")
                else ""
            )
            await message.reply_text(_(NOT_LINKED) + hint)
            return
        customer, by = found, "customer"
    if privacy.is_forgotten(customer):
        await message.reply_text(
            _("Card {card} was already forgotten: nothing personal is left to erase.").format(
                card=card(customer["card_number"])
            )
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
        await query.answer(_("This question has expired. Send /forget again."), show_alert=True)
        return
    del context.user_data[_PENDING]  # taken first: a double tap finds nothing to confirm
    await query.edit_message_reply_markup(None)
    chat = query.message.chat.id if query.message is not None else user.id
    if match[1] == "no":
        await query.answer(_("Kept"))
        await context.bot.send_message(chat, _("Nothing was erased. Your card is as it was."))
        return
    svc = services(context)
    if pending.by == "admin" and not at_least(await role_of(svc, user.id), "admin"):
        await refuse(update, _("Only an admin (owner or manager) can do that."))
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
            chat, _("That card is no longer linked to this account. Nothing was erased.")
        )
        return
    except LoyaltyError as exc:
        await query.answer()
        await context.bot.send_message(chat, friendly(exc))
        return
    log.info("customer %s forgotten (by %s %s)", customer["id"], pending.by, user.id)
    await query.answer(_("Done"))
    card_no, balance = card(customer["card_number"]), points(customer["balance"])
    if pending.by == "customer":
        text = _(
            "✅ Done: your personal details are erased and this account is unlinked. Your "
            "card {card} keeps its {points}, so the physical card still works at the till. "
            "Thank you for being with us."
        ).format(card=card_no, points=balance)
    else:
        text = _(
            "✅ Forgotten: personal details erased; card {card} keeps its {points}. "
            "Recorded in the audit trail."
        ).format(card=card_no, points=balance)
    await context.bot.send_message(chat, text)
