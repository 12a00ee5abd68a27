"""/campaigns: the offers running now and the ones coming next (everyone; admins see all).

    /campaigns -> "Running now" and "Coming up", each campaign with its days, hours and effect

Customers (and anyone not on the staff) see the public campaigns; admins also see those marked
`public = false`, tagged "(staff only)". Rules: core/campaigns.py schedule; the campaigns come
from [[campaigns]] in the config, on [reports] timezone's clock.
"""

from __future__ import annotations

import datetime as dt

from babel.dates import get_day_names
from telegram import Update
from telegram.ext import ContextTypes

from core import campaigns
from core.types import Campaign

from .. import i18n
from ..format import date, esc, money, number, weekday_time
from ..i18n import N_, _, ngettext
from ..roles import role_of
from ..services import services

NONE_RUNNING = N_("No offers are running or planned just now. Check again soon!")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # English; CLDR's for the others


async def campaigns_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Lists what is on now and what starts next, for the asker's role."""
    assert update.effective_user is not None and update.effective_message is not None
    svc = services(context)
    admin = await role_of(svc, update.effective_user.id) == "admin"
    program = svc.config.program
    listed = campaigns.schedule(program.campaigns, svc.clock(), program.timezone, everything=admin)
    if not listed:
        await update.effective_message.reply_text(_(NONE_RUNNING))
        return
    now = [item for item in listed if item.on_now]
    later = [item for item in listed if not item.on_now]
    lines: list[str] = []
    if now:
        lines += [_("<b>Running now</b>"), *(_line(i.campaign, program.currency) for i in now)]
    if later:
        lines += ["", _("<b>Coming up</b>")] if now else [_("<b>Coming up</b>")]
        lines += [_line(i.campaign, program.currency, i.next_start) for i in later]
    await update.effective_message.reply_text("\n".join(lines))


def _line(c: Campaign, currency: str, starts: dt.datetime | None = None) -> str:
    """'• Double Tuesday: ×2 points · Tue 10:00–14:00 · until 31 Dec 2026'."""
    parts = [_effect(c, currency), *_when(c)]
    if starts is not None:
        parts.append(_("next from {when}").format(when=weekday_time(starts)))
    staff_only = "" if c.public else " " + _("(staff only)")
    return f"• <b>{esc(c.name)}</b>{staff_only}: {' · '.join(parts)}"


def _effect(c: Campaign, currency: str) -> str:
    if c.multiplier is not None:
        return _("×{multiplier} points").format(multiplier=c.multiplier)
    if c.bill_bonus:
        steps = ", ".join(
            _("+{points} from {bill}").format(
                points=number(level.points), bill=money(level.bill, currency)
            )
            for level in c.bill_bonus
        )
        return _("bonus points on a bigger bill ({steps})").format(steps=steps)
    return ngettext(
        "+{points} point on your first purchase",
        "+{points} points on your first purchase",
        c.first_purchase_bonus,
    ).format(points=number(c.first_purchase_bonus))


def _when(c: Campaign) -> list[str]:
    when: list[str] = []
    if c.weekdays:
        when.append(", ".join(_day(d) for d in sorted(c.weekdays)))
    if c.hours is not None:
        when.append(f"{c.hours[0]:%H:%M}–{c.hours[1]:%H:%M}")
    if c.end is not None:
        when.append(_("until {day}").format(day=date(c.end)))
    return when


def _day(weekday: int) -> str:
    """'Tue' (0 is Monday), the reader's way: 'mar', 'вт'."""
    language = i18n.current()
    if language == i18n.SOURCE:
        return _DAYS[weekday]
    return str(get_day_names("abbreviated", locale=language)[weekday])
