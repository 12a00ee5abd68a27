"""/audit: who did what, when (admins only; issue "Mistakes happen").

    /audit                          the newest 20 records
    /audit <card or phone>          that customer's records
    /audit staff <telegram id>      what that staff member did
    /audit <period>                 7d, 2026-11, 2026-11-01..2026-11-30, today, all (the periods
                                    of /report: core/reports/periods.py)
    /audit csv [any of the above]   the same as a CSV document
    [📄 CSV] under the lines        the same as a CSV document

One line per record, newest first: the time in the shop's time zone, who, what, which card, the
ledger entry (#id) and the details (points, amounts, the reason...), split to Telegram's 4096
characters. A filter shows up to core.reports.audit.TEXT_LIMIT lines and says when there are
more; the CSV holds up to CSV_LIMIT. Neither holds phone numbers or e-mails: a customer is
named by card number, and the records never hold contact details (core/db/audit.py).

The CSV button carries "aud:csv:<which>" (PATTERN): "n" (no filter), "c<customer id>",
"s<telegram id>" or "p<period key>", never a phone number. Button data can be forged, so a press
re-checks "admin" and reads the filter again; a period that no longer parses gets one line.
The lines themselves: core/reports/audit.py (shared with `loyalty-bot audit`, which stays in
English). Here everything is written in the admin's language: the replies, the filter's label
(a period too: core names periods in English) and the lines' words and numbers (WORDS).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Final

from babel.dates import format_date
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from core.errors import InvalidPeriod, LoyaltyError, UnknownCustomer
from core.marks import Words
from core.reports.audit import (
    CSV_LIMIT,
    NEWEST,
    TEXT_LIMIT,
    AuditFilter,
    audit_csv,
    read_trail,
    text_lines,
)
from core.reports.periods import Period, parse_period

from .. import i18n
from ..format import card, esc, split_message
from ..format import number as grouped
from ..i18n import N_, _, ngettext
from ..replies import friendly
from ..roles import requires
from ..services import Services, services

PATTERN: Final = r"^aud:csv:(n|c[0-9]{1,12}|s[0-9]{1,16}|p[0-9a-z.-]{1,24})$"
_DATA: Final = re.compile(PATTERN)
_ID: Final = re.compile(r"[0-9]{1,16}")
# A reference that only a period could be: "2026-13", "2026-10-01..x", "7x" (letters).
_PERIOD_LIKE: Final = re.compile(r"\d{4}-.*|.*[a-z].*", re.IGNORECASE)
USAGE: Final = N_(
    "Send /audit, <code>/audit 4821 3379</code> (a card or phone), "
    "<code>/audit staff 123456789</code> or <code>/audit 2026-11</code> (a period); put "
    "<code>csv</code> after /audit for a file."
)
BAD_BUTTON: Final = N_("That audit button is not valid. Send /audit to start again.")
# The lines' words in the language of the update being answered (bot/i18n.py reads it per call).
WORDS: Final = Words(gettext=_, ngettext=ngettext)


@dataclass(frozen=True)
class Which:
    """A filter as typed or pressed: what to read, and how to ask for it again (the button)."""

    filter: AuditFilter
    key: str  # "n", "c12", "s2002", "p2026-10"
    file_part: str  # in the CSV's file name


@requires("admin")
async def audit_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The newest records, or those of a card, a staff member or a period; `csv` for a file."""
    assert update.effective_message is not None and update.effective_chat is not None
    words = list(context.args or [])
    as_csv = bool(words) and words[0].lower() == "csv"
    if as_csv:
        words = words[1:]
    try:
        which = await _typed(services(context), words, as_csv=as_csv)
    except LoyaltyError as exc:
        await update.effective_message.reply_text(f"{friendly(exc)}\n{_(USAGE)}")
        return
    if which is None:
        await update.effective_message.reply_text(_(USAGE))
    elif as_csv:
        await _send_csv(context, update.effective_chat.id, which)
    else:
        await _send_lines(context, update.effective_chat.id, which)


@requires("admin")
async def csv_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """📄 CSV under the lines: the same records as a document."""
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    match = _DATA.fullmatch(query.data or "")
    assert match is not None  # the handler's pattern is PATTERN
    try:
        which = await _pressed(services(context), match[1])
    except LoyaltyError:  # a forged period or customer: nothing to send
        await query.answer(_(BAD_BUTTON), show_alert=True)
        return
    await query.answer(_("Preparing the file…"))
    await _send_csv(context, update.effective_chat.id, which)


# --- which records ---------------------------------------------------------------------------


async def _typed(svc: Services, words: list[str], *, as_csv: bool) -> Which | None:
    """The filter typed after /audit (None: not one we read). Raises what a reply explains."""
    if not words:
        return _everything(newest=not as_csv)
    if words[0].lower() == "staff":
        user_id = int(words[1]) if len(words) == 2 and _ID.fullmatch(words[1]) else 0
        return await _staff(svc, user_id) if user_id else None
    text = " ".join(words)
    try:
        return _period(svc, text)
    except InvalidPeriod as exc:
        not_a_period = exc
    try:
        customer = await svc.store.find_customer(text)
    except UnknownCustomer:  # a well-formed number: that is what was meant
        raise
    except LoyaltyError:
        # Neither reads: explain the one it looks like ("2026-13", "7x" are periods).
        if _PERIOD_LIKE.fullmatch(text):
            raise not_a_period from None
        raise
    return _customer(customer["id"], customer["card_number"])


async def _pressed(svc: Services, key: str) -> Which:
    """The filter a CSV button carries, read again (UnknownCustomer, InvalidPeriod if forged)."""
    if key == "n":
        return _everything(newest=False)
    if key[0] == "c":
        customer = await svc.store.get_customer(int(key[1:]))
        return _customer(customer["id"], customer["card_number"])
    if key[0] == "s":
        return await _staff(svc, int(key[1:]))
    return _period(svc, key[1:])


def _everything(*, newest: bool) -> Which:
    """No filter: the newest few in chat, every record (up to CSV_LIMIT) in a file."""
    newest_records = ngettext("the newest {n} record", "the newest {n} records", NEWEST)
    label = newest_records.format(n=NEWEST) if newest else _("every record")
    return Which(AuditFilter(label), "n", "")


def _customer(customer_id: int, number: str) -> Which:
    return Which(
        AuditFilter(_("card {card}").format(card=card(number)), customer_id=customer_id),
        f"c{customer_id}",
        f"-card-{number}",
    )


async def _staff(svc: Services, user_id: int) -> Which:
    names = {m["telegram_user_id"]: m["name"] for m in await svc.staff.members()}
    name = names.get(user_id)
    who = f"{name} ({user_id})" if name else str(user_id)
    label = _("by {who}").format(who=who)
    return Which(AuditFilter(label, actor_id=user_id), f"s{user_id}", f"-staff-{user_id}")


def _period(svc: Services, text: str) -> Which:
    period = parse_period(text, now=svc.clock(), tz=svc.config.reports.tzinfo)
    return Which(
        AuditFilter(period_label(period), since=period.start, until=period.end),
        f"p{period.key}",
        f"-{period.key.replace('..', '_to_')}",
    )


def period_label(period: Period) -> str:
    """The period's name in the reader's language: "last 7 days", "octubre de 2026",
    "1 окт. – 31 окт. 2026 г." (English: core's own label)."""
    language = i18n.current()
    if language == i18n.SOURCE:
        return period.label
    if period.key == "all":
        return _("all time")
    if period.key.endswith("d") and period.key[:-1].isdigit():
        days = int(period.key[:-1])
        if days == 1:
            return _("last 24 hours")
        return ngettext("last {n} day", "last {n} days", days).format(n=days)
    first = period.start.astimezone(period.tz).date()
    last = period.end.astimezone(period.tz).date() - dt.timedelta(days=1)
    if len(period.key) == 7:  # "2026-10": a month
        return format_date(first, "LLLL y", locale=language)
    if first == last:
        return format_date(first, "d MMM y", locale=language)
    return f"{format_date(first, 'd MMM', locale=language)} – " + format_date(
        last, "d MMM y", locale=language
    )


# --- sending -----------------------------------------------------------------------------------


async def _send_lines(context: ContextTypes.DEFAULT_TYPE, chat_id: int, which: Which) -> None:
    """A heading, one line per record, and the CSV button under the last message."""
    svc = services(context)
    limit = TEXT_LIMIT if which.filter.narrowed else NEWEST
    lines, more = await read_trail(
        svc.store,
        which.filter,
        limit=limit,
        tz=svc.config.reports.tzinfo,
        words=WORDS,
        number=grouped,
    )
    heading = _("🧾 <b>Audit trail</b> · {filter} · newest first")
    text = [heading.format(filter=esc(which.filter.label))]
    text += text_lines(lines, html=True, words=WORDS) or [_("No records.")]
    if more:
        only = ngettext(
            "Only the newest {n} is shown here; 📄 CSV has up to {most}.",
            "Only the newest {n} are shown here; 📄 CSV has up to {most}.",
            limit,
        )
        text.append(only.format(n=grouped(limit), most=grouped(CSV_LIMIT)))
    button = InlineKeyboardMarkup(
        [[InlineKeyboardButton("📄 CSV", callback_data=f"aud:csv:{which.key}")]]
    )
    chunks = split_message("\n".join(text))
    for number, chunk in enumerate(chunks, start=1):
        markup = button if lines and number == len(chunks) else None
        await context.bot.send_message(chat_id, chunk, reply_markup=markup)


async def _send_csv(context: ContextTypes.DEFAULT_TYPE, chat_id: int, which: Which) -> None:
    """The records as a spreadsheet: no phone numbers or e-mails, formula-safe cells."""
    svc = services(context)
    lines, more = await read_trail(
        svc.store,
        which.filter,
        limit=CSV_LIMIT,
        tz=svc.config.reports.tzinfo,
        words=WORDS,
        number=grouped,
    )
    caption = _("🧾 Audit trail · {filter}").format(filter=esc(which.filter.label))
    if more:
        newest = ngettext("the newest {n} record", "the newest {n} records", CSV_LIMIT)
        caption += " · " + newest.format(n=grouped(CSV_LIMIT))
    await context.bot.send_document(
        chat_id,
        audit_csv(lines),
        filename=f"loyalty-audit{which.file_part}.csv",
        caption=caption,
    )
