"""core.expiry: when a lot expires under each policy, at its boundaries, and which lots a debit
takes. Worked examples with literals, then properties over random ledgers (hypothesis)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.expiry import (
    ExpiryPolicy,
    Lot,
    LotsShort,
    consume,
    due,
    expires_at,
    is_expired,
    last_day,
    scan_before,
    upcoming,
)

LONDON = ZoneInfo("Europe/London")
BERLIN = ZoneInfo("Europe/Berlin")
AFTER_30 = ExpiryPolicy(policy="after_days", days=30)
YEAR_END = ExpiryPolicy(policy="end_of_year", years=1)
IDLE_90 = ExpiryPolicy(policy="inactivity", days=90)


def utc(year: int, month: int, day: int, *hms: int) -> dt.datetime:
    return local(dt.UTC, year, month, day, *hms)


def local(tz: dt.tzinfo, year: int, month: int, day: int, *hms: int) -> dt.datetime:
    hour, minute, second = (*hms, 0, 0, 0)[:3]
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=tz)


def lot(lot_id: int, points: int, earned_at: dt.datetime, remaining: int | None = None) -> Lot:
    return {
        "id": lot_id,
        "entry_id": lot_id * 10,
        "points": points,
        "remaining": points if remaining is None else remaining,
        "earned_at": earned_at,
    }


# --- after_days ---------------------------------------------------------------------------------


def test_after_days_points_last_through_the_local_day_n_days_after_earning() -> None:
    earned = utc(2026, 1, 1, 10, 0)
    day = last_day(AFTER_30, earned, tz=LONDON)
    assert day == dt.date(2026, 1, 31)
    assert not is_expired(day, local(LONDON, 2026, 1, 31, 23, 59, 59), LONDON)
    assert is_expired(day, local(LONDON, 2026, 2, 1, 0, 0, 0), LONDON)


def test_the_day_earned_is_the_shops_day_not_utcs() -> None:
    # 23:30 UTC on 31 Jan is 00:30 on 1 Feb in Berlin: earned on 1 Feb there.
    assert last_day(AFTER_30, utc(2026, 1, 31, 23, 30), tz=BERLIN) == dt.date(2026, 3, 3)
    assert last_day(AFTER_30, utc(2026, 1, 31, 23, 30), tz=LONDON) == dt.date(2026, 3, 2)


def test_a_lot_expiring_across_the_spring_dst_change_goes_at_local_midnight() -> None:
    # Clocks go forward in London at 01:00 UTC on 29 Mar 2026; the lot's last day is 29 Mar.
    day = last_day(ExpiryPolicy(policy="after_days", days=1), utc(2026, 3, 28, 12), tz=LONDON)
    assert day == dt.date(2026, 3, 29)
    assert expires_at(day, LONDON) == utc(2026, 3, 29, 23, 0)  # 00:00 BST on 30 Mar
    assert not is_expired(day, utc(2026, 3, 29, 22, 59, 59), LONDON)
    assert is_expired(day, utc(2026, 3, 29, 23, 0), LONDON)


def test_a_lot_expiring_across_the_autumn_dst_change_goes_at_local_midnight() -> None:
    # Clocks go back at 01:00 UTC on 25 Oct 2026: that day has 25 hours, the lot keeps them all.
    day = last_day(ExpiryPolicy(policy="after_days", days=1), utc(2026, 10, 24, 12), tz=LONDON)
    assert day == dt.date(2026, 10, 25)
    assert expires_at(day, LONDON) == utc(2026, 10, 26, 0, 0)  # 00:00 GMT on 26 Oct


# --- end_of_year --------------------------------------------------------------------------------


def test_end_of_year_points_last_to_the_last_second_of_the_year_n_years_on() -> None:
    day = last_day(YEAR_END, utc(2025, 6, 1, 12), tz=LONDON)
    assert day == dt.date(2026, 12, 31)
    assert not is_expired(day, local(LONDON, 2026, 12, 31, 23, 59, 59), LONDON)
    assert is_expired(day, local(LONDON, 2027, 1, 1, 0, 0, 0), LONDON)


def test_end_of_year_counts_the_year_in_the_shops_time_zone() -> None:
    new_year_in_berlin = utc(2025, 12, 31, 23, 30)  # 00:30 on 1 Jan 2026 in Berlin
    assert last_day(YEAR_END, new_year_in_berlin, tz=BERLIN) == dt.date(2027, 12, 31)
    assert last_day(YEAR_END, new_year_in_berlin, tz=LONDON) == dt.date(2026, 12, 31)


def test_end_of_year_with_zero_years_is_the_end_of_the_year_earned() -> None:
    policy = ExpiryPolicy(policy="end_of_year", years=0)
    assert last_day(policy, utc(2026, 3, 1), tz=LONDON) == dt.date(2026, 12, 31)


# --- inactivity ---------------------------------------------------------------------------------


def test_inactivity_expires_every_lot_n_days_after_the_last_purchase() -> None:
    bought = utc(2026, 1, 10, 15)
    old = last_day(IDLE_90, utc(2025, 3, 1), tz=LONDON, last_purchase_at=bought)
    recent = last_day(IDLE_90, bought, tz=LONDON, last_purchase_at=bought)
    assert old == recent == dt.date(2026, 4, 10)


def test_inactivity_counts_a_credit_after_the_last_purchase_from_the_credit() -> None:
    # A goodwill adjustment after the last purchase lasts its own 90 days.
    bought, goodwill = utc(2026, 1, 10), utc(2026, 2, 1)
    assert last_day(IDLE_90, goodwill, tz=LONDON, last_purchase_at=bought) == dt.date(2026, 5, 2)
    # A card that never bought (only its welcome bonus) counts from the bonus.
    assert last_day(IDLE_90, goodwill, tz=LONDON) == dt.date(2026, 5, 2)


# --- switching on -------------------------------------------------------------------------------


def test_points_earned_before_expiry_was_switched_on_get_the_reminder_window_first() -> None:
    since = utc(2026, 6, 1, 12)
    policy = ExpiryPolicy(policy="after_days", days=30, remind_days=14)
    long_ago = last_day(policy, utc(2026, 1, 1), tz=LONDON, since=since)
    assert long_ago == dt.date(2026, 6, 15)  # not 31 Jan: that would expire them unannounced
    assert last_day(policy, utc(2026, 5, 25), tz=LONDON, since=since) == dt.date(2026, 6, 24)
    after = last_day(policy, utc(2026, 6, 2), tz=LONDON, since=since)
    assert after == dt.date(2026, 7, 2)  # earned under the policy: its own rule


def test_off_never_expires_anything() -> None:
    off = ExpiryPolicy()
    assert last_day(off, utc(2000, 1, 1), tz=LONDON) is None
    assert due(off, [lot(1, 50, utc(2000, 1, 1))], utc(2026, 1, 1), tz=LONDON) == []
    assert scan_before(off, utc(2026, 1, 1), tz=LONDON) is None


# --- consuming lots -----------------------------------------------------------------------------


def test_a_debit_takes_the_oldest_lots_first() -> None:
    lots = [lot(2, 40, utc(2026, 2, 1)), lot(1, 30, utc(2026, 1, 1)), lot(3, 50, utc(2026, 3, 1))]
    assert consume(lots, 50) == [(1, 30), (2, 20)]


def test_spent_lots_are_skipped() -> None:
    lots = [lot(1, 30, utc(2026, 1, 1), remaining=0), lot(2, 40, utc(2026, 2, 1))]
    assert consume(lots, 10) == [(2, 10)]


def test_a_void_of_a_purchase_takes_from_that_purchases_lot_first() -> None:
    lots = [lot(1, 30, utc(2026, 1, 1)), lot(2, 40, utc(2026, 2, 1))]
    assert consume(lots, 50, own_entry=20) == [(2, 40), (1, 10)]


def test_a_debit_beyond_the_lots_is_refused_as_a_broken_invariant() -> None:
    with pytest.raises(LotsShort):
        consume([lot(1, 30, utc(2026, 1, 1))], 31)


def test_due_groups_what_expired_by_last_day_oldest_first_and_skips_spent_points() -> None:
    lots = [
        lot(1, 30, utc(2026, 1, 1), remaining=10),  # 20 were spent: only 10 can expire
        lot(2, 40, utc(2026, 1, 2)),
        lot(3, 50, utc(2026, 1, 2, 18)),
        lot(4, 60, utc(2026, 3, 1)),
    ]
    now = utc(2026, 2, 10)  # a week of missed runs: 31 Jan and 1 Feb have both passed
    assert due(AFTER_30, lots, now, tz=LONDON) == [
        (dt.date(2026, 1, 31), 10),
        (dt.date(2026, 2, 1), 90),
    ]


def test_upcoming_is_the_soonest_day_ahead_within_the_window_with_its_points() -> None:
    lots = [
        lot(1, 30, utc(2026, 1, 1)),
        lot(2, 40, utc(2026, 1, 1, 18)),
        lot(3, 5, utc(2026, 1, 20)),
    ]
    now = utc(2026, 1, 20)
    assert upcoming(AFTER_30, lots, now, tz=LONDON, within_days=14) == (dt.date(2026, 1, 31), 70)
    assert upcoming(AFTER_30, lots, now, tz=LONDON, within_days=10) is None
    on_the_day = utc(2026, 1, 31, 12)
    assert upcoming(AFTER_30, lots, on_the_day, tz=LONDON, within_days=0) == (
        dt.date(2026, 1, 31),
        70,
    )


# --- properties ---------------------------------------------------------------------------------

START = utc(2025, 1, 1)
# A ledger as (hours after START, signed points): credits and debits in time order.
moves = st.lists(
    st.tuples(st.integers(0, 24 * 400), st.integers(-300, 300).filter(bool)), max_size=40
)
policies = st.sampled_from(
    [
        ExpiryPolicy(policy="after_days", days=1),
        ExpiryPolicy(policy="after_days", days=60),
        ExpiryPolicy(policy="end_of_year", years=0),
        ExpiryPolicy(policy="inactivity", days=30),
    ]
)


def play(steps: list[tuple[int, int]]) -> tuple[list[Lot], int]:
    """Applies the moves (a debit beyond the balance is capped, like a refused redemption)."""
    lots: list[Lot] = []
    balance = 0
    for i, (hours, points) in enumerate(sorted(steps, key=lambda s: s[0])):
        when = START + dt.timedelta(hours=hours)
        if points > 0:
            lots.append(lot(i + 1, points, when))
            balance += points
        elif balance:
            take = min(-points, balance)
            for lot_id, taken in consume(lots, take):
                target = next(x for x in lots if x["id"] == lot_id)
                target["remaining"] -= taken
            balance -= take
    return lots, balance


@settings(max_examples=200, deadline=None)
@given(moves)
def test_lots_always_sum_to_the_balance(steps: list[tuple[int, int]]) -> None:
    lots, balance = play(steps)
    assert sum(x["remaining"] for x in lots) == balance
    assert all(0 <= x["remaining"] <= x["points"] for x in lots)


@settings(max_examples=200, deadline=None)
@given(moves, policies, st.integers(0, 24 * 800))
def test_expiry_takes_exactly_the_unspent_points_of_expired_lots_and_nothing_else(
    steps: list[tuple[int, int]], policy: ExpiryPolicy, later: int
) -> None:
    lots, balance = play(steps)
    now = START + dt.timedelta(hours=later)
    last_buy = max((x["earned_at"] for x in lots), default=None)
    expired = due(policy, lots, now, tz=LONDON, last_purchase_at=last_buy)
    total = sum(points for _, points in expired)
    assert total <= balance  # never more than the card holds: spent points never expire
    # Writing each day oldest-first takes exactly the expired lots (the job relies on it).
    expected = {
        x["id"]: x["remaining"]
        for x in lots
        if x["remaining"]
        and is_expired(
            last_day(policy, x["earned_at"], tz=LONDON, last_purchase_at=last_buy) or dt.date.max,
            now,
            LONDON,
        )
    }
    taken: dict[int, int] = {}
    for _, points in expired:
        for lot_id, part in consume(lots, points):
            taken[lot_id] = taken.get(lot_id, 0) + part
            next(x for x in lots if x["id"] == lot_id)["remaining"] -= part
    assert taken == expected
    assert sum(x["remaining"] for x in lots) == balance - total
