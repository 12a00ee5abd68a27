"""Reports on the loyalty program, computed from the ledger (/report, the digest, the CLI).

Where each part lives:
    periods.py     "30d", "2026-10", "2026-10-01..2026-10-31", "all" -> Period [start, end) UTC
    queries.py     the Summary figures (KPIs), each a SQL aggregate over the ledger
    sections.py    Customers (top N), Rewards (per reward, history), Staff (per cashier)
    series.py      figures per local week, for the charts
    text.py        all of the above as phone-sized message chunks (HTML or plain)
    charts.py      PNG charts with matplotlib (sync: run with asyncio.to_thread)
    csv_export.py  streaming CSV exports: customers, the period's ledger, redemptions
    cells.py       spreadsheet-safe cells: formula neutralising, local times, amounts

A /report handler stays thin: parse_period, then the query for the section, then its text
function, and send each chunk. docs/reports.md defines every figure. charts is not imported
here, so code that only needs text doesn't pay for importing matplotlib.
"""

from __future__ import annotations

from .periods import DEFAULT_PERIOD, Period, parse_period
from .queries import Summary, assumed_point_value, summary
from .sections import redemption_history, reward_counts, staff_activity, top_customers
from .series import weekly

__all__ = [
    "DEFAULT_PERIOD",
    "Period",
    "Summary",
    "assumed_point_value",
    "parse_period",
    "redemption_history",
    "reward_counts",
    "staff_activity",
    "summary",
    "top_customers",
    "weekly",
]
