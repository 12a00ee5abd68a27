"""All-time figures from the customers' running totals instead of a scan of the whole ledger.

Scanning ten million entries takes SQLite 20 s; the customers table holds, per customer, the
same sums kept in the write transaction of every entry (migration 0004): lifetime_earned and
lifetime_redeemed (every positive / negative entry), purchases and spent_minor (earn entries),
redemptions (redeem entries). A period that starts before the first entry is "everything up to
its end", so its figures are those totals minus the entries recorded at or after its end (the
tail: none or a handful for "all", read through an index; for a period that ended long ago the
tail is long, and costs about what scanning the period would). Distinct-customer figures stay
exact: a customer counts as a purchaser when their purchases minus their tail purchases is still
above zero.

Entries other than earns and redemptions (signup bonuses, adjustments, voids) are in the
lifetime sums but not the counters; the few of them are read from their own partial index.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, exists, func, literal, literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.tables import OTHER_KINDS, customers, ledger
from core.types import Reward

__all__ = ["CUSTOMER", "Flows", "all_time_flows", "csv_corrections", "starts_before_history"]

Flows = dict[str, int]  # a period's counts and sums (queries._flows), by label
# What a range of entries is grouped by. Not the bare column: with it, SQLite (no ANALYZE
# statistics) walks ix_ledger_customer_id_id to get the groups in order, reading every entry
# (5.8 s at 100k customers for an empty tail); "+ 0" makes it read only the range, from the
# created_at index, and sort that.
CUSTOMER: Any = ledger.c.customer_id + literal_column("0")


async def starts_before_history(conn: AsyncConnection, start: dt.datetime) -> bool:
    """True when no entry is older than `start`: the period is all history up to its end."""
    older = select(exists().where(ledger.c.created_at < start))  # one step into an index
    return not (await conn.execute(older)).scalar_one()


async def all_time_flows(conn: AsyncConnection, end: dt.datetime, reward: Reward | None) -> Flows:
    """queries._flows for [the first entry, end), from the customers' running totals."""
    c = customers.c
    # Without rewards nobody can afford one (literal(False), as in queries._members_by_tier).
    affords = c.balance >= reward.cost if reward is not None else literal(False)
    totals = (await conn.execute(_totals(affords))).one()
    tail = (await conn.execute(_tail(end, affords))).one()
    others = (await conn.execute(_others(end))).one()
    get = _int
    removed = get(others.removed)
    return {
        "entries": get(totals.purchases)
        + get(totals.redemptions)
        + get(others.entries)
        - get(tail.purchases)
        - get(tail.redemptions),
        "purchases": get(totals.purchases) - get(tail.purchases),
        "sales_minor": get(totals.sales_minor) - get(tail.sales_minor),
        "purchasers": get(totals.purchasers) - get(tail.purchasers_lost),
        "repeat_customers": get(totals.repeat_customers) - get(tail.repeat_lost),
        "issued": get(totals.issued) - get(tail.issued),
        # lifetime_redeemed sums every negative entry: take out the tail's and the corrections'.
        "redeemed": get(totals.negative) - get(tail.negative) - removed,
        "removed": removed,
        "redemptions": get(totals.redemptions) - get(tail.redemptions),
        "redeemers": get(totals.redeemers) - get(tail.redeemers_lost),
        "redeemers_affording": get(totals.affording) - get(tail.affording_lost),
    }


async def csv_corrections(
    conn: AsyncConnection, end: dt.datetime
) -> dict[int, tuple[int, int, int, int]]:
    """Per customer, what to take off their running totals to get [first entry, end):
    (earned, redeemed, purchases, spent_minor). Only customers with entries at or after `end`
    or with negative corrections are here: a few, whatever the number of customers."""
    points, kind = ledger.c.points, ledger.c.kind
    tail = (
        select(
            CUSTOMER.label("customer_id"),
            func.sum(case((points > 0, points), else_=0)).label("earned"),
            func.sum(case((points < 0, -points), else_=0)).label("redeemed"),
            func.sum(case((kind == "earn", 1), else_=0)).label("purchases"),
            func.sum(case((kind == "earn", ledger.c.amount_minor), else_=0)).label("spent"),
        )
        .where(ledger.c.created_at >= end)
        .group_by(CUSTOMER)
    )
    removed = (
        select(CUSTOMER.label("customer_id"), func.sum(-points).label("removed"))
        .where(OTHER_KINDS, ledger.c.created_at < end, points < 0)
        .group_by(CUSTOMER)
    )
    fixes: dict[int, tuple[int, int, int, int]] = {}
    for r in await conn.execute(tail):
        fixes[r.customer_id] = (_int(r.earned), _int(r.redeemed), _int(r.purchases), _int(r.spent))
    for row in await conn.execute(removed):
        earned, redeemed, purchases, spent = fixes.get(row.customer_id, (0, 0, 0, 0))
        fixes[row.customer_id] = (earned, redeemed + _int(row.removed), purchases, spent)
    return fixes


# --- the statements ------------------------------------------------------------------------


def _totals(affords: Any) -> Any:
    """One pass over the customers table: the sums of everyone's running totals."""
    c = customers.c
    redeemed_any = c.redemptions > 0
    return select(
        func.sum(c.purchases).label("purchases"),
        func.sum(c.spent_minor).label("sales_minor"),
        func.sum(case((c.purchases > 0, 1), else_=0)).label("purchasers"),
        func.sum(case((c.purchases >= 2, 1), else_=0)).label("repeat_customers"),
        func.sum(c.lifetime_earned).label("issued"),
        func.sum(c.lifetime_redeemed).label("negative"),
        func.sum(c.redemptions).label("redemptions"),
        func.sum(case((redeemed_any, 1), else_=0)).label("redeemers"),
        func.sum(case((redeemed_any & affords, 1), else_=0)).label("affording"),
    )


def _tail(end: dt.datetime, affords: Any) -> Any:
    """The entries at or after `end`, per customer, and whom they made a purchaser/redeemer.

    A customer whose every purchase is in the tail was no purchaser before `end`: "lost".
    """
    points, kind = ledger.c.points, ledger.c.kind
    per = (
        select(
            CUSTOMER.label("customer_id"),
            func.sum(case((kind == "earn", 1), else_=0)).label("purchases"),
            func.sum(case((kind == "earn", ledger.c.amount_minor), else_=0)).label("sales_minor"),
            func.sum(case((points > 0, points), else_=0)).label("issued"),
            func.sum(case((points < 0, -points), else_=0)).label("negative"),
            func.sum(case((kind == "redeem", 1), else_=0)).label("redemptions"),
        )
        .where(ledger.c.created_at >= end)
        .group_by(CUSTOMER)
        .subquery()
    )
    c = customers.c
    before_p = c.purchases - per.c.purchases  # purchases before `end`
    before_r = c.redemptions - per.c.redemptions
    redeemer_lost = (c.redemptions > 0) & (before_r == 0)
    return select(
        func.sum(per.c.purchases).label("purchases"),
        func.sum(per.c.sales_minor).label("sales_minor"),
        func.sum(per.c.issued).label("issued"),
        func.sum(per.c.negative).label("negative"),
        func.sum(per.c.redemptions).label("redemptions"),
        func.sum(case(((c.purchases > 0) & (before_p == 0), 1), else_=0)).label("purchasers_lost"),
        func.sum(case(((c.purchases >= 2) & (before_p < 2), 1), else_=0)).label("repeat_lost"),
        func.sum(case((redeemer_lost, 1), else_=0)).label("redeemers_lost"),
        func.sum(case((redeemer_lost & affords, 1), else_=0)).label("affording_lost"),
    ).join_from(per, customers, c.id == per.c.customer_id)


def _others(end: dt.datetime) -> Any:
    """Signup bonuses, adjustments and voids before `end` (the partial ix_ledger_other_kinds)."""
    points = ledger.c.points
    return select(
        func.count().label("entries"),
        func.sum(case((points < 0, -points), else_=0)).label("removed"),
    ).where(OTHER_KINDS, ledger.c.created_at < end)


def _int(value: Any) -> int:
    return int(value or 0)
