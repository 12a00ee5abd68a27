"""A loyalty card as the bot shows it: balance, tier, progress, rewards, recent entries.

Drawn for /status (bot/handlers/status.py) and right after linking (bot/handlers/link.py).
Rules: core/rules.py tier_progress, reward_options.
"""

from __future__ import annotations

from telegram import Message, ReplyKeyboardRemove

from core import rules
from core.contact import mask_phone
from core.types import Customer, LedgerEntry, Program

from .format import customer_line, entry_lines, esc, points, split_message
from .services import Services

RECENT = 5  # ledger entries shown on a card


def render_card(
    customer: Customer, entries: list[LedgerEntry], program: Program, *, for_staff: bool
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
    progress = rules.tier_progress(customer["lifetime_earned"], program.tiers)
    lines.append(f"Balance: <b>{points(customer['balance'])}</b> · {esc(progress['tier'])}")
    if progress["next_tier"] is not None and progress["points_to_next"] is not None:
        lines.append(f"{points(progress['points_to_next'])} to {esc(progress['next_tier'])}")
    else:
        lines.append("Top tier 🏆")
    lines.extend(_reward_lines(customer["balance"], program))
    lines.append("")
    if entries:
        lines.append("<b>Recent</b>")
        lines.extend(entry_lines(entries, program.currency))
    else:
        lines.append("No activity yet.")
    return "\n".join(lines)


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
    return render_card(customer, entries, svc.config.program, for_staff=for_staff)


async def send_card(message: Message, text: str, *, remove_keyboard: bool = False) -> None:
    """Sends a card, split if a long one would pass Telegram's 4096 characters."""
    for i, chunk in enumerate(split_message(text)):
        markup = ReplyKeyboardRemove() if remove_keyboard and i == 0 else None
        await message.reply_text(chunk, reply_markup=markup)
