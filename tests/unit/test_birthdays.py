"""Birthdays (core/birthdays.py): forgiving formats, impossible dates refused, the due week."""

from __future__ import annotations

import datetime as dt

import pytest

from core.birthdays import NO_YEAR, celebrated_on, due_year, parse_birthday, shown
from core.errors import InvalidBirthday

TODAY = dt.date(2026, 12, 4)


@pytest.mark.parametrize(
    ("typed", "born"),
    [
        ("14/03", dt.date(NO_YEAR, 3, 14)),
        ("14.03", dt.date(NO_YEAR, 3, 14)),
        ("14-3", dt.date(NO_YEAR, 3, 14)),
        ("14 03", dt.date(NO_YEAR, 3, 14)),
        ("14.03.1990", dt.date(1990, 3, 14)),
        ("14/03/1990", dt.date(1990, 3, 14)),
        ("1990-03-14", dt.date(1990, 3, 14)),
        (" 1/1 ", dt.date(NO_YEAR, 1, 1)),
        ("29/02", dt.date(NO_YEAR, 2, 29)),  # fits: year 4 was a leap year
        ("29.02.2000", dt.date(2000, 2, 29)),
    ],
)
def test_a_birthday_is_read_in_the_usual_ways(typed: str, born: dt.date) -> None:
    assert parse_birthday(typed, TODAY) == born


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("31/02", "February has no day 31"),
        ("29.02.2001", "February has no day 29"),
        ("14/13", "there is no month 13"),
        ("03/14", "there is no month 14: send the day first"),  # month first, US style
        ("14/03/90", "write the year in full"),
        ("14/03/1850", "1850 can't be the year you were born"),
        ("05/12/2026", "that date hasn't happened yet"),
        ("next tuesday", "send the day and the month"),
        ("", "send the day and the month"),
    ],
)
def test_an_impossible_birthday_is_refused_saying_why(typed: str, why: str) -> None:
    with pytest.raises(InvalidBirthday, match=why):
        parse_birthday(typed, TODAY)


def test_a_birthday_is_shown_with_its_year_only_when_given() -> None:
    assert shown(dt.date(NO_YEAR, 3, 14)) == "14 March"
    assert shown(dt.date(1990, 3, 14)) == "14 March 1990"


def test_29_february_is_celebrated_on_28_february_in_other_years() -> None:
    leapling = dt.date(2000, 2, 29)
    assert celebrated_on(leapling, 2027) == dt.date(2027, 2, 28)
    assert celebrated_on(leapling, 2028) == dt.date(2028, 2, 29)


@pytest.mark.parametrize(
    ("today", "due"),
    [
        (dt.date(2026, 3, 8), None),  # Sunday before the week of 14 March 2026 (a Saturday)
        (dt.date(2026, 3, 9), 2026),  # Monday of that week
        (dt.date(2026, 3, 15), 2026),  # Sunday of that week
        (dt.date(2026, 3, 16), None),
    ],
)
def test_a_birthday_is_due_in_the_week_monday_to_sunday_that_holds_it(
    today: dt.date, due: int | None
) -> None:
    assert due_year(dt.date(NO_YEAR, 3, 14), today) == due


def test_a_week_across_new_year_gives_the_new_years_bonus() -> None:
    new_years_day = dt.date(1990, 1, 1)
    assert due_year(new_years_day, dt.date(2026, 12, 28)) == 2027  # Monday of that week
    assert due_year(new_years_day, dt.date(2027, 1, 1)) == 2027  # same week: same key
    assert due_year(dt.date(1990, 12, 31), dt.date(2027, 1, 3)) == 2026


def test_a_leapling_is_due_in_the_week_of_28_february_in_a_common_year() -> None:
    assert due_year(dt.date(2000, 2, 29), dt.date(2027, 2, 22)) == 2027  # week of Sun 28 Feb
    assert due_year(dt.date(2000, 2, 29), dt.date(2027, 3, 1)) is None
