"""Helpers for the storage tests: making customers, and checking the books balance."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import RowMapping, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from core import rules
from core.db.store import Store
from core.db.tables import customers, ledger, lot_uses, lots, tier_points
from core.types import Customer, NewCustomer

CASHIER = 7001  # a Telegram user id


def new_customer(phone: str = "+447400123456", name: str = "Ann Lee") -> NewCustomer:
    return {"name": name, "phone": phone, "email": None}


async def customer_with(store: Store, now: dt.datetime, points: int) -> Customer:
    """A new Bronze customer holding `points` (from one purchase of that many pounds)."""
    registered = await store.register(new_customer(), actor_id=CASHIER, now=now)
    customer = registered["customer"]
    if points:
        await store.earn(customer["id"], Decimal(points), actor_id=CASHIER, now=now)
    return await store.get_customer(customer["id"])


async def ledger_rows(engine: AsyncEngine, customer_id: int) -> list[RowMapping]:
    """The customer's ledger as stored, oldest first."""
    query = select(ledger).where(ledger.c.customer_id == customer_id).order_by(ledger.c.id)
    async with engine.connect() as conn:
        return list((await conn.execute(query)).mappings().all())


async def count(engine: AsyncEngine, table: Any) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def customer_count(engine: AsyncEngine) -> int:
    return await count(engine, customers)


async def assert_books_balance(store: Store, customer_id: int) -> Customer:
    """balance == sum(ledger) == earned - redeemed >= 0, every balance_after adds up, lifetime
    points are what the ledger credited (rules.lifetime_change), the tier follows them, and
    points owed are what corrections could not take less what credits paid since."""
    customer = await store.get_customer(customer_id)
    rows = await ledger_rows(store.engine, customer_id)
    running = 0
    for row in rows:
        running += row["points"]
        assert row["balance_after"] == running, f"entry {row['id']} does not add up"
    assert customer["balance"] == running == await store.ledger_sum(customer_id)
    assert customer["balance"] == customer["lifetime_earned"] - customer["lifetime_redeemed"]
    assert customer["balance"] >= 0
    assert customer["version"] == sum(1 for r in rows if r["kind"] != "signup_bonus")
    sides = [rules.lifetime_change(r["kind"], r["points"]) for r in rows]
    assert customer["lifetime_earned"] == sum(earned for earned, _ in sides)
    assert customer["lifetime_redeemed"] == sum(redeemed for _, redeemed in sides)
    assert customer["tier"] == rules.tier_for(customer["lifetime_earned"], store.program.tiers).name
    # The tier policy's qualifying points per day (migration 0010) add up to lifetime points.
    async with store.engine.connect() as conn:
        qualifying = (
            await conn.execute(
                select(func.coalesce(func.sum(tier_points.c.points), 0)).where(
                    tier_points.c.customer_id == customer_id
                )
            )
        ).scalar_one()
    assert qualifying == customer["lifetime_earned"]
    owed = customer.get("points_owed", 0)
    assert owed >= 0
    assert owed == 0 or customer["balance"] == 0, "a card that owes points holds none"
    added = sum(int(r["details"].get("owed_added", 0)) for r in rows)
    paid = sum(int(r["details"].get("owed_paid", 0)) for r in rows)
    assert owed == added - paid
    await assert_visits_match_ledger(store.engine, customer_id, rows)
    await assert_lots_match_ledger(store.engine, customer_id, rows, customer["balance"])
    return customer


async def assert_lots_match_ledger(
    engine: AsyncEngine, customer_id: int, rows: list[RowMapping], balance: int
) -> None:
    """Expiry's lots (migration 0008): one per credit, of its points; every debit took exactly
    its points from lots credited before it; what is left of the lots is the balance."""
    async with engine.connect() as conn:
        held = (
            (await conn.execute(select(lots).where(lots.c.customer_id == customer_id)))
            .mappings()
            .all()
        )
        uses = (
            (
                await conn.execute(
                    select(lot_uses).where(lot_uses.c.entry_id.in_([r["id"] for r in rows]))
                )
            )
            .mappings()
            .all()
        )
    credits = {r["id"]: r["points"] for r in rows if r["points"] > 0}
    assert {lot["entry_id"]: lot["points"] for lot in held} == credits
    assert sum(lot["remaining"] for lot in held) == balance
    lot_entry = {lot["id"]: lot["entry_id"] for lot in held}
    for row in rows:
        if row["points"] < 0:
            taken = [u for u in uses if u["entry_id"] == row["id"]]
            assert sum(u["points"] for u in taken) == -row["points"], f"entry {row['id']}"
            assert all(lot_entry[u["lot_id"]] < row["id"] for u in taken)
    spent: dict[int, int] = {}
    for use in uses:
        spent[use["lot_id"]] = spent.get(use["lot_id"], 0) + use["points"]
    assert all(lot["points"] - spent.get(lot["id"], 0) == lot["remaining"] for lot in held)


async def assert_visits_match_ledger(
    engine: AsyncEngine, customer_id: int, rows: list[RowMapping]
) -> None:
    """The customer's running report columns say what their ledger says (migrations 0003-0005):
    latest visit, two latest purchases, latest redemption, purchase and redemption counts,
    spending. Purchases and redemptions that a void reversed no longer count; a refund keeps
    its purchase but takes its amount off what was spent."""
    voided = {r["reverses_id"] for r in rows if r["kind"] == "void"}
    standing = [r for r in rows if r["id"] not in voided]
    buys = sorted((r["created_at"] for r in standing if r["kind"] == "earn"), reverse=True)
    redeemed = sorted((r["created_at"] for r in standing if r["kind"] == "redeem"), reverse=True)
    bought = {r["id"] for r in standing if r["kind"] == "earn"}
    visits = sorted([*buys, *redeemed], reverse=True)
    c = customers.c
    query = select(
        c.last_visit_at,
        c.last_purchase_at,
        c.prev_purchase_at,
        c.last_redemption_at,
        c.purchases,
        c.spent_minor,
        c.redemptions,
    ).where(c.id == customer_id)
    async with engine.connect() as conn:
        kept = tuple((await conn.execute(query)).one())
    assert kept == (
        visits[0] if visits else None,
        buys[0] if buys else None,
        buys[1] if len(buys) > 1 else None,
        redeemed[0] if redeemed else None,
        len(buys),
        sum(r["amount_minor"] for r in standing if r["kind"] == "earn")
        - sum(
            r["amount_minor"] for r in rows if r["kind"] == "refund" and r["reverses_id"] in bought
        ),
        len(redeemed),
    )
