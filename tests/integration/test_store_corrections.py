"""Store.void, refund, adjust on a real SQLite file: the worked examples of issue "Mistakes happen",
idempotency, races, refusals that change nothing, and the audit trail."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.store import Store
from core.db.tables import audit, customers, ledger, outbox
from core.errors import (
    AlreadyReversed,
    InsufficientPoints,
    InvalidAmount,
    NotAPurchase,
    NotReversible,
    ReasonRequired,
    RefundTooLarge,
    UnknownCustomer,
    UnknownEntry,
)
from core.types import CorrectionResult, Outgoing, Program

from .books import CASHIER, assert_books_balance, count, ledger_rows, new_customer

MANAGER = 7002


async def bought(store: Store, now: dt.datetime, amount: int, **kwargs: Any) -> tuple[int, int]:
    """A new customer's purchase of `amount` pounds: (customer id, the earn's entry id)."""
    registered = await store.register(new_customer(**kwargs), actor_id=CASHIER, now=now)
    customer_id = registered["customer"]["id"]
    earned = await store.earn(customer_id, Decimal(amount), actor_id=CASHIER, now=now)
    return customer_id, earned["entry_id"]


# --- the worked examples ---------------------------------------------------------------------


async def test_refunding_half_of_a_100_point_purchase_takes_back_50(
    store: Store, now: dt.datetime
) -> None:
    customer_id, earn_id = await bought(store, now, 100)
    refunded = await store.refund(earn_id, Decimal(50), actor_id=MANAGER, now=now, key="r1")
    assert (refunded["kind"], refunded["points"], refunded["reverses_id"]) == (
        "refund",
        -50,
        earn_id,
    )
    assert (refunded["balance_before"], refunded["balance_after"]) == (100, 50)
    assert (refunded["owed_added"], refunded["points_owed_after"], refunded["replayed"]) == (
        0,
        0,
        False,
    )
    after = await assert_books_balance(store, customer_id)
    assert (after["balance"], after["lifetime_earned"]) == (50, 50)
    row = (await ledger_rows(store.engine, customer_id))[-1]
    assert (row["kind"], row["points"], row["amount_minor"], row["reverses_id"]) == (
        "refund",
        -50,
        5000,
        earn_id,
    )


async def test_a_full_refund_of_a_purchase_whose_points_were_spent_owes_what_it_cannot_take(
    store: Store, now: dt.datetime
) -> None:
    # 100 points from the purchase, spent at once on a coffee; the purchase goes back whole.
    customer_id, earn_id = await bought(store, now, 100)
    await store.redeem(customer_id, "coffee", actor_id=CASHIER, now=now)
    refunded = await store.refund(earn_id, Decimal(100), actor_id=MANAGER, now=now, key="r1")
    # The balance is what it was before the purchase (0); the 100 points spent are owed.
    assert (refunded["points"], refunded["balance_after"]) == (0, 0)
    assert (refunded["owed_added"], refunded["points_owed_after"]) == (100, 100)
    after = await assert_books_balance(store, customer_id)
    assert (after["balance"], after.get("points_owed"), after["lifetime_earned"]) == (0, 100, 100)
    # What is owed is paid first from the next purchase: 30 points, none reach the card.
    earned = await store.earn(customer_id, Decimal(30), actor_id=CASHIER, now=now)
    assert (earned["points"], earned.get("owed_paid"), earned["balance_after"]) == (30, 30, 0)
    row = (await ledger_rows(store.engine, customer_id))[-1]
    assert (row["points"], row["details"]["owed_paid"]) == (0, 30)
    after = await assert_books_balance(store, customer_id)
    assert (after["balance"], after.get("points_owed")) == (0, 70)
    # ... and a purchase beyond the debt reaches the card with the rest.
    earned = await store.earn(customer_id, Decimal(100), actor_id=CASHIER, now=now)
    assert (earned.get("owed_paid"), earned["balance_after"]) == (70, 30)
    assert (await assert_books_balance(store, customer_id)).get("points_owed") == 0


async def test_undo_twice_is_undone_once(store: Store, now: dt.datetime) -> None:
    customer_id, earn_id = await bought(store, now, 40)
    first = await store.void(earn_id, actor_id=MANAGER, now=now, key="v1", reason="wrong card")
    again = await store.void(earn_id, actor_id=MANAGER, now=now, key="v1", reason="wrong card")
    assert again["replayed"] and not first["replayed"]
    assert {k: v for k, v in again.items() if k not in ("replayed", "notify_user_id")} == {
        k: v for k, v in first.items() if k not in ("replayed", "notify_user_id")
    }
    # Another confirmation (another key) finds it voided already.
    with pytest.raises(AlreadyReversed) as refused:
        await store.void(earn_id, actor_id=MANAGER, now=now, key="v2")
    assert (refused.value.entry_id, refused.value.by_entry_id) == (earn_id, first["entry_id"])
    rows = await ledger_rows(store.engine, customer_id)
    assert [r["kind"] for r in rows] == ["earn", "void"]
    assert (await assert_books_balance(store, customer_id))["balance"] == 0


async def test_the_database_itself_refuses_a_second_void_of_an_entry(
    store: Store, now: dt.datetime
) -> None:
    customer_id, earn_id = await bought(store, now, 40)
    await store.void(earn_id, actor_id=MANAGER, now=now, key="v1")
    second = {
        "customer_id": customer_id,
        "kind": "void",
        "points": 0,
        "created_at": now,
        "balance_after": 0,
        "details": {},
        "reverses_id": earn_id,
    }
    async with store.engine.begin() as conn:
        with pytest.raises(IntegrityError, match="reverses_id"):
            await conn.execute(insert(ledger).values(**second))


async def test_two_different_voids_of_one_entry_at_once_record_one(
    store: Store, now: dt.datetime
) -> None:
    customer_id, earn_id = await bought(store, now, 40)
    outcomes = await asyncio.gather(
        *(store.void(earn_id, actor_id=MANAGER, now=now, key=f"v{n}") for n in range(5)),
        return_exceptions=True,
    )
    done = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(done) == 1
    assert all(isinstance(o, AlreadyReversed) for o in outcomes if o not in done)
    assert (await assert_books_balance(store, customer_id))["balance"] == 0


@pytest.mark.parametrize("round_", range(6))
async def test_a_void_racing_a_redemption_never_overdraws_and_the_books_balance(
    store: Store, now: dt.datetime, round_: int
) -> None:
    customer_id, earn_id = await bought(store, now, 100)
    void = store.void(earn_id, actor_id=MANAGER, now=now, key="v")
    coffee = store.redeem(customer_id, "coffee", actor_id=CASHIER, now=now)
    # Started in one order or the other; each outcome keeps its own type for what follows.
    if round_ % 2:
        coffee_outcome, voided = await asyncio.gather(coffee, void, return_exceptions=True)
    else:
        voided, coffee_outcome = await asyncio.gather(void, coffee, return_exceptions=True)
    assert not isinstance(voided, BaseException), voided  # the void always stands
    after = await assert_books_balance(store, customer_id)
    assert after["balance"] == 0
    if isinstance(coffee_outcome, InsufficientPoints):
        # The void came first: it took the 100 points, and the coffee was refused.
        assert (voided["points"], after.get("points_owed")) == (-100, 0)
    else:
        # The coffee came first: its 100 points were spent, so the void owes them.
        assert (voided["points"], voided["owed_added"], after.get("points_owed")) == (0, 100, 100)


async def test_a_refund_after_the_program_changed_uses_the_rule_the_purchase_was_earned_by(
    engine: AsyncEngine, program: Program, now: dt.datetime
) -> None:
    double = Store(engine, dataclasses.replace(program, points_per_unit=Decimal(2)))
    customer_id, earn_id = await bought(double, now, 50)  # 100 points, at 2 a pound
    today = Store(engine, program)  # one point a pound now
    refunded = await today.refund(earn_id, Decimal(10), actor_id=MANAGER, now=now, key="r")
    assert (refunded["points"], refunded["points_per_unit"], refunded["multiplier"]) == (
        -20,
        Decimal(2),
        Decimal(1),
    )
    assert (await assert_books_balance(today, customer_id))["balance"] == 80


async def test_voiding_the_earn_that_crossed_a_threshold_takes_the_tier_back(
    store: Store, now: dt.datetime
) -> None:
    customer_id, _ = await bought(store, now, 450)
    promoted = await store.earn(customer_id, Decimal(60), actor_id=CASHIER, now=now)
    assert (promoted["tier_before"], promoted["tier_after"]) == ("Bronze", "Silver")
    voided = await store.void(promoted["entry_id"], actor_id=MANAGER, now=now, key="v")
    assert (voided["tier_before"], voided["tier_after"]) == ("Silver", "Bronze")
    after = await assert_books_balance(store, customer_id)
    assert (after["tier"], after["lifetime_earned"]) == ("Bronze", 450)
    rows = await ledger_rows(store.engine, customer_id)
    assert rows[-1]["new_tier"] is None  # a demotion is no tier-up for the reports


async def test_a_voided_redemption_gives_its_points_back_and_no_longer_counts(
    store: Store, now: dt.datetime
) -> None:
    customer_id, _ = await bought(store, now, 300)
    redeemed = await store.redeem(customer_id, "cake", actor_id=CASHIER, now=now)
    later = now + dt.timedelta(hours=1)
    voided = await store.void(redeemed["entry_id"], actor_id=MANAGER, now=later, key="v")
    assert (voided["points"], voided["balance_after"], voided["code"]) == (
        250,
        300,
        redeemed["code"],
    )
    after = await assert_books_balance(store, customer_id)  # redemptions 0, no last redemption
    assert (after["lifetime_earned"], after["lifetime_redeemed"]) == (300, 0)
    listed = await store.correctable_entries(customer_id)
    assert [e["kind"] for e in listed] == ["earn"]  # the voided redemption is not offered


async def test_a_refund_keeps_the_visit_and_a_void_removes_it(
    store: Store, now: dt.datetime
) -> None:
    customer_id, first = await bought(store, now, 20)
    second = await store.earn(
        customer_id, Decimal(30), actor_id=CASHIER, now=now + dt.timedelta(days=1)
    )
    later = now + dt.timedelta(days=2)
    await store.refund(second["entry_id"], Decimal(10), actor_id=MANAGER, now=later, key="r")
    await assert_books_balance(store, customer_id)  # two purchases, 40.00 spent
    await store.void(second["entry_id"], actor_id=MANAGER, now=later, key="v")
    await assert_books_balance(store, customer_id)  # one purchase, 20.00, the first's time
    c = customers.c
    async with store.engine.connect() as conn:
        row = (
            await conn.execute(
                select(c.purchases, c.spent_minor, c.last_purchase_at, c.prev_purchase_at).where(
                    c.id == customer_id
                )
            )
        ).one()
    # SQLite gives the time back without its zone (it is stored as UTC), PostgreSQL with it.
    assert (row.purchases, row.spent_minor, row.prev_purchase_at) == (1, 2000, None)
    assert row.last_purchase_at.replace(tzinfo=None) == now.replace(tzinfo=None)
    assert first < second["entry_id"]


async def test_a_void_of_a_partly_refunded_purchase_takes_what_is_left(
    store: Store, now: dt.datetime
) -> None:
    customer_id, earn_id = await bought(store, now, 100)
    await store.refund(earn_id, Decimal("25.50"), actor_id=MANAGER, now=now, key="r")
    voided = await store.void(earn_id, actor_id=MANAGER, now=now, key="v")
    assert (voided["points"], voided["amount"]) == (-75, Decimal("74.50"))
    after = await assert_books_balance(store, customer_id)
    assert (after["balance"], after["lifetime_earned"]) == (0, 0)


async def test_an_adjustment_adds_or_takes_points_with_its_reason(
    store: Store, now: dt.datetime
) -> None:
    customer_id, _ = await bought(store, now, 10)
    added = await store.adjust(customer_id, 25, "birthday", actor_id=MANAGER, now=now, key="a1")
    assert (added["kind"], added["points"], added["reverses_id"], added["reason"]) == (
        "adjust",
        25,
        None,
        "birthday",
    )
    taken = await store.adjust(customer_id, -50, "double scan", actor_id=MANAGER, now=now, key="a2")
    assert (taken["points"], taken["owed_added"], taken["balance_after"]) == (-35, 15, 0)
    rows = await ledger_rows(store.engine, customer_id)
    assert [(r["kind"], r["points"], r["note"]) for r in rows[-2:]] == [
        ("adjust", 25, "birthday"),
        ("adjust", -35, "double scan"),
    ]
    after = await assert_books_balance(store, customer_id)
    assert (after["lifetime_earned"], after["lifetime_redeemed"], after.get("points_owed")) == (
        35,
        35,
        15,
    )
    # Voiding the negative adjustment gives back all 50 it meant: 15 settle what is owed.
    undone = await store.void(taken["entry_id"], actor_id=MANAGER, now=now, key="v")
    assert (undone["points"], undone["owed_paid"], undone["balance_after"]) == (35, 15, 35)
    assert (await assert_books_balance(store, customer_id)).get("points_owed") == 0


async def test_a_signup_bonus_can_be_voided(
    engine: AsyncEngine, program: Program, now: dt.datetime
) -> None:
    store = Store(engine, dataclasses.replace(program, signup_bonus=50))
    registered = await store.register(new_customer(), actor_id=CASHIER, now=now)
    customer_id = registered["customer"]["id"]
    bonus = (await ledger_rows(engine, customer_id))[0]
    voided = await store.void(bonus["id"], actor_id=MANAGER, now=now, key="v")
    assert (voided["points"], voided["balance_after"]) == (-50, 0)
    assert (await assert_books_balance(store, customer_id))["lifetime_earned"] == 0


# --- refusals change nothing -------------------------------------------------------------------


async def snapshot(store: Store) -> tuple[Any, ...]:
    async with store.engine.connect() as conn:
        people = (await conn.execute(select(customers).order_by(customers.c.id))).all()
    return (
        [tuple(p) for p in people],
        await count(store.engine, ledger),
        await count(store.engine, audit),
        await count(store.engine, outbox),
    )


def telling(result: CorrectionResult) -> list[Outgoing]:
    return [{"chat_id": MANAGER, "text": f"{result['points']:+} points"}]


async def test_every_refused_correction_changes_nothing(store: Store, now: dt.datetime) -> None:
    customer_id, earn_id = await bought(store, now, 100)
    redeemed = await store.redeem(customer_id, "coffee", actor_id=CASHIER, now=now)
    voided_redemption = await store.void(redeemed["entry_id"], actor_id=MANAGER, now=now, key="v")
    refund = await store.refund(earn_id, Decimal(60), actor_id=MANAGER, now=now, key="r")
    before = await snapshot(store)
    refusals: list[tuple[Any, type[Exception]]] = [
        (store.void(10**6, actor_id=MANAGER, now=now, key="x1", tell=telling), UnknownEntry),
        (store.refund(10**6, Decimal(1), actor_id=MANAGER, now=now, key="x2"), UnknownEntry),
        (store.void(refund["entry_id"], actor_id=MANAGER, now=now, key="x3"), NotReversible),
        (
            store.void(voided_redemption["entry_id"], actor_id=MANAGER, now=now, key="x4"),
            NotReversible,
        ),
        (store.void(redeemed["entry_id"], actor_id=MANAGER, now=now, key="x5"), AlreadyReversed),
        (
            store.refund(earn_id, Decimal("40.01"), actor_id=MANAGER, now=now, key="x6"),
            RefundTooLarge,
        ),
        (store.refund(earn_id, Decimal(0), actor_id=MANAGER, now=now, key="x7"), InvalidAmount),
        (
            store.refund(redeemed["entry_id"], Decimal(1), actor_id=MANAGER, now=now, key="x8"),
            NotAPurchase,
        ),
        (store.adjust(customer_id, 5, "  ", actor_id=MANAGER, now=now, key="x9"), ReasonRequired),
        (store.adjust(customer_id, 0, "why", actor_id=MANAGER, now=now, key="x10"), InvalidAmount),
        (store.adjust(10**6, 5, "why", actor_id=MANAGER, now=now, key="x11"), UnknownCustomer),
    ]
    for call, error in refusals:
        with pytest.raises(error):
            await call
        assert await snapshot(store) == before, error
    await assert_books_balance(store, customer_id)


async def test_an_unknown_entry_is_said_so(store: Store) -> None:
    with pytest.raises(UnknownEntry) as refused:
        await store.entry(404)
    assert refused.value.entry_id == 404


# --- what the bot builds on ----------------------------------------------------------------------


async def test_a_correction_queues_its_messages_once(store: Store, now: dt.datetime) -> None:
    customer_id, earn_id = await bought(store, now, 100)
    first = await store.refund(
        earn_id, Decimal(10), actor_id=MANAGER, now=now, key="r", tell=telling
    )
    again = await store.refund(
        earn_id, Decimal(10), actor_id=MANAGER, now=now, key="r", tell=telling
    )
    assert [m["text"] for m in first["queued"]] == ["-10 points"]
    assert again["queued"] == [] and again["replayed"]
    assert await count(store.engine, outbox) == 1
    assert (await assert_books_balance(store, customer_id))["balance"] == 90


async def test_correctable_entries_say_what_is_left_of_each(store: Store, now: dt.datetime) -> None:
    customer_id, earn_id = await bought(store, now, 100)
    redeemed = await store.redeem(customer_id, "coffee", actor_id=CASHIER, now=now)
    second = await store.earn(customer_id, Decimal("12.50"), actor_id=CASHIER, now=now)
    await store.refund(earn_id, Decimal(30), actor_id=MANAGER, now=now, key="r")
    listed = await store.correctable_entries(customer_id)
    assert [
        (e["entry_id"], e["kind"], e["points"], e["refundable"], e["void_points"], e["code"])
        for e in listed
    ] == [
        (second["entry_id"], "earn", 12, Decimal("12.50"), -12, None),
        (redeemed["entry_id"], "redeem", -100, None, 100, redeemed["code"]),
        (earn_id, "earn", 100, Decimal("70.00"), -70, None),
    ]
    assert listed[-1]["refunded"] == Decimal("30.00")
    # Refunded in full, a purchase has nothing left to offer; a limit keeps the list short.
    await store.refund(second["entry_id"], Decimal("12.50"), actor_id=MANAGER, now=now, key="r2")
    assert [e["entry_id"] for e in await store.correctable_entries(customer_id)] == [
        redeemed["entry_id"],
        earn_id,
    ]
    assert len(await store.correctable_entries(customer_id, limit=1)) == 1


async def test_the_entry_a_correction_reverses_is_read_back_with_it(
    store: Store, now: dt.datetime
) -> None:
    _, earn_id = await bought(store, now, 100)
    voided = await store.void(earn_id, actor_id=MANAGER, now=now, key="v")
    entry = await store.entry(voided["entry_id"])
    assert (entry["kind"], entry["reverses_id"], entry["points"]) == ("void", earn_id, -100)
    assert (await store.entry(earn_id))["reverses_id"] is None


# --- the audit trail ---------------------------------------------------------------------------


async def test_every_change_of_points_leaves_one_audit_record(
    store: Store, now: dt.datetime
) -> None:
    customer_id, earn_id = await bought(store, now, 100)
    redeemed = await store.redeem(customer_id, "coffee", actor_id=CASHIER, now=now)
    await store.refund(earn_id, Decimal(10), actor_id=MANAGER, now=now, key="r")
    await store.void(redeemed["entry_id"], actor_id=MANAGER, now=now, key="v", reason="oops")
    await store.adjust(customer_id, 5, "sorry", actor_id=MANAGER, now=now, key="a")
    await store.void(redeemed["entry_id"], actor_id=MANAGER, now=now, key="v")  # a replay
    log = await store.audit_log(customer_id=customer_id)
    assert [(r["action"], r["actor_id"]) for r in reversed(log)] == [
        ("register", CASHIER),
        ("earn", CASHIER),
        ("redeem", CASHIER),
        ("refund", MANAGER),
        ("void", MANAGER),
        ("adjust", MANAGER),
    ]
    void = log[1]
    assert void["details"]["reverses_id"] == redeemed["entry_id"]
    assert void["details"]["reason"] == "oops"
    assert void["entry_id"] is not None and void["at"] == now
    assert [r["action"] for r in await store.audit_log(actor_id=MANAGER)] == [
        "adjust",
        "void",
        "refund",
    ]


async def test_actions_outside_the_ledger_are_recorded_and_read_back_by_time(
    store: Store, now: dt.datetime
) -> None:
    await store.record_audit("config_load", actor_id=None, now=now, details={"sha256": "ab" * 32})
    later = now + dt.timedelta(minutes=5)
    record_id = await store.record_audit(
        "staff_add", actor_id=MANAGER, now=later, details={"user_id": 42, "role": "cashier"}
    )
    log = await store.audit_log()
    assert (log[0]["id"], log[0]["action"]) == (record_id, "staff_add")
    assert log[0]["details"] == {"user_id": 42, "role": "cashier"}
    assert [r["action"] for r in await store.audit_log(since=later)] == ["staff_add"]
    assert [r["action"] for r in await store.audit_log(until=later)] == ["config_load"]
    assert len(await store.audit_log(limit=1)) == 1


async def test_what_is_left_to_refund_follows_the_refunds_and_refuses_what_a_refund_would(
    store: Store, now: dt.datetime
) -> None:
    customer_id, earn_id = await bought(store, now, 100)
    assert await store.refundable(earn_id) == Decimal("100.00")

    await store.refund(earn_id, Decimal("30.25"), actor_id=CASHIER, now=now, key="r1")
    assert await store.refundable(earn_id) == Decimal("69.75")

    await store.void(earn_id, actor_id=MANAGER, now=now, key="v1")
    with pytest.raises(AlreadyReversed):
        await store.refundable(earn_id)
    other_id, _ = await bought(store, now, 150, phone="+447400999888")
    redeemed = await store.redeem(other_id, "coffee", actor_id=CASHIER, now=now)
    with pytest.raises(NotAPurchase):
        await store.refundable(redeemed["entry_id"])
    assert (await store.get_customer(customer_id))["balance"] == 0
