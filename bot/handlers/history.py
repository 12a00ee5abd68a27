"""/history: every entry of a card, newest first, a page at a time; /rewards: the catalogue.

    customer: /history -> their own entries, PAGE a page, [◀ Prev] [Next ▶]
    staff:    /history <card or phone> -> that card's entries, the same way
    /rewards  -> every reward, cheapest first; a linked customer (or the card staff name:
                 /rewards <card or phone>) sees which they can have now and what is missing

Button data is `hist:<customer id>:<o|n>:<entry id>` (older than / newer than that entry), so
a page is one range of the (customer_id, id) index (core/db/finding.py). The data is the
client's to choose: every press is checked again, and a customer only ever gets pages of
their own card (a forged id gets the same popup as an old button, nothing more).
"""

from __future__ import annotations

import re
from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from core import rules
from core.db import finding
from core.errors import LoyaltyError
from core.types import Customer, LedgerEntry

from .. import confirm, texts
from ..format import customer_line, entry_lines, esc, number, points
from ..i18n import N_, _
from ..replies import friendly
from ..roles import role_of
from ..services import Services, services

PAGE: Final = 10
PATTERN: Final = r"^hist:\d{1,12}:[on]:\d{1,19}$"
_DATA = re.compile(r"hist:(\d{1,12}):([on]):(\d{1,19})")

NOT_LINKED = N_(
    "Your Telegram account isn't linked to a loyalty card yet. Send /start and tap "
    "<b>Share my phone number</b> to link it."
)
ONLY_YOURS = N_("You can only see your own history. Send /history on its own to see it.")
STAFF_ASK = N_(
    "Whose history? Send <code>/history</code> with their card or phone number, e.g. "
    "<code>/history 4821 3379</code>."
)


# --- /history ------------------------------------------------------------------------------


async def history_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Shows the newest page of the sender's own history, or (staff) of the card they name."""
    assert update.effective_user is not None and update.effective_message is not None
    confirm.drop(context)
    svc = services(context)
    reference = " ".join(context.args or []).strip()
    if await role_of(svc, update.effective_user.id) == "customer":
        if reference:  # refused before any lookup: the same answer whoever that would be
            await update.effective_message.reply_text(_(ONLY_YOURS))
            return
        customer = await svc.store.customer_by_telegram(update.effective_user.id)
        if customer is None:
            await update.effective_message.reply_text(_(NOT_LINKED))
            return
    else:
        if not reference:
            await update.effective_message.reply_text(_(STAFF_ASK))
            return
        try:
            customer = await svc.store.find_customer(reference)
        except LoyaltyError as exc:
            await update.effective_message.reply_text(friendly(exc))
            return
    text, buttons = await _page(svc, customer, "o", finding.NEWEST)
    await update.effective_message.reply_text(text, reply_markup=buttons)


async def history_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """◀ Prev / Next ▶: the next page, in place, if the presser may see that card."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    match = _DATA.fullmatch(query.data or "")
    svc = services(context)
    customer: Customer | None = None
    if match is not None:
        customer_id = int(match[1])
        if await role_of(svc, user.id) == "customer":
            own = await svc.store.customer_by_telegram(user.id)
            customer = own if own is not None and own["id"] == customer_id else None
        else:
            try:
                customer = await svc.store.get_customer(customer_id)
            except LoyaltyError:
                customer = None
    if match is None or customer is None:
        await query.answer(_(texts.NO_LONGER_ACTIVE), show_alert=True)
        return
    text, buttons = await _page(svc, customer, match[2], min(int(match[3]), finding.NEWEST))
    await query.answer()
    await query.edit_message_text(text, reply_markup=buttons)


async def _page(
    svc: Services, customer: Customer, direction: str, entry_id: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of the card's history, and the buttons to the pages either side of it."""
    unit, cid = svc.store.unit, customer["id"]
    if direction == "o":  # older than entry_id: the newest page when entry_id is NEWEST
        found = await unit.read(finding.older, cid, entry_id, PAGE + 1)
        entries, has_older, has_newer = found[:PAGE], len(found) > PAGE, entry_id != finding.NEWEST
    else:
        found = await unit.read(finding.newer, cid, entry_id, PAGE + 1)
        entries, has_older, has_newer = found[-PAGE:], True, len(found) > PAGE
    header = _("📜 <b>History</b> · {customer}\nNewest first.").format(
        customer=customer_line(customer)
    )
    if not entries:
        return header + "\n" + _("No activity yet."), None
    corrections = await unit.read(finding.corrections_of, [e["id"] for e in entries])
    lines = _lines(svc, entries, corrections)
    nav = []
    if has_newer:
        nav.append(
            InlineKeyboardButton(_("◀ Prev"), callback_data=f"hist:{cid}:n:{entries[0]['id']}")
        )
    if has_older:
        nav.append(
            InlineKeyboardButton(_("Next ▶"), callback_data=f"hist:{cid}:o:{entries[-1]['id']}")
        )
    return "\n".join([header, *lines]), InlineKeyboardMarkup([nav]) if nav else None


def _lines(svc: Services, entries: list[LedgerEntry], corrections: list[LedgerEntry]) -> list[str]:
    """Each entry's line in the shop's time zone, marked voided or refunded by its corrections
    wherever they are in the history, with its reason when it has one."""
    tz = svc.config.reports.tzinfo
    shown = {e["id"] for e in entries}
    local = []  # a correction on this page too is counted once (a refund's amount adds up)
    for entry in [*entries, *(c for c in corrections if c["id"] not in shown)]:
        copy = entry.copy()
        copy["created_at"] = entry["created_at"].astimezone(tz)
        local.append(copy)
    lines = entry_lines(local, svc.config.program.currency)[: len(entries)]
    return [
        line + (f" · “{esc(e['note'])}”" if e["note"] and e["kind"] != "adjust" else "")
        for line, e in zip(lines, entries, strict=True)
    ]


# --- /rewards ------------------------------------------------------------------------------


async def rewards_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The rewards, cheapest first, marked with what the card can have now."""
    assert update.effective_user is not None and update.effective_message is not None
    confirm.drop(context)
    svc = services(context)
    reference = " ".join(context.args or []).strip()
    customer: Customer | None
    if await role_of(svc, update.effective_user.id) == "customer":
        if reference:
            await update.effective_message.reply_text(
                _("Send /rewards on its own: it shows what your own card can have.")
            )
            return
        customer = await svc.store.customer_by_telegram(update.effective_user.id)
        tail = (
            "" if customer else "\n" + _("Link your card (/start) to see which you can have now.")
        )
    elif reference:
        try:
            customer = await svc.store.find_customer(reference)
        except LoyaltyError as exc:
            await update.effective_message.reply_text(friendly(exc))
            return
        tail = ""
    else:
        customer = None
        tail = "\n" + _("For one customer: <code>/rewards 4821 3379</code>.")
    await update.effective_message.reply_text(_catalogue(svc, customer) + tail)


def _catalogue(svc: Services, customer: Customer | None) -> str:
    options = rules.reward_options(customer["balance"] if customer else 0, svc.config.program)
    if not options:
        return _("There are no rewards yet.")
    if customer is None:
        lines = [_("🎁 <b>Rewards</b>")]
        lines += [f"• {esc(o['name'])} · {points(o['cost'])}" for o in options]
        return "\n".join(lines)
    lines = [_("🎁 <b>Rewards</b> · {customer}").format(customer=customer_line(customer))]
    lines.append(_("Balance: <b>{points}</b>").format(points=points(customer["balance"])))
    for o in options:
        reward = f"{esc(o['name'])} · {points(o['cost'])}"
        if o["affordable"]:
            lines.append(_("✅ {reward} · can have it now").format(reward=reward))
        else:
            lines.append(
                _("• {reward} · {n} to go").format(reward=reward, n=number(o["shortfall"]))
            )
    return "\n".join(lines)
