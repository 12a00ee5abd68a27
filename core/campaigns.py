"""Campaigns: which run at a moment in the shop's time zone, and what they add to a purchase.

Pure functions over the program's [[campaigns]] (core.types.Campaign); no I/O, the moment is
passed in. core.rules.quote_earn calls `boost`; /campaigns calls `schedule`; a refund of a
purchase (core/corrections.py) calls `bill_bonus_taken` with what the purchase's entry recorded.

- running:         the campaigns on at a moment: its local date within [start, end], its weekday
                   listed (or none listed), its local time within [from, to) (or no hours)
- boost:           what the running campaigns give a purchase: the best multiplier, the bonuses
- bill_bonus_taken: how much of a purchase's bill-value bonus a refund of part of it takes back
- schedule:        what is on now and what starts next, for /campaigns

How campaigns combine (docs/decisions.md, "Campaigns: the best multiplier, bonuses add"):
- multipliers do not stack with each other: the best one running multiplies the tier's, so a
  Silver (x1.25) customer on Double Tuesday earns x2.5, and a second x1.5 campaign that day
  changes nothing;
- every bill-value bonus adds, each campaign giving the step for the highest bill its
  thresholds reach ("at or above": a bill of exactly 250.00 reaches 250);
- every first-purchase bonus adds, for a card with no purchase standing yet.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from core.types import AppliedCampaign, BillLevel, Campaign

ONE = Decimal(1)


# --- when ------------------------------------------------------------------------------------


def local(at: dt.datetime, timezone: str) -> dt.datetime:
    """`at` (an aware moment) on the shop's clock: a campaign's days and hours are the shop's,
    so "from midnight" is midnight in the shop whatever the server's zone, and a DST change
    moves nothing."""
    return at.astimezone(zoneinfo.ZoneInfo(timezone))


def is_on(campaign: Campaign, when: dt.datetime) -> bool:
    """Whether the campaign runs at `when`, a moment on the shop's clock."""
    day = when.date()
    if day < campaign.start or (campaign.end is not None and day > campaign.end):
        return False
    if campaign.weekdays and day.weekday() not in campaign.weekdays:
        return False
    if campaign.hours is not None:
        start, end = campaign.hours
        clock = when.time().replace(tzinfo=None)
        return start <= clock < end
    return True


def running(campaigns: Sequence[Campaign], at: dt.datetime, timezone: str) -> list[Campaign]:
    """The campaigns on at the moment `at`, in the order the config lists them."""
    when = local(at, timezone)
    return [c for c in campaigns if is_on(c, when)]


# --- what a purchase gets --------------------------------------------------------------------


@dataclass(frozen=True)
class Boost:
    """What the running campaigns do to one purchase, before rounding (core.rules.quote_earn
    multiplies and rounds, once, with points_for)."""

    best: Campaign | None  # the multiplier campaign that applies, if any
    multiplier: Decimal  # its multiplier, 1 when none runs
    bonuses: list[AppliedCampaign]  # the bonuses that apply, in config order


def bill_step(levels: Sequence[BillLevel], bill: Decimal) -> BillLevel | None:
    """The step for the highest threshold the bill reaches (at or above), or None."""
    reached = [level for level in levels if bill >= level.bill]
    return max(reached, key=lambda level: level.bill) if reached else None


def boost(campaigns: Sequence[Campaign], *, amount: Decimal, purchases: int | None) -> Boost:
    """What `campaigns` (those running) give a purchase of `amount`: the best multiplier, and
    every bonus it qualifies for. `purchases` is how many purchases of the card stand before
    this one (None: unknown, so no first-purchase bonus)."""
    best: Campaign | None = None
    for c in campaigns:
        if c.multiplier is not None and (best is None or c.multiplier > (best.multiplier or ONE)):
            best = c  # the first of equals, in config order
    bonuses: list[AppliedCampaign] = []
    for c in campaigns:
        if c.bill_bonus:
            step = bill_step(c.bill_bonus, amount)
            if step is not None:
                bonuses.append(
                    {
                        "name": c.name,
                        "effect": "bill_bonus",
                        "points": step.points,
                        "bill": step.bill,
                        "levels": [(level.bill, level.points) for level in c.bill_bonus],
                    }
                )
        elif c.first_purchase_bonus and purchases == 0:
            bonuses.append(
                {"name": c.name, "effect": "first_purchase", "points": c.first_purchase_bonus}
            )
    multiplier = ONE if best is None or best.multiplier is None else best.multiplier
    return Boost(best=best, multiplier=multiplier, bonuses=bonuses)


# --- refunds ---------------------------------------------------------------------------------


def bill_bonus_taken(details: dict[str, object], bought: Decimal, refunded: Decimal) -> int:
    """How much of a purchase's bill-value bonuses a refund of `refunded` (of the `bought`
    amount, so far in all) takes back, by the steps its entry recorded (`details`), never
    today's: as far as what still stands of the purchase falls below its step, so 760.00
    refunded down to 600.00 keeps the 500 step's bonus and gives back the difference."""
    taken = 0
    applied = details.get("campaigns")
    for item in applied if isinstance(applied, list) else []:
        if not isinstance(item, dict) or item.get("effect") != "bill_bonus":
            continue
        levels = [BillLevel(Decimal(str(b)), int(str(p))) for b, p in item.get("levels", [])]
        before = bill_step(levels, bought)
        after = bill_step(levels, bought - refunded)
        taken += (before.points if before else 0) - (after.points if after else 0)
    return taken


# --- what /campaigns lists -------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    """A campaign as /campaigns shows it: on now, or when it next starts."""

    campaign: Campaign
    on_now: bool
    next_start: dt.datetime | None  # on the shop's clock; None when on now or never again


def next_start(campaign: Campaign, when: dt.datetime) -> dt.datetime | None:
    """The next moment after `when` (shop's clock) at which the campaign starts a run of its
    days or hours, within the coming year; None if it never runs again."""
    day = max(when.date(), campaign.start)
    opens = campaign.hours[0] if campaign.hours is not None else dt.time(0)
    for _ in range(366 + 7):
        if campaign.end is not None and day > campaign.end:
            return None
        if not campaign.weekdays or day.weekday() in campaign.weekdays:
            start = dt.datetime.combine(day, opens, tzinfo=when.tzinfo)
            if start > when:
                return start
        day += dt.timedelta(days=1)
    return None


def schedule(
    campaigns: Sequence[Campaign], at: dt.datetime, timezone: str, *, everything: bool
) -> list[Listed]:
    """What is on at `at` and what comes next, soonest first; `everything` includes the
    campaigns that are not public (staff see them all). Finished campaigns are left out."""
    when = local(at, timezone)
    listed: list[Listed] = []
    for c in campaigns:
        if not (c.public or everything):
            continue
        if is_on(c, when):
            listed.append(Listed(c, on_now=True, next_start=None))
        elif (start := next_start(c, when)) is not None:
            listed.append(Listed(c, on_now=False, next_start=start))
    far = dt.datetime.max.replace(tzinfo=when.tzinfo)
    return sorted(listed, key=lambda item: (not item.on_now, item.next_start or far))
