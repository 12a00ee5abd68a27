"""The what-if as a PNG: points issued, redeemed and outstanding, and members per tier, with a
bar for each column (actual, replayed, proposed). Same sizes and lettering as charts.py, and the
same object API (no pyplot); synchronous, as the CLI calls it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from core.simulate import Simulation

from .charts import ACTIVE_COLOUR, DPI, ISSUED_COLOUR, LABEL_PT, TICK_PT, TITLE_PT
from .charts import REDEEMED_COLOUR as PROPOSED_COLOUR
from .periods import Period

__all__ = ["simulation_chart"]

_COLUMNS = ("actual", "replayed", "proposed")
_COLOURS = (ACTIVE_COLOUR, ISSUED_COLOUR, PROPOSED_COLOUR)


def simulation_chart(sim: Simulation, period: Period) -> bytes:
    """Two panels: the points flows, and the tier distribution at the period's end."""
    outcomes = (sim.actual, *sim.replays)
    fig = Figure(figsize=(12.0, 6.67), dpi=DPI)
    FigureCanvasAgg(fig)
    fig.suptitle(f"What if: the proposed program over {period.label}", fontsize=TITLE_PT)
    flows, tiers = fig.subplots(1, 2)
    _bars(
        flows,
        ["issued", "redeemed", "outstanding"],
        [[o.points_issued, o.points_redeemed, o.outstanding] for o in outcomes],
        ylabel="points",
    )
    names = list(dict.fromkeys(t.name for o in outcomes for t in o.program.tiers))
    _bars(
        tiers,
        names,
        [[o.tiers.get(name, 0) for name in names] for o in outcomes],
        ylabel="members at the end",
    )
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def _bars(ax: Axes, groups: Sequence[str], values: Sequence[Sequence[int]], ylabel: str) -> None:
    width = 0.8 / len(values)
    for n, (column, colour, heights) in enumerate(zip(_COLUMNS, _COLOURS, values, strict=True)):
        x = [i + (n - (len(values) - 1) / 2) * width for i in range(len(groups))]
        ax.bar(x, heights, width, label=column, color=colour)
    ax.set_xticks(range(len(groups)), groups, fontsize=TICK_PT)
    ax.tick_params(axis="y", labelsize=TICK_PT)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.ticklabel_format(axis="y", style="plain")  # 12,000,000, not 1.2 and "1e7" apart
    ax.set_ylabel(ylabel, fontsize=LABEL_PT)
    ax.legend(fontsize=TICK_PT)
