"""core.tiers: which tier a customer holds on a day, under each policy, at its boundaries."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from core import rules, tiers
from core.config.model import DEFAULT_PROGRAM
from core.tiers import Standing
from core.types import Customer, Program, TierBasis, TierPolicy

UTC = dt.UTC
D = dt.date


def program(
    basis: TierBasis = "lifetime", crossing: str = "before", tz: str = "Europe/London"
) -> Program:
    # Bronze 0 (x1), Silver 500 (x1.25), Gold 2000 (x1.5): the defaults.
    policy = TierPolicy(basis=basis, crossing=crossing, timezone=tz)  # type: ignore[arg-type]
    return dataclasses.replace(DEFAULT_PROGRAM, tier_policy=policy)


def standing(
    today: dt.date, credits: dict[dt.date, int], *, lifetime: int = 0, pinned: str | None = None
) -> Standing:
    return {"today": today, "lifetime": lifetime, "credits": credits, "pinned": pinned}


# --- the shop's day ---------------------------------------------------------------------------- -


def test_the_last_second_of_the_year_in_london_is_still_that_year() -> None:
    assert tiers.shop_day(dt.datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC), "Europe/London") == D(
        2026, 12, 31
    )
    assert tiers.shop_day(dt.datetime(2027, 1, 1, 0, 0, 0, tzinfo=UTC), "Europe/London") == D(
        2027, 1, 1
    )


def test_new_year_comes_at_the_shops_midnight_not_utcs() -> None:
    # Tokyo is UTC+9: its New Year is 15:00 UTC on 31 December.
    assert tiers.shop_day(dt.datetime(2026, 12, 31, 14, 59, 59, tzinfo=UTC), "Asia/Tokyo") == D(
        2026, 12, 31
    )
    assert tiers.shop_day(dt.datetime(2026, 12, 31, 15, 0, 0, tzinfo=UTC), "Asia/Tokyo") == D(
        2027, 1, 1
    )
    # New York is UTC-5 in winter: 02:00 UTC on 1 January is still 2026 there.
    assert tiers.shop_day(dt.datetime(2027, 1, 1, 4, 59, 59, tzinfo=UTC), "America/New_York") == D(
        2026, 12, 31
    )


def test_the_shops_midnight_moves_with_daylight_saving() -> None:
    # New York: 03:59:59 UTC is 23:59:59 EDT on 31 October, the night before clocks go back
    # (in winter, EST, midnight is an hour later in UTC).
    ny = "America/New_York"
    assert tiers.shop_day(dt.datetime(2026, 11, 1, 3, 59, 59, tzinfo=UTC), ny) == D(2026, 10, 31)
    assert tiers.shop_day(dt.datetime(2026, 11, 1, 4, 0, 0, tzinfo=UTC), ny) == D(2026, 11, 1)
    # After the change (06:00 UTC on 1 November) midnight is 05:00 UTC.
    assert tiers.shop_day(dt.datetime(2026, 11, 2, 4, 59, 59, tzinfo=UTC), ny) == D(2026, 11, 1)
    assert tiers.shop_day(dt.datetime(2026, 11, 2, 5, 0, 0, tzinfo=UTC), ny) == D(2026, 11, 2)
    # London in summer: 23:30 UTC is 00:30 BST the next day.
    assert tiers.shop_day(dt.datetime(2026, 6, 30, 23, 30, tzinfo=UTC), "Europe/London") == D(
        2026, 7, 1
    )


# --- lifetime ------------------------------------------------------------------------------------


def test_lifetime_counts_every_point_and_never_looks_at_dates() -> None:
    p = program("lifetime")
    assert tiers.held(standing(D(2030, 1, 1), {}, lifetime=499), p).name == "Bronze"
    assert tiers.held(standing(D(2030, 1, 1), {}, lifetime=500), p).name == "Silver"
    assert tiers.held(standing(D(2030, 1, 1), {}, lifetime=2000), p).name == "Gold"


# --- rolling 365 days ----------------------------------------------------------------------------


def test_rolling_counts_a_credit_for_365_days_and_drops_it_on_the_366th() -> None:
    p = program("rolling_365")
    credits = {D(2026, 3, 1): 500}
    assert tiers.held(standing(D(2026, 3, 1), credits), p).name == "Silver"
    last = D(2026, 3, 1) + dt.timedelta(days=364)  # 28 February 2027
    assert last == D(2027, 2, 28)
    assert tiers.held(standing(last, credits), p).name == "Silver"
    assert tiers.held(standing(last + dt.timedelta(days=1), credits), p).name == "Bronze"


def test_rolling_across_a_leap_day_is_still_365_days() -> None:
    p = program("rolling_365")
    credits = {D(2027, 3, 1): 500}
    assert tiers.held(standing(D(2028, 2, 28), credits), p).name == "Silver"  # day 365
    assert tiers.held(standing(D(2028, 2, 29), credits), p).name == "Bronze"  # day 366


def test_rolling_adds_the_days_inside_the_window_only() -> None:
    p = program("rolling_365")
    credits = {D(2025, 12, 1): 300, D(2026, 6, 1): 300, D(2026, 11, 30): 1500}
    today = D(2026, 12, 1)  # 2025-12-01 is 365 days ago: out
    assert tiers.counted_points(standing(today, credits), "rolling_365") == 1800
    assert tiers.held(standing(today, credits), p).name == "Silver"
    assert tiers.window_start(p.tier_policy, today) == D(2025, 12, 2)


def test_a_refund_taken_back_on_the_credits_day_can_drop_the_tier() -> None:
    p = program("rolling_365")
    assert tiers.held(standing(D(2026, 5, 2), {D(2026, 5, 1): 500 - 1}), p).name == "Bronze"


# --- calendar year -------------------------------------------------------------------------------


def test_calendar_year_keeps_a_tier_through_the_end_of_the_next_year() -> None:
    p = program("calendar_year")
    credits = {D(2026, 12, 31): 500}  # the last day of 2026 in the shop's zone
    assert tiers.held(standing(D(2026, 12, 31), credits), p).name == "Silver"
    assert tiers.held(standing(D(2027, 12, 31), credits), p).name == "Silver"
    assert tiers.held(standing(D(2028, 1, 1), credits), p).name == "Bronze"


def test_calendar_year_a_credit_at_new_year_counts_for_the_new_year_only() -> None:
    p = program("calendar_year")
    at = dt.datetime(2027, 1, 1, 0, 0, 0, tzinfo=UTC)  # London's first second of 2027
    day = tiers.shop_day(at, p.tier_policy.timezone)
    credits = {day: 500}
    assert tiers.counted_points(standing(D(2027, 1, 1), credits), "calendar_year") == 500
    assert tiers.held(standing(D(2028, 12, 31), credits), p).name == "Silver"
    assert tiers.held(standing(D(2029, 1, 1), credits), p).name == "Bronze"


def test_calendar_year_the_better_of_this_year_and_last_year_wins() -> None:
    p = program("calendar_year")
    credits = {D(2026, 6, 1): 2000, D(2027, 2, 1): 600}
    assert tiers.held(standing(D(2027, 3, 1), credits), p).name == "Gold"  # kept from 2026
    assert tiers.held(standing(D(2028, 3, 1), credits), p).name == "Silver"  # from 2027
    assert tiers.window_start(p.tier_policy, D(2027, 3, 1)) == D(2026, 1, 1)


# --- pins ----------------------------------------------------------------------------------------


def test_a_pinned_tier_wins_over_every_basis_until_unpinned() -> None:
    for basis in ("lifetime", "rolling_365", "calendar_year"):
        p = program(basis)
        assert tiers.held(standing(D(2026, 1, 1), {}, pinned="Gold"), p).name == "Gold"
        rich = standing(D(2026, 1, 1), {D(2026, 1, 1): 5000}, lifetime=5000, pinned="Bronze")
        assert tiers.held(rich, p).name == "Bronze"
        assert tiers.held({**rich, "pinned": None}, p).name == "Gold"


def test_a_pin_to_a_tier_no_longer_configured_leaves_the_policy_to_decide() -> None:
    p = program("lifetime")
    assert tiers.held(standing(D(2026, 1, 1), {}, lifetime=600, pinned="Platinum"), p).name == (
        "Silver"
    )


# --- the purchase that crosses a threshold -------------------------------------------------------


def customer(lifetime: int, balance: int | None = None) -> Customer:
    return {
        "id": 1,
        "card_number": "12345674",
        "name": "Ann",
        "phone": "+447400123456",
        "email": None,
        "created_at": dt.datetime(2026, 1, 1, tzinfo=UTC),
        "balance": lifetime if balance is None else balance,
        "lifetime_earned": lifetime,
        "lifetime_redeemed": 0,
        "tier": "Bronze",
        "telegram_user_id": None,
        "version": 0,
    }


@pytest.mark.parametrize(
    ("crossing", "points", "multiplier"), [("before", 100, "1.0"), ("after", 125, "1.25")]
)
def test_the_crossing_purchase_earns_at_the_configured_tiers_rate(
    crossing: str, points: int, multiplier: str
) -> None:
    # 450 lifetime points; a 100.00 purchase takes them past Silver's 500.
    quote = rules.quote_earn(customer(450), Decimal("100"), program("lifetime", crossing))
    assert quote["points"] == points
    assert quote["multiplier"] == Decimal(multiplier)
    assert (quote["tier_before"], quote["tier_after"]) == ("Bronze", "Silver")


def test_a_purchase_that_crosses_nothing_is_the_same_under_either_option() -> None:
    for crossing in ("before", "after"):
        quote = rules.quote_earn(customer(100), Decimal("100"), program("lifetime", crossing))
        assert (quote["points"], quote["tier_after"]) == (100, "Bronze")


def test_a_window_basis_earns_at_the_tier_its_window_holds() -> None:
    p = program("calendar_year")
    # 3000 lifetime points but none this year or last: Bronze's rate, not Gold's.
    old = standing(D(2027, 5, 1), {D(2024, 5, 1): 3000}, lifetime=3000)
    quote = rules.quote_earn(customer(3000), Decimal("100"), p, old)
    assert (quote["multiplier"], quote["points"], quote["tier_after"]) == (
        Decimal(1),
        100,
        "Bronze",
    )
    fresh = standing(D(2027, 5, 1), {D(2027, 4, 1): 450}, lifetime=3000)
    quote = rules.quote_earn(customer(3000), Decimal("100"), p, fresh)
    assert (quote["tier_before"], quote["tier_after"]) == ("Bronze", "Silver")


# --- what /status says ---------------------------------------------------------------------------


def test_progress_under_lifetime_counts_points_earned_in_all_not_the_balance() -> None:
    # Reset mode: balance 0 after a redemption, 200 earned in all: 300 more to Silver.
    shown = tiers.progress(standing(D(2026, 1, 1), {}, lifetime=200), program("lifetime"))
    assert shown["counted"] == "in all"
    assert (shown["counted_points"], shown["next_tier"], shown["points_to_next"]) == (
        200,
        "Silver",
        300,
    )


def test_progress_under_calendar_year_says_what_keeps_a_tier_held_from_last_year() -> None:
    p = program("calendar_year")
    shown = tiers.progress(standing(D(2027, 3, 1), {D(2026, 6, 1): 2000, D(2027, 2, 1): 300}), p)
    assert shown["tier"] == "Gold"
    assert (shown["goal"], shown["next_tier"], shown["points_to_next"]) == ("keep", "Gold", 1700)
    assert shown["held_until"] == D(2027, 12, 31)
    assert shown["counted"] == "this year"


def test_progress_under_calendar_year_once_requalified_aims_higher() -> None:
    p = program("calendar_year")
    shown = tiers.progress(standing(D(2027, 3, 1), {D(2027, 2, 1): 600}), p)
    assert (shown["tier"], shown["goal"], shown["next_tier"], shown["points_to_next"]) == (
        "Silver",
        "reach",
        "Gold",
        1400,
    )
    assert shown["held_until"] == D(2028, 12, 31)


def test_progress_at_the_top_and_when_pinned() -> None:
    p = program("rolling_365")
    top = tiers.progress(standing(D(2026, 3, 1), {D(2026, 3, 1): 2500}), p)
    assert (top["tier"], top["next_tier"], top["points_to_next"]) == ("Gold", None, None)
    pinned = tiers.progress(standing(D(2026, 3, 1), {D(2026, 3, 1): 100}, pinned="Silver"), p)
    assert (pinned["tier"], pinned["pinned"], pinned["next_tier"]) == ("Silver", True, "Gold")
    assert pinned["points_to_next"] == 1900


def test_the_lowest_tier_shows_no_held_until_date() -> None:
    shown = tiers.progress(standing(D(2027, 3, 1), {D(2027, 2, 1): 100}), program("calendar_year"))
    assert (shown["tier"], shown["held_until"], shown["points_to_next"]) == ("Bronze", None, 400)


def test_a_quote_without_dated_credits_under_calendar_year_counts_none() -> None:
    # A caller that has no Standing (a what-if on the record alone) gets the base tier, no error.
    quote = rules.quote_earn(customer(3000), Decimal("100"), program("calendar_year"))
    assert (quote["tier_before"], quote["points"]) == ("Bronze", 100)
