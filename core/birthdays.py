"""Birthdays: reading one as typed, and which year's bonus is due. Pure; `today` is passed in.

- parse_birthday: "14/03", "14.03.1990", "1990-03-14", "14-3" -> a date, or InvalidBirthday
- celebrated_on:  the day a birthday falls on in a given year (29 February: 28 February in a
                  year without one, so nobody waits four years for their bonus)
- due_year:       the year whose birthday falls in the week of `today` (Monday to Sunday, the
                  shop's calendar), or None: the daily job credits the bonus in that week, once
                  a year (idempotency key birthday:<customer>:<year>)

A birthday given without a year is stored in year NO_YEAR, a leap year (so 29/02 fits) that no
customer was born in; shown without a year.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Final

from core.errors import InvalidBirthday, Reason
from core.marks import N_

NO_YEAR: Final = 4
OLDEST: Final = 1900
EXAMPLE: Final = "like 14/03 or 14/03/1990"
# The months by number, for "February has no day 30" in the reader's language.
MONTHS: Final = (
    N_("January"),
    N_("February"),
    N_("March"),
    N_("April"),
    N_("May"),
    N_("June"),
    N_("July"),
    N_("August"),
    N_("September"),
    N_("October"),
    N_("November"),
    N_("December"),
)

_DAY_MONTH = re.compile(r"(\d{1,2})\s*[./\-\s]\s*(\d{1,2})(?:\s*[./\-\s]\s*(\d{2,4}))?")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def parse_birthday(text: str, today: dt.date) -> dt.date:
    """The birthday typed: day then month (and a year, if given), or year-month-day."""
    typed = text.strip()
    if match := _ISO.fullmatch(typed):
        year, month, day = int(match[1]), int(match[2]), int(match[3])
    elif match := _DAY_MONTH.fullmatch(typed):
        day, month = int(match[1]), int(match[2])
        if match[3] is not None and len(match[3]) != 4:
            raise InvalidBirthday(Reason(N_("write the year in full, like 14/03 or 14/03/1990")))
        year = int(match[3]) if match[3] is not None else NO_YEAR
    else:
        raise InvalidBirthday(Reason(N_("send the day and the month, like 14/03 or 14/03/1990")))
    if not 1 <= month <= 12:
        raise InvalidBirthday(
            Reason(
                N_("there is no month {month}: send the day first, like 14/03 or 14/03/1990"),
                {"month": str(month)},
            )
        )
    if year != NO_YEAR and not OLDEST <= year <= today.year:
        raise InvalidBirthday(
            Reason(N_("{year} can't be the year you were born"), {"year": str(year)})
        )
    leap_or_given = year if year != NO_YEAR else NO_YEAR  # year 4 was a leap year
    if not 1 <= day <= calendar.monthrange(leap_or_given, month)[1]:
        raise InvalidBirthday(
            Reason(
                N_("{month} has no day {day}"),
                {"month": Reason(MONTHS[month - 1]), "day": str(day)},
            )
        )
    born = dt.date(year, month, day)
    if year != NO_YEAR and born > today:
        raise InvalidBirthday(Reason(N_("that date hasn't happened yet")))
    return born


def shown(birthday: dt.date) -> str:
    """'14 March' or '14 March 1990'."""
    day = f"{birthday.day} {calendar.month_name[birthday.month]}"
    return day if birthday.year == NO_YEAR else f"{day} {birthday.year}"


def celebrated_on(birthday: dt.date, year: int) -> dt.date:
    """The birthday in `year`; 29 February is 28 February when `year` has none."""
    if (birthday.month, birthday.day) == (2, 29) and not calendar.isleap(year):
        return dt.date(year, 2, 28)
    return birthday.replace(year=year)


def due_year(birthday: dt.date, today: dt.date) -> int | None:
    """The year whose birthday falls in today's week (Monday to Sunday), else None.

    A week can straddle New Year: on Monday 28 December 2026, a 1 January birthday is due for
    2027 (its key says 2027, so the next run in January does not credit it again).
    """
    monday = today - dt.timedelta(days=today.weekday())
    sunday = monday + dt.timedelta(days=6)
    for year in {monday.year, sunday.year}:
        if monday <= celebrated_on(birthday, year) <= sunday:
            return year
    return None
