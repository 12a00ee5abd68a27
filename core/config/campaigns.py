"""Reading [[campaigns]] (core/campaigns.py has the rules): when each runs and its one effect.

    [[campaigns]]
    name = "Double Tuesday"
    start = 2026-01-06            # first day, in [reports] timezone
    end = 2026-12-29              # last day, inclusive (optional)
    weekdays = ["tue"]            # optional: mon tue wed thu fri sat sun
    hours = "10:00-14:00"         # optional: from (inclusive) to (exclusive), same day
    multiplier = 2                # exactly one of: multiplier, bill_bonus, first_purchase_bonus
    public = true                 # optional: false shows it in /campaigns to staff only

A mistake is one ConfigError naming the key ("campaigns[1].hours"), like every other key.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from core.errors import ConfigError
from core.types import BillLevel, Campaign

from .values import (
    Table,
    array_of_tables,
    as_bool,
    as_date,
    as_int,
    as_list,
    as_number,
    as_str,
    check_name,
    check_positive,
    short,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_EFFECTS = ("multiplier", "bill_bonus", "first_purchase_bonus")
_TIME = r"([01][0-9]|2[0-3]):([0-5][0-9])"
_HOURS = re.compile(rf"\s*{_TIME}\s*-\s*{_TIME}\s*")


def campaigns(data: dict[str, object]) -> tuple[Campaign, ...]:
    """Every [[campaigns]] entry, checked; none when the file has none."""
    items = array_of_tables(data, "campaigns") or []
    found: list[Campaign] = []
    seen: dict[str, str] = {}
    for t in items:
        t.only("name", "start", "end", "weekdays", "hours", "public", *_EFFECTS)
        name = check_name(t.get("name", as_str), t.path("name"))
        if (first := seen.setdefault(name.casefold(), t.prefix)) != t.prefix:
            raise ConfigError(t.path("name"), f"duplicate campaign name {name!r} (also {first})")
        start = t.get("start", as_date)
        end = t.get("end", as_date, None)
        if end is not None and end < start:
            raise ConfigError(t.path("end"), f"{end} is before the start, {start}")
        multiplier, bill_bonus, first_purchase_bonus = _effect(t)
        found.append(
            Campaign(
                name=name,
                start=start,
                end=end,
                weekdays=_weekdays(t),
                hours=_hours(t),
                public=t.get("public", as_bool, True),
                multiplier=multiplier,
                bill_bonus=bill_bonus,
                first_purchase_bonus=first_purchase_bonus,
            )
        )
    return tuple(found)


def _weekdays(t: Table) -> frozenset[int]:
    no_days: list[object] = []
    days: set[int] = set()
    for index, item in enumerate(t.get("weekdays", as_list, no_days)):
        day = item.strip().lower()[:3] if isinstance(item, str) else ""
        if day not in WEEKDAYS:
            raise ConfigError(
                f"{t.path('weekdays')}[{index}]",
                f"expected one of {', '.join(WEEKDAYS)}, got {short(str(item))!r}",
            )
        days.add(WEEKDAYS.index(day))
    return frozenset(days)


def _hours(t: Table) -> tuple[dt.time, dt.time] | None:
    text = t.get("hours", as_str, None)
    if text is None:
        return None
    match = _HOURS.fullmatch(text)
    if match is None:
        raise ConfigError(
            t.path("hours"), f'expected "HH:MM-HH:MM" such as "10:00-14:00", got {short(text)!r}'
        )
    start = dt.time(int(match[1]), int(match[2]))
    end = dt.time(int(match[3]), int(match[4]))
    if end <= start:
        # A run across midnight is two campaigns (or weekdays) in the file: one day's hours
        # read one way, and "22:00-02:00" would leave open which day's 02:00 is meant.
        raise ConfigError(
            t.path("hours"),
            f"the end, {end:%H:%M}, is not after the start, {start:%H:%M} "
            "(hours across midnight: two campaigns)",
        )
    return start, end


def _effect(t: Table) -> tuple[Decimal | None, tuple[BillLevel, ...], int]:
    """(multiplier, bill_bonus, first_purchase_bonus): exactly one of them given."""
    given = [key for key in _EFFECTS if key in t.values]
    if len(given) != 1:
        raise ConfigError(
            t.prefix, f"give exactly one of {', '.join(_EFFECTS)} (got {len(given) or 'none'})"
        )
    key = given[0]
    if key == "multiplier":
        multiplier = t.get("multiplier", as_number)
        if multiplier <= 1:
            raise ConfigError(t.path(key), f"must be more than 1, got {multiplier}")
        return multiplier, (), 0
    if key == "first_purchase_bonus":
        bonus = t.get(key, as_int)
        if bonus <= 0:
            raise ConfigError(t.path(key), f"must be greater than 0, got {bonus}")
        return None, (), bonus
    return None, _levels(t), 0


def _levels(t: Table) -> tuple[BillLevel, ...]:
    items = t.get("bill_bonus", as_list)
    if not items:
        raise ConfigError(t.path("bill_bonus"), "give at least one { bill = ..., points = ... }")
    levels: list[BillLevel] = []
    for index, item in enumerate(items):
        where = f"{t.path('bill_bonus')}[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(where, "expected { bill = 250, points = 25 }")
        step = Table(item, where)
        step.only("bill", "points")
        bill: Decimal = step.get("bill", as_number)
        check_positive(bill, step.path("bill"))
        points = step.get("points", as_int)
        if points <= 0:
            raise ConfigError(step.path("points"), f"must be greater than 0, got {points}")
        if levels and bill <= levels[-1].bill:
            raise ConfigError(
                step.path("bill"), f"bills must go up: {bill} is not more than {levels[-1].bill}"
            )
        levels.append(BillLevel(bill=bill, points=points))
    return tuple(levels)
