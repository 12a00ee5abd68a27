"""All-time figures from the customers' running totals instead of a scan of the whole ledger.

Scanning ten million entries takes SQLite 20 s; the customers table holds, per customer, the
same sums kept in the write transaction of every entry (migration 0004): lifetime_earned and
lifetime_redeemed (credits and what was taken, as core.rules.lifetime_change says), purchases
and spent_minor (earn entries that stand), redemptions (redeem entries that stand). A period
that starts before the first entry is "everything up to its end", so its figures are those
totals minus the entries recorded at or after its end (the tail: none or a handful for "all",
read through an index; for a period that ended long ago the tail is long, and costs about what
scanning the period would). Distinct-customer figures stay exact: a customer counts as a
purchaser when their purchases minus their tail purchases is still above zero.

Entries other than earns and redemptions (signup bonuses, adjustments, voids, refunds) are in
the lifetime sums but not the counters; the few of them are read from their own partial index.
The counters count what stands (a voided purchase is no purchase, a refund lowers spending), as
the period paths do (reversals.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, exists, func, literal, literal_column, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.tables import OTHER_KINDS, customers, ledger
from core.types import Reward

from . import reversals

__all__ = [
    "CORRECTIONS",
    "CUSTOMER",
    "Flows",
    "all_time_flows",
    "csv_corrections",
    "earned_side",
    "starts_before_history",
    "taken_side",
]

CORRECTIONS = ("void", "refund")  # the kinds that reverse another entry

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
    voided = (await conn.execute(reversals.totals(lambda at: at < end))).one()
    get = _int
    purchases = get(totals.purchases) - get(tail.purchases)
    redemptions = get(totals.redemptions) - get(tail.redemptions)
    reversed_credits = get(others.reversed_credits)
    negative_adjustments = get(others.negative_adjustments)
    returned = get(others.returned)
    expired = get(others.expired)  # in lifetime_redeemed, like spending, but not a redemption
    return {
        # Every entry before `end`: the purchases and redemptions that stand, those a void
        # reversed (still entries), and the other kinds.
        "entries": purchases
        + redemptions
        - get(voided.purchases)
        - get(voided.redemptions)
        + get(others.entries),
        "purchases": purchases,
        "sales_minor": get(totals.sales_minor) - get(tail.sales_minor),
        "purchasers": get(totals.purchasers) - get(tail.purchasers_lost),
        "repeat_customers": get(totals.repeat_customers) - get(tail.repeat_lost),
        # lifetime_earned is credits less what voids and refunds took back of them
        # (rules.lifetime_change): add those back for the points issued.
        "issued": get(totals.earned) - get(tail.earned) + reversed_credits,
        # lifetime_redeemed is rewards and negative adjustments, less what voids gave back.
        "redeemed": get(totals.taken) - get(tail.taken) - negative_adjustments - expired + returned,
        "reversed": reversed_credits + negative_adjustments,
        "returned": returned,
        "expired": expired,
        "voided_purchases": -get(voided.purchases),
        "voided_redemptions": -get(voided.redemptions),
        "redemptions": redemptions,
        "redeemers": get(totals.redeemers) - get(tail.redeemers_lost),
        "redeemers_affording": get(totals.affording) - get(tail.affording_lost),
    }


def earned_side(kind: Any, points: Any) -> Any:
    """What an entry adds to lifetime_earned (core.rules.lifetime_change), as SQL: credits, less
    what voids and refunds take back of them."""
    correction = kind.in_(CORRECTIONS)
    return case((correction & (points < 0), points), (~correction & (points > 0), points), else_=0)


def taken_side(kind: Any, points: Any) -> Any:
    """What an entry adds to lifetime_redeemed: rewards and negative adjustments, less what
    voids give back."""
    correction = kind.in_(CORRECTIONS)
    return case(
        (correction & (points > 0), -points), (~correction & (points < 0), -points), else_=0
    )


async def csv_corrections(
    conn: AsyncConnection, end: dt.datetime
) -> dict[int, tuple[int, int, int, int]]:
    """Per customer, what to take off their running totals to get [first entry, end):
    (earned, redeemed, purchases, spent_minor), from their entries at or after `end` (and the
    voids and refunds of those). Only customers with such entries are here: a few, whatever
    the number of customers."""
    per = _per_customer_tail(end)
    fixes: dict[int, tuple[int, int, int, int]] = {}
    for r in await conn.execute(select(per)):
        fixes[r.customer_id] = (
            _int(r.earned),
            _int(r.taken),
            _int(r.purchases),
            _int(r.sales_minor),
        )
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
        func.sum(c.lifetime_earned).label("earned"),
        func.sum(c.lifetime_redeemed).label("taken"),
        func.sum(c.redemptions).label("redemptions"),
        func.sum(case((redeemed_any, 1), else_=0)).label("redeemers"),
        func.sum(case((redeemed_any & affords, 1), else_=0)).label("affording"),
    )


def _per_customer_tail(end: dt.datetime) -> Any:
    """The entries at or after `end` grouped per customer, with the voids and refunds of those
    entries taking off the purchases, redemptions and sales that no longer stand."""
    points, kind = ledger.c.points, ledger.c.kind
    entries = select(
        CUSTOMER.label("customer_id"),
        case((kind == "earn", 1), else_=0).label("purchases"),
        case((kind == "redeem", 1), else_=0).label("redemptions"),
        case((kind == "earn", ledger.c.amount_minor), else_=0).label("sales_minor"),
        earned_side(kind, points).label("earned"),
        taken_side(kind, points).label("taken"),
    ).where(ledger.c.created_at >= end)
    fixes = reversals.deltas(lambda at: at >= end).subquery()
    undone = select(
        fixes.c.customer_id,
        fixes.c.purchases,
        fixes.c.redemptions,
        fixes.c.sales_minor,
        literal(0).label("earned"),
        literal(0).label("taken"),
    )
    both = union_all(entries, undone).subquery()
    return (
        select(
            both.c.customer_id,
            func.sum(both.c.purchases).label("purchases"),
            func.sum(both.c.redemptions).label("redemptions"),
            func.sum(both.c.sales_minor).label("sales_minor"),
            func.sum(both.c.earned).label("earned"),
            func.sum(both.c.taken).label("taken"),
        )
        .group_by(both.c.customer_id)
        .subquery()
    )


def _tail(end: dt.datetime, affords: Any) -> Any:
    """The entries at or after `end`, per customer, and whom they made a purchaser/redeemer.

    A customer whose every purchase (that stands) is in the tail was no purchaser before
    `end`: "lost".
    """
    per = _per_customer_tail(end)
    c = customers.c
    before_p = c.purchases - per.c.purchases  # purchases before `end`
    before_r = c.redemptions - per.c.redemptions
    redeemer_lost = (c.redemptions > 0) & (before_r == 0)
    return select(
        func.sum(per.c.purchases).label("purchases"),
        func.sum(per.c.sales_minor).label("sales_minor"),
        func.sum(per.c.earned).label("earned"),
        func.sum(per.c.taken).label("taken"),
        func.sum(per.c.redemptions).label("redemptions"),
        func.sum(case(((c.purchases > 0) & (before_p == 0), 1), else_=0)).label("purchasers_lost"),
        func.sum(case(((c.purchases >= 2) & (before_p < 2), 1), else_=0)).label("repeat_lost"),
        func.sum(case((redeemer_lost, 1), else_=0)).label("redeemers_lost"),
        func.sum(case((redeemer_lost & affords, 1), else_=0)).label("affording_lost"),
    ).join_from(per, customers, c.id == per.c.customer_id)


def _others(end: dt.datetime) -> Any:
    """Signup bonuses, adjustments, voids and refunds before `end` (the partial
    ix_ledger_other_kinds): how many, and the points corrections moved."""
    points, kind = ledger.c.points, ledger.c.kind
    correction = kind.in_(CORRECTIONS)
    return select(
        func.count().label("entries"),
        func.sum(case((correction & (points < 0), -points), else_=0)).label("reversed_credits"),
        func.sum(case(((kind == "adjust") & (points < 0), -points), else_=0)).label(
            "negative_adjustments"
        ),
        func.sum(case(((kind == "void") & (points > 0), points), else_=0)).label("returned"),
        func.sum(case((kind == "expire", -points), else_=0)).label("expired"),
    ).where(OTHER_KINDS, ledger.c.created_at < end)


def _int(value: Any) -> int:
    return int(value or 0)
