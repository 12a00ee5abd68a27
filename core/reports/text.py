"""The reports as text for a phone: short lines, one figure per line, HTML or plain.

Each function returns a list of message chunks, each at most 4096 characters (Telegram's limit
on one message), split between lines. With html=True the text is for parse_mode HTML: headings
in <b>, and every name a user typed passes through html.escape. With html=False it is plain text
for the terminal (`loyalty-bot report`). A period without entries says "No data for this period"
instead of a screen of zeros.
"""

from __future__ import annotations

import datetime as dt
import html as html_lib
from decimal import Decimal
from typing import Final

from core.cards import format_card
from core.types import Program

from .periods import SHORT_MONTHS, Period
from .queries import Summary, cheapest_reward
from .sections import CustomerRow, RedemptionRow, RewardCount, StaffRow

__all__ = [
    "MESSAGE_LIMIT",
    "NO_DATA",
    "customers_text",
    "money",
    "rewards_text",
    "split_messages",
    "staff_text",
    "summary_text",
]

MESSAGE_LIMIT: Final = 4096
NO_DATA: Final = "No data for this period."
_SYMBOLS: Final = {"GBP": "£", "EUR": "€", "USD": "$"}
_DOT: Final = " · "


class _Style:
    """Bold and escaping for HTML, or nothing for plain text."""

    def __init__(self, html: bool) -> None:
        self.html = html

    def esc(self, text: str) -> str:
        return html_lib.escape(text, quote=False) if self.html else text

    def bold(self, text: str) -> str:
        """`text` must already be safe (escaped, or written here)."""
        return f"<b>{text}</b>" if self.html else text

    def title(self, text: str) -> str:
        """A heading: bold in Telegram, capitals in a terminal."""
        return f"<b>{text}</b>" if self.html else text.upper()

    def heading(self, title: str, period: Period) -> list[str]:
        return [self.title(f"{title}{_DOT}{self.esc(period.label)}")]


# --- Summary -------------------------------------------------------------------------------


def summary_text(s: Summary, program: Program, *, html: bool = True) -> list[str]:
    """The Summary section: members, purchases, points, redemptions, tiers."""
    st = _Style(html)
    period = s["period"]
    lines = st.heading("Summary", period)
    if not s["has_data"]:
        lines += [NO_DATA, f"Members: {s['members']:,} in total"]
        return split_messages(lines)
    currency = program.currency
    average = s["average_purchase"]
    # Activity is counted back from the report's time, not the period's: say to when.
    to_day = _day_month(s["active_as_of"], period)
    lines += [
        "",
        st.title("Members"),
        f"Total: {s['members']:,} ({s['new_members']:,} new)",
        f"Active, 30 days to {to_day}: {s['active_30d']:,}",
        f"Active, 90 days to {to_day}: {s['active_90d']:,}",
        "",
        st.title("Purchases"),
        f"Purchases: {s['purchases']:,} by {_plural(s['purchasers'], 'customer')}",
        *_voided(s["voided_purchases"], "purchase"),
        f"Repeat customers: {s['repeat_customers']:,}",
        f"One-off customers: {s['one_off_customers']:,}",
        f"Average purchase: {money(average, currency) if average is not None else '–'}",
        f"Purchases per customer: {s['purchases_per_customer'] or '–'}",
        "",
        st.title("Points"),
        f"Issued: {s['points_issued']:,}",
    ]
    if s["points_reversed"]:
        lines.append(f"Reversed by corrections: {s['points_reversed']:,}")
        lines.append(f"Net issued: {s['points_net']:,}")
    lines.append(f"Redeemed: {s['points_redeemed']:,}")
    if s["points_returned"]:
        lines.append(f"Given back by voids: {s['points_returned']:,}")
    if s["points_expired"]:
        lines.append(f"Expired (breakage): {s['points_expired']:,}")
    lines.append(f"Outstanding: {s['points_outstanding']:,}")
    value, point_value = s["outstanding_value"], s["point_value"]
    if value is not None and point_value is not None:
        lines.append(f"≈ {money(value, currency)} at {_rate(point_value, currency)} a point")
        lines.append("(assumed: the cheapest reward's value per point)")
    ratio = s["earn_to_burn"]
    if ratio is None:
        lines.append("Earn-to-burn: nothing redeemed")
    else:
        lines.append(f"Earn-to-burn: {ratio} : 1")
    lines += ["", st.title("Redemptions"), f"Redemptions: {s['redemptions']:,}"]
    lines += _voided(s["voided_redemptions"], "redemption")
    rate = s["redemption_rate"]
    if rate is None:
        lines.append("Redemption rate: nobody could afford a reward")
    else:
        lines.append(f"Redemption rate: {_percent(rate)}")
        lines.append(f"({s['redeemers']:,} of {s['redemption_base']:,} who could afford one)")
    if cheapest_reward(program) is None:
        lines.append("(no rewards are offered)")
    lines += ["", st.title("Tiers (today)")]
    for tier in s["tiers"]:
        moved = f" (+{tier['tier_ups']:,} moved up)" if tier["tier_ups"] else ""
        lines.append(f"{st.esc(tier['tier'])}: {tier['members']:,}{moved}")
    return split_messages(lines)


# --- Customers -----------------------------------------------------------------------------


def customers_text(
    rows: list[CustomerRow], period: Period, *, first_rank: int = 1, html: bool = True
) -> list[str]:
    """Top customers by points earned in the period, three short lines each."""
    st = _Style(html)
    lines = st.heading("Top customers", period)
    if not rows:
        return split_messages([*lines, NO_DATA])
    lines.append("by points earned in the period")
    for rank, row in enumerate(rows, start=first_rank):
        visit = _day(row["last_visit"], period) if row["last_visit"] else "never"
        lines += [
            "",
            f"{rank}. {st.bold(st.esc(row['name']))}{_DOT}{format_card(row['card_number'])}",
            f"earned {row['earned']:,}{_DOT}redeemed {row['redeemed']:,}"
            f"{_DOT}balance {row['balance']:,}",
            f"{st.esc(row['tier'])}{_DOT}{_plural(row['purchases'], 'purchase')}"
            f"{_DOT}last visit {visit}",
        ]
    return split_messages(lines)


# --- Rewards -------------------------------------------------------------------------------


def rewards_text(
    counts: list[RewardCount], history: list[RedemptionRow], period: Period, *, html: bool = True
) -> list[str]:
    """Redemptions per reward, the favourite, and the latest redemptions."""
    st = _Style(html)
    lines = st.heading("Rewards", period)
    if not counts:
        return split_messages([*lines, "No rewards were redeemed in this period."])
    top = counts[0]
    lines += ["", f"Most popular: {st.bold(st.esc(top['name']))}", ""]
    for c in counts:
        off = f"{_DOT}{c['money_off']:,.2f} off bills" if "money_off" in c else ""
        lines.append(
            f"{st.esc(c['name'])}: {c['redemptions']:,} by {_plural(c['customers'], 'customer')}"
            f"{_DOT}{c['points']:,} points{off}"
        )
    lines += ["", st.title("Latest redemptions")]
    for r in history:
        cashier = r["cashier"] or (f"id {r['cashier_id']}" if r["cashier_id"] else "system")
        lines += [
            "",
            f"{_moment(r['when'], period)}{_DOT}{st.esc(r['reward'])}",
            f"{st.esc(r['customer'])} ({format_card(r['card_number'])}){_DOT}by {st.esc(cashier)}",
        ]
    return split_messages(lines)


# --- Staff ---------------------------------------------------------------------------------


def staff_text(rows: list[StaffRow], period: Period, *, html: bool = True) -> list[str]:
    """Per cashier: entries recorded, points issued, redemptions, first and last entry."""
    st = _Style(html)
    lines = st.heading("Staff", period)
    if not rows:
        return split_messages([*lines, NO_DATA])
    for r in rows:
        if r["actor_id"] is None:
            who = "No cashier (system)"
        elif r["name"]:
            who = f"{st.esc(r['name'])} (id {r['actor_id']})"
        else:
            who = f"id {r['actor_id']}"
        lines += [
            "",
            st.bold(who),
            f"{_plural(r['transactions'], 'entry', 'entries')}"
            f"{_DOT}{_plural(r['purchases'], 'purchase')}",
            f"{r['points_issued']:,} points issued",
            f"{_plural(r['redemptions'], 'redemption')} ({r['points_redeemed']:,} points)",
            *_corrections(r),
            f"first {_moment(r['first'], period)}{_DOT}last {_moment(r['last'], period)}",
        ]
    return split_messages(lines)


# --- helpers -------------------------------------------------------------------------------


def split_messages(lines: list[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Joins lines into messages of at most `limit` characters, breaking only between lines.

    A break goes at the last blank line that fits, so an entry is never cut in two. Lines here
    are short (a name is at most 100 characters), far below a message.
    """
    messages: list[str] = []
    current: list[str] = []
    for line in lines:
        if current and len("\n".join([*current, line])) > limit:
            cut = _last_blank(current)
            messages.append("\n".join(current[:cut]))
            current = current[cut:]
            while current and not current[0]:
                current.pop(0)  # a message doesn't start with blank lines
        current.append(line)
    messages.append("\n".join(current))
    return [m.strip("\n") for m in messages if m.strip()]


def _last_blank(lines: list[str]) -> int:
    """Where to cut: at the last blank line, or after everything if there is none."""
    for i in range(len(lines) - 1, 0, -1):
        if not lines[i]:
            return i
    return len(lines)


def _corrections(r: StaffRow) -> list[str]:
    """What a cashier corrected, on one line; nothing when they corrected nothing."""
    made = [
        _plural(n, one)
        for n, one in (
            (r["voids"], "void"),
            (r["refunds"], "refund"),
            (r["adjustments"], "adjustment"),
        )
        if n
    ]
    if not made:
        return []
    moved = [f"{r['points_reversed']:,} points taken back"] if r["points_reversed"] else []
    if r["points_returned"]:
        moved.append(f"{r['points_returned']:,} given back")
    return [_DOT.join(made) + (f" ({', '.join(moved)})" if moved else "")]


def _voided(count: int, what: str) -> list[str]:
    """A line saying how many of the period's purchases or redemptions were voided since (and
    so are not counted above); nothing when none were."""
    return [f"(not counted: {_plural(count, 'voided ' + what)})"] if count else []


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else many or one + 's'}"


def money(value: Decimal, currency: str) -> str:
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{value:,.2f}" if symbol else f"{value:,.2f} {currency}"


def _rate(value: Decimal, currency: str) -> str:
    """A per-point value: often under a penny, so up to four decimals ("£0.0125")."""
    text = f"{value.quantize(Decimal('0.0001')).normalize():f}"
    if "." in text and len(text.split(".")[1]) < 2:
        text = f"{Decimal(text):.2f}"
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def _percent(fraction: Decimal) -> str:
    return f"{fraction * 100:.1f}%"


def _day(moment: dt.datetime, period: Period) -> str:
    local = moment.astimezone(period.tz)
    return f"{local.day} {SHORT_MONTHS[local.month - 1]} {local.year}"


def _day_month(moment: dt.datetime, period: Period) -> str:
    local = moment.astimezone(period.tz)
    return f"{local.day} {SHORT_MONTHS[local.month - 1]}"


def _moment(moment: dt.datetime, period: Period) -> str:
    local = moment.astimezone(period.tz)
    return f"{local.day} {SHORT_MONTHS[local.month - 1]} {local:%H:%M}"
