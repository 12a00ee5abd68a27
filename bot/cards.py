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

from . import expiry, i18n
from .flows import go_data
from .format import customer_line, date, entry_lines, esc, number, points, split_message
from .i18n import N_, _
from .services import Services

RECENT = 5  # ledger entries shown on a card
# What the points toward the next tier are counted over (core/tiers.py Progress "counted").
_COUNTED = {
    "in all": N_("{points} earned in all"),
    "in the last 365 days": N_("{points} earned in the last 365 days"),
    "this year": N_("{points} earned this year"),
}


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
        shown = mask_phone(phone) if phone else _("— (forgotten)")
        lines.append(_("Phone: {phone}").format(phone=shown))
    if standing is None:  # the lifetime basis needs no dated credits
        standing = tiers.standing_of(customer, dt.date.min)
    progress = tiers.progress(standing, program)
    tier = esc(progress["tier"]) + (" " + _("(set by the shop)") if progress["pinned"] else "")
    lines.append(
        _("Balance: <b>{points}</b> · {tier}").format(points=points(customer["balance"]), tier=tier)
    )
    if for_staff and progress["pinned"]:
        why = customer.get("pinned_reason") or ""
        lines.append(
            _("📌 Tier pinned by an admin: {reason}").format(reason=esc(why))
            if why
            else _("📌 Tier pinned")
        )
    if expiring is not None:
        lines.append(expiring)  # "⏳ 120 points expire on 31 Jan" (bot/expiry.py)
    lines.extend(_progress_lines(progress))
    lines.extend(_reward_lines(customer["balance"], program))
    lines.append("")
    if entries:
        lines.append(_("<b>Recent</b>"))
        lines.extend(entry_lines(entries, program.currency))
    else:
        lines.append(_("No activity yet."))
    return "\n".join(lines)


def _progress_lines(progress: tiers.Progress) -> list[str]:
    """The way to the next tier in what the customer can see: the points that count and over
    what period, never a total shown nowhere else (in reset mode the balance says 0)."""
    counted = _(_COUNTED[progress["counted"]]).format(points=points(progress["counted_points"]))
    until = progress["held_until"]
    held = (
        _("{tier} until {date}").format(tier=esc(progress["tier"]), date=_day(until))
        if until is not None
        else ""
    )
    in_brackets = f" ({held})" if held else ""
    nxt, to_next = progress["next_tier"], progress["points_to_next"]
    if nxt is None or to_next is None:
        return [f"{counted} · " + _("top tier 🏆") + in_brackets]
    if progress["goal"] == "keep":
        keep = _("{n} more this year to keep {tier}").format(n=number(to_next), tier=esc(nxt))
        return [f"{counted} · {keep} ({held})"]
    more = (
        _("{n} more this year to {tier}")
        if progress["counted"] == "this year"
        else _("{n} more to {tier}")
    ).format(n=number(to_next), tier=esc(nxt))
    return [f"{counted} · {more}{in_brackets}"]


def _day(day: dt.date) -> str:
    """'5 Mar 2027' (no leading zero in English, as the card always wrote it)."""
    return f"{day:%-d %b %Y}" if i18n.current() == i18n.SOURCE else date(day)


def _reward_lines(balance: int, program: Program) -> list[str]:
    options = rules.reward_options(balance, program)
    if not options:
        return []  # a program running points before it has decided on rewards
    affordable = [o for o in options if o["affordable"]]
    if affordable:
        names = ", ".join(f"{esc(o['name'])} ({number(o['cost'])})" for o in affordable)
        return [_("Rewards available now: {names}").format(names=names)]
    cheapest = options[0]  # options come cheapest first
    return [
        _("Next reward: {reward}, {points} to go").format(
            reward=esc(cheapest["name"]), points=points(cheapest["shortfall"])
        )
    ]


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
                InlineKeyboardButton(_("➕ Earn"), callback_data=go_data("earn", cid)),
                InlineKeyboardButton(_("🎁 Redeem"), callback_data=go_data("redeem", cid)),
                InlineKeyboardButton(_("🔄 Status"), callback_data=go_data("status", cid)),
            ]
        ]
    )
