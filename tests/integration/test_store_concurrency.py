"""Two cashiers at once, and the same confirmation twice: no overdraw, no lost or double points.

Every operation runs on its own pooled connection to a real SQLite file in WAL mode, so
asyncio.gather really interleaves the reads and the compare-and-swap writes of core.db.store.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.store import Store
from core.errors import InsufficientPoints
from core.types import EarnResult, Program, RedeemResult

from .books import CASHIER, assert_books_balance, customer_with, ledger_rows, new_customer

# --- racing redemptions and earns ------------------------------------------------------------


async def test_concurrent_redemptions_never_overdraw_and_exactly_balance_over_cost_succeed(
    store: Store, now: dt.datetime
) -> None:
    customer = await customer_with(store, now, 450)
    outcomes = await asyncio.gather(
        *(store.redeem(customer["id"], "coffee", actor_id=CASHIER, now=now) for _ in range(10)),
        return_exceptions=True,
    )
    succeeded = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(succeeded) == 450 // 100
    assert all(isinstance(o, InsufficientPoints) for o in refused), refused
    assert len({r["code"] for r in succeeded}) == 4  # each redemption has its own code
    after = await assert_books_balance(store, customer["id"])
    assert (after["balance"], after["lifetime_redeemed"]) == (50, 400)


async def test_concurrent_redemptions_in_reset_mode_empty_the_card_once(
    engine: AsyncEngine, program: Program, now: dt.datetime
) -> None:
    store = Store(engine, dataclasses.replace(program, reset_after_redemption=True))
    customer = await customer_with(store, now, 450)
    outcomes = await asyncio.gather(
        *(store.redeem(customer["id"], "coffee", actor_id=CASHIER, now=now) for _ in range(6)),
        return_exceptions=True,
    )
    succeeded = [o for o in outcomes if not isinstance(o, BaseException)]
    assert [r["points"] for r in succeeded] == [450]
    assert sum(isinstance(o, InsufficientPoints) for o in outcomes) == 5
    assert (await assert_books_balance(store, customer["id"]))["balance"] == 0


async def test_concurrent_earns_all_land_each_at_the_tier_it_was_recorded_in(
    store: Store, now: dt.datetime
) -> None:
    customer = await customer_with(store, now, 490)  # 10 points short of Silver
    results = await asyncio.gather(
        *(store.earn(customer["id"], Decimal(10), actor_id=CASHIER, now=now) for _ in range(10))
    )
    # Whichever lands first earns 10 at Bronze and crosses into Silver; the other nine are
    # recomputed after losing the race and earn 12 each (10 x 1.25, rounded down).
    assert sorted(r["points"] for r in results) == [10] + [12] * 9
    assert [r["tier_after"] for r in results if r["tier_before"] == "Bronze"] == ["Silver"]
    after = await assert_books_balance(store, customer["id"])
    assert (after["balance"], after["lifetime_earned"], after["tier"]) == (608, 608, "Silver")
    assert len(await ledger_rows(store.engine, customer["id"])) == 11


async def test_concurrent_earns_and_redemptions_keep_the_books_balanced(
    store: Store, now: dt.datetime
) -> None:
    customer = await customer_with(store, now, 100)
    earns = [store.earn(customer["id"], Decimal(50), actor_id=CASHIER, now=now) for _ in range(6)]
    redeems = [store.redeem(customer["id"], "coffee", actor_id=CASHIER, now=now) for _ in range(6)]
    outcomes = await asyncio.gather(*earns, *redeems, return_exceptions=True)
    assert all(
        not isinstance(o, BaseException) or isinstance(o, InsufficientPoints) for o in outcomes
    ), outcomes
    redeemed = sum(1 for o in outcomes[6:] if not isinstance(o, BaseException))
    after = await assert_books_balance(store, customer["id"])
    assert after["balance"] == 100 + 6 * 50 - 100 * redeemed


# --- the same confirmation twice -------------------------------------------------------------


async def test_replaying_an_earn_key_returns_the_original_result_and_changes_nothing(
    store: Store, program: Program, now: dt.datetime
) -> None:
    customer = await customer_with(store, now, 0)
    first = await store.earn(customer["id"], Decimal("25.50"), actor_id=CASHIER, now=now, key="e")
    before = await store.get_customer(customer["id"])
    later = now + dt.timedelta(minutes=5)
    # A double-tapped Confirm, even one carrying another amount, is the same purchase.
    again = await store.earn(customer["id"], Decimal(99), actor_id=CASHIER, now=later, key="e")
    assert again == {**first, "replayed": True}
    assert await store.get_customer(customer["id"]) == before
    assert len(await ledger_rows(store.engine, customer["id"])) == 1


async def test_replaying_a_redemption_key_returns_the_same_code_and_spends_once(
    store: Store, now: dt.datetime
) -> None:
    customer = await customer_with(store, now, 300)
    first = await store.redeem(customer["id"], "coffee", actor_id=CASHIER, now=now, key="r")
    again = await store.redeem(customer["id"], "coffee", actor_id=CASHIER, now=now, key="r")
    assert again == {**first, "replayed": True}
    assert (await assert_books_balance(store, customer["id"]))["balance"] == 200


async def test_a_replayed_redemption_is_returned_even_when_the_points_are_gone(
    store: Store, now: dt.datetime
) -> None:
    customer = await customer_with(store, now, 100)
    first = await store.redeem(customer["id"], "coffee", actor_id=CASHIER, now=now, key="r")
    again = await store.redeem(customer["id"], "coffee", actor_id=CASHIER, now=now, key="r")
    assert (again["code"], again["replayed"]) == (first["code"], True)


async def test_racing_copies_of_one_earn_confirmation_record_it_once(
    store: Store, now: dt.datetime
) -> None:
    customer = await customer_with(store, now, 0)
    results: list[EarnResult] = await asyncio.gather(
        *(
            store.earn(customer["id"], Decimal(20), actor_id=CASHIER, now=now, key="tap")
            for _ in range(5)
        )
    )
    assert sorted(r["replayed"] for r in results) == [False, True, True, True, True]
    assert len({r["entry_id"] for r in results}) == 1
    assert all(r["points"] == 20 for r in results)
    after = await assert_books_balance(store, customer["id"])
    assert after["balance"] == 20 + 0


async def test_racing_copies_of_one_redemption_confirmation_spend_once(
    store: Store, now: dt.datetime
) -> None:
    customer = await customer_with(store, now, 1000)
    results: list[RedeemResult] = await asyncio.gather(
        *(
            store.redeem(customer["id"], "cake", actor_id=CASHIER, now=now, key="tap")
            for _ in range(5)
        )
    )
    assert sorted(r["replayed"] for r in results) == [False, True, True, True, True]
    assert len({(r["entry_id"], r["code"]) for r in results}) == 1
    assert (await assert_books_balance(store, customer["id"]))["balance"] == 750


async def test_racing_copies_of_one_registration_create_one_customer(
    engine: AsyncEngine, program: Program, now: dt.datetime
) -> None:
    store = Store(engine, dataclasses.replace(program, signup_bonus=50))
    results = await asyncio.gather(
        *(store.register(new_customer(), actor_id=CASHIER, now=now, key="reg") for _ in range(4))
    )
    assert len({r["customer"]["id"] for r in results}) == 1
    assert sorted(r["replayed"] for r in results) == [False, True, True, True]
    assert (await assert_books_balance(store, results[0]["customer"]["id"]))["balance"] == 50


async def test_two_registrations_of_one_phone_at_once_create_one_customer(
    store: Store, now: dt.datetime
) -> None:
    outcomes = await asyncio.gather(
        store.register(new_customer(name="Ann"), actor_id=CASHIER, now=now, key="a"),
        store.register(new_customer(name="Annie"), actor_id=CASHIER, now=now, key="b"),
        return_exceptions=True,
    )
    registered = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(registered) == 1
    (refused,) = [o for o in outcomes if isinstance(o, BaseException)]
    assert type(refused).__name__ == "DuplicateCustomer"
    assert getattr(refused, "card_number", None) == registered[0]["customer"]["card_number"]
