"""Points expiry, per earn lot, oldest first: the pure rules (issue "Expiry"; [expiry] config).

Every credit to a card (signup bonus, earn, positive adjustment, the void of a redemption) is a
*lot*: so many points, earned at a time. Every debit (redemption, negative adjustment, a void
or refund of an earn, an expiry) takes from lots, oldest first (`consume`); which lots it took
is recorded (table `lot_uses`), so an expiry only ever takes what is left of a lot: points
already spent are never expired a second time, and the lots always sum to the balance.

When a lot expires is decided here, at the moment it is asked, from the lot's earned time and
the policy in force (`last_day`), not stored with the lot: a shop that changes its policy gets
the new one for every lot, the inactivity policy depends on purchases made after the lot, and
an earn pays nothing for expiry (docs/decisions.md, "Expiry: lots, oldest first").

A lot's last day is a date in the shop's time zone: its points can be used through that day
and are gone from the next local midnight (`expires_at`). So "120 points expire on 31 Jan"
means they still count on 31 Jan, whatever the clocks did in between (DST).

Safe switching on: no lot earned before the policy took effect (`since`, recorded when the
bot first starts with it) gets a last day earlier than `since` + remind_days, so every
customer hears about it before a point they already hold expires.

Nothing here does I/O; the database side is core/db/lots.py, the daily job bot/expiry.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal, TypedDict
from zoneinfo import ZoneInfo

PolicyName = Literal["off", "after_days", "end_of_year", "inactivity"]
POLICIES: Final[tuple[PolicyName, ...]] = ("off", "after_days", "end_of_year", "inactivity")


@dataclass(frozen=True)
class ExpiryPolicy:
    """[expiry] in the config: which policy, its length, and how long before to remind."""

    policy: PolicyName = "off"
    days: int = 365  # after_days: after earning; inactivity: after the last purchase
    years: int = 1  # end_of_year: the end of the calendar year this many years after earning
    remind_days: int = 14  # the customer is told this many days before points expire

    @property
    def on(self) -> bool:
        return self.policy != "off"

    def fingerprint(self) -> str:
        """What identifies the rule that expires lots; a new one restarts the safe switch-on."""
        if self.policy == "end_of_year":
            return f"end_of_year:{self.years}"
        return f"{self.policy}:{self.days}" if self.on else "off"


class Lot(TypedDict):
    """A credit's points and what is left of them (table `lots`)."""

    id: int
    entry_id: int  # the ledger entry that credited it
    points: int
    remaining: int
    earned_at: dt.datetime  # aware, the credit's time


class LotsShort(RuntimeError):
    """A debit asked for more than the card's lots hold: the lots are out of step with the
    balance (core/db/health.py reports it). Never a customer's mistake."""


def fifo(lots: Iterable[Lot]) -> list[Lot]:
    """Oldest first: by earned time, then by id (two credits in the same microsecond)."""
    return sorted(lots, key=lambda lot: (lot["earned_at"], lot["id"]))


def consume(
    lots: Sequence[Lot], points: int, *, own_entry: int | None = None
) -> list[tuple[int, int]]:
    """Which lots a debit of `points` (> 0) takes from, as (lot id, points taken).

    Oldest lots with something left go first. A void or refund of a credit passes that
    credit's entry as `own_entry`: its own lot goes first, so taking back a purchase takes the
    points that purchase gave, and older points keep their (sooner) expiry.
    """
    if points <= 0:
        raise ValueError(f"a debit takes a positive number of points, got {points}")
    ordered = fifo(lot for lot in lots if lot["remaining"] > 0)
    ordered.sort(key=lambda lot: lot["entry_id"] != own_entry)  # stable: the rest stay oldest-first
    taken: list[tuple[int, int]] = []
    left = points
    for lot in ordered:
        if left == 0:
            break
        take = min(lot["remaining"], left)
        taken.append((lot["id"], take))
        left -= take
    if left:
        raise LotsShort(f"lots hold {points - left} points, a debit needs {points}")
    return taken


def _local_day(at: dt.datetime, tz: ZoneInfo) -> dt.date:
    return at.astimezone(tz).date()


def last_day(
    policy: ExpiryPolicy,
    earned_at: dt.datetime,
    *,
    tz: ZoneInfo,
    last_purchase_at: dt.datetime | None = None,
    since: dt.datetime | None = None,
) -> dt.date | None:
    """The last local day a lot's points can be used; None while expiry is off.

    after_days: the day it was earned + days. end_of_year: 31 December of the year it was
    earned + years. inactivity: the day of the customer's last purchase (or of the credit, if
    later) + days, so every lot of a customer who stops buying goes on the same day. A lot
    earned before `since` (the policy's start) lasts at least until `since` + remind_days.
    """
    if policy.policy == "off":
        return None
    if policy.policy == "after_days":
        day = _local_day(earned_at, tz) + dt.timedelta(days=policy.days)
    elif policy.policy == "end_of_year":
        day = dt.date(_local_day(earned_at, tz).year + policy.years, 12, 31)
    else:
        anchor = earned_at if last_purchase_at is None else max(last_purchase_at, earned_at)
        day = _local_day(anchor, tz) + dt.timedelta(days=policy.days)
    if since is not None and earned_at < since:
        day = max(day, _local_day(since, tz) + dt.timedelta(days=policy.remind_days))
    return day


def expires_at(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """The moment (UTC) a lot whose last day is `day` expires: the local midnight after it.

    Built from the wall clock in `tz`, so a DST change in between moves nothing: the points
    last until the shop's own midnight, never an hour more or less.
    """
    midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    return midnight.astimezone(dt.UTC)


def is_expired(day: dt.date, now: dt.datetime, tz: ZoneInfo) -> bool:
    return now >= expires_at(day, tz)


def due(
    policy: ExpiryPolicy,
    lots: Sequence[Lot],
    now: dt.datetime,
    *,
    tz: ZoneInfo,
    last_purchase_at: dt.datetime | None = None,
    since: dt.datetime | None = None,
) -> list[tuple[dt.date, int]]:
    """What has expired by `now` and is still on the card: (last day, points), oldest first.

    One pair per last day, so a job that catches up after a week of downtime writes one
    expire entry per card per day it missed, each dated by the day it belongs to.
    """
    expired: dict[dt.date, int] = {}
    for lot in fifo(lots):
        if lot["remaining"] <= 0:
            continue
        day = last_day(
            policy, lot["earned_at"], tz=tz, last_purchase_at=last_purchase_at, since=since
        )
        if day is not None and is_expired(day, now, tz):
            expired[day] = expired.get(day, 0) + lot["remaining"]
    return sorted(expired.items())


def upcoming(
    policy: ExpiryPolicy,
    lots: Sequence[Lot],
    now: dt.datetime,
    *,
    tz: ZoneInfo,
    within_days: int,
    last_purchase_at: dt.datetime | None = None,
    since: dt.datetime | None = None,
) -> tuple[dt.date, int] | None:
    """The soonest last day still ahead (today included) within `within_days` of today's local
    date, with the points that expire after it; None when nothing does."""
    today = _local_day(now, tz)
    soonest: dt.date | None = None
    total = 0
    for lot in lots:
        if lot["remaining"] <= 0:
            continue
        day = last_day(
            policy, lot["earned_at"], tz=tz, last_purchase_at=last_purchase_at, since=since
        )
        if day is None or is_expired(day, now, tz) or (day - today).days > within_days:
            continue
        if soonest is None or day < soonest:
            soonest, total = day, lot["remaining"]
        elif day == soonest:
            total += lot["remaining"]
    return None if soonest is None else (soonest, total)


def scan_before(policy: ExpiryPolicy, now: dt.datetime, *, tz: ZoneInfo) -> dt.datetime | None:
    """No lot earned at or after this can have expired by `now` (None: nothing can expire).

    Lets the daily job read only old lots; each is still checked with `due`. A day of slack
    on each side keeps time zones and DST out of the bound.
    """
    today = _local_day(now, tz)
    if policy.policy in ("after_days", "inactivity"):
        day = today - dt.timedelta(days=policy.days)
    elif policy.policy == "end_of_year":
        day = dt.date(today.year - policy.years, 1, 1)
    else:
        return None
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=dt.UTC)
