"""Tier storage: qualifying points per shop day, pinned tiers, and tiers that drop with time.

The rules are core/tiers.py; these are the statements around them, each run on the connection
of a unit of work (core/db/unit_of_work.py):
- bump:     every change of lifetime points adds to its shop day's row in `tier_points`, in
            the transaction of the change (a void or refund on the day of the credit it takes
            back), so reading a customer's window is a primary-key range of a few rows;
- standing: a customer's Standing today (the window's rows only; none for the lifetime basis);
- pin:      an admin pins a tier or unpins (compare-and-swap on the version, audited);
- drop_aged: the daily job's work (bot/tiers_job.py): the customers whose points may have aged
            out since the last run, each moved to the tier the policy now gives, audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, and_, bindparam, insert, select, update

from core import tiers
from core.tiers import Standing
from core.types import Customer, Program

from .audit import audit
from .reads import existing_customer
from .tables import customers, settings, tier_points

_CUSTOMER = tier_points.c.customer_id == bindparam("customer_id")
WINDOW = select(tier_points.c.day, tier_points.c.points).where(
    _CUSTOMER, tier_points.c.day >= bindparam("since", type_=tier_points.c.day.type)
)
# Not named after the columns: an UPDATE reserves those names for its SET clause.
_THE_DAY = and_(
    tier_points.c.customer_id == bindparam("of_customer"),
    tier_points.c.day == bindparam("on_day", type_=tier_points.c.day.type),
)
ADD = update(tier_points).where(_THE_DAY).values(points=tier_points.c.points + bindparam("more"))
NEW_DAY = insert(tier_points)
PIN = (
    update(customers)
    .where(customers.c.id == bindparam("customer_id"), customers.c.version == bindparam("seen"))
    .values(
        pinned_tier=bindparam("pin_to"),
        pinned_reason=bindparam("pin_why"),
        tier=bindparam("new_tier"),
        version=customers.c.version + 1,
    )
)
SET_TIER = (
    update(customers)
    .where(customers.c.id == bindparam("customer_id"), customers.c.version == bindparam("seen"))
    .values(tier=bindparam("new_tier"), version=customers.c.version + 1)
)
# Customers with qualifying points on days that have left the rolling window since the last run.
AGED = (
    select(tier_points.c.customer_id)
    .where(
        tier_points.c.day >= bindparam("first", type_=tier_points.c.day.type),
        tier_points.c.day <= bindparam("last", type_=tier_points.c.day.type),
    )
    .distinct()
)
ABOVE_BASE = select(customers.c.id).where(
    customers.c.tier != bindparam("base"), customers.c.pinned_tier.is_(None)
)
LAST_RUN = select(settings.c.value).where(settings.c.key == "tiers_job_day")
JOB_KEY = "tiers_job_day"


def bump(conn: Connection, customer_id: int, day: dt.date, points: int) -> None:
    """Adds `points` (signed) to the customer's qualifying points of `day`.

    Safe without an upsert: the change's compare-and-swap on the customer row came first in this
    transaction, so no other writer touches this customer's rows until it commits.
    """
    if points == 0:
        return
    added = conn.execute(ADD, {"of_customer": customer_id, "on_day": day, "more": points})
    if added.rowcount == 0:
        conn.execute(NEW_DAY, {"customer_id": customer_id, "day": day, "points": points})


def standing(conn: Connection, customer: Customer, program: Program, now: dt.datetime) -> Standing:
    """The customer's Standing at `now`: the window's credits, read only if the basis has one."""
    today = tiers.shop_day(now, program.tier_policy.timezone)
    if program.tier_policy.basis == "lifetime":
        return tiers.standing_of(customer, today)
    since = tiers.window_start(program.tier_policy, today)
    rows = conn.execute(WINDOW, {"customer_id": customer["id"], "since": since})
    return tiers.standing_of(customer, today, {row.day: row.points for row in rows})


def pin(
    conn: Connection,
    customer_id: int,
    tier: str | None,
    reason: str,
    program: Program,
    actor_id: int | None,
    now: dt.datetime,
) -> tuple[Customer, Customer] | None:
    """Pins `tier` (None: unpins, the policy decides again); (before, after), or None if the
    card changed meanwhile (read again and retry)."""
    before = existing_customer(conn, customer_id)
    held = standing(conn, {**before, "pinned_tier": tier}, program, now)
    new_tier = tiers.held(held, program).name
    swapped = conn.execute(
        PIN,
        {
            "customer_id": customer_id,
            "seen": before["version"],
            "pin_to": tier,
            "pin_why": None if tier is None else reason,
            "new_tier": new_tier,
        },
    )
    if swapped.rowcount != 1:
        return None
    details: dict[str, Any] = {"reason": reason, "tier_before": before["tier"]}
    if tier is None:
        details["tier_after"] = new_tier
    else:
        details["tier"] = tier
    audit(
        conn,
        actor_id=actor_id,
        action="tier_unpin" if tier is None else "tier_pin",
        customer_id=customer_id,
        entry_id=None,
        details=details,
        now=now,
    )
    return before, existing_customer(conn, customer_id)


def refresh(conn: Connection, customer_id: int, program: Program, now: dt.datetime) -> bool:
    """Moves one customer to the tier the policy gives today; True if it changed (audited)."""
    customer = existing_customer(conn, customer_id)
    if customer.get("pinned_tier") is not None:
        return False
    tier = tiers.held(standing(conn, customer, program, now), program).name
    if tier == customer["tier"]:
        return False
    swapped = conn.execute(
        SET_TIER, {"customer_id": customer_id, "seen": customer["version"], "new_tier": tier}
    )
    if swapped.rowcount != 1:
        return False  # an earn or a correction just set the tier by the same rules
    audit(
        conn,
        actor_id=None,
        action="tier_drop",
        customer_id=customer_id,
        entry_id=None,
        details={"tier_before": customer["tier"], "tier_after": tier},
        now=now,
    )
    return True


def due(conn: Connection, program: Program, now: dt.datetime) -> tuple[dt.date, list[int]]:
    """Today's shop date and the customers whose tier may have dropped since the last run.

    rolling_365: those with credits on the days that left the window since the last run (a few
    each day); calendar_year: on the first run of a new year, everyone above the lowest tier
    and not pinned; lifetime: nobody (points never age out).
    """
    policy = program.tier_policy
    today = tiers.shop_day(now, policy.timezone)
    last_value = conn.execute(LAST_RUN).scalar_one_or_none()
    last = dt.date.fromisoformat(str(last_value)) if last_value is not None else None
    if policy.basis == "lifetime" or last == today:
        return today, []
    if last is None:  # the first run: anyone above the lowest tier may be due
        rows = conn.execute(ABOVE_BASE, {"base": program.tiers[0].name})
        return today, [row.id for row in rows]
    if policy.basis == "rolling_365":
        gone = tiers.window_start(policy, today) - dt.timedelta(days=1)  # left today
        first = tiers.window_start(policy, last)
        rows = conn.execute(AGED, {"first": first, "last": gone})
        return today, [row.customer_id for row in rows]
    if last.year == today.year:
        return today, []
    rows = conn.execute(ABOVE_BASE, {"base": program.tiers[0].name})
    return today, [row.id for row in rows]


def mark_done(conn: Connection, today: dt.date) -> None:
    """Records that the daily job has run for `today` (settings `tiers_job_day`)."""
    done = conn.execute(
        update(settings).where(settings.c.key == JOB_KEY).values(value=today.isoformat())
    )
    if done.rowcount == 0:
        conn.execute(insert(settings).values(key=JOB_KEY, value=today.isoformat()))
