"""The what-if as a side-by-side table (plain text) and as CSV: actual, replayed, proposed.

Columns, in both forms:
    actual      the ledger as recorded in the period (core.simulate `Simulation.actual`)
    replayed    the period replayed under the current program: the sanity check, equal to
                `actual` unless corrections were made or the rules changed during the period
    proposed    the period replayed under the proposed program
    difference  proposed - actual
A figure that means nothing for a column (corrections in a replay, skipped redemptions in the
ledger, a tier or reward one program lacks) is blank in CSV and "-" in text; so is its
difference. docs/reports.md defines each figure.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from core.simulate import Outcome, Simulation

from .periods import Period

__all__ = ["CSV_COLUMNS", "Row", "check", "rows", "simulation_csv", "simulation_text"]

CSV_COLUMNS: Final = ("figure", "actual", "replayed", "proposed", "difference")
_BOM: Final = "\ufeff"
Value = int | Decimal | None


@dataclass(frozen=True)
class Row:
    figure: str
    actual: Value
    replayed: Value
    proposed: Value

    @property
    def difference(self) -> Value:
        if self.actual is None or self.proposed is None:
            return None
        return self.proposed - self.actual


def rows(sim: Simulation) -> list[Row]:
    """Every figure of the what-if, in the order the table shows them."""
    actual, (replayed, proposed) = sim.actual, sim.replays
    columns = (actual, replayed, proposed)
    currency = proposed.program.currency

    def row(figure: str, read: Callable[[Outcome], Value], *, replays: bool = True) -> Row:
        a, r, p = (read(o) for o in columns)
        return Row(figure, a, r if replays else None, p if replays else None)

    def only_replays(figure: str, read: Callable[[Outcome], Value]) -> Row:
        return Row(figure, None, read(replayed), read(proposed))

    table = [
        row("purchases", lambda o: o.purchases),
        row(f"sales ({currency})", lambda o: o.sales),
        row("points issued", lambda o: o.points_issued),
        row("  for purchases", lambda o: o.purchase_points),
        row("  signup bonuses", lambda o: o.bonus_points),
        row("corrections (net points)", lambda o: o.correction_points, replays=False),
        row("redemptions", lambda o: o.redemptions),
        only_replays("redemptions not affordable", lambda o: o.redemptions_skipped),
        row("points redeemed", lambda o: o.points_redeemed),
        row("points expired", lambda o: o.points_expired),
        row("points outstanding at end", lambda o: o.outstanding),
        row(f"liability at end ({currency})", lambda o: o.liability),
        row(f"cost per 100 {currency} spent", lambda o: o.cost_per_100),
    ]
    for name in _union([tier.name for o in columns for tier in o.program.tiers]):
        table.append(Row(f"members in {name}", *(o.tiers.get(name) for o in columns)))
    for reward in _union([rid for o in columns for rid in _by_cost(o)]):
        table.append(Row(f"can afford {reward}", *(o.affordable.get(reward) for o in columns)))
    return table


def check(sim: Simulation) -> list[str]:
    """The figures where replaying the current program does not give the ledger (none: the
    replay is faithful, and proposed - actual is the effect of the change alone)."""
    return [
        r.figure.strip()
        for r in rows(sim)
        if r.actual is not None and r.replayed is not None and r.actual != r.replayed
    ]


def simulation_text(sim: Simulation, period: Period, *, proposed_name: str) -> str:
    """The table, with a heading and the sanity check's verdict, as plain text."""
    table = [["", "actual", "replayed", "proposed", "difference"]]
    for r in rows(sim):
        values = [_text(v) for v in (r.actual, r.replayed, r.proposed)]
        table.append([r.figure, *values, _text(r.difference, signed=True)])
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    lines = [
        f"What if: {proposed_name}, over {period.label} "
        f"({_day(period, period.start)} to {_day(period, period.end)}, {period.tz.key})",
        "",
    ]
    for line in table:
        cells = [line[0].ljust(widths[0])]
        cells += [c.rjust(w) for c, w in zip(line[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells).rstrip())
    lines += ["", *_verdict(sim)]
    return "\n".join(lines) + "\n"


def simulation_csv(sim: Simulation) -> bytes:
    """The table as CSV (UTF-8 with a byte-order mark, like the other exports): plain numbers,
    blank where a figure does not apply."""
    buffer = io.StringIO()
    buffer.write(_BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows(sim):
        values = (r.actual, r.replayed, r.proposed, r.difference)
        writer.writerow([r.figure.strip(), *("" if v is None else str(v) for v in values)])
    return buffer.getvalue().encode("utf-8")


def _verdict(sim: Simulation) -> list[str]:
    differs = check(sim)
    if not differs:
        return ["Check: replaying the current program gives exactly the ledger's figures."]
    return [
        "Check: replaying the current program differs from the ledger in: " + ", ".join(differs),
        "(corrections were made, or the program changed, during the period: compare proposed",
        "with replayed to see the effect of the change alone)",
    ]


def _by_cost(outcome: Outcome) -> list[str]:
    return [r.id for r in sorted(outcome.program.rewards, key=lambda r: (r.cost, r.id))]


def _union(names: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(names))


def _text(value: Value, *, signed: bool = False) -> str:
    if value is None:
        return "-"
    text = f"{value:,.2f}" if isinstance(value, Decimal) else f"{value:,}"
    return f"+{text}" if signed and value > 0 else text


def _day(period: Period, when: dt.datetime) -> str:
    return f"{when.astimezone(period.tz):%Y-%m-%d %H:%M}"
