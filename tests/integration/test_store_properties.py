"""The ledger's invariants over random sequences of earns and redemptions, in both reset modes,
and of earns, redemptions, voids, refunds and adjustments.

After every operation, whatever happened:  balance == sum(ledger entries)
                                          balance == lifetime_earned - lifetime_redeemed
                                          balance >= 0, and the tier follows lifetime points;
and at the end the customer's report columns (latest visit, two latest purchases, latest
redemption, counts) say what the ledger says, even with entries stamped out of order.
A redemption is refused exactly when the balance is below the reward's cost.
Each example gets a fresh in-memory database. Its tables come from metadata.create_all, several
times faster than running the migrations for each of the ~60 examples; test_migrations.py
proves the migrated schema and the metadata are the same.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from core import rules
from core.config import DEFAULT_PROGRAM
from core.db.engine import open_engine
from core.db.store import Store
from core.db.tables import metadata
from core.errors import InsufficientPoints, LoyaltyError, NothingToEarn
from core.types import Program

from .books import CASHIER, assert_books_balance, ledger_rows, new_customer

NOW = dt.datetime(2026, 3, 14, 10, 30, tzinfo=dt.UTC)

Earn = tuple[str, Decimal, int]
Redeem = tuple[str, str, int]

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(800), places=2)
# Minutes after NOW. Two cashiers' tills can stamp entries out of order, or in the same
# microsecond: the customer's latest-visit columns must still agree with the ledger.
moments = st.integers(min_value=0, max_value=3)
earns = st.tuples(st.just("earn"), amounts, moments)
redeems = st.tuples(
    st.just("redeem"), st.sampled_from([r.id for r in DEFAULT_PROGRAM.rewards]), moments
)
operations = st.lists(st.one_of(earns, redeems), min_size=1, max_size=10)


async def run_and_check(program: Program, ops: list[Earn | Redeem]) -> None:
    # :memory: makes SQLAlchemy use one shared connection (a StaticPool) for the whole engine.
    engine = open_engine("sqlite+aiosqlite:///:memory:")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        store = Store(engine, program)
        registered = await store.register(new_customer(), actor_id=CASHIER, now=NOW)
        before = registered["customer"]
        customer_id = before["id"]
        balances = [before["balance"]] if program.signup_bonus else []  # one per entry
        for kind, value, minutes in ops:
            when = NOW + dt.timedelta(minutes=minutes)
            if kind == "earn":
                assert isinstance(value, Decimal)
                try:
                    quote = rules.quote_earn(before, value, program)
                except NothingToEarn:  # under a point: refused, no visit recorded
                    with pytest.raises(NothingToEarn):
                        await store.earn(customer_id, value, actor_id=CASHIER, now=when)
                    assert await store.get_customer(customer_id) == before
                    continue
                expected = before["balance"] + quote["points"]
                await store.earn(customer_id, value, actor_id=CASHIER, now=when)
            else:
                assert isinstance(value, str)
                cost = rules.find_reward(value, program).cost
                expected = 0 if program.reset_after_redemption else before["balance"] - cost
                try:
                    await store.redeem(customer_id, value, actor_id=CASHIER, now=when)
                except InsufficientPoints:
                    assert before["balance"] < cost
                    assert await store.get_customer(customer_id) == before
                    continue
                assert before["balance"] >= cost
            after = await store.get_customer(customer_id)
            assert after["balance"] == expected >= 0
            assert after["balance"] == after["lifetime_earned"] - after["lifetime_redeemed"]
            assert after["tier"] == rules.tier_for(after["lifetime_earned"], program.tiers).name
            assert after["lifetime_earned"] >= before["lifetime_earned"]
            balances.append(after["balance"])
            before = after
        # The ledger recorded each of those balances, and its entries add up to every one.
        rows = await ledger_rows(engine, customer_id)
        assert [r["balance_after"] for r in rows] == balances
        await assert_books_balance(store, customer_id)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("reset", [False, True], ids=["deduct-cost", "reset-mode"])
@settings(max_examples=30, deadline=None)
@given(ops=operations, signup_bonus=st.sampled_from([0, 30, 300]))
def test_the_books_balance_after_any_sequence_of_earns_and_redemptions(
    reset: bool, ops: list[Earn | Redeem], signup_bonus: int
) -> None:
    program = dataclasses.replace(
        DEFAULT_PROGRAM, reset_after_redemption=reset, signup_bonus=signup_bonus
    )
    asyncio.run(run_and_check(program, ops))


def test_the_property_test_database_really_is_fresh_for_each_example() -> None:
    # Two runs registering the same phone would clash if the in-memory database were shared.
    program = DEFAULT_PROGRAM
    asyncio.run(run_and_check(program, [("earn", Decimal(5), 0)]))
    asyncio.run(run_and_check(program, [("earn", Decimal(5), 0)]))


# --- with corrections --------------------------------------------------------------------------

# (kind, value, which entry, minutes): `which` picks an earlier entry to void or refund, and
# `value` is an earn's amount, a reward, a refund's share of its purchase (percent) or an
# adjustment's points.
Step = tuple[str, object, int, int]
purchases = st.integers(80, 400).map(Decimal)  # enough for a reward now and then
corrections_ops = st.lists(
    st.one_of(
        st.tuples(st.just("earn"), st.one_of(amounts, purchases), st.just(0), moments),
        st.tuples(
            st.just("redeem"),
            st.sampled_from([r.id for r in DEFAULT_PROGRAM.rewards]),
            st.just(0),
            moments,
        ),
        st.tuples(st.just("void"), st.just(0), st.integers(0, 30), moments),
        st.tuples(st.just("refund"), st.integers(1, 100), st.integers(0, 30), moments),
        st.tuples(
            st.just("adjust"),
            st.one_of(st.integers(1, 400), st.integers(-400, -1)),
            st.just(0),
            moments,
        ),
    ),
    min_size=1,
    max_size=14,
)


async def run_corrections(program: Program, steps: list[Step]) -> None:
    engine = open_engine("sqlite+aiosqlite:///:memory:")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        store = Store(engine, program)
        registered = await store.register(new_customer(), actor_id=CASHIER, now=NOW)
        customer_id = registered["customer"]["id"]
        before = registered["customer"]
        for n, (kind, value, which, minutes) in enumerate(steps):
            when = NOW + dt.timedelta(minutes=minutes)
            entries = await ledger_rows(engine, customer_id)
            # A refund mostly of a purchase (any entry now and then, to be refused).
            earns = [e for e in entries if e["kind"] == "earn"] if which % 5 else []
            pool = (earns if kind == "refund" else []) or entries
            target = pool[which % len(pool)]["id"] if pool else 1
            key = f"k{n}"
            try:
                if kind == "earn":
                    assert isinstance(value, Decimal)
                    moved = (await store.earn(customer_id, value, actor_id=CASHIER, now=when))[
                        "points"
                    ]
                elif kind == "redeem":
                    assert isinstance(value, str)
                    result = await store.redeem(customer_id, value, actor_id=CASHIER, now=when)
                    moved = -result["points"]
                elif kind == "void":
                    voided = await store.void(target, actor_id=CASHIER, now=when, key=key)
                    moved = voided["gross"]
                elif kind == "refund":
                    assert isinstance(value, int)
                    entry = await store.entry(target)
                    share = (entry["amount"] or Decimal(1)) * value / 100
                    amount = max(share.quantize(Decimal("0.01")), Decimal("0.01"))
                    refunded = await store.refund(
                        target, amount, actor_id=CASHIER, now=when, key=key
                    )
                    moved = refunded["gross"]
                else:
                    assert isinstance(value, int)
                    adjusted = await store.adjust(
                        customer_id, value, "test", actor_id=CASHIER, now=when, key=key
                    )
                    moved = adjusted["gross"]
            except LoyaltyError:
                # A refusal (not enough points, nothing left to reverse, not a purchase, ...)
                # changes nothing at all.
                assert await store.get_customer(customer_id) == before
                event(f"{kind} refused")
                continue
            event(f"{kind} recorded")
            after = await store.get_customer(customer_id)
            # The card's worth moves by exactly what the change meant; what the balance could
            # not give is owed, and while anything is owed the balance is empty.
            worth = after["balance"] - after.get("points_owed", 0)
            assert worth == before["balance"] - before.get("points_owed", 0) + moved
            assert after["balance"] >= 0 and after.get("points_owed", 0) >= 0
            assert after["balance"] == 0 or after.get("points_owed", 0) == 0
            assert after["balance"] == after["lifetime_earned"] - after["lifetime_redeemed"]
            assert after["tier"] == rules.tier_for(after["lifetime_earned"], program.tiers).name
            before = after
        # Every entry adds up, lifetime totals are the ledger's, points owed are what
        # corrections could not take less what credits paid since, and the report columns
        # count only the purchases and redemptions that still stand.
        await assert_books_balance(store, customer_id)
    finally:
        await engine.dispose()


@settings(max_examples=60, deadline=None)
@given(steps=corrections_ops, signup_bonus=st.sampled_from([0, 50]))
def test_the_books_balance_after_any_sequence_with_voids_refunds_and_adjustments(
    steps: list[Step], signup_bonus: int
) -> None:
    program = dataclasses.replace(DEFAULT_PROGRAM, signup_bonus=signup_bonus)
    asyncio.run(run_corrections(program, steps))
