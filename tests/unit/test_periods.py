"""core.reports.periods: what a manager types after /report, as an exact [start, end) in UTC."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidPeriod, LoyaltyError
from core.reports.periods import Period, digest_period, parse_period, quick_periods

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
NOW = dt.datetime(2026, 11, 5, 12, 30, tzinfo=dt.UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


def period(text: str | None, *, now: dt.datetime = NOW, tz: ZoneInfo = LONDON) -> Period:
    return parse_period(text, now=now, tz=tz)


# --- rolling days ----------------------------------------------------------------------------


def test_no_period_means_the_last_30_days_up_to_now() -> None:
    p = period(None)
    assert (p.start, p.end) == (NOW - dt.timedelta(days=30), NOW)
    assert (p.key, p.label) == ("30d", "last 30 days")


def test_7d_is_the_last_seven_times_24_hours() -> None:
    p = period("7d")
    assert (p.start, p.end) == (utc(2026, 10, 29, 12, 30), NOW)
    assert p.label == "last 7 days"


def test_typing_is_forgiving_about_case_and_spaces() -> None:
    assert period("  7D ") == period("7d")
    assert period("") == period("30d")


# --- calendar periods in the shop's time zone ------------------------------------------------


def test_a_month_runs_from_local_midnight_to_local_midnight_across_a_clock_change() -> None:
    # London is on BST (UTC+1) on 1 October and back on GMT on 1 November.
    p = period("2026-10")
    assert (p.start, p.end) == (utc(2026, 9, 30, 23), utc(2026, 11, 1, 0))
    assert (p.key, p.label) == ("2026-10", "October 2026")


def test_a_month_in_another_time_zone_starts_at_its_own_midnight() -> None:
    p = period("2026-10", tz=NEW_YORK)
    assert (p.start, p.end) == (utc(2026, 10, 1, 4), utc(2026, 11, 1, 4))


def test_december_ends_at_the_first_of_january() -> None:
    p = period("2026-12")
    assert (p.start, p.end) == (utc(2026, 12, 1), utc(2027, 1, 1))


def test_a_date_range_includes_both_days() -> None:
    p = period("2026-10-01..2026-10-31")
    october = period("2026-10")
    assert (p.start, p.end) == (october.start, october.end)
    assert p.key == "2026-10-01..2026-10-31"
    assert p.label == "1 Oct – 31 Oct 2026"


def test_a_range_across_years_names_both_years() -> None:
    assert period("2025-12-30..2026-01-02").label == "30 Dec 2025 – 2 Jan 2026"


def test_a_single_date_is_that_local_day() -> None:
    p = period("2026-10-05")
    assert (p.start, p.end) == (utc(2026, 10, 4, 23), utc(2026, 10, 5, 23))
    assert (p.key, p.label) == ("2026-10-05", "5 Oct 2026")


def test_today_and_yesterday_follow_the_local_date_not_the_utc_date() -> None:
    # 23:30 UTC on 1 July is already 00:30 on 2 July in London.
    late = utc(2026, 7, 1, 23, 30)
    today = period("today", now=late)
    yesterday = period("yesterday", now=late)
    assert (today.start, today.end) == (utc(2026, 7, 1, 23), utc(2026, 7, 2, 23))
    assert (yesterday.start, yesterday.end) == (utc(2026, 6, 30, 23), utc(2026, 7, 1, 23))
    assert today.label == "2 Jul 2026"


def test_all_covers_everything_up_to_now() -> None:
    p = period("all")
    assert p.start <= utc(1970, 1, 1)
    assert p.end == NOW
    assert (p.key, p.label) == ("all", "all time")


def test_the_period_is_half_open_an_instant_at_the_end_belongs_to_the_next() -> None:
    october, november = period("2026-10"), period("2026-11")
    assert october.start in october
    assert october.end not in october
    assert october.end in november
    assert october.end - dt.timedelta(microseconds=1) in october


# --- buttons and digests ----------------------------------------------------------------------


def test_the_quick_periods_are_7_and_30_days_this_and_last_month_and_all() -> None:
    periods = quick_periods(now=utc(2026, 1, 10, 9), tz=LONDON)
    assert [p.key for p in periods] == ["7d", "30d", "2026-01", "2025-12", "all"]
    assert [p.label for p in periods][2:4] == ["January 2026", "December 2025"]


def test_the_daily_digest_covers_yesterday_in_the_shops_zone() -> None:
    # 00:30 on 2 July in London is still 1 July in UTC: "yesterday" is 1 July, local.
    p = digest_period("daily", now=utc(2026, 7, 1, 23, 30), tz=LONDON)
    assert (p.start, p.end, p.key) == (utc(2026, 6, 30, 23), utc(2026, 7, 1, 23), "2026-07-01")


def test_the_weekly_digest_covers_the_seven_days_up_to_yesterday() -> None:
    p = digest_period("weekly", now=utc(2026, 11, 9, 8), tz=LONDON)
    assert p.key == "2026-11-02..2026-11-08"
    assert (p.start, p.end) == (utc(2026, 11, 2), utc(2026, 11, 9))
    assert p.days == 7


# --- mistakes get one friendly line ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("2026-13", "2026-13 is not a month"),
        ("2026-02-30", "2026-02-30 is not a date"),
        ("2026-10-31..2026-10-01", "2026-10-01 is before 2026-10-31"),
        ("0d", "choose 1 to 3660 days"),
        ("9999d", "choose 1 to 3660 days"),
        ("last week", "can't read 'last week' as a period"),
        ("2026-10-01..", "can't read '2026-10-01..' as a period"),
        ("1900-01", "1900 is out of range"),
    ],
)
def test_a_period_that_cannot_be_read_says_why(text: str, why: str) -> None:
    with pytest.raises(InvalidPeriod) as caught:
        period(text)
    assert why in caught.value.why
    assert caught.value.text == text
    assert isinstance(caught.value, LoyaltyError)


def test_an_unreadable_period_suggests_what_to_type() -> None:
    with pytest.raises(InvalidPeriod) as caught:
        period("banana")
    assert "30d" in caught.value.why and "2026-10" in caught.value.why


def test_now_without_a_time_zone_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_period("30d", now=dt.datetime(2026, 1, 1), tz=LONDON)


# --- properties ------------------------------------------------------------------------------

ZONES = st.sampled_from([LONDON, NEW_YORK, ZoneInfo("Australia/Sydney"), ZoneInfo("UTC")])
MONTHS = st.tuples(st.integers(1971, 2098), st.integers(1, 12))


@given(month=MONTHS, tz=ZONES)
def test_consecutive_months_meet_exactly_with_no_gap_or_overlap(
    month: tuple[int, int], tz: ZoneInfo
) -> None:
    year, m = month
    this = period(f"{year}-{m:02d}", tz=tz)
    following = period(f"{year + m // 12}-{m % 12 + 1:02d}", tz=tz)
    assert this.end == following.start
    assert this.start < this.end


@given(
    first=st.dates(dt.date(1971, 1, 1), dt.date(2098, 12, 31)),
    length=st.integers(0, 400),
    tz=ZONES,
)
def test_every_period_key_reads_back_as_the_same_period(
    first: dt.date, length: int, tz: ZoneInfo
) -> None:
    last = first + dt.timedelta(days=length)
    p = period(f"{first}..{last}", tz=tz)
    assert period(p.key, tz=tz) == p
    assert len(p.key.encode()) <= 64  # fits in Telegram button data with room to spare
    assert p.start.tzinfo == dt.UTC and p.end.tzinfo == dt.UTC
    assert p.start.astimezone(tz).date() == first
    assert (p.end - dt.timedelta(microseconds=1)).astimezone(tz).date() == last
