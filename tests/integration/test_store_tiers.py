"""The tier policy in the Store: qualifying points kept per shop day, tiers that age out, pins."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.store import Store
from core.db.tables import ledger, tier_points
from core.types import Program, TierBasis, TierPolicy
from tests.integration.books import new_customer

ADMIN = 1
CASHIER = 2
UTC = dt.UTC


def policy_store(engine: AsyncEngine, program: Program, basis: TierBasis) -> Store:
    policy = TierPolicy(basis=basis, timezone="Europe/London")
    return Store(engine, dataclasses.replace(program, tier_policy=policy))


async def day_rows(engine: AsyncEngine, customer_id: int) -> dict[dt.date, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(tier_points.c.day, tier_points.c.points).where(
                tier_points.c.customer_id == customer_id
            )
        )
        return {row.day: row.points for row in rows}


async def test_a_tier_reached_in_a_year_is_kept_to_the_end_of_the_next_then_drops(
    engine: AsyncEngine, program: Program
) -> None:
    store = policy_store(engine, program, "calendar_year")
    at = dt.datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)  # London's last second of 2026
    ann = (await store.register(new_customer(), actor_id=CASHIER, now=at))["customer"]
    earned = await store.earn(ann["id"], Decimal(500), actor_id=CASHIER, now=at)
    assert earned["tier_after"] == "Silver"
    assert await day_rows(engine, ann["id"]) == {dt.date(2026, 12, 31): 500}

    assert await store.drop_aged_tiers(dt.datetime(2027, 12, 31, 23, 0, tzinfo=UTC)) == 0
    assert (await store.get_customer(ann["id"]))["tier"] == "Silver"

    new_year = dt.datetime(2028, 1, 1, 0, 0, 1, tzinfo=UTC)
    assert await store.drop_aged_tiers(new_year) == 1
    assert (await store.get_customer(ann["id"]))["tier"] == "Bronze"
    assert await store.drop_aged_tiers(new_year) == 0  # once per shop day: idempotent
    [record] = await store.audit_log(customer_id=ann["id"], limit=1)
    assert record["action"] == "tier_drop"
    assert record["details"] == {"tier_before": "Silver", "tier_after": "Bronze"}
    # The next purchase earns at Bronze's rate: its window has no points.
    again = await store.earn(ann["id"], Decimal(100), actor_id=CASHIER, now=new_year)
    assert (again["multiplier"], again["points"]) == (Decimal(1), 100)


async def test_rolling_points_age_out_on_the_366th_day(
    engine: AsyncEngine, program: Program
) -> None:
    store = policy_store(engine, program, "rolling_365")
    first = dt.datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    ann = (await store.register(new_customer(), actor_id=CASHIER, now=first))["customer"]
    await store.earn(ann["id"], Decimal(600), actor_id=CASHIER, now=first)
    assert await store.drop_aged_tiers(first) == 0  # the first run: Silver still holds

    assert await store.drop_aged_tiers(first + dt.timedelta(days=364)) == 0
    assert (await store.get_customer(ann["id"]))["tier"] == "Silver"
    assert await store.drop_aged_tiers(first + dt.timedelta(days=365)) == 1
    assert (await store.get_customer(ann["id"]))["tier"] == "Bronze"


async def test_a_void_takes_qualifying_points_off_the_day_of_the_purchase(
    engine: AsyncEngine, program: Program
) -> None:
    store = policy_store(engine, program, "calendar_year")
    bought = dt.datetime(2026, 12, 31, 18, 0, tzinfo=UTC)
    ann = (await store.register(new_customer(), actor_id=CASHIER, now=bought))["customer"]
    earned = await store.earn(ann["id"], Decimal(600), actor_id=CASHIER, now=bought)
    voided = await store.void(
        earned["entry_id"],
        actor_id=ADMIN,
        now=dt.datetime(2027, 1, 2, 9, 0, tzinfo=UTC),
        key="v1",
        reason="wrong card",
    )
    assert voided["tier_after"] == "Bronze"
    assert await day_rows(engine, ann["id"]) == {dt.date(2026, 12, 31): 0}
    assert (await store.get_customer(ann["id"]))["tier"] == "Bronze"


async def test_a_pinned_tier_overrides_the_policy_until_unpinned(
    engine: AsyncEngine, program: Program, now: dt.datetime
) -> None:
    store = Store(engine, program)  # lifetime basis
    ann = (await store.register(new_customer(), actor_id=CASHIER, now=now))["customer"]
    before, after = await store.pin_tier(
        ann["id"], "Gold", reason="founding member", actor_id=ADMIN, now=now
    )
    assert (before["tier"], after["tier"], after["pinned_tier"]) == ("Bronze", "Gold", "Gold")
    assert after["pinned_reason"] == "founding member"
    earned = await store.earn(ann["id"], Decimal(100), actor_id=CASHIER, now=now)
    assert (earned["multiplier"], earned["points"], earned["tier_after"]) == (
        Decimal("1.5"),
        150,
        "Gold",
    )
    async with engine.connect() as conn:
        new_tier = (await conn.execute(select(ledger.c.new_tier))).scalars().all()
    assert new_tier == [None]  # a pin is not a tier-up in the reports

    _, unpinned = await store.pin_tier(ann["id"], None, reason="review", actor_id=ADMIN, now=now)
    assert (unpinned["tier"], unpinned["pinned_tier"], unpinned["pinned_reason"]) == (
        "Bronze",
        None,
        None,
    )
    actions = [r["action"] for r in await store.audit_log(customer_id=ann["id"])]
    assert actions[:3] == ["tier_unpin", "earn", "tier_pin"]
    records = await store.audit_log(customer_id=ann["id"])
    assert records[0]["details"] == {
        "reason": "review",
        "tier_before": "Gold",
        "tier_after": "Bronze",
    }
    assert records[2]["details"] == {
        "reason": "founding member",
        "tier_before": "Bronze",
        "tier": "Gold",
    }


async def test_a_void_does_not_undo_a_pin(
    engine: AsyncEngine, program: Program, now: dt.datetime
) -> None:
    store = Store(engine, program)
    ann = (await store.register(new_customer(), actor_id=CASHIER, now=now))["customer"]
    earned = await store.earn(ann["id"], Decimal(600), actor_id=CASHIER, now=now)
    await store.pin_tier(ann["id"], "Silver", reason="kept", actor_id=ADMIN, now=now)
    voided = await store.void(earned["entry_id"], actor_id=ADMIN, now=now, key="v", reason="x")
    assert voided["tier_after"] == "Silver"
    assert (await store.get_customer(ann["id"]))["tier"] == "Silver"
