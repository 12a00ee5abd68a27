"""/void (admins) and the ↩ Undo button (the cashier who recorded it, for a few minutes).

    /void -> customer? -> their recent purchases and redemptions as buttons
          -> preview [Confirm | Cancel] -> voided
    /void #41                      jumps to the preview (the ref is on every result message)
    ↩ Undo under an earn's or a redemption's result -> preview -> voided ("undo")

A void reverses exactly one entry with the rule it was recorded under: a purchase's points are
taken back (what the card no longer holds becomes points owed), a redemption's points are given
back and its code stops being valid. Rules: core/corrections.py quote_void; storage:
Store.preview_void and Store.void; the Confirm step: bot/confirm.py. Only an admin voids any
entry; the Undo button works for the cashier who recorded the entry, within
[corrections] undo_minutes, and for admins.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
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

from core.db.ledger import Tell
from core.errors import LoyaltyError
from core.types import (
    CorrectableEntry,
    CorrectionQuote,
    CorrectionResult,
    Customer,
    LedgerEntry,
)

from .. import confirm, flows, texts
from ..corrections import describe_correction, in_their_language
from ..customers import find_or_explain
from ..format import a_kind, customer_line, day_time, esc, money, number, points
from ..i18n import N_, _, ngettext
from ..replies import friendly
from ..roles import at_least, requires, role_of
from ..services import services

ASK_CUSTOMER, PICK, CONFIRM = "void.customer", "void.pick", "void.confirm"
CONFIRM_UNDO = "void.confirm_undo"  # the same step for Undo, which a cashier may confirm
CUSTOMER_KEY = "void_customer_id"  # user_data: whose entries the buttons list
PICK_PREFIX: Final = "void:pick:"
PICK_PATTERN: Final = rf"^{PICK_PREFIX}[0-9]{{1,12}}$"
UNDO_PATTERN: Final = rf"^{confirm.UNDO_PREFIX}[0-9]{{1,12}}$"
REF: Final = re.compile(r"#([0-9]{1,12})")  # an entry's reference, as results show it
UNDO_REASON: Final = "undo"
# The popup once a void is written (confirm.py answers the button with it).
VOIDED: Final = N_("Voided ✔")


@dataclass(frozen=True)
class VoidPreview:
    """What Confirm records: a void of this entry."""

    entry_id: int
    reason: str | None


@requires("admin")
async def start_void(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State:
    """Starts /void: `/void #41` goes to the preview, `/void <card or phone>` to the list."""
    confirm.drop(context)
    assert update.effective_message is not None
    reference = " ".join(context.args or []).strip()
    if not reference:
        await update.effective_message.reply_text(_(texts.ASK_CUSTOMER))
        return ASK_CUSTOMER
    ref = REF.fullmatch(reference)
    if ref is not None:
        return await _preview(update, context, int(ref[1]), reason=None)
    customer = await find_or_explain(update, context, reference)
    if customer is None:
        return ASK_CUSTOMER
    return await _show_entries(update, context, customer)


@requires("admin")
async def got_customer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State:
    """Looks up the customer and lists what can be voided on their card."""
    assert update.effective_message is not None and update.effective_message.text is not None
    customer = await find_or_explain(update, context, update.effective_message.text)
    if customer is None:
        return ASK_CUSTOMER
    return await _show_entries(update, context, customer)


async def _show_entries(
    update: Update, context: ContextTypes.DEFAULT_TYPE, customer: Customer
) -> flows.State:
    assert update.effective_chat is not None and context.user_data is not None
    svc = services(context)
    entries = await svc.store.correctable_entries(customer["id"])
    if not entries:
        await context.bot.send_message(
            update.effective_chat.id,
            f"{customer_line(customer)}\n" + _("Nothing on this card can be voided."),
        )
        return flows.END
    context.user_data[CUSTOMER_KEY] = customer["id"]
    currency = svc.config.program.currency
    buttons = [
        [InlineKeyboardButton(_label(e, currency), callback_data=f"{PICK_PREFIX}{e['entry_id']}")]
        for e in entries
    ]
    await context.bot.send_message(
        update.effective_chat.id,
        f"{customer_line(customer)}\n" + _("Which one should be voided? Tap it (/cancel to stop)."),
        reply_markup=InlineKeyboardMarkup(buttons),
    )
    return PICK


def _label(e: CorrectableEntry, currency: str) -> str:
    """'25 Nov 14:02 · Purchase 25.50 GBP · +25 · #41' (a button label: plain text)."""
    when = day_time(e["created_at"])
    if e["kind"] == "earn" and e["amount"] is not None:
        what = _("Purchase {amount}").format(amount=html.unescape(money(e["amount"], currency)))
    elif e["reward_id"]:
        what = _("Reward {reward}").format(reward=e["reward_id"])
    else:
        what = _("Reward")
    change = f"+{number(e['points'])}" if e["points"] >= 0 else number(e["points"])
    return f"{when} · {what} · {change} · #{e['entry_id']}"


@requires("admin")
async def pick_entry(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State | None:
    """Shows the preview for the tapped entry; one of another card's is refused (forged)."""
    query = update.callback_query
    assert query is not None and query.data is not None and context.user_data is not None
    entry_id = _entry_id(query.data, PICK_PREFIX)
    if entry_id is None:
        await query.answer(_(texts.NO_LONGER_ACTIVE), show_alert=True)
        return None
    try:
        entry = await services(context).store.entry(entry_id)
    except LoyaltyError as exc:
        await query.answer(friendly_plain(exc), show_alert=True)
        return None
    if entry["customer_id"] != context.user_data.get(CUSTOMER_KEY):
        await query.answer(
            _("That entry isn't on this card. Pick one from the list."), show_alert=True
        )
        return None
    await query.answer()
    await _quietly_take_buttons_off(update)
    return await _preview(update, context, entry_id, reason=None)


@requires("cashier")
async def start_undo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State | None:
    """↩ Undo under a result: the cashier who recorded it (or an admin), within the window."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and query.data is not None and user is not None
    svc = services(context)
    entry_id = _entry_id(query.data, confirm.UNDO_PREFIX)
    if entry_id is None:
        await query.answer(_(texts.NO_LONGER_ACTIVE), show_alert=True)
        return None
    try:
        entry = await svc.store.entry(entry_id)
    except LoyaltyError as exc:
        await query.answer(friendly_plain(exc), show_alert=True)
        return None
    admin = at_least(await role_of(svc, user.id), "admin")
    if not admin and entry["actor_id"] != user.id:
        await query.answer(
            _("Only the cashier who recorded it, or an admin, can undo it."), show_alert=True
        )
        return None
    window = dt.timedelta(minutes=svc.config.corrections.undo_minutes)
    if not admin and svc.clock() - entry["created_at"] > window:
        await query.answer(
            ngettext(
                "Undo works for {n} minute after recording. Ask an admin to void it: "
                "/void #{entry}",
                "Undo works for {n} minutes after recording. Ask an admin to void it: "
                "/void #{entry}",
                svc.config.corrections.undo_minutes,
            ).format(n=svc.config.corrections.undo_minutes, entry=entry_id),
            show_alert=True,
        )
        return None
    await query.answer()
    confirm.drop(context)
    return await _preview(update, context, entry_id, reason=UNDO_REASON)


async def _preview(
    update: Update, context: ContextTypes.DEFAULT_TYPE, entry_id: int, *, reason: str | None
) -> flows.State:
    """'Void the purchase of 25.50 GBP (ref #41)? Takes back 25 points' with Confirm / Cancel."""
    assert update.effective_chat is not None
    svc = services(context)
    try:
        entry, quote = await svc.store.preview_void(entry_id, reason=reason)
        customer = await svc.store.get_customer(entry["customer_id"])
    except LoyaltyError as exc:
        await context.bot.send_message(update.effective_chat.id, friendly(exc))
        return flows.END
    buttons = confirm.remember(context, "void", VoidPreview(entry_id, reason))
    await context.bot.send_message(
        update.effective_chat.id,
        f"{customer_line(customer)}\n"
        + _("↩ Void {what} (ref #{entry})?").format(
            what=_what(entry, svc.config.program.currency), entry=entry_id
        )
        + f"\n{_effect(quote)}\n"
        + _("Balance {before} → {after}").format(
            before=number(quote["balance_before"]), after=number(quote["balance_after"])
        ),
        reply_markup=buttons,
    )
    return CONFIRM_UNDO if reason == UNDO_REASON else CONFIRM


def _what(entry: LedgerEntry, currency: str) -> str:
    when = day_time(entry["created_at"])
    if entry["kind"] == "earn" and entry["amount"] is not None:
        return _("the purchase of {amount} on {when}").format(
            amount=money(entry["amount"], currency), when=when
        )
    if entry["kind"] == "redeem":
        name = esc(str(entry["details"].get("reward_name", entry["reward_id"])))
        return _("the redemption of <b>{reward}</b> on {when}").format(reward=name, when=when)
    return _("{what} on {when}").format(what=a_kind(entry["kind"]), when=when)


def _effect(quote: CorrectionQuote) -> str:
    """What the void does to the card, in words, including points that become owed."""
    moved = quote["gross"]
    lines = [
        _("Takes back <b>{points}</b>.").format(points=points(-moved))
        if moved < 0
        else _("Gives back <b>{points}</b>.").format(points=points(moved))
    ]
    if quote["owed_added"]:
        lines.append(
            _(
                "The card holds only {balance}: {owed} will be owed, paid from the next purchases."
            ).format(balance=points(quote["balance_before"]), owed=points(quote["owed_added"]))
        )
    if quote["code"]:
        lines.append(
            _("Code <code>{code}</code> will no longer be valid.").format(code=esc(quote["code"]))
        )
    if quote["tier_after"] != quote["tier_before"]:
        lines.append(
            _("Tier: {before} → {after}.").format(
                before=esc(quote["tier_before"]), after=esc(quote["tier_after"])
            )
        )
    return "\n".join(lines)


async def record_void(
    context: ContextTypes.DEFAULT_TYPE,
    preview: VoidPreview,
    /,
    *,
    key: str,
    actor_id: int,
    tell: Tell[CorrectionResult],
) -> CorrectionResult:
    """Voids the entry once: the key makes a second Confirm a replay, and the store refuses a
    second void of the same entry (AlreadyReversed)."""
    svc = services(context)
    return await svc.store.void(
        preview.entry_id,
        actor_id=actor_id,
        now=svc.clock(),
        key=key,
        reason=preview.reason,
        tell=in_their_language(svc, tell, describe_correction),
    )


def _entry_id(data: str | None, prefix: str) -> int | None:
    """The entry id at the end of a button's data; None for anything else (forged, or empty:
    PTB lets empty data past a pattern)."""
    rest = (data or "").removeprefix(prefix)
    return (
        int(rest)
        if (data or "").startswith(prefix) and rest.isdigit() and len(rest) <= 12
        else None
    )


def friendly_plain(exc: LoyaltyError) -> str:
    """The same one-line refusal as everywhere (bot/replies.py), for a popup: popups are plain
    text, so the HTML escaping is undone."""
    return html.unescape(friendly(exc))


async def _quietly_take_buttons_off(update: Update) -> None:
    query = update.callback_query
    if query is not None:
        await confirm.quietly(query.edit_message_reply_markup(None), "take the buttons off")


def conversation() -> ConversationHandler:  # type: ignore[type-arg]
    text = filters.TEXT & ~filters.COMMAND
    return flows.conversation(
        name="void",
        entry=[
            CommandHandler("void", start_void),
            # A button, not a command: it must stop here, or the "no longer active" answer for
            # unknown buttons (last group) would answer it too.
            CallbackQueryHandler(flows.step(start_undo), pattern=UNDO_PATTERN),
        ],
        states={
            ASK_CUSTOMER: [MessageHandler(text, got_customer)],
            PICK: [CallbackQueryHandler(pick_entry, pattern=PICK_PATTERN)],
            CONFIRM: confirm.handlers(
                "void", record_void, describe_correction, popup=VOIDED, role="admin"
            ),
            CONFIRM_UNDO: confirm.handlers("void", record_void, describe_correction, popup=VOIDED),
        },
        preview_kind="void",
    )
