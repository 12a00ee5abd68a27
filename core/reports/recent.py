"""Who bought, who came back, who redeemed in a recent period, from each customer's latest visits.

Counting distinct customers over a period's entries means sorting them by customer: 1.4-2 s
of the 30-day summary at a million customers (1.2M entries). But each customer row keeps the
times of their latest purchase, the purchase before it, and their latest redemption (Store,
in the same transaction as each entry; migration 0005). For a customer whose visits all came
before the period's end, those answer exactly (the Store puts them right after a void, so they
speak of the purchases and redemptions that stand):
    bought in [start, end)             <=>  last_purchase_at >= start
    bought twice or more in it         <=>  prev_purchase_at >= start
    redeemed in it                     <=>  last_redemption_at >= start
and each is a range count over an index. Customers who visited at or after the end (their
last_visit_at says so) are taken out of those counts and counted from their own entries
instead. For the last 30 days that is nobody, or the few served since the report started;
for a month long past it is most regulars, and queries.py groups the period's entries as
before (`worth_it`).
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.statements import standing
from core.db.tables import customers, ledger
from core.types import Reward

from .periods import Period

__all__ = ["MAX_VISITED_SINCE", "people", "worth_it"]

# Customers who visited after the period's end, read one by one (each through the ledger's
# (customer_id, id) index). Beyond this many, grouping the period's entries is cheaper.
MAX_VISITED_SINCE: Final = 20_000


async def worth_it(conn: AsyncConnection, period: Period) -> bool:
    """Whether few enough customers visited at or after the period's end (an index count)."""
    since = (
        select(customers.c.id)
        .where(customers.c.last_visit_at >= period.end)
        .limit(MAX_VISITED_SINCE + 1)
        .subquery()
    )
    count = (await conn.execute(select(func.count()).select_from(since))).scalar_one()
    return int(count) <= MAX_VISITED_SINCE


async def people(conn: AsyncConnection, period: Period, reward: Reward | None) -> dict[str, int]:
    """queries._period_people's figures: purchasers, repeat_customers, redeemers,
    redeemers_affording (of the redeemers, those whose balance affords `reward` now)."""
    c = customers.c
    start = period.start
    affords = c.balance >= reward.cost if reward is not None else literal(False)
    bought = await _count(conn, c.last_purchase_at >= start)
    twice = await _count(conn, c.prev_purchase_at >= start)
    redeemed = (
        await conn.execute(
            select(func.count(), func.sum(case((affords, 1), else_=0))).where(
                c.last_redemption_at >= start  # ix_customers_last_redemption_at_balance
            )
        )
    ).one()
    late = (await conn.execute(_visited_since(period, affords))).one()
    get = _int
    return {
        "purchasers": bought - get(late.bought) + get(late.purchasers),
        "repeat_customers": twice - get(late.twice) + get(late.repeat_customers),
        "redeemers": get(redeemed[0]) - get(late.redeemed) + get(late.redeemers),
        "redeemers_affording": get(redeemed[1])
        - get(late.redeemed_affording)
        + get(late.redeemers_affording),
    }


async def _count(conn: AsyncConnection, condition: Any) -> int:
    return int((await conn.execute(select(func.count()).where(condition))).scalar_one())


def _visited_since(period: Period, affords: Any) -> Any:
    """For the customers who visited at or after the period's end: what their columns
    wrongly added to the counts (bought, twice, redeemed...), and what their entries in the
    period really say (purchasers, repeat_customers, redeemers...)."""
    c, entry = customers.c, ledger.c
    start, end = period.start, period.end

    def in_period(kind: str) -> Any:
        # Correlated on customer_id: SQLite walks ix_ledger_customer_id_id for each of them.
        # Only what stands counts (a void's target is one step into its unique index), as
        # the customers' columns count it.
        return (
            select(func.count())
            .where(
                entry.customer_id == c.id,
                entry.kind == kind,
                entry.created_at >= start,
                entry.created_at < end,
                standing(ledger),
            )
            .scalar_subquery()
        )

    late = (
        select(
            (c.last_purchase_at >= start).label("bought"),
            (c.prev_purchase_at >= start).label("twice"),
            (c.last_redemption_at >= start).label("redeemed"),
            affords.label("affords"),
            in_period("earn").label("purchases"),
            in_period("redeem").label("redemptions"),
        )
        .where(c.last_visit_at >= end)  # ix_customers_last_visit_at
        .subquery()
    )

    def number(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    return select(
        number(late.c.bought).label("bought"),
        number(late.c.twice).label("twice"),
        number(late.c.redeemed).label("redeemed"),
        number(late.c.redeemed & late.c.affords).label("redeemed_affording"),
        number(late.c.purchases > 0).label("purchasers"),
        number(late.c.purchases >= 2).label("repeat_customers"),
        number(late.c.redemptions > 0).label("redeemers"),
        number((late.c.redemptions > 0) & late.c.affords).label("redeemers_affording"),
    )


def _int(value: Any) -> int:
    return int(value or 0)
