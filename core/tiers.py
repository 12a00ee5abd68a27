"""Tier policy: which tier a customer holds on a given day, and what /status says about it.

Pure functions over plain data (no I/O): the Store, the daily tier job (bot/tiers_job.py) and a
what-if simulator all call these with a customer's dated credits and the program.

- shop_day:      a moment -> the shop's date ([reports] timezone), which decides the year
- Standing:      what the rules need: lifetime points, qualifying points per shop day, any pin
- held:          the tier a Standing holds (a pin wins; then the policy's basis)
- credited:      the Standing after a credit of N points today
- window_start:  the first day whose credits the policy can still look at
- progress:      the tier, what counts toward the next one, and how far it is, in the words
                 the customer sees on /status

The bases (docs/decisions.md, "Tier policy"):
- lifetime:      every point ever earned (the default; redeeming never demotes);
- rolling_365:   points earned in the last 365 days, today included; a credit of day D counts
                 through D + 364 and the tier drops on D + 365 if it no longer reaches;
- calendar_year: the better of the tiers reached by this calendar year's points and by last
                 year's: a tier reached in 2026 is kept through 31 December 2027.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from typing import Literal, TypedDict

from core.types import Customer, Program, Tier, TierBasis, TierPolicy

ROLLING_DAYS = 365


class Standing(TypedDict):
    """A customer's tier-relevant facts on one day."""

    today: dt.date  # the shop's date now (shop_day)
    lifetime: int  # lifetime_earned
    # Qualifying points per shop day: credits, less what voids and refunds took back, on the
    # day of the credit. Only days from window_start on matter; older days are ignored.
    credits: Mapping[dt.date, int]
    pinned: str | None  # a tier an admin pinned, which wins over the policy


class Progress(TypedDict):
    """What /status says: the tier, what counts, and the way to the next tier."""

    tier: str
    pinned: bool
    # What the customer's points are counted over, in their words.
    counted: Literal["in all", "in the last 365 days", "this year"]
    counted_points: int  # the points counted so far
    next_tier: str | None  # the tier the counted points work toward; None at the top
    points_to_next: int | None  # counted points still needed for it
    # "reach" a tier above the one held, or "keep" (calendar_year: the tier held from last year
    # is kept next year only if this year's points reach it too).
    goal: Literal["reach", "keep"]
    # calendar_year: the last day the held tier is kept unless requalified; None otherwise.
    held_until: dt.date | None


def shop_day(at: dt.datetime, timezone: str) -> dt.date:
    """The shop's date at the moment `at` (aware): 31 Dec 23:59:59 local is still that year."""
    return at.astimezone(zoneinfo.ZoneInfo(timezone)).date()


def window_start(policy: TierPolicy, today: dt.date) -> dt.date:
    """The first day whose credits the policy may count today (the store reads from here)."""
    if policy.basis == "rolling_365":
        return today - dt.timedelta(days=ROLLING_DAYS - 1)
    if policy.basis == "calendar_year":
        return dt.date(today.year - 1, 1, 1)
    return today  # lifetime: no window; the total is customers.lifetime_earned


def standing_of(
    customer: Customer, today: dt.date, credits: Mapping[dt.date, int] | None = None
) -> Standing:
    """The Standing of a customer record, with its dated credits (none: the lifetime basis)."""
    return {
        "today": today,
        "lifetime": customer["lifetime_earned"],
        "credits": {} if credits is None else credits,
        "pinned": customer.get("pinned_tier"),
    }


def by_points(points: int, tiers: tuple[Tier, ...]) -> Tier:
    """The highest tier whose threshold `points` reach."""
    current = tiers[0]
    for tier in tiers:
        if points >= tier.min_points:
            current = tier
    return current


def _points_between(credits: Mapping[dt.date, int], first: dt.date, last: dt.date) -> int:
    return sum(points for day, points in credits.items() if first <= day <= last)


def counted_points(standing: Standing, basis: TierBasis) -> int:
    """The points the basis counts today toward the next tier."""
    today = standing["today"]
    if basis == "rolling_365":
        return _points_between(
            standing["credits"], today - dt.timedelta(days=ROLLING_DAYS - 1), today
        )
    if basis == "calendar_year":
        return _points_between(standing["credits"], dt.date(today.year, 1, 1), today)
    return standing["lifetime"]


def _last_year_points(standing: Standing) -> int:
    year = standing["today"].year - 1
    if year < dt.MINYEAR:  # a Standing with no date (the lifetime basis needs none)
        return 0
    return _points_between(standing["credits"], dt.date(year, 1, 1), dt.date(year, 12, 31))


def earned(standing: Standing, program: Program) -> Tier:
    """The tier the policy gives, pin aside."""
    tiers, basis = program.tiers, program.tier_policy.basis
    tier = by_points(counted_points(standing, basis), tiers)
    if basis == "calendar_year":
        kept = by_points(_last_year_points(standing), tiers)
        if kept.min_points > tier.min_points:
            tier = kept  # reached last year: kept through the end of this year
    return tier


def held(standing: Standing, program: Program) -> Tier:
    """The tier the customer holds: the pinned one while pinned, else the policy's."""
    pinned = standing["pinned"]
    if pinned is not None:
        for tier in program.tiers:
            if tier.name == pinned:
                return tier
        # A pinned tier since removed from the config: the policy decides (nothing better).
    return earned(standing, program)


def credited(standing: Standing, points: int, day: dt.date | None = None) -> Standing:
    """The Standing after `points` more lifetime points are credited on `day` (default today),
    or taken back (negative: a void or refund, on the day of the credit it reverses)."""
    credits = dict(standing["credits"])
    day = standing["today"] if day is None else day
    credits[day] = credits.get(day, 0) + points
    return {**standing, "lifetime": standing["lifetime"] + points, "credits": credits}


def rate_tier(before: Tier, after: Tier, policy: TierPolicy) -> Tier:
    """Whose multiplier a purchase earns at when it moves the tier from `before` to `after`."""
    return after if policy.crossing == "after" else before


def progress(standing: Standing, program: Program) -> Progress:
    """The tier and the way to the next one, counted in the terms the customer can see."""
    basis = program.tier_policy.basis
    counted = counted_points(standing, basis)
    tier = held(standing, program)
    words: dict[TierBasis, Literal["in all", "in the last 365 days", "this year"]] = {
        "lifetime": "in all",
        "rolling_365": "in the last 365 days",
        "calendar_year": "this year",
    }
    result: Progress = {
        "tier": tier.name,
        "pinned": standing["pinned"] is not None and tier.name == standing["pinned"],
        "counted": words[basis],
        "counted_points": counted,
        "next_tier": None,
        "points_to_next": None,
        "goal": "reach",
        "held_until": None,
    }
    if basis == "calendar_year" and not result["pinned"]:
        this_year = by_points(counted, program.tiers)
        if this_year.min_points < tier.min_points:
            # Held thanks to last year: this year's points must reach it again to keep it.
            result["held_until"] = dt.date(standing["today"].year, 12, 31)
            result["next_tier"], result["goal"] = tier.name, "keep"
            result["points_to_next"] = tier.min_points - counted
            return result
        if tier != program.tiers[0]:  # the lowest tier is never lost: no date to show
            result["held_until"] = dt.date(standing["today"].year + 1, 12, 31)
    for higher in program.tiers:
        if higher.min_points > tier.min_points and higher.min_points > counted:
            result["next_tier"] = higher.name
            result["points_to_next"] = higher.min_points - counted
            break
    return result
