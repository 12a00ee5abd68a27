"""Campaigns (core/campaigns.py and quote_earn): worked examples at the boundaries.

The shop is in Europe/London, [reports] timezone: GMT (UTC+0) in winter, BST (UTC+1) from
29 March 2026 01:00 UTC to 25 October 2026 01:00 UTC.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import campaigns, corrections, rules
from core.config import DEFAULT_PROGRAM
from core.db.statements import to_json
from core.errors import NothingToEarn
from core.types import BillLevel, Campaign, Customer, LedgerEntry, Program

LONDON = "Europe/London"
UTC = dt.UTC
TUESDAY = dt.datetime(2026, 1, 6, 12, 0, tzinfo=UTC)  # a winter Tuesday, noon in the shop

DOUBLE_TUESDAY = Campaign(
    name="Double Tuesday", start=dt.date(2026, 1, 1), weekdays=frozenset({1}), multiplier=Decimal(2)
)
BIG_BASKET = Campaign(
    name="Big basket",
    start=dt.date(2026, 1, 1),
    # The reward-allocation brief's bill-value categories
    bill_bonus=tuple(
        BillLevel(Decimal(bill), points)
        for bill, points in (("250", 25), ("500", 60), ("750", 100), ("1000", 150), ("1250", 200))
    ),
)
WELCOME = Campaign(name="Welcome", start=dt.date(2026, 1, 1), first_purchase_bonus=50)


def customer(lifetime: int = 0) -> Customer:
    return {
        "id": 1,
        "card_number": "48213376",
        "name": "Ann Lee",
        "phone": "+447400123456",
        "email": None,
        "created_at": dt.datetime(2026, 1, 1, tzinfo=UTC),
        "balance": lifetime,
        "lifetime_earned": lifetime,
        "lifetime_redeemed": 0,
        "tier": rules.tier_for(lifetime, DEFAULT_PROGRAM.tiers).name,
        "telegram_user_id": None,
        "version": 0,
        "points_owed": 0,
    }


def shop(*running: Campaign, **more: object) -> Program:
    return dataclasses.replace(DEFAULT_PROGRAM, campaigns=running, timezone=LONDON, **more)  # type: ignore[arg-type]


# --- when a campaign runs ------------------------------------------------------------------


def test_a_campaign_starting_at_midnight_in_summer_starts_at_2300_utc_the_day_before() -> None:
    summer = Campaign(name="June", start=dt.date(2026, 6, 1), multiplier=Decimal(2))
    just_before = dt.datetime(2026, 5, 31, 22, 59, 59, tzinfo=UTC)  # 23:59:59 BST
    midnight = dt.datetime(2026, 5, 31, 23, 0, tzinfo=UTC)  # 00:00 BST on 1 June
    assert campaigns.running([summer], just_before, LONDON) == []
    assert campaigns.running([summer], midnight, LONDON) == [summer]


def test_a_campaign_starting_at_midnight_in_winter_starts_at_midnight_utc() -> None:
    winter = Campaign(name="New year", start=dt.date(2026, 1, 1), multiplier=Decimal(2))
    assert campaigns.running([winter], dt.datetime(2025, 12, 31, 23, 59, tzinfo=UTC), LONDON) == []
    assert campaigns.running([winter], dt.datetime(2026, 1, 1, 0, 0, tzinfo=UTC), LONDON) == [
        winter
    ]


def test_the_end_date_is_the_last_day_it_runs_on_the_shops_clock() -> None:
    july = Campaign(
        name="July", start=dt.date(2026, 7, 1), end=dt.date(2026, 7, 31), multiplier=Decimal(2)
    )
    last_minute = dt.datetime(2026, 7, 31, 22, 59, tzinfo=UTC)  # 23:59 BST on 31 July
    after = dt.datetime(2026, 7, 31, 23, 0, tzinfo=UTC)  # 00:00 BST on 1 August
    assert campaigns.running([july], last_minute, LONDON) == [july]
    assert campaigns.running([july], after, LONDON) == []


HAPPY_HOUR = Campaign(
    name="Happy hour",
    start=dt.date(2026, 1, 1),
    hours=(dt.time(10, 0), dt.time(14, 0)),
    multiplier=Decimal(2),
)


@pytest.mark.parametrize(
    ("utc", "on"),
    [
        # Saturday 28 March, GMT: shop time is UTC
        (dt.datetime(2026, 3, 28, 10, 0), True),
        (dt.datetime(2026, 3, 28, 9, 59), False),
        # Sunday 29 March, clocks go forward at 01:00 UTC: 10:00 BST is 09:00 UTC
        (dt.datetime(2026, 3, 29, 9, 0), True),
        (dt.datetime(2026, 3, 29, 8, 59), False),
        (dt.datetime(2026, 3, 29, 12, 59), True),  # 13:59 BST
        (dt.datetime(2026, 3, 29, 13, 0), False),  # 14:00 BST: the end is not included
        # Sunday 25 October, clocks go back at 01:00 UTC: 10:00 GMT is 10:00 UTC again
        (dt.datetime(2026, 10, 25, 9, 59), False),
        (dt.datetime(2026, 10, 25, 10, 0), True),
        (dt.datetime(2026, 10, 24, 9, 0), True),  # the Saturday before: still BST
    ],
)
def test_hours_follow_the_shops_clock_across_dst_changes(utc: dt.datetime, on: bool) -> None:
    assert (campaigns.running([HAPPY_HOUR], utc.replace(tzinfo=UTC), LONDON) != []) is on


def test_a_weekday_campaign_runs_only_on_its_days_in_the_shops_time_zone() -> None:
    # 23:30 UTC on Monday 1 June is 00:30 BST on Tuesday 2 June: Tuesday in the shop.
    assert campaigns.running([DOUBLE_TUESDAY], dt.datetime(2026, 6, 1, 23, 30, tzinfo=UTC), LONDON)
    assert not campaigns.running(
        [DOUBLE_TUESDAY], dt.datetime(2026, 6, 2, 23, 30, tzinfo=UTC), LONDON
    )


# --- what a purchase gets ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bill", "bonus"),
    [
        ("249.99", None),
        ("250.00", 25),  # exactly the threshold reaches it
        ("499.99", 25),
        ("500.00", 60),  # only the highest step reached counts
        ("1250.00", 200),
        ("9999.99", 200),
    ],
)
def test_a_bill_bonus_gives_the_step_of_the_highest_threshold_reached(
    bill: str, bonus: int | None
) -> None:
    quote = rules.quote_earn(customer(), Decimal(bill), shop(BIG_BASKET), at=TUESDAY)
    base = int(Decimal(bill))  # Bronze, 1 point per pound, rounded down
    if bonus is None:
        assert quote["points"] == base
        assert "campaigns" not in quote
    else:
        assert quote["points"] == base + bonus
        assert quote["campaigns"] == [
            {
                "name": "Big basket",
                "effect": "bill_bonus",
                "points": bonus,
                "bill": max(level.bill for level in BIG_BASKET.bill_bonus if level.points <= bonus),
                "levels": [(level.bill, level.points) for level in BIG_BASKET.bill_bonus],
            }
        ]


def test_the_best_multiplier_multiplies_the_tiers_and_bonuses_add() -> None:
    one_and_a_half = Campaign(name="Spring", start=dt.date(2026, 1, 1), multiplier=Decimal("1.5"))
    program = shop(one_and_a_half, DOUBLE_TUESDAY, BIG_BASKET, WELCOME)
    silver = customer(lifetime=600)  # Silver x1.25
    quote = rules.quote_earn(silver, Decimal("250.00"), program, at=TUESDAY, purchases=0)
    # floor(250 x 1.25 x 2) = 625; the x1.5 campaign does not stack; +25 bill, +50 welcome
    assert quote["points"] == 625 + 25 + 50
    assert quote["multiplier"] == Decimal("1.25")
    assert quote["campaign_multiplier"] == Decimal(2)
    assert [(c["name"], c["points"]) for c in quote["campaigns"]] == [
        ("Double Tuesday", 625 - 312),  # what it added to the tier's floor(312.5)
        ("Big basket", 25),
        ("Welcome", 50),
    ]


def test_no_campaign_applies_outside_its_days_or_without_a_moment() -> None:
    wednesday = TUESDAY + dt.timedelta(days=1)
    program = shop(DOUBLE_TUESDAY)
    assert rules.quote_earn(customer(), Decimal("25.50"), program, at=wednesday)["points"] == 25
    assert rules.quote_earn(customer(), Decimal("25.50"), program)["points"] == 25
    assert rules.quote_earn(customer(), Decimal("25.50"), program, at=TUESDAY)["points"] == 51


@pytest.mark.parametrize(("purchases", "bonus"), [(0, 50), (1, 0), (None, 0)])
def test_a_first_purchase_bonus_is_for_a_card_with_no_purchase_yet(
    purchases: int | None, bonus: int
) -> None:
    quote = rules.quote_earn(
        customer(), Decimal("10.00"), shop(WELCOME), at=TUESDAY, purchases=purchases
    )
    assert quote["points"] == 10 + bonus


def test_a_bonus_makes_a_purchase_under_a_point_worth_recording() -> None:
    quote = rules.quote_earn(customer(), Decimal("0.50"), shop(WELCOME), at=TUESDAY, purchases=0)
    assert quote["points"] == 50


def test_min_purchase_refuses_even_when_a_campaign_runs() -> None:
    program = shop(WELCOME, min_purchase=Decimal("5.00"))
    with pytest.raises(NothingToEarn) as refused:
        rules.quote_earn(customer(), Decimal("4.99"), program, at=TUESDAY, purchases=0)
    assert refused.value.minimum == Decimal("5.00")


# --- refunds reverse exactly what the campaigns gave ---------------------------------------


def earn_entry(quote: dict[str, object], amount: Decimal) -> LedgerEntry:
    """The entry Store.earn writes for this quote (its details as stored: JSON-ready)."""
    return {
        "id": 2,
        "customer_id": 1,
        "kind": "earn",
        "points": int(str(quote["points"])),
        "amount": amount,
        "reward_id": None,
        "actor_id": 7001,
        "created_at": TUESDAY,
        "idempotency_key": None,
        "note": None,
        "balance_after": 0,
        "details": quote,
        "reverses_id": None,
    }


def test_a_partial_refund_takes_back_the_bill_bonus_step_by_step() -> None:
    program = shop(DOUBLE_TUESDAY, BIG_BASKET)
    quote = rules.quote_earn(customer(), Decimal("760.00"), program, at=TUESDAY)
    assert quote["points"] == 1520 + 100
    earn = earn_entry(to_json(quote), Decimal("760.00"))
    card = {**customer(), "balance": 5000, "lifetime_earned": 5000}
    # 160.00 back: 600.00 stands, which still reaches the 500 step: 320 + (100 - 60)
    first = corrections.quote_refund(card, earn, [], Decimal("160.00"), program)  # type: ignore[arg-type]
    assert first["gross"] == -(320 + 40)


@settings(max_examples=60, deadline=None)
@given(
    bill=st.integers(min_value=100, max_value=200_000).map(lambda c: Decimal(c) / 100),
    cuts=st.lists(st.integers(min_value=1, max_value=99), min_size=1, max_size=4),
)
def test_refunds_of_a_campaign_purchase_never_take_more_than_it_gave_and_all_of_it_in_full(
    bill: Decimal, cuts: list[int]
) -> None:
    program = shop(DOUBLE_TUESDAY, BIG_BASKET, WELCOME)
    quote = rules.quote_earn(customer(), bill, program, at=TUESDAY, purchases=0)
    earn = earn_entry(to_json(quote), bill)
    card: Customer = {**customer(), "balance": 10**9, "lifetime_earned": 10**9}
    earlier: list[LedgerEntry] = []
    taken = 0
    left = bill
    for n, cut in enumerate([*cuts, 100]):
        part = (
            left
            if cut == 100
            else max((left * cut / 100).quantize(Decimal("0.01")), Decimal("0.01"))
        )
        if part > left or part <= 0:
            continue
        refund = corrections.quote_refund(card, earn, earlier, part, program)
        taken -= refund["gross"]
        assert 0 <= taken <= quote["points"]
        left -= part
        earlier.append(
            {
                **earn,
                "id": 10 + n,
                "kind": "refund",
                "amount": part,
                "points": refund["gross"],
                "details": {"gross": refund["gross"]},
                "reverses_id": 2,
            }
        )
        if left == 0:
            break
    assert taken == quote["points"]


# --- what /campaigns lists -----------------------------------------------------------------


def test_the_schedule_shows_what_is_on_then_what_starts_next_and_hides_private_ones() -> None:
    secret = Campaign(
        name="Staff test", start=dt.date(2026, 1, 1), multiplier=Decimal(3), public=False
    )
    later = Campaign(name="Summer", start=dt.date(2026, 6, 1), multiplier=Decimal(2))
    over = Campaign(
        name="Over", start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31), multiplier=Decimal(2)
    )
    wednesday = dt.datetime(2026, 1, 7, 12, 0, tzinfo=UTC)
    everyone = campaigns.schedule(
        [later, DOUBLE_TUESDAY, secret, over, BIG_BASKET], wednesday, LONDON, everything=False
    )
    assert [(i.campaign.name, i.on_now) for i in everyone] == [
        ("Big basket", True),
        ("Double Tuesday", False),  # next Tuesday comes before June
        ("Summer", False),
    ]
    assert everyone[1].next_start == dt.datetime(
        2026, 1, 13, 0, 0, tzinfo=campaigns.local(wednesday, LONDON).tzinfo
    )
    staff = campaigns.schedule([secret, later], wednesday, LONDON, everything=True)
    assert [i.campaign.name for i in staff] == ["Staff test", "Summer"]
