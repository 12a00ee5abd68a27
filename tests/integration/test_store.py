"""core.db.store on a real SQLite file: registering, finding, earning, redeeming, linking."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.cards import card_from_payload, format_card, is_valid_card
from core.db import store as store_module
from core.db.store import Store
from core.errors import (
    AlreadyLinked,
    DuplicateCustomer,
    InsufficientPoints,
    InvalidAmount,
    InvalidReference,
    NothingToEarn,
    UnknownCustomer,
    UnknownReward,
)
from core.types import Program

from .books import (
    CASHIER,
    assert_books_balance,
    customer_count,
    customer_with,
    ledger_rows,
    new_customer,
)

# --- registering -----------------------------------------------------------------------------


async def test_a_new_customer_gets_a_valid_card_an_empty_balance_and_the_first_tier(
    store: Store, now: dt.datetime
) -> None:
    registered = await store.register(
        {"name": "Ann Lee", "phone": "+447400123456", "email": "ann@example.com"},
        actor_id=CASHIER,
        now=now,
    )
    customer = registered["customer"]
    assert is_valid_card(customer["card_number"])
    assert customer == {
        "id": customer["id"],
        "card_number": customer["card_number"],
        "name": "Ann Lee",
        "phone": "+447400123456",
        "email": "ann@example.com",
        "created_at": now,
        "balance": 0,
        "lifetime_earned": 0,
        "lifetime_redeemed": 0,
        "tier": "Bronze",
        "telegram_user_id": None,
        "version": 0,
        "points_owed": 0,
        "pinned_tier": None,  # the tier policy decides
        "pinned_reason": None,
    }
    assert (registered["signup_bonus"], registered["replayed"]) == (0, False)
    assert await ledger_rows(store.engine, customer["id"]) == []  # no bonus configured


async def test_every_customer_gets_a_different_card_number(store: Store, now: dt.datetime) -> None:
    cards = set()
    for i in range(25):
        registered = await store.register(
            new_customer(phone=f"+4474001234{i:02d}"), actor_id=CASHIER, now=now
        )
        cards.add(registered["customer"]["card_number"])
    assert len(cards) == 25


async def test_a_card_number_that_is_already_taken_is_replaced_by_a_fresh_one(
    store: Store, now: dt.datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken, fresh = card_from_payload(1111111), card_from_payload(2222222)
    draws: Iterator[str] = iter([taken, taken, fresh])
    monkeypatch.setattr(store_module, "new_card_number", lambda: next(draws))
    first = await store.register(new_customer("+447400111111"), actor_id=CASHIER, now=now)
    second = await store.register(new_customer("+447400222222"), actor_id=CASHIER, now=now)
    assert first["customer"]["card_number"] == taken
    assert second["customer"]["card_number"] == fresh


async def test_a_signup_bonus_is_its_own_ledger_entry_and_counts_as_lifetime_points(
    engine: AsyncEngine, program: Program, now: dt.datetime
) -> None:
    store = Store(engine, dataclasses.replace(program, signup_bonus=50))
    registered = await store.register(new_customer(), actor_id=CASHIER, now=now)
    customer = registered["customer"]
    assert registered["signup_bonus"] == 50
    assert (customer["balance"], customer["lifetime_earned"]) == (50, 50)
    (entry,) = await store.recent_entries(customer["id"])
    assert (entry["kind"], entry["points"], entry["balance_after"]) == ("signup_bonus", 50, 50)
    assert (entry["actor_id"], entry["amount"], entry["created_at"]) == (CASHIER, None, now)
    await assert_books_balance(store, customer["id"])


async def test_a_signup_bonus_past_a_threshold_starts_the_customer_in_that_tier(
    engine: AsyncEngine, program: Program, now: dt.datetime
) -> None:
    store = Store(engine, dataclasses.replace(program, signup_bonus=500))
    registered = await store.register(new_customer(), actor_id=CASHIER, now=now)
    assert registered["customer"]["tier"] == "Silver"


async def test_registering_a_phone_twice_names_the_card_it_is_already_on(
    store: Store, now: dt.datetime
) -> None:
    first = await store.register(new_customer(name="Ann"), actor_id=CASHIER, now=now)
    with pytest.raises(DuplicateCustomer) as duplicate:
        await store.register(new_customer(name="Annie"), actor_id=CASHIER, now=now)
    assert duplicate.value.card_number == first["customer"]["card_number"]
    assert duplicate.value.field == "phone"
    assert await customer_count(store.engine) == 1


async def test_replaying_a_registration_key_returns_the_same_customer_and_no_second_bonus(
    engine: AsyncEngine, program: Program, now: dt.datetime
) -> None:
    store = Store(engine, dataclasses.replace(program, signup_bonus=50))
    first = await store.register(new_customer(), actor_id=CASHIER, now=now, key="reg-1")
    again = await store.register(new_customer(), actor_id=CASHIER, now=now, key="reg-1")
    assert again["replayed"] is True
    assert again["customer"] == first["customer"]
    assert await customer_count(engine) == 1
    assert len(await ledger_rows(engine, first["customer"]["id"])) == 1
    await assert_books_balance(store, first["customer"]["id"])


async def test_a_registration_key_is_registered_once_it_has_created_a_customer(
    store: Store, now: dt.datetime
) -> None:
    assert await store.is_registered("reg-7") is False
    registered = await store.register(new_customer(), actor_id=CASHIER, now=now, key="reg-7")
    assert await store.is_registered("reg-7") is True
    # A confirmation of anything else with a key is an entry, not a registration.
    await store.earn(registered["customer"]["id"], Decimal(5), actor_id=CASHIER, now=now, key="e-7")
    assert await store.is_registered("e-7") is False


# --- finding ---------------------------------------------------------------------------------


async def test_a_customer_is_found_by_card_number_or_by_phone_in_any_format(
    store: Store, now: dt.datetime
) -> None:
    customer = (await store.register(new_customer(), actor_id=CASHIER, now=now))["customer"]
    card = customer["card_number"]
    for typed in (card, format_card(card), "07400 123456", "+44 7400 123456"):
        assert (await store.find_customer(typed))["id"] == customer["id"]


async def test_a_valid_card_nobody_holds_is_an_unknown_customer(store: Store) -> None:
    with pytest.raises(UnknownCustomer) as unknown:
        await store.find_customer(" 4821 3379 ")
    assert unknown.value.reference == "4821 3379"


async def test_a_mistyped_card_number_is_refused_not_matched_to_someone_else(
    store: Store, now: dt.datetime
) -> None:
    card = (await store.register(new_customer(), actor_id=CASHIER, now=now))["customer"][
        "card_number"
    ]
    # Swap the first two neighbouring digits that differ (swapping equal ones changes nothing,
    # which made this test fail about once in a hundred runs).
    i = next(i for i in range(len(card) - 1) if card[i] != card[i + 1])
    swapped = card[:i] + card[i + 1] + card[i] + card[i + 2 :]
    assert swapped != card
    with pytest.raises(InvalidReference, match="mistyped"):
        await store.find_customer(swapped)


# --- earning ---------------------------------------------------------------------------------


async def test_an_earn_adds_points_to_the_balance_and_lifetime_and_appends_one_entry(
    store: Store, now: dt.datetime
) -> None:
    customer = await customer_with(store, now, 40)
    result = await store.earn(
        customer["id"], Decimal("25.50"), actor_id=CASHIER, now=now, key="earn-1"
    )
    assert result == {
        "amount": Decimal("25.50"),
        "currency": "GBP",
        "points_per_unit": Decimal(1),
        "base_points": 25,
        "multiplier": Decimal("1.0"),
        "points": 25,
        "balance_before": 40,
        "balance_after": 65,
        "tier_before": "Bronze",
        "tier_after": "Bronze",
        "entry_id": result["entry_id"],
        "customer_id": customer["id"],
        "card_number": customer["card_number"],
        "replayed": False,
        "notify_user_id": None,  # not linked to Telegram
        "queued": [],  # nothing to tell: no `tell` was given
    }
    after = await assert_books_balance(store, customer["id"])
    assert (after["balance"], after["lifetime_earned"], after["lifetime_redeemed"]) == (65, 65, 0)
    row = (await ledger_rows(store.engine, customer["id"]))[-1]
    assert row["id"] == result["entry_id"]
    assert (row["kind"], row["points"], row["amount_minor"]) == ("earn", 25, 2550)
    assert (row["actor_id"], row["idempotency_key"], row["balance_after"]) == (
        CASHIER,
        "earn-1",
        65,
    )


async def test_a_recorded_purchase_reads_back_in_pounds_and_pence(
    store: Store, now: dt.datetime
) -> None:
    customer = await customer_with(store, now, 0)
    await store.earn(customer["id"], Decimal("25.50"), actor_id=CASHIER, now=now)
    (entry,) = await store.recent_entries(customer["id"])
    assert entry["amount"] == Decimal("25.50")
    assert str(entry["amount"]) == "25.50"  # not "25.5"


async def test_an_earn_that_crosses_a_threshold_promotes_the_customer(
    store: Store, now: dt.datetime
) -> None:
    customer = await customer_with(store, now, 490)
    result = await store.earn(customer["id"], Decimal("10.00"), actor_id=CASHIER, now=now)
    assert (result["tier_before"], result["tier_after"], result["points"]) == (
        "Bronze",
        "Silver",
        10,
    )
    assert (await store.get_customer(customer["id"]))["tier"] == "Silver"
    next_purchase = await store.earn(customer["id"], Decimal("10.00"), actor_id=CASHIER, now=now)
    assert next_purchase["points"] == 12  # 10 x 1.25 = 12.5, rounded down


async def test_each_earn_entry_keeps_the_rule_it_used_even_after_the_program_changes(
    engine: AsyncEngine, store: Store, program: Program, now: dt.datetime
) -> None:
    customer = await customer_with(store, now, 600)  # Silver
    await store.earn(customer["id"], Decimal("25.50"), actor_id=CASHIER, now=now, key="k")
    details = (await ledger_rows(engine, customer["id"]))[-1]["details"]
    assert details["multiplier"] == "1.25"
    assert details["points_per_unit"] == "1"
    assert (details["tier_before"], details["base_points"], details["points"]) == (
        "Silver",
        25,
        31,
    )
    # Next month the shop doubles points: the old entry still says what it gave, and why.
    richer = Store(engine, dataclasses.replace(program, points_per_unit=Decimal(2)))
    replayed = await richer.earn(
        customer["id"], Decimal("25.50"), actor_id=CASHIER, now=now, key="k"
    )
    assert (replayed["points_per_unit"], replayed["multiplier"], replayed["points"]) == (
        Decimal(1),
        Decimal("1.25"),
        31,
    )


async def test_a_purchase_under_a_pound_earns_nothing_and_records_nothing(
    store: Store, now: dt.datetime
) -> None:
    customer = await customer_with(store, now, 0)
    with pytest.raises(NothingToEarn):
        await store.earn(customer["id"], Decimal("0.99"), actor_id=CASHIER, now=now)
    assert await ledger_rows(store.engine, customer["id"]) == []
    assert await store.get_customer(customer["id"]) == customer  # no visit, no version bump


async def test_an_invalid_amount_records_nothing(store: Store, now: dt.datetime) -> None:
    customer = await customer_with(store, now, 0)
    with pytest.raises(InvalidAmount):
        await store.earn(customer["id"], Decimal("10000.01"), actor_id=CASHIER, now=now)
    assert await ledger_rows(store.engine, customer["id"]) == []


async def test_earning_for_a_customer_who_does_not_exist_is_refused(
    store: Store, now: dt.datetime
) -> None:
    with pytest.raises(UnknownCustomer):
        await store.earn(999, Decimal(5), actor_id=CASHIER, now=now)


async def test_a_time_in_another_zone_is_stored_as_the_same_instant(
    store: Store, now: dt.datetime
) -> None:
    summer_in_london = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    registered = await store.register(new_customer(), actor_id=CASHIER, now=summer_in_london)
    customer = registered["customer"]
    await store.earn(customer["id"], Decimal(5), actor_id=CASHIER, now=summer_in_london)
    (entry,) = await store.recent_entries(customer["id"])
    eleven_utc = dt.datetime(2026, 7, 1, 11, 0, tzinfo=dt.UTC)
    assert customer["created_at"] == eleven_utc
    assert entry["created_at"] == eleven_utc
    assert entry["created_at"].utcoffset() == dt.timedelta(0)


# --- redeeming -------------------------------------------------------------------------------


async def test_a_redemption_deducts_the_cost_and_gives_a_code_to_show(
    store: Store, now: dt.datetime
) -> None:
    customer = await customer_with(store, now, 300)
    result = await store.redeem(customer["id"], "cake", actor_id=CASHIER, now=now)
    assert (result["reward_id"], result["reward_name"], result["cost"], result["points"]) == (
        "cake",
        "Slice of cake",
        250,
        250,
    )
    assert (result["balance_before"], result["balance_after"]) == (300, 50)
    assert re.fullmatch(r"[A-Z2-9]{3}-[A-Z2-9]{3}", result["code"])
    after = await assert_books_balance(store, customer["id"])
    assert (after["balance"], after["lifetime_earned"], after["lifetime_redeemed"]) == (
        50,
        300,
        250,
    )
    row = (await ledger_rows(store.engine, customer["id"]))[-1]
    assert (row["kind"], row["points"], row["reward_id"], row["code"]) == (
        "redeem",
        -250,
        "cake",
        result["code"],
    )


async def test_spending_points_never_lowers_the_tier(store: Store, now: dt.datetime) -> None:
    customer = await customer_with(store, now, 600)
    await store.redeem(customer["id"], "cake", actor_id=CASHIER, now=now)
    await store.redeem(customer["id"], "cake", actor_id=CASHIER, now=now)
    after = await store.get_customer(customer["id"])
    assert (after["balance"], after["tier"]) == (100, "Silver")


async def test_in_reset_mode_a_redemption_empties_the_card(
    engine: AsyncEngine, program: Program, now: dt.datetime
) -> None:
    store = Store(engine, dataclasses.replace(program, reset_after_redemption=True))
    customer = await customer_with(store, now, 340)
    result = await store.redeem(customer["id"], "coffee", actor_id=CASHIER, now=now)
    assert (result["cost"], result["points"], result["balance_after"]) == (100, 340, 0)
    after = await assert_books_balance(store, customer["id"])
    assert (after["balance"], after["lifetime_redeemed"]) == (0, 340)


async def test_a_redemption_short_of_points_says_by_how_much_and_records_nothing(
    store: Store, now: dt.datetime
) -> None:
    customer = await customer_with(store, now, 180)
    with pytest.raises(InsufficientPoints) as short:
        await store.redeem(customer["id"], "cake", actor_id=CASHIER, now=now)
    assert (short.value.balance, short.value.cost, short.value.shortfall) == (180, 250, 70)
    assert await store.get_customer(customer["id"]) == customer
    assert len(await ledger_rows(store.engine, customer["id"])) == 1


async def test_an_unknown_reward_is_refused_before_anything_is_read(
    store: Store, now: dt.datetime
) -> None:
    customer = await customer_with(store, now, 500)
    with pytest.raises(UnknownReward):
        await store.redeem(customer["id"], "tea", actor_id=CASHIER, now=now)
    assert (await store.get_customer(customer["id"]))["balance"] == 500


# --- reading the ledger ----------------------------------------------------------------------


async def test_recent_entries_are_newest_first_and_limited(store: Store, now: dt.datetime) -> None:
    customer = await customer_with(store, now, 0)
    for pounds in (1, 2, 3, 4, 5, 6):
        await store.earn(customer["id"], Decimal(pounds), actor_id=CASHIER, now=now)
    assert [e["points"] for e in await store.recent_entries(customer["id"])] == [6, 5, 4, 3, 2]
    assert [e["points"] for e in await store.recent_entries(customer["id"], limit=2)] == [6, 5]


async def test_an_entry_can_be_looked_up_by_its_confirmation_key(
    store: Store, now: dt.datetime
) -> None:
    customer = await customer_with(store, now, 0)
    assert await store.entry_by_key("earn-9") is None
    result = await store.earn(customer["id"], Decimal(9), actor_id=CASHIER, now=now, key="earn-9")
    entry = await store.entry_by_key("earn-9")
    assert entry is not None
    assert (entry["id"], entry["points"]) == (result["entry_id"], 9)


# --- linking a Telegram account --------------------------------------------------------------


async def test_a_customer_links_their_telegram_account_with_their_own_phone(
    store: Store, now: dt.datetime
) -> None:
    customer = await customer_with(store, now, 0)
    linked = await store.link_telegram("+447400123456", 555)
    assert linked["telegram_user_id"] == 555
    assert (await store.customer_by_telegram(555)) == linked
    assert (await store.link_telegram("+447400123456", 555))["id"] == customer["id"]  # again: fine


async def test_a_linked_customer_is_to_be_told_of_a_change_once_not_on_its_replay(
    store: Store, now: dt.datetime
) -> None:
    # The result says whom to notify, so the bot needs no second read per confirmation; a
    # replayed confirmation (a double delivery) says nobody: they were told the first time.
    customer = await customer_with(store, now, 300)
    await store.link_telegram("+447400123456", 555)
    earned = await store.earn(customer["id"], Decimal(5), actor_id=CASHIER, now=now, key="e")
    again = await store.earn(customer["id"], Decimal(5), actor_id=CASHIER, now=now, key="e")
    assert (earned["notify_user_id"], again["notify_user_id"]) == (555, None)
    reward = store.program.rewards[0].id
    redeemed = await store.redeem(customer["id"], reward, actor_id=CASHIER, now=now, key="r")
    replay = await store.redeem(customer["id"], reward, actor_id=CASHIER, now=now, key="r")
    assert (redeemed["notify_user_id"], replay["notify_user_id"]) == (555, None)
    assert replay["replayed"] and replay["entry_id"] == redeemed["entry_id"]


async def test_a_card_linked_to_another_account_is_refused(store: Store, now: dt.datetime) -> None:
    customer = await customer_with(store, now, 0)
    await store.link_telegram("+447400123456", 555)
    with pytest.raises(AlreadyLinked) as linked:
        await store.link_telegram("+447400123456", 666)
    assert linked.value.card_number == customer["card_number"]
    assert (await store.get_customer(customer["id"]))["telegram_user_id"] == 555
    assert await store.customer_by_telegram(666) is None


async def test_one_account_holds_one_card_so_linking_another_moves_the_link(
    store: Store, now: dt.datetime
) -> None:
    first = (await store.register(new_customer("+447400111111"), actor_id=None, now=now))[
        "customer"
    ]
    second = (await store.register(new_customer("+447400222222"), actor_id=None, now=now))[
        "customer"
    ]
    await store.link_telegram("+447400111111", 555)
    await store.link_telegram("+447400222222", 555)
    assert (await store.get_customer(first["id"]))["telegram_user_id"] is None
    assert (await store.get_customer(second["id"]))["telegram_user_id"] == 555


async def test_linking_a_phone_with_no_card_is_an_unknown_customer(store: Store) -> None:
    with pytest.raises(UnknownCustomer):
        await store.link_telegram("+447400999999", 555)
