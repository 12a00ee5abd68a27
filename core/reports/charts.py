"""Charts as PNG bytes, sized and lettered to be read on a phone.

The functions are synchronous and CPU-bound: the bot runs them with asyncio.to_thread so it
keeps answering others while a chart renders. They use matplotlib's object API with the Agg
canvas directly, never pyplot, so no global figure state and no GUI backend is involved; a lock
still serialises rendering because matplotlib does not promise thread safety (font caches).
A chart with nothing to show says "No data for this period" rather than drawing empty axes.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterable, Sequence
from typing import Final

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from core.marks import ENGLISH, Words

from .periods import Period
from .queries import TierCount
from .series import Week
from .text import NO_DATA, day_month

__all__ = ["active_chart", "points_chart", "tier_chart"]

# 1200 x 800 pixels: Telegram shows photos up to 1280 wide, so nothing is scaled down much.
SIZE_INCHES: Final = (10.0, 6.67)
DPI: Final = 120
TITLE_PT: Final = 22
LABEL_PT: Final = 18
TICK_PT: Final = 15
MAX_TICK_LABELS: Final = 8  # more week labels than this overlap on a phone
ISSUED_COLOUR: Final = "#2a9d8f"
REDEEMED_COLOUR: Final = "#e76f51"
ACTIVE_COLOUR: Final = "#264653"
TIER_COLOUR: Final = "#e9c46a"
_render_lock = threading.Lock()


def points_chart(weeks: Sequence[Week], period: Period, *, words: Words = ENGLISH) -> bytes:
    """Bars per week: points issued beside points redeemed."""
    title = "\n".join([words.gettext("Points issued vs redeemed per week"), period.label])
    if not any(w["issued"] or w["redeemed"] for w in weeks):
        return _no_data(title, words)
    with _render_lock:
        fig, ax = _figure(title)
        x = range(len(weeks))
        width = 0.4
        issued = ax.bar(
            [i - width / 2 for i in x],
            [w["issued"] for w in weeks],
            width,
            label=words.gettext("issued"),
            color=ISSUED_COLOUR,
        )
        redeemed = ax.bar(
            [i + width / 2 for i in x],
            [w["redeemed"] for w in weeks],
            width,
            label=words.gettext("redeemed"),
            color=REDEEMED_COLOUR,
        )
        if len(weeks) <= 6:  # few bars: print the numbers on them
            ax.bar_label(issued, labels=_counts(w["issued"] for w in weeks), fontsize=TICK_PT)
            ax.bar_label(redeemed, labels=_counts(w["redeemed"] for w in weeks), fontsize=TICK_PT)
        _week_axis(ax, weeks, words)
        ax.set_ylabel(words.gettext("points"), fontsize=LABEL_PT)
        ax.legend(fontsize=TICK_PT, frameon=False)
        return _png(fig)


def active_chart(weeks: Sequence[Week], period: Period, *, words: Words = ENGLISH) -> bytes:
    """Bars per week: distinct customers who bought or redeemed that week."""
    title = "\n".join([words.gettext("Active members per week"), period.label])
    if not any(w["active"] for w in weeks):
        return _no_data(title, words)
    with _render_lock:
        fig, ax = _figure(title)
        bars = ax.bar(range(len(weeks)), [w["active"] for w in weeks], color=ACTIVE_COLOUR)
        if len(weeks) <= 12:
            ax.bar_label(bars, labels=_counts(w["active"] for w in weeks), fontsize=TICK_PT)
        _week_axis(ax, weeks, words)
        ax.set_ylabel(words.gettext("members"), fontsize=LABEL_PT)
        return _png(fig)


def tier_chart(tiers: Sequence[TierCount], period: Period, *, words: Words = ENGLISH) -> bytes:
    """Horizontal bars: members per tier today, with the period's tier-ups noted."""
    title = "\n".join(
        [
            words.gettext("Members by tier (today)"),
            words.gettext("tier-ups in {period}").format(period=period.label),
        ]
    )
    if not any(t["members"] for t in tiers):
        return _no_data(title, words)
    with _render_lock:
        fig, ax = _figure(title)
        names = [t["tier"] for t in tiers]
        bars = ax.barh(names, [t["members"] for t in tiers], color=TIER_COLOUR)
        labels = [
            f"{t['members']:,}"
            + (
                "  " + words.gettext("(+{up} moved up)").format(up=f"{t['tier_ups']:,}")
                if t["tier_ups"]
                else ""
            )
            for t in tiers
        ]
        ax.bar_label(bars, labels=labels, fontsize=TICK_PT, padding=6)
        ax.invert_yaxis()  # lowest tier on top, as the program lists them
        ax.set_xlabel(words.gettext("members"), fontsize=LABEL_PT)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.margins(x=0.35)  # room for the labels beyond the longest bar
        ax.tick_params(labelsize=TICK_PT)
        return _png(fig)


# --- helpers -------------------------------------------------------------------------------


def _figure(title: str) -> tuple[Figure, Axes]:
    fig = Figure(figsize=SIZE_INCHES, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=TITLE_PT)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    return fig, ax


def _week_axis(ax: Axes, weeks: Sequence[Week], words: Words) -> None:
    step = max(1, -(-len(weeks) // MAX_TICK_LABELS))
    positions = list(range(0, len(weeks), step))
    several_years = weeks[0]["start"].year != weeks[-1]["start"].year
    labels = [_short_date(weeks[i], words, with_year=several_years) for i in positions]
    ax.set_xticks(positions, labels)
    ax.set_xlabel(words.gettext("week starting"), fontsize=LABEL_PT)
    ax.tick_params(labelsize=TICK_PT)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def _counts(values: Iterable[int]) -> list[str]:
    """Bar labels: the number, or nothing on an empty bar (a row of zeros is noise)."""
    return [f"{v:,}" if v else "" for v in values]


def _short_date(week: Week, words: Words, *, with_year: bool) -> str:
    day = week["start"]
    text = day_month(day, words)
    return f"{text} {day:%y}" if with_year else text


def _no_data(title: str, words: Words) -> bytes:
    with _render_lock:
        fig, ax = _figure(title)
        ax.axis("off")
        ax.text(0.5, 0.5, words.gettext(NO_DATA), ha="center", va="center", fontsize=TITLE_PT)
        return _png(fig)


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
