"""What voids and refunds take off the purchases, sales and redemptions of a range of entries.

Points are reported when they moved: a void recorded in November takes its points back in
November, so outstanding points always add up. But a purchase or a redemption that a void
reversed no longer counts as one, in whatever period it was made, and a refund takes its amount
off its purchase's sales: counts and sales are of what stands (docs/reports.md). That is what
the customers' running totals say too (purchases, spent_minor, redemptions and the latest-visit
times are put right by the Store), so every path agrees.

Corrections are few, and the partial index ix_ledger_reverses_id holds only them: each query
here reads all of them from it and looks up what each reverses by its id. Never a pass over a
period's entries, never a check per entry (a NOT EXISTS per row would cost a second for the
1.2M entries of the last 30 days at a million customers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import case, func, literal_column, select

from core.db.tables import ledger

from .periods import Period

__all__ = ["FIX", "TARGET", "TARGET_AT", "Where", "deltas", "made_in", "totals"]

FIX: Any = ledger.alias("fix")  # the void or refund
TARGET: Any = ledger.alias("target")  # the entry it reverses
# The reversed entry's time, behind a function (COALESCE of itself, the same value on every
# database) so that the database cannot look the condition up in an index: it then reads the few
# corrections first and finds what each reverses by its id. Through the created_at index, SQLite
# walked a period's million entries instead and looked for a correction of each.
TARGET_AT: Any = func.coalesce(TARGET.c.created_at, TARGET.c.created_at)

Where = Callable[[Any], Any]  # a condition on the reversed entry's time (TARGET_AT)


def made_in(period: Period) -> Where:
    """The condition "the reversed entry was made in the period"."""
    return lambda at: (at >= period.start) & (at < period.end)


def deltas(where: Where) -> Any:
    """One row per void or refund of an entry matching `where`: its customer and cashier (the
    reversed entry's), and what it takes off counts: purchases and redemptions (-1 for a void),
    sales_minor (a void's or refund's amount, negative). Meant for UNION ALL with the entries,
    so per-customer or per-cashier groupings count what stands."""
    void = FIX.c.kind == literal_column("'void'")
    is_earn = TARGET.c.kind == literal_column("'earn'")
    is_redeem = TARGET.c.kind == literal_column("'redeem'")
    return (
        select(
            TARGET.c.customer_id.label("customer_id"),
            TARGET.c.actor_id.label("actor_id"),
            case((void & is_earn, -1), else_=0).label("purchases"),
            case((void & is_redeem, -1), else_=0).label("redemptions"),
            case((is_earn, -func.coalesce(FIX.c.amount_minor, 0)), else_=0).label("sales_minor"),
        )
        .select_from(FIX)
        .join(TARGET, TARGET.c.id == FIX.c.reverses_id)
        .where(FIX.c.reverses_id.is_not(None), where(TARGET_AT))
    )


def totals(where: Where) -> Any:
    """deltas(where) summed: purchases, redemptions (each as a negative count) and sales_minor."""
    rows = deltas(where).subquery()
    return select(
        func.coalesce(func.sum(rows.c.purchases), 0).label("purchases"),
        func.coalesce(func.sum(rows.c.redemptions), 0).label("redemptions"),
        func.coalesce(func.sum(rows.c.sales_minor), 0).label("sales_minor"),
    )
