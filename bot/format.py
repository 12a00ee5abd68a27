"""Formatting for replies: escaping, money, points, cards, and splitting long messages.

Every reply uses parse_mode HTML (set once in bot/app.py), so every piece of user-provided
text goes through `esc` here: a customer called `<b>Zoë_O'Brien*` never breaks a message.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from decimal import Decimal

from babel.dates import format_datetime
from babel.numbers import format_decimal

from core.cards import format_card
from core.types import Customer, LedgerEntry

from . import i18n
from .i18n import N_, _, ngettext

MAX_MESSAGE = 4096  # Telegram's limit for one message's text

esc = html.escape

# Marked with N_ and translated where shown (`_(KIND_LABELS[kind])`).
KIND_LABELS = {
    "signup_bonus": N_("Welcome bonus"),
    "earn": N_("Purchase"),
    "redeem": N_("Reward"),
    "adjust": N_("Adjustment"),
    "void": N_("Void"),
    "refund": N_("Refund"),
    "expire": N_("Expired"),
    "bonus": N_("Bonus"),
}
# What an entry is, in a sentence ("that entry is a reward redemption").
_A_KIND = {
    "signup_bonus": N_("a welcome bonus"),
    "earn": N_("a purchase"),
    "redeem": N_("a reward redemption"),
    "adjust": N_("an adjustment"),
    "void": N_("a void"),
    "refund": N_("a refund"),
    "expire": N_("an expiry"),
    "bonus": N_("a bonus"),
}


def money(amount: Decimal, currency: str) -> str:
    """'1,250.00 GBP', '1.250,00 GBP', '1 250,00 GBP' by the reader's language (the currency
    is the configured code, escaped as configured text)."""
    return f"{_grouped(amount, '#,##0.00')} {esc(currency)}"


def number(n: int | Decimal) -> str:
    """A count written the reader's way: 1,250 / 1.250 / 1 250."""
    return _grouped(n, "#,##0.###")


def points(n: int) -> str:
    """'1 point', '1,250 points' (Russian has three forms: 1 балл, 2 балла, 5 баллов)."""
    return ngettext("{n} point", "{n} points", abs(n)).format(n=number(n))


def signed(n: int) -> str:
    return f"+{number(n)}" if n > 0 else number(n)


def _grouped(value: int | Decimal, pattern: str) -> str:
    language = i18n.current()
    if language == i18n.SOURCE:
        # Python's own formatting writes English exactly as Babel does, at a tenth of the cost
        # (a /status reply formats a dozen numbers).
        return f"{value:,.2f}" if pattern.endswith(".00") else f"{value:,}"
    return format_decimal(value, format=pattern, locale=language)


# Dates and times, written the reader's way ("14 Mar 10:30", "14 мар. 10:30"). English keeps
# the strftime forms the bot always used; other languages use Babel's (CLDR) month names.
_PATTERNS = {
    "day_time": ("%d %b %H:%M", "dd MMM HH:mm"),
    "date": ("%d %b %Y", "dd MMM yyyy"),
    "weekday_time": ("%a %d %b %H:%M", "EEE dd MMM HH:mm"),
}


def _when(moment: dt.datetime | dt.date, kind: str) -> str:
    ours, cldr = _PATTERNS[kind]
    language = i18n.current()
    if language == i18n.SOURCE:
        return moment.strftime(ours)
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime.combine(moment, dt.time())
    return format_datetime(moment, cldr, tzinfo=moment.tzinfo, locale=language)


def day_time(moment: dt.datetime) -> str:
    """'14 Mar 10:30': an entry's moment in a list."""
    return _when(moment, "day_time")


def date(day: dt.date | dt.datetime) -> str:
    """'14 Mar 2026'."""
    return _when(day, "date")


def weekday_time(moment: dt.datetime) -> str:
    """'Sat 14 Mar 10:30'."""
    return _when(moment, "weekday_time")


def card(number: str) -> str:
    return format_card(number)


def customer_line(c: Customer) -> str:
    """'<b>Ann Lee</b> · card 4821 3379' (escaped)."""
    return _("<b>{name}</b> · card {card}").format(name=esc(c["name"]), card=card(c["card_number"]))


def a_kind(kind: str) -> str:
    """'a purchase', 'an adjustment': an entry's kind in a sentence (escaped)."""
    if kind in _A_KIND:
        return _(_A_KIND[kind])
    return _("a {kind} entry").format(kind=esc(kind))


def entry_line(e: LedgerEntry, currency: str, *, mark: str = "") -> str:
    """'14 Mar 10:30 · Purchase (25.50 GBP) · +25', with ' · voided' or the like as `mark`.

    Corrections say what they were: 'Refund (10.00 GBP)', 'Void of a purchase', 'Void of a
    reward (code ZW7-W83)' (that code no longer holds), 'Adjustment: goodwill' (the reason).
    """
    when = day_time(e["created_at"])
    kind = e["kind"]
    label = _(KIND_LABELS[kind]) if kind in KIND_LABELS else esc(kind)
    extra = ""
    if kind in ("earn", "refund") and e["amount"] is not None:
        extra = f" ({money(e['amount'], currency)})"
    elif kind == "redeem" and e["reward_id"]:
        extra = f" ({esc(str(e['details'].get('reward_name', e['reward_id'])))})"
    elif kind == "void":
        code = e["details"].get("code")
        if code:
            label = _("Void of a reward (code {code})").format(code=esc(str(code)))
        elif e["amount"] is not None:
            label = _("Void of a purchase")
    elif kind == "adjust" and e["note"]:
        label = _("Adjustment: {reason}").format(reason=esc(e["note"]))
    tail = f" · {mark}" if mark else ""
    return f"{when} · {label}{extra} · {signed(e['points'])}{tail}"


def entry_lines(entries: Sequence[LedgerEntry], currency: str) -> list[str]:
    """Each entry's line, a purchase or reward marked 'voided', 'refunded' or 'part refunded'
    when a correction among `entries` reversed it.

    `entries` are a card's newest ones, so every correction of an entry shown is shown too
    (a correction is always newer than what it corrects): the marks are exact.
    """
    voided = {e["reverses_id"] for e in entries if e["kind"] == "void"}
    refunded: dict[int, Decimal] = {}
    for e in entries:
        if e["kind"] == "refund" and e["reverses_id"] is not None:
            refunded[e["reverses_id"]] = refunded.get(e["reverses_id"], Decimal(0)) + (
                e["amount"] or Decimal(0)
            )
    lines = []
    for e in entries:
        mark = ""
        if e["id"] in voided:
            mark = _("voided")
        elif e["id"] in refunded:
            whole = e["amount"] is not None and refunded[e["id"]] >= e["amount"]
            mark = _("refunded") if whole else _("part refunded")
        lines.append(entry_line(e, currency, mark=mark))
    return lines


def split_message(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Splits on line breaks into chunks of at most `limit` characters (tags never span lines).

    A single line longer than `limit` (rare: long names are capped) is cut between words where
    it can be, and never inside an HTML tag or entity such as "&amp;", which Telegram would
    refuse to parse.
    """
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            cut = _cut_point(line, limit)
            chunks.append(line[:cut])
            line = line[cut:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks


def _cut_point(line: str, limit: int) -> int:
    """Where to cut an over-long line: not inside a tag or an entity, after a space if one is
    near the end; plainly at `limit` when there is no safe place at all."""
    head = line[:limit]
    cut = limit
    if head.rfind("&") > head.rfind(";"):  # an entity is cut in half: keep it whole
        cut = head.rfind("&")
    if head.rfind("<") > head.rfind(">"):  # likewise a tag
        cut = min(cut, head.rfind("<"))
    space = head.rfind(" ", limit // 2, cut)
    if space >= 0 and head.rfind("<", 0, space) <= head.rfind(">", 0, space):  # not in a tag
        cut = space + 1
    return cut if cut > 0 else limit
