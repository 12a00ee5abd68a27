"""/refund: a customer returned goods; take back the points that part of the purchase earned
(cashiers and admins).

    /refund -> customer? -> their recent purchases as buttons -> amount returned?
            -> preview [Confirm | Cancel] -> refunded
    /refund #41                    jumps to the amount (the ref is on every result message)

The points are computed with the rule stored on that purchase's entry (points per unit,
multiplier), never today's: several partial refunds never take back more than the purchase
gave, and the one that completes it takes exactly the rest. Points already spent become points
owed. Rules: core/corrections.py quote_refund; storage: Store.preview_refund and Store.refund;
the Confirm step: bot/confirm.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from core import rules
from core.db.ledger import Tell
from core.errors import LoyaltyError
from core.types import CorrectionResult, Customer

from .. import confirm, flows, texts
from ..corrections import describe_correction
from ..customers import find_or_explain
from ..format import customer_line, day_time, money, number, points, signed
from ..i18n import N_, _
from ..replies import friendly
from ..roles import requires
from ..services import services

ASK_CUSTOMER, PICK, ASK_AMOUNT, CONFIRM = (
    "refund.customer",
    "refund.pick",
    "refund.amount",
    "refund.confirm",
)
ENTRY_KEY = "refund_entry_id"  # user_data: the purchase being refunded
CUSTOMER_KEY = "refund_customer_id"  # user_data: whose purchases the buttons list
PICK_PREFIX: Final = "refund:pick:"
PICK_PATTERN: Final = rf"^{PICK_PREFIX}[0-9]{{1,12}}$"
REF: Final = re.compile(r"#([0-9]{1,12})")
ALL_WORDS: Final = ("all", "full", "everything")
# The word for "all" offered in the reader's language (the English ones always work too).
ALL_WORD: Final = N_("all")


@dataclass(frozen=True)
class RefundPreview:
    """What Confirm records: this much of this purchase given back."""

    entry_id: int
    amount: Decimal


@requires("cashier")
async def start_refund(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State:
    """Starts /refund: `/refund #41` asks the amount, `/refund <card or phone>` lists purchases."""
    confirm.drop(context)
    assert update.effective_message is not None
    reference = " ".join(context.args or []).strip()
    if not reference:
        await update.effective_message.reply_text(_(texts.ASK_CUSTOMER))
        return ASK_CUSTOMER
    ref = REF.fullmatch(reference)
    if ref is not None:
        return await _ask_amount(update, context, int(ref[1]))
    customer = await find_or_explain(update, context, reference)
    if customer is None:
        return ASK_CUSTOMER
    return await _show_purchases(update, context, customer)


@requires("cashier")
async def got_customer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State:
    """Looks up the customer and lists their purchases that can still be refunded."""
    assert update.effective_message is not None and update.effective_message.text is not None
    customer = await find_or_explain(update, context, update.effective_message.text)
    if customer is None:
        return ASK_CUSTOMER
    return await _show_purchases(update, context, customer)


async def _show_purchases(
    update: Update, context: ContextTypes.DEFAULT_TYPE, customer: Customer
) -> flows.State:
    assert update.effective_chat is not None and context.user_data is not None
    svc = services(context)
    currency = svc.config.program.currency
    purchases = [
        e
        for e in await svc.store.correctable_entries(customer["id"])
        if e["kind"] == "earn" and e["refundable"]
    ]
    if not purchases:
        await context.bot.send_message(
            update.effective_chat.id,
            f"{customer_line(customer)}\n" + _("No recent purchase on this card can be refunded."),
        )
        return flows.END
    context.user_data[CUSTOMER_KEY] = customer["id"]
    buttons = [
        [
            InlineKeyboardButton(  # a button label: plain text, never parsed
                f"{day_time(e['created_at'])} · {money(e['amount'] or Decimal(0), currency)} · "
                f"{signed(e['points'])} · #{e['entry_id']}",
                callback_data=f"{PICK_PREFIX}{e['entry_id']}",
            )
        ]
        for e in purchases
    ]
    await context.bot.send_message(
        update.effective_chat.id,
        f"{customer_line(customer)}\n" + _("Which purchase? Tap it (/cancel to stop)."),
        reply_markup=InlineKeyboardMarkup(buttons),
    )
    return PICK


@requires("cashier")
async def pick_purchase(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State | None:
    """Asks how much of the tapped purchase was returned; another card's is refused (forged)."""
    query = update.callback_query
    assert query is not None and context.user_data is not None
    rest = (query.data or "").removeprefix(PICK_PREFIX)
    if not rest.isdigit():
        await query.answer(_(texts.NO_LONGER_ACTIVE), show_alert=True)
        return None
    try:
        entry = await services(context).store.entry(int(rest))
    except LoyaltyError:
        await query.answer(_(texts.NO_LONGER_ACTIVE), show_alert=True)
        return None
    if entry["customer_id"] != context.user_data.get(CUSTOMER_KEY):
        await query.answer(_("That purchase isn't on this card. Pick one from the list."), True)
        return None
    await query.answer()
    await confirm.quietly(query.edit_message_reply_markup(None), "take the buttons off")
    return await _ask_amount(update, context, entry["id"])


async def _ask_amount(
    update: Update, context: ContextTypes.DEFAULT_TYPE, entry_id: int
) -> flows.State:
    """'How much was returned? Up to 25.50 GBP, or "all"'; a wrong ref ends with one line."""
    assert update.effective_chat is not None and context.user_data is not None
    svc = services(context)
    try:
        entry = await svc.store.entry(entry_id)
        left = await svc.store.refundable(entry_id)
    except LoyaltyError as exc:
        await context.bot.send_message(update.effective_chat.id, friendly(exc))
        return flows.END
    context.user_data[ENTRY_KEY] = entry_id
    currency = svc.config.program.currency
    await context.bot.send_message(
        update.effective_chat.id,
        _(
            "Refund of the purchase of {amount} (ref #{ref}). How much was returned? "
            'Up to {left}, or "{all}" (/cancel to stop).'
        ).format(
            amount=money(entry["amount"] or Decimal(0), currency),
            ref=entry_id,
            left=money(left, currency),
            all=_(ALL_WORD),
        ),
    )
    return ASK_AMOUNT


@requires("cashier")
async def got_amount(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State:
    """Reads the amount returned ("all" for what is left) and shows the preview."""
    assert update.effective_message is not None and update.effective_message.text is not None
    assert context.user_data is not None
    svc = services(context)
    entry_id = context.user_data[ENTRY_KEY]
    text = update.effective_message.text.strip()
    try:
        if _means_all(text):
            amount = await svc.store.refundable(entry_id)
        else:
            amount = rules.parse_amount(text, svc.config.program)
        entry, quote = await svc.store.preview_refund(entry_id, amount)
        customer = await svc.store.get_customer(entry["customer_id"])
    except LoyaltyError as exc:
        await update.effective_message.reply_text(
            f"{friendly(exc)}\n" + _("Send the amount returned again, or /cancel.")
        )
        return ASK_AMOUNT
    currency = svc.config.program.currency
    owed = (
        "\n"
        + _(
            "The card holds only {balance}: {owed} will be owed, paid from the next purchases."
        ).format(balance=points(quote["balance_before"]), owed=points(quote["owed_added"]))
        if quote["owed_added"]
        else ""
    )
    rule = _("{points} per {currency} ×{multiplier}").format(
        points=quote.get("points_per_unit", "?"),
        currency=currency,
        multiplier=quote.get("multiplier", "?"),
    )
    buttons = confirm.remember(context, "refund", RefundPreview(entry_id, amount))
    question = _("↩ Refund {amount} of the {purchase} purchase (ref #{ref})?").format(
        amount=money(amount, currency),
        purchase=money(entry["amount"] or amount, currency),
        ref=entry_id,
    )
    takes = _("Takes back <b>{points}</b> (its rule: {rule}).").format(
        points=points(-quote["gross"]), rule=rule
    )
    balance = _("Balance {before} → {after}").format(
        before=number(quote["balance_before"]), after=number(quote["balance_after"])
    )
    await update.effective_message.reply_text(
        f"{customer_line(customer)}\n{question}\n{takes}{owed}\n{balance}",
        reply_markup=buttons,
    )
    return CONFIRM


def _means_all(text: str) -> bool:
    """'all' in English or in the cashier's language ('todo', 'всё', typed 'все' too)."""
    word = text.lower().replace("ё", "е")
    return word in ALL_WORDS or word == _(ALL_WORD).lower().replace("ё", "е")


async def record_refund(
    context: ContextTypes.DEFAULT_TYPE,
    preview: RefundPreview,
    /,
    *,
    key: str,
    actor_id: int,
    tell: Tell[CorrectionResult],
) -> CorrectionResult:
    """Records the refund once: the key makes a second Confirm a replay, and the store refuses
    more than is left of the purchase (RefundTooLarge)."""
    svc = services(context)
    return await svc.store.refund(
        preview.entry_id, preview.amount, actor_id=actor_id, now=svc.clock(), key=key, tell=tell
    )


def conversation() -> ConversationHandler:  # type: ignore[type-arg]
    text = filters.TEXT & ~filters.COMMAND
    return flows.conversation(
        name="refund",
        entry=CommandHandler("refund", start_refund),
        states={
            ASK_CUSTOMER: [MessageHandler(text, got_customer)],
            PICK: [CallbackQueryHandler(pick_purchase, pattern=PICK_PATTERN)],
            ASK_AMOUNT: [MessageHandler(text, got_amount)],
            CONFIRM: confirm.handlers(
                "refund", record_refund, describe_correction, popup=N_("Refunded ✔")
            ),
        },
        preview_kind="refund",
    )
