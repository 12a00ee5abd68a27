"""/campaigns: the offers running now and the ones coming next (everyone; admins see all).

    /campaigns -> "Running now" and "Coming up", each campaign with its days, hours and effect

Customers (and anyone not on the staff) see the public campaigns; admins also see those marked
`public = false`, tagged "(staff only)". Rules: core/campaigns.py schedule; the campaigns come
from [[campaigns]] in the config, on [reports] timezone's clock.
"""

from __future__ import annotations

import datetime as dt

from telegram import Update
from telegram.ext import ContextTypes

from core import campaigns
from core.types import Campaign

from ..format import esc, money
from ..roles import role_of
from ..services import services

NONE_RUNNING = "No offers are running or planned just now. Check again soon!"
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


async def campaigns_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Lists what is on now and what starts next, for the asker's role."""
    assert update.effective_user is not None and update.effective_message is not None
    svc = services(context)
    admin = await role_of(svc, update.effective_user.id) == "admin"
    program = svc.config.program
    listed = campaigns.schedule(program.campaigns, svc.clock(), program.timezone, everything=admin)
    if not listed:
        await update.effective_message.reply_text(NONE_RUNNING)
        return
    now = [item for item in listed if item.on_now]
    later = [item for item in listed if not item.on_now]
    lines: list[str] = []
    if now:
        lines += ["<b>Running now</b>", *(_line(i.campaign, program.currency) for i in now)]
    if later:
        lines += ["", "<b>Coming up</b>"] if now else ["<b>Coming up</b>"]
        lines += [_line(i.campaign, program.currency, i.next_start) for i in later]
    await update.effective_message.reply_text("\n".join(lines))


def _line(c: Campaign, currency: str, starts: dt.datetime | None = None) -> str:
    """'• Double Tuesday: ×2 points · Tue 10:00–14:00 · until 31 Dec 2026'."""
    parts = [_effect(c, currency), *_when(c)]
    if starts is not None:
        parts.append(f"next from {starts:%a %d %b %H:%M}")
    staff_only = "" if c.public else " (staff only)"
    return f"• <b>{esc(c.name)}</b>{staff_only}: {' · '.join(parts)}"


def _effect(c: Campaign, currency: str) -> str:
    if c.multiplier is not None:
        return f"×{c.multiplier} points"
    if c.bill_bonus:
        steps = ", ".join(
            f"+{level.points:,} from {money(level.bill, currency)}" for level in c.bill_bonus
        )
        return f"bonus points on a bigger bill ({steps})"
    return f"+{c.first_purchase_bonus:,} points on your first purchase"


def _when(c: Campaign) -> list[str]:
    when: list[str] = []
    if c.weekdays:
        when.append(", ".join(_DAYS[d] for d in sorted(c.weekdays)))
    if c.hours is not None:
        when.append(f"{c.hours[0]:%H:%M}–{c.hours[1]:%H:%M}")
    if c.end is not None:
        when.append(f"until {c.end:%d %b %Y}")
    return when
