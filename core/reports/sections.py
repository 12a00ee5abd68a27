"""The Customers, Rewards and Staff sections: short lists, each one grouped SQL query.

Lists are LIMITed in the database (top N, newest N), so a section costs the same with ten
customers or a million; the full lists are the CSV exports (core/reports/csv_export.py).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, NotRequired, TypedDict

from sqlalchemy import case, distinct, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.statements import standing, utc
from core.db.tables import customers, ledger, staff
from core.types import Program

from . import reversals
from .all_time import earned_side, taken_side
from .periods import Period
from .queries import in_period

__all__ = [
    "CustomerRow",
    "RedemptionRow",
    "RewardCount",
    "StaffRow",
    "redemption_history",
    "reward_counts",
    "reward_name",
    "staff_activity",
    "top_customers",
]


class CustomerRow(TypedDict):
    id: int
    card_number: str
    name: str
    tier: str  # today's
    balance: int  # today's
    earned: int  # credited in the period, less what corrections took back (lifetime_earned's share)
    redeemed: int  # spent in the period (rewards, negative adjustments), less what voids gave back
    purchases: int  # made in the period and not voided
    last_visit: dt.datetime | None  # latest purchase or redemption, any time


class RewardCount(TypedDict):
    reward_id: str
    name: str
    redemptions: int
    customers: int
    points: int
    # A money-off reward's discounts in the period, in the program's currency: exactly its
    # points / points_per_unit, as every discount is whole steps of whole points.
    money_off: NotRequired[Decimal]


class RedemptionRow(TypedDict):
    entry_id: int
    when: dt.datetime
    card_number: str
    customer: str
    reward_id: str
    reward: str
    points: int
    code: str | None
    cashier_id: int | None
    cashier: str | None  # the staff member's name, when the bot knows it


class StaffRow(TypedDict):
    actor_id: int | None  # None: entries the system recorded without a cashier
    name: str | None
    transactions: int  # every ledger entry they recorded
    purchases: int  # purchases they recorded (a later void does not unrecord them)
    points_issued: int  # credits they recorded: purchases, signup bonuses, positive adjustments
    redemptions: int
    points_redeemed: int
    voids: int  # corrections they recorded
    refunds: int
    adjustments: int
    points_reversed: int  # taken back by their voids, refunds and negative adjustments
    points_returned: int  # given back by their voids of redemptions
    first: dt.datetime  # their first and last entry in the period: a rough shift view
    last: dt.datetime


def reward_name(reward_id: str, program: Program) -> str:
    for reward in program.rewards:
        if reward.id == reward_id:
            return reward.name
    return f"{reward_id} (no longer offered)"


async def top_customers(
    engine: AsyncEngine, period: Period, *, limit: int = 10, offset: int = 0
) -> list[CustomerRow]:
    """Customers with entries in the period, most points earned first (ties: oldest card)."""
    points, kind = ledger.c.points, ledger.c.kind
    entries = select(
        ledger.c.customer_id,
        earned_side(kind, points).label("earned"),
        taken_side(kind, points).label("redeemed"),
        case((kind == "earn", 1), else_=0).label("purchases"),
    ).where(in_period(period))
    fixes = reversals.deltas(reversals.made_in(period)).subquery()  # voided purchases count -1
    undone = select(fixes.c.customer_id, literal(0), literal(0), fixes.c.purchases)
    both = union_all(entries, undone).subquery()
    per_customer = (
        select(
            both.c.customer_id,
            func.sum(both.c.earned).label("earned"),
            func.sum(both.c.redeemed).label("redeemed"),
            func.sum(both.c.purchases).label("purchases"),
        )
        .group_by(both.c.customer_id)
        .subquery()
    )
    query = (
        select(
            customers.c.id,
            customers.c.card_number,
            customers.c.name,
            customers.c.tier,
            customers.c.balance,
            per_customer.c.earned,
            per_customer.c.redeemed,
            per_customer.c.purchases,
            customers.c.last_visit_at.label("last_visit"),
        )
        .join_from(per_customer, customers, customers.c.id == per_customer.c.customer_id)
        .order_by(per_customer.c.earned.desc(), customers.c.id)
        .limit(limit)
        .offset(offset)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [
        {
            "id": r.id,
            "card_number": r.card_number,
            "name": r.name,
            "tier": r.tier,
            "balance": r.balance,
            "earned": int(r.earned),
            "redeemed": int(r.redeemed),
            "purchases": int(r.purchases),
            "last_visit": None if r.last_visit is None else utc(r.last_visit),
        }
        for r in rows
    ]


async def reward_counts(engine: AsyncEngine, period: Period, program: Program) -> list[RewardCount]:
    """Redemptions per reward in the period, most popular first (the first is the favourite).
    A voided redemption is not counted."""
    query = (
        select(
            ledger.c.reward_id,
            func.count().label("redemptions"),
            func.count(distinct(ledger.c.customer_id)).label("customers"),
            func.sum(-ledger.c.points).label("points"),
        )
        .where(in_period(period), ledger.c.kind == "redeem", standing(ledger))
        .group_by(ledger.c.reward_id)
        .order_by(func.count().desc(), ledger.c.reward_id)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    counts: list[RewardCount] = []
    for r in rows:
        count: RewardCount = {
            "reward_id": r.reward_id,
            "name": reward_name(r.reward_id, program),
            "redemptions": r.redemptions,
            "customers": r.customers,
            "points": int(r.points),
        }
        rule = next((w.money_off for w in program.rewards if w.id == r.reward_id), None)
        if rule is not None:
            worth = Decimal(int(r.points)) / rule.points_per_unit
            count["money_off"] = worth.quantize(Decimal("0.01"))
        counts.append(count)
    return counts


async def redemption_history(
    engine: AsyncEngine, period: Period, program: Program, *, limit: int = 10, offset: int = 0
) -> list[RedemptionRow]:
    """The period's redemptions, newest first: who, what, when, and which cashier."""
    query = (
        _redemptions_query(period)
        .order_by(ledger.c.created_at.desc(), ledger.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [_redemption_row(r, program) for r in rows]


def _redemptions_query(period: Period) -> Any:
    """Redemptions in the period that stand (not voided), with the customer and the cashier's
    name (shared with CSV)."""
    return (
        select(
            ledger.c.id,
            ledger.c.created_at,
            ledger.c.reward_id,
            ledger.c.points,
            ledger.c.code,
            ledger.c.actor_id,
            customers.c.card_number,
            customers.c.name,
            staff.c.name.label("cashier"),
        )
        .join_from(ledger, customers, customers.c.id == ledger.c.customer_id)
        .outerjoin(staff, staff.c.telegram_user_id == ledger.c.actor_id)
        .where(in_period(period), ledger.c.kind == "redeem", standing(ledger))
    )


def _redemption_row(r: Any, program: Program) -> RedemptionRow:
    return {
        "entry_id": r.id,
        "when": utc(r.created_at),
        "card_number": r.card_number,
        "customer": r.name,
        "reward_id": r.reward_id,
        "reward": reward_name(r.reward_id, program),
        "points": -r.points,
        "code": r.code,
        "cashier_id": r.actor_id,
        "cashier": r.cashier,
    }


async def staff_activity(engine: AsyncEngine, period: Period) -> list[StaffRow]:
    """Per cashier: what they recorded in the period, busiest first: purchases, redemptions
    and the corrections (voids, refunds, adjustments) they made. Their figures add up to the
    summary's points issued, reversed, redeemed and given back."""
    points, kind = ledger.c.points, ledger.c.kind
    per_actor = (
        select(
            ledger.c.actor_id,
            func.count().label("transactions"),
            func.sum(case((kind == "earn", 1), else_=0)).label("purchases"),
            func.sum(case(((kind != "void") & (points > 0), points), else_=0)).label(
                "points_issued"
            ),
            func.sum(case((kind == "redeem", 1), else_=0)).label("redemptions"),
            func.sum(case((kind == "redeem", -points), else_=0)).label("points_redeemed"),
            func.sum(case((kind == "void", 1), else_=0)).label("voids"),
            func.sum(case((kind == "refund", 1), else_=0)).label("refunds"),
            func.sum(case((kind == "adjust", 1), else_=0)).label("adjustments"),
            func.sum(case(((kind != "redeem") & (points < 0), -points), else_=0)).label(
                "points_reversed"
            ),
            func.sum(case(((kind == "void") & (points > 0), points), else_=0)).label(
                "points_returned"
            ),
            func.min(ledger.c.created_at).label("first"),
            func.max(ledger.c.created_at).label("last"),
        )
        # Expiry is the program's rule, not anybody's action (the summary's breakage line).
        .where(in_period(period), kind != "expire")
        .group_by(ledger.c.actor_id)
        .subquery()
    )
    query = (
        select(per_actor, staff.c.name)
        .outerjoin_from(per_actor, staff, staff.c.telegram_user_id == per_actor.c.actor_id)
        .order_by(per_actor.c.transactions.desc(), per_actor.c.actor_id)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [
        {
            "actor_id": r.actor_id,
            "name": r.name,
            "transactions": r.transactions,
            "purchases": int(r.purchases),
            "points_issued": int(r.points_issued),
            "redemptions": int(r.redemptions),
            "points_redeemed": int(r.points_redeemed),
            "voids": int(r.voids),
            "refunds": int(r.refunds),
            "adjustments": int(r.adjustments),
            "points_reversed": int(r.points_reversed),
            "points_returned": int(r.points_returned),
            "first": utc(r.first),
            "last": utc(r.last),
        }
        for r in rows
    ]
