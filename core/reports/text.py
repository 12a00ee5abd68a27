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
from core.marks import ENGLISH, N_, Words
from core.types import Program

from .periods import Period
from .queries import Summary, cheapest_reward
from .sections import CustomerRow, RedemptionRow, RewardCount, StaffRow

__all__ = [
    "MESSAGE_LIMIT",
    "NO_DATA",
    "customers_text",
    "day_month",
    "money",
    "rewards_text",
    "split_messages",
    "staff_text",
    "summary_text",
]

MESSAGE_LIMIT: Final = 4096
NO_DATA: Final = N_("No data for this period.")
_SYMBOLS: Final = {"GBP": "£", "EUR": "€", "USD": "$"}
_DOT: Final = " · "
# A day of a month, by month: whole, so a language may write "14 мар." or "14 de mar".
_DAY_OF: Final = (
    N_("{day} Jan"), N_("{day} Feb"), N_("{day} Mar"), N_("{day} Apr"),
    N_("{day} May"), N_("{day} Jun"), N_("{day} Jul"), N_("{day} Aug"),
    N_("{day} Sep"), N_("{day} Oct"), N_("{day} Nov"), N_("{day} Dec"),
)  # fmt: skip


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


def summary_text(
    s: Summary, program: Program, *, html: bool = True, words: Words = ENGLISH
) -> list[str]:
    """The Summary section: members, purchases, points, redemptions, tiers."""
    st = _Style(html)
    period = s["period"]
    lines = st.heading(words.gettext("Summary"), period)
    if not s["has_data"]:
        lines += [
            words.gettext(NO_DATA),
            words.gettext("Members: {count} in total").format(count=_n(s["members"])),
        ]
        return split_messages(lines)
    currency = program.currency
    average = s["average_purchase"]
    # Activity is counted back from the report's time, not the period's: say to when.
    to_day = _day_month(s["active_as_of"], period, words)
    purchasers = s["purchasers"]
    lines += [
        "",
        st.title(words.gettext("Members")),
        words.gettext("Total: {count} ({new} new)").format(
            count=_n(s["members"]), new=_n(s["new_members"])
        ),
        words.gettext("Active, 30 days to {day}: {count}").format(
            day=to_day, count=_n(s["active_30d"])
        ),
        words.gettext("Active, 90 days to {day}: {count}").format(
            day=to_day, count=_n(s["active_90d"])
        ),
        "",
        st.title(words.gettext("Purchases")),
        words.ngettext(
            "Purchases: {count} by {n} customer", "Purchases: {count} by {n} customers", purchasers
        ).format(count=_n(s["purchases"]), n=_n(purchasers)),
        *_voided_purchases(s["voided_purchases"], words),
        words.gettext("Repeat customers: {count}").format(count=_n(s["repeat_customers"])),
        words.gettext("One-off customers: {count}").format(count=_n(s["one_off_customers"])),
        words.gettext("Average purchase: {amount}").format(
            amount=money(average, currency) if average is not None else "–"
        ),
        words.gettext("Purchases per customer: {count}").format(
            count=s["purchases_per_customer"] or "–"
        ),
        "",
        st.title(words.gettext("Points")),
        words.gettext("Issued: {count}").format(count=_n(s["points_issued"])),
    ]
    if s["points_reversed"]:
        lines.append(
            words.gettext("Reversed by corrections: {count}").format(count=_n(s["points_reversed"]))
        )
        lines.append(words.gettext("Net issued: {count}").format(count=_n(s["points_net"])))
    lines.append(words.gettext("Redeemed: {count}").format(count=_n(s["points_redeemed"])))
    if s["points_returned"]:
        lines.append(
            words.gettext("Given back by voids: {count}").format(count=_n(s["points_returned"]))
        )
    if s["points_expired"]:
        lines.append(
            words.gettext("Expired (breakage): {count}").format(count=_n(s["points_expired"]))
        )
    lines.append(words.gettext("Outstanding: {count}").format(count=_n(s["points_outstanding"])))
    value, point_value = s["outstanding_value"], s["point_value"]
    if value is not None and point_value is not None:
        lines.append(
            words.gettext("≈ {value} at {rate} a point").format(
                value=money(value, currency), rate=_rate(point_value, currency)
            )
        )
        lines.append(words.gettext("(assumed: the cheapest reward's value per point)"))
    ratio = s["earn_to_burn"]
    if ratio is None:
        lines.append(words.gettext("Earn-to-burn: nothing redeemed"))
    else:
        lines.append(words.gettext("Earn-to-burn: {ratio} : 1").format(ratio=ratio))
    lines += [
        "",
        st.title(words.gettext("Redemptions")),
        words.gettext("Redemptions: {count}").format(count=_n(s["redemptions"])),
    ]
    lines += _voided_redemptions(s["voided_redemptions"], words)
    rate = s["redemption_rate"]
    if rate is None:
        lines.append(words.gettext("Redemption rate: nobody could afford a reward"))
    else:
        lines.append(words.gettext("Redemption rate: {rate}").format(rate=_percent(rate)))
        lines.append(
            words.gettext("({count} of {base} who could afford one)").format(
                count=_n(s["redeemers"]), base=_n(s["redemption_base"])
            )
        )
    if cheapest_reward(program) is None:
        lines.append(words.gettext("(no rewards are offered)"))
    lines += ["", st.title(words.gettext("Tiers (today)"))]
    for tier in s["tiers"]:
        name, members = st.esc(tier["tier"]), _n(tier["members"])
        if tier["tier_ups"]:
            lines.append(
                words.gettext("{tier}: {count} (+{up} moved up)").format(
                    tier=name, count=members, up=_n(tier["tier_ups"])
                )
            )
        else:
            lines.append(f"{name}: {members}")
    return split_messages(lines)


# --- Customers -----------------------------------------------------------------------------


def customers_text(
    rows: list[CustomerRow],
    period: Period,
    *,
    first_rank: int = 1,
    html: bool = True,
    words: Words = ENGLISH,
) -> list[str]:
    """Top customers by points earned in the period, three short lines each."""
    st = _Style(html)
    lines = st.heading(words.gettext("Top customers"), period)
    if not rows:
        return split_messages([*lines, words.gettext(NO_DATA)])
    lines.append(words.gettext("by points earned in the period"))
    for rank, row in enumerate(rows, start=first_rank):
        visit = _day(row["last_visit"], period, words) if row["last_visit"] else None
        purchases = row["purchases"]
        lines += [
            "",
            f"{rank}. {st.bold(st.esc(row['name']))}{_DOT}{format_card(row['card_number'])}",
            words.gettext("earned {earned} · redeemed {redeemed} · balance {balance}").format(
                earned=_n(row["earned"]), redeemed=_n(row["redeemed"]), balance=_n(row["balance"])
            ),
            _DOT.join(
                [
                    st.esc(row["tier"]),
                    words.ngettext("{n} purchase", "{n} purchases", purchases).format(
                        n=_n(purchases)
                    ),
                    words.gettext("last visit {day}").format(day=visit)
                    if visit
                    else words.gettext("last visit never"),
                ]
            ),
        ]
    return split_messages(lines)


# --- Rewards -------------------------------------------------------------------------------


def rewards_text(
    counts: list[RewardCount],
    history: list[RedemptionRow],
    period: Period,
    *,
    html: bool = True,
    words: Words = ENGLISH,
) -> list[str]:
    """Redemptions per reward, the favourite, and the latest redemptions."""
    st = _Style(html)
    lines = st.heading(words.gettext("Rewards"), period)
    if not counts:
        return split_messages([*lines, words.gettext("No rewards were redeemed in this period.")])
    top = counts[0]
    most = words.gettext("Most popular: {reward}").format(reward=st.bold(st.esc(top["name"])))
    lines += ["", most, ""]
    for c in counts:
        parts = [
            words.ngettext(
                "{reward}: {count} by {n} customer",
                "{reward}: {count} by {n} customers",
                c["customers"],
            ).format(reward=st.esc(c["name"]), count=_n(c["redemptions"]), n=_n(c["customers"])),
            _points(c["points"], words),
        ]
        if "money_off" in c:
            parts.append(
                words.gettext("{amount} off bills").format(amount=f"{c['money_off']:,.2f}")
            )
        lines.append(_DOT.join(parts))
    lines += ["", st.title(words.gettext("Latest redemptions"))]
    for r in history:
        if r["cashier"]:
            cashier = st.esc(r["cashier"])
        elif r["cashier_id"]:
            cashier = f"id {r['cashier_id']}"
        else:
            cashier = words.gettext("system")
        customer = f"{st.esc(r['customer'])} ({format_card(r['card_number'])})"
        lines += [
            "",
            f"{_moment(r['when'], period, words)}{_DOT}{st.esc(r['reward'])}",
            customer + _DOT + words.gettext("by {cashier}").format(cashier=cashier),
        ]
    return split_messages(lines)


# --- Staff ---------------------------------------------------------------------------------


def staff_text(
    rows: list[StaffRow], period: Period, *, html: bool = True, words: Words = ENGLISH
) -> list[str]:
    """Per cashier: entries recorded, points issued, redemptions, first and last entry."""
    st = _Style(html)
    lines = st.heading(words.gettext("Staff"), period)
    if not rows:
        return split_messages([*lines, words.gettext(NO_DATA)])
    for r in rows:
        if r["actor_id"] is None:
            who = words.gettext("No cashier (system)")
        elif r["name"]:
            who = f"{st.esc(r['name'])} (id {r['actor_id']})"
        else:
            who = f"id {r['actor_id']}"
        entries, purchases, redemptions = r["transactions"], r["purchases"], r["redemptions"]
        lines += [
            "",
            st.bold(who),
            words.ngettext("{n} entry", "{n} entries", entries).format(n=_n(entries))
            + _DOT
            + words.ngettext("{n} purchase", "{n} purchases", purchases).format(n=_n(purchases)),
            words.ngettext("{n} point issued", "{n} points issued", r["points_issued"]).format(
                n=_n(r["points_issued"])
            ),
            words.ngettext("{n} redemption", "{n} redemptions", redemptions).format(
                n=_n(redemptions)
            )
            + f" ({_points(r['points_redeemed'], words)})",
            *_corrections(r, words),
            words.gettext("first {first} · last {last}").format(
                first=_moment(r["first"], period, words), last=_moment(r["last"], period, words)
            ),
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


def _corrections(r: StaffRow, words: Words) -> list[str]:
    """What a cashier corrected, on one line; nothing when they corrected nothing."""
    made = []
    if r["voids"]:
        made.append(words.ngettext("{n} void", "{n} voids", r["voids"]).format(n=_n(r["voids"])))
    if r["refunds"]:
        made.append(
            words.ngettext("{n} refund", "{n} refunds", r["refunds"]).format(n=_n(r["refunds"]))
        )
    if r["adjustments"]:
        made.append(
            words.ngettext("{n} adjustment", "{n} adjustments", r["adjustments"]).format(
                n=_n(r["adjustments"])
            )
        )
    if not made:
        return []
    moved = []
    if r["points_reversed"]:
        moved.append(
            words.ngettext(
                "{n} point taken back", "{n} points taken back", r["points_reversed"]
            ).format(n=_n(r["points_reversed"]))
        )
    if r["points_returned"]:
        moved.append(words.gettext("{n} given back").format(n=_n(r["points_returned"])))
    return [_DOT.join(made) + (f" ({', '.join(moved)})" if moved else "")]


def _voided_purchases(count: int, words: Words) -> list[str]:
    """A line saying how many of the period's purchases were voided since (and so are not
    counted above); nothing when none were."""
    if not count:
        return []
    return [
        words.ngettext(
            "(not counted: {n} voided purchase)", "(not counted: {n} voided purchases)", count
        ).format(n=_n(count))
    ]


def _voided_redemptions(count: int, words: Words) -> list[str]:
    """The same for redemptions."""
    if not count:
        return []
    return [
        words.ngettext(
            "(not counted: {n} voided redemption)", "(not counted: {n} voided redemptions)", count
        ).format(n=_n(count))
    ]


def _points(count: int, words: Words) -> str:
    return words.ngettext("{n} point", "{n} points", count).format(n=_n(count))


def _n(count: int) -> str:
    return f"{count:,}"


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


def day_month(day: dt.date, words: Words = ENGLISH) -> str:
    """'14 Oct', in the reader's language."""
    return words.gettext(_DAY_OF[day.month - 1]).format(day=day.day)


def _day(moment: dt.datetime, period: Period, words: Words) -> str:
    local = moment.astimezone(period.tz)
    return f"{day_month(local, words)} {local.year}"


def _day_month(moment: dt.datetime, period: Period, words: Words) -> str:
    return day_month(moment.astimezone(period.tz), words)


def _moment(moment: dt.datetime, period: Period, words: Words) -> str:
    local = moment.astimezone(period.tz)
    return f"{day_month(local, words)} {local:%H:%M}"
