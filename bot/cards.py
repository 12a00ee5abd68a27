"""A loyalty card as the bot shows it: balance, tier, progress, rewards, recent entries.

Drawn for /status (bot/handlers/status.py) and right after linking (bot/handlers/link.py).
Rules: core/tiers.py progress (the tier policy), core/rules.py reward_options.
"""

from __future__ import annotations

import datetime as dt

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, ReplyKeyboardRemove

from core import rules, tiers
from core.contact import mask_phone
from core.types import Customer, LedgerEntry, Program

from . import expiry
from .flows import go_data
from .format import customer_line, entry_lines, esc, points, split_message
from .services import Services

RECENT = 5  # ledger entries shown on a card


def render_card(
    customer: Customer,
    entries: list[LedgerEntry],
    program: Program,
    *,
    for_staff: bool,
    standing: tiers.Standing | None = None,
    expiring: str | None = None,
) -> str:
    """The card as HTML: balance, tier, next tier, rewards affordable now, recent entries.

    Staff also see the masked phone, so they can confirm who is at the till without the whole
    number being on screen.
    """
    lines = [f"💳 {customer_line(customer)}"]
    if for_staff:
        # None once the customer was forgotten (/forget): their card works without a name.
        phone = customer["phone"]
        lines.append(f"Phone: {mask_phone(phone) if phone else '— (forgotten)'}")
    if standing is None:  # the lifetime basis needs no dated credits
        standing = tiers.standing_of(customer, dt.date.min)
    progress = tiers.progress(standing, program)
    tier = esc(progress["tier"]) + (" (set by the shop)" if progress["pinned"] else "")
    lines.append(f"Balance: <b>{points(customer['balance'])}</b> · {tier}")
    if for_staff and progress["pinned"]:
        why = customer.get("pinned_reason") or ""
        lines.append(f"📌 Tier pinned by an admin: {esc(why)}" if why else "📌 Tier pinned")
    if expiring is not None:
        lines.append(expiring)  # "⏳ 120 points expire on 31 Jan" (bot/expiry.py)
    lines.extend(_progress_lines(progress))
    lines.extend(_reward_lines(customer["balance"], program))
    lines.append("")
    if entries:
        lines.append("<b>Recent</b>")
        lines.extend(entry_lines(entries, program.currency))
    else:
        lines.append("No activity yet.")
    return "\n".join(lines)


def _progress_lines(progress: tiers.Progress) -> list[str]:
    """The way to the next tier in what the customer can see: the points that count and over
    what period, never a total shown nowhere else (in reset mode the balance says 0)."""
    counted = f"{points(progress['counted_points'])} earned {progress['counted']}"
    until = progress["held_until"]
    held = f"{esc(progress['tier'])} until {until:%-d %b %Y}" if until is not None else ""
    nxt, to_next = progress["next_tier"], progress["points_to_next"]
    if nxt is None or to_next is None:
        return [f"{counted} · top tier 🏆" + (f" ({held})" if held else "")]
    if progress["goal"] == "keep":
        return [f"{counted} · {to_next:,} more this year to keep {esc(nxt)} ({held})"]
    more = f"{to_next:,} more" + (" this year" if progress["counted"] == "this year" else "")
    return [f"{counted} · {more} to {esc(nxt)}" + (f" ({held})" if held else "")]


def _reward_lines(balance: int, program: Program) -> list[str]:
    options = rules.reward_options(balance, program)
    if not options:
        return []  # a program running points before it has decided on rewards
    affordable = [o for o in options if o["affordable"]]
    if affordable:
        names = ", ".join(f"{esc(o['name'])} ({o['cost']:,})" for o in affordable)
        return [f"Rewards available now: {names}"]
    cheapest = options[0]  # options come cheapest first
    return [f"Next reward: {esc(cheapest['name'])}, {points(cheapest['shortfall'])} to go"]


async def card_text(svc: Services, customer: Customer, *, for_staff: bool) -> str:
    """The rendered card with its newest entries, their times in the shop's time zone."""
    tz = svc.config.reports.tzinfo
    entries = []
    for entry in await svc.store.recent_entries(customer["id"], RECENT):
        local = entry.copy()
        local["created_at"] = entry["created_at"].astimezone(tz)
        entries.append(local)
    standing = await svc.store.standing(customer, svc.clock())
    expiring = await expiry.status_line(svc, customer)
    return render_card(
        customer,
        entries,
        svc.config.program,
        for_staff=for_staff,
        standing=standing,
        expiring=expiring,
    )


async def send_card(
    message: Message,
    text: str,
    *,
    remove_keyboard: bool = False,
    buttons: InlineKeyboardMarkup | None = None,
) -> None:
    """Sends a card, split if a long one would pass Telegram's 4096 characters; `buttons` go
    under its last part."""
    chunks = split_message(text)
    for i, chunk in enumerate(chunks):
        markup: ReplyKeyboardRemove | InlineKeyboardMarkup | None = None
        if remove_keyboard and i == 0:
            markup = ReplyKeyboardRemove()
        elif i == len(chunks) - 1:
            markup = buttons
        await message.reply_text(chunk, reply_markup=markup)


def staff_buttons(customer: Customer) -> InlineKeyboardMarkup:
    """Under a card staff opened (a scanned QR code, /find, /status): one tap to act on it.
    Each press is role-checked again and reads the customer afresh (bot/flows.py, `go:`)."""
    cid = customer["id"]
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("➕ Earn", callback_data=go_data("earn", cid)),
                InlineKeyboardButton("🎁 Redeem", callback_data=go_data("redeem", cid)),
                InlineKeyboardButton("🔄 Status", callback_data=go_data("status", cid)),
            ]
        ]
    )
