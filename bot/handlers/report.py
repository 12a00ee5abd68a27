"""/report: how the loyalty program is doing, for admins (issues "Conversations" and "Reports").

    /report                     the Summary of the last 30 days, with buttons under it
    /report 7d | 2026-10 | 2026-10-01..2026-10-31 | all       another period
    [Summary] [Customers] [Rewards] [Staff]        another section, same period
    [7 days] [30 days] [All time] / [this month] [last month]   another period, same section
    [📈 Charts] [📄 CSV]         three PNG charts; the CSV exports (contacts only when asked)

Every button carries "rep:<what>[.<page>]:<period key>" (PATTERN). Button data comes from the
client and can be forged, so every press re-checks that the presser is an admin (@requires) and
reads the period key again with parse_period: a bad one gets one line and nothing is sent.
A section that fits one message replaces the message pressed (editMessageText); a longer one
comes as new messages, with the buttons under the last.

The figures and their texts are core/reports (docs/reports.md defines each one); this module
picks what to show and sends it. Diagram: docs/diagrams/report.mmd.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import logging
import re
from collections.abc import AsyncIterator, Sequence
from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from core.errors import InvalidPeriod
from core.marks import Words
from core.reports import csv_export, queries, sections, series, text
from core.reports.periods import Period, parse_period, quick_periods
from core.reports.queries import TierCount
from core.reports.series import Week

from ..format import esc
from ..i18n import N_, _, ngettext
from ..replies import friendly
from ..roles import requires
from ..services import Services, services

log = logging.getLogger(__name__)

# core/reports words its texts with these: the reader's language, read when each text is written.
WORDS: Final = Words(gettext=_, ngettext=ngettext)
# Button labels, marked with N_ and translated when the keyboard is drawn.
SECTIONS: Final = {
    "summary": N_("Summary"),
    "customers": N_("Customers"),
    "rewards": N_("Rewards"),
    "staff": N_("Staff"),
}
CHARTS: Final = "charts"
CSV_MENU: Final = "csv"
# export -> (button, file name part, caption); "contacts" is the only one with phones/e-mails.
# The button and caption are translated when sent; the file name and the CSV's column names stay
# English in every language: spreadsheets and scripts read them (machine-readable, as the CLI).
EXPORTS: Final = {
    "customers": (
        N_("👥 Customers with totals"),
        "customers",
        N_("👥 Customers with their totals"),
    ),
    "contacts": (
        N_("📇 Customers + contacts (phone, e-mail)"),
        "customers-contacts",
        N_("📇 Customers with phone numbers and e-mails: personal data, handle with care"),
    ),
    "ledger": (N_("📒 Ledger (every entry)"), "ledger", N_("📒 Every ledger entry")),
    "redemptions": (N_("🎁 Redemption history"), "redemptions", N_("🎁 Redemption history")),
}
_WHAT = "|".join([*SECTIONS, CHARTS, CSV_MENU, *(f"csv-{name}" for name in EXPORTS)])
# Period keys are what parse_period makes ("30d", "2026-10", "2026-10-01..2026-10-31", "all"):
# at most 22 characters, so the longest data ("rep:csv-redemptions:" + key) is 42 bytes.
PATTERN: Final = rf"^rep:({_WHAT})(?:\.([2-9]|[1-9][0-9]{{1,2}}))?:([0-9a-z.-]{{1,24}})$"
_DATA: Final = re.compile(PATTERN)

PAGE_SIZE: Final = 10  # customers per page: the full list is the customers CSV
MAX_PAGE: Final = 999  # what PATTERN accepts
MAX_UPLOAD: Final = 50 * 1024 * 1024  # the largest file a bot may send
BAD_BUTTON: Final = N_("That report button is not valid. Send /report to start again.")
UP_TO_DATE: Final = N_("Already up to date ✔")
# The quick periods' buttons; a month's button is its period label.
QUICK: Final = {"7d": N_("7 days"), "30d": N_("30 days"), "all": N_("All time")}
_SHOWN = "report_shown"  # user_data: (message id, fingerprint) of the report last put on screen


def button_data(what: str, period: Period, page: int = 1) -> str:
    return f"rep:{what}{f'.{page}' if page > 1 else ''}:{period.key}"


# --- /report ----------------------------------------------------------------------------------


@requires("admin")
async def report_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Sends the Summary for the period typed after /report (the last 30 days by default)."""
    assert update.effective_message is not None
    svc = services(context)
    typed = " ".join(context.args or []) or None
    try:
        period = parse_period(typed, now=svc.clock(), tz=svc.config.reports.tzinfo)
    except InvalidPeriod as exc:
        await update.effective_message.reply_text(friendly(exc))
        return
    await _show(update, context, "summary", period, page=1)


@requires("admin")
async def report_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Shows the section, charts or export a report button names, for the period it carries."""
    query = update.callback_query
    assert query is not None
    match = _DATA.fullmatch(query.data or "")
    assert match is not None  # the handler's pattern is PATTERN
    what, page, key = match.groups()
    svc = services(context)
    try:
        period = parse_period(key, now=svc.clock(), tz=svc.config.reports.tzinfo)
    except InvalidPeriod:  # the pattern lets "2026-99" through: only parse_period knows
        await query.answer(_(BAD_BUTTON), show_alert=True)
        return
    if what == CHARTS:
        await _send_charts(update, context, period)
    elif what == CSV_MENU:
        await query.answer()
        await context.bot.send_message(
            _chat(update),
            _("📄 Which export for <b>{period}</b>?").format(period=esc(period.label)),
            reply_markup=_exports_keyboard(period),
        )
    elif what.startswith("csv-"):
        await _send_export(update, context, what.removeprefix("csv-"), period)
    else:
        await _show(update, context, what, period, page=int(page or 1))


# --- the sections -----------------------------------------------------------------------------


async def _show(
    update: Update, context: ContextTypes.DEFAULT_TYPE, section: str, period: Period, *, page: int
) -> None:
    """Puts a section on screen: in place of the pressed message if it fits one, else anew."""
    svc = services(context)
    chunks, more = await _section_text(svc, section, period, page)
    markup = _keyboard(svc, section, period, page=page, more=more)
    query = update.callback_query
    pressed = query.message if query is not None else None
    if query is not None and isinstance(pressed, Message) and len(chunks) == 1:
        mark = _fingerprint(chunks[0], markup)
        if _shown(context) == (pressed.message_id, mark):  # Telegram refuses a same-text edit
            await query.answer(_(UP_TO_DATE))
            return
        try:
            await query.edit_message_text(chunks[0], reply_markup=markup)
        except BadRequest as exc:
            if "not modified" in exc.message.lower():  # shown before a restart: nothing new
                await query.answer(_(UP_TO_DATE))
                return
            log.info("could not edit a report message, sending it anew: %s", exc.message)
        else:
            await query.answer()
            _remember(context, pressed.message_id, mark)
            return
    if query is not None:
        await query.answer()
    sent: Message | None = None
    for number, chunk in enumerate(chunks, start=1):
        sent = await context.bot.send_message(
            _chat(update), chunk, reply_markup=markup if number == len(chunks) else None
        )
    if sent is not None and len(chunks) == 1:
        _remember(context, sent.message_id, _fingerprint(chunks[0], markup))


async def _section_text(
    svc: Services, section: str, period: Period, page: int
) -> tuple[list[str], bool]:
    """The section's messages, and whether another page of customers follows."""
    engine, program = svc.engine, svc.config.program
    if section == "customers":
        offset = (page - 1) * PAGE_SIZE
        rows = await sections.top_customers(engine, period, limit=PAGE_SIZE + 1, offset=offset)
        chunks = text.customers_text(rows[:PAGE_SIZE], period, first_rank=offset + 1, words=WORDS)
        return chunks, len(rows) > PAGE_SIZE
    if section == "rewards":
        counts = await sections.reward_counts(engine, period, program)
        history = await sections.redemption_history(engine, period, program, limit=PAGE_SIZE)
        return text.rewards_text(counts, history, period, words=WORDS), False
    if section == "staff":
        staff = await sections.staff_activity(engine, period)
        return text.staff_text(staff, period, words=WORDS), False
    summary = await queries.summary(
        engine,
        period,
        program,
        now=svc.clock(),
        # A stated assumption, printed under the figure: see docs/reports.md.
        point_value=queries.assumed_point_value(program),
    )
    return text.summary_text(summary, program, words=WORDS), False


def _keyboard(
    svc: Services, section: str, period: Period, *, page: int, more: bool
) -> InlineKeyboardMarkup:
    """Sections for this period, pages of customers, quick periods for this section, extras."""

    rows = [
        [_button(_(label), name, period, on=name == section) for name, label in SECTIONS.items()]
    ]
    if section == "customers" and (page > 1 or more):
        pages = [_button(_("‹ Previous"), section, period, page=page - 1)] if page > 1 else []
        if more and page < MAX_PAGE:
            next_page = _("Next {count} ›").format(count=PAGE_SIZE)
            pages.append(_button(next_page, section, period, page=page + 1))
        rows.append(pages)
    quick = quick_periods(now=svc.clock(), tz=svc.config.reports.tzinfo)
    by_key = [
        _button(_(QUICK[q.key]) if q.key in QUICK else q.label, section, q, on=q.key == period.key)
        for q in quick
    ]
    rows += [[by_key[0], by_key[1], by_key[4]], by_key[2:4]]  # 7d, 30d, all / this, last month
    rows.append([_button(_("📈 Charts"), CHARTS, period), _button(_("📄 CSV"), CSV_MENU, period)])
    return InlineKeyboardMarkup(rows)


def _button(
    label: str, what: str, period: Period, *, on: bool = False, page: int = 1
) -> InlineKeyboardButton:
    """A report button; `on` ticks the section or period on screen (pressing it refreshes)."""
    return InlineKeyboardButton(
        f"✓ {label}" if on else label, callback_data=button_data(what, period, page)
    )


def _fingerprint(chunk: str, markup: InlineKeyboardMarkup) -> str:
    content = json.dumps([chunk, markup.to_dict()], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(content.encode()).hexdigest()[:16]


def _shown(context: ContextTypes.DEFAULT_TYPE) -> tuple[int, str] | None:
    return context.user_data.get(_SHOWN) if context.user_data is not None else None


def _remember(context: ContextTypes.DEFAULT_TYPE, message_id: int, mark: str) -> None:
    if context.user_data is not None:
        context.user_data[_SHOWN] = (message_id, mark)


def _chat(update: Update) -> int:
    assert update.effective_chat is not None
    return update.effective_chat.id


# --- charts -----------------------------------------------------------------------------------


async def _send_charts(update: Update, context: ContextTypes.DEFAULT_TYPE, period: Period) -> None:
    """Sends the three charts as photos, each captioned with the period."""
    assert update.callback_query is not None
    await update.callback_query.answer(_("Drawing the charts…"))
    svc = services(context)
    now = svc.clock()
    weeks = await series.weekly(svc.engine, period, now=now)
    summary = await queries.summary(svc.engine, period, svc.config.program, now=now)
    # matplotlib is CPU-bound: a worker thread keeps the bot answering everyone else meanwhile.
    # (to_thread runs it in a copy of this context: the charts are in the reader's language.)
    pictures = await asyncio.to_thread(_draw, weeks, summary["tiers"], period)
    for caption, png in pictures:
        await context.bot.send_photo(_chat(update), png, caption=f"{caption} · {esc(period.label)}")


def _draw(
    weeks: Sequence[Week], tiers: Sequence[TierCount], period: Period
) -> list[tuple[str, bytes]]:
    """Renders the charts (runs in a worker thread)."""
    # Imported here, in the thread: importing matplotlib takes a moment and only charts need it.
    from core.reports import charts

    return [
        (
            _("📈 Points issued vs redeemed per week"),
            charts.points_chart(weeks, period, words=WORDS),
        ),
        (_("👥 Active members per week"), charts.active_chart(weeks, period, words=WORDS)),
        (_("🏅 Members by tier (today)"), charts.tier_chart(tiers, period, words=WORDS)),
    ]


# --- CSV exports ------------------------------------------------------------------------------


def _exports_keyboard(period: Period) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(_(label), callback_data=button_data(f"csv-{name}", period))]
            for name, (label, _file, _caption) in EXPORTS.items()
        ]
    )


async def _send_export(
    update: Update, context: ContextTypes.DEFAULT_TYPE, export: str, period: Period
) -> None:
    """Sends one export as a CSV document; phones and e-mails only in the contacts export."""
    assert update.callback_query is not None and update.effective_user is not None
    await update.callback_query.answer(_("Preparing the file…"))
    svc = services(context)
    engine, program = svc.engine, svc.config.program
    if export == "ledger":
        chunks = csv_export.ledger_csv(engine, period, program)
    elif export == "redemptions":
        chunks = csv_export.redemptions_csv(engine, period, program)
    else:
        chunks = csv_export.customers_csv(engine, period, include_contacts=export == "contacts")
    body = await _collect(chunks)
    _button_label, file_part, caption = EXPORTS[export]
    if body is None:
        await context.bot.send_message(
            _chat(update),
            _(
                "That export is over Telegram's {limit} MB limit for a bot's file: choose a "
                "shorter period, or run <code>loyalty-bot report --format csv</code> on the server."
            ).format(limit=MAX_UPLOAD // 2**20),
        )
        return
    if export == "contacts":  # who took personal data out, and when: never the data itself
        admin = update.effective_user.id
        log.info("admin %s exported contacts for %s", admin, period.key)
        await svc.store.record_audit(
            "contacts_export",
            actor_id=admin,
            now=svc.clock(),
            details={"period": period.key, "rows": _rows(body), "via": "bot"},
        )
    await context.bot.send_document(
        _chat(update),
        body,
        filename=f"loyalty-{file_part}-{period.key.replace('..', '_to_')}.csv",
        caption=f"{_(caption)} · {esc(period.label)}",
    )


def _rows(body: bytes) -> int:
    """How many rows a CSV export holds, its header not counted (quoted line breaks too)."""
    return max(0, sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8-sig")))) - 1)


async def _collect(chunks: AsyncIterator[bytes]) -> bytes | None:
    """The whole export in memory (a document is sent in one request), or None if too big."""
    body = bytearray()
    try:
        async for chunk in chunks:
            body += chunk
            if len(body) > MAX_UPLOAD:
                return None
    finally:
        close = getattr(chunks, "aclose", None)  # frees the database cursor at once
        if close is not None:
            await close()
    return bytes(body)
