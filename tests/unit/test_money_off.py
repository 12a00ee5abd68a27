"""core.money_off: discounts a money-off reward allows, at the edges of each limit."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal

import pytest

from core import money_off
from core.config.model import DEFAULT_PROGRAM
from core.errors import DiscountNotAllowed, InsufficientPoints, InvalidAmount
from core.types import Customer, MoneyOff, Reward

# 100 points take 1.00 off, in 0.50 steps, from 500 points, at most half the bill.
CASH = Reward(
    "cash", "Money off", 500, money_off=MoneyOff(100, Decimal("0.50"), 500, Decimal("0.5"))
)
D = Decimal


def customer(balance: int) -> Customer:
    return {
        "id": 1,
        "card_number": "12345674",
        "name": "Ann",
        "phone": "+447400123456",
        "email": None,
        "created_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        "balance": balance,
        "lifetime_earned": balance,
        "lifetime_redeemed": 0,
        "tier": "Bronze",
        "telegram_user_id": None,
        "version": 0,
    }


@pytest.mark.parametrize(
    ("balance", "bill", "least", "most"),
    [
        (1234, "23.40", "5.00", "11.50"),  # half the bill is 11.70: down to a step
        (1234, "100.00", "5.00", "12.00"),  # the balance pays for 12.34: down to 12.00
        (500, "10.00", "5.00", "5.00"),  # exactly the minimum, exactly half the bill
        (549, "100.00", "5.00", "5.00"),  # 49 points left over buy no step
        (550, "100.00", "5.00", "5.50"),
    ],
)
def test_the_range_is_whole_steps_within_every_limit(
    balance: int, bill: str, least: str, most: str
) -> None:
    assert money_off.discount_range(balance, D(bill), CASH, DEFAULT_PROGRAM) == (D(least), D(most))


def test_below_the_minimum_points_is_the_usual_shortfall() -> None:
    with pytest.raises(InsufficientPoints) as caught:
        money_off.discount_range(499, D(100), CASH, DEFAULT_PROGRAM)
    assert (caught.value.cost, caught.value.shortfall) == (500, 1)


def test_a_bill_too_small_for_the_least_discount_says_both_numbers() -> None:
    with pytest.raises(DiscountNotAllowed) as caught:
        money_off.discount_range(5000, D("9.99"), CASH, DEFAULT_PROGRAM)
    assert caught.value.why == (
        "at most 50% of a 9.99 GBP bill can come off, 4.50; this reward starts at 5.00 off"
    )


def test_a_minimum_between_steps_rounds_the_least_discount_up() -> None:
    odd = Reward("odd", "Odd", 525, money_off=MoneyOff(100, D("0.50"), 525, D(1)))
    assert money_off.discount_range(600, D(100), odd, DEFAULT_PROGRAM) == (D("5.50"), D("6.00"))


def test_offers_are_the_largest_first_with_the_least_last_on_whole_steps() -> None:
    assert money_off.offers(D("5.00"), D("6.00"), D("0.50")) == [D("6.00"), D("5.50"), D("5.00")]
    assert money_off.offers(D("5.00"), D("11.50"), D("0.50")) == [
        D("11.50"),
        D("9.00"),
        D("7.00"),
        D("5.00"),
    ]
    assert money_off.offers(D("5.00"), D("5.00"), D("0.50")) == [D("5.00")]


def test_a_quote_spends_exactly_the_discounts_points_even_in_reset_mode() -> None:
    reset = dataclasses.replace(DEFAULT_PROGRAM, reset_after_redemption=True)
    quote = money_off.quote_money_off(customer(1234), CASH, D("23.40"), D("6.50"), reset)
    assert (quote["points"], quote["balance_after"], quote["discount"], quote["bill"]) == (
        650,
        584,
        D("6.50"),
        D("23.40"),
    )


@pytest.mark.parametrize("discount", ["6.30", "4.50", "12.00", "NaN"])
def test_a_discount_off_the_steps_or_outside_the_range_is_refused(discount: str) -> None:
    with pytest.raises(
        DiscountNotAllowed, match=re.escape("from 5.00 to 11.50 GBP, in steps of 0.50")
    ):
        money_off.quote_money_off(customer(1234), CASH, D("23.40"), D(discount), DEFAULT_PROGRAM)


def test_the_bill_is_checked_like_any_amount() -> None:
    with pytest.raises(InvalidAmount):
        money_off.quote_money_off(customer(1234), CASH, D("0"), D(5), DEFAULT_PROGRAM)
