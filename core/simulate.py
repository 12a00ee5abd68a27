"""What-if: a period's real ledger replayed under a program (`loyalty-bot simulate`). Pure.

`simulate(starts, events, programs)` folds the period's ledger events, in time order, through
one small state per customer (balance, lifetime points) and returns, side by side:
- `actual`: the ledger as recorded (every kind of entry, corrections included);
- one `Outcome` per program: the period's purchases, sign-ups and redemptions replayed under
  that program, starting from each customer's real card at the period's start.

The replay rules, and why:
- a purchase earns `points_for(amount, points_per_unit, multiplier of the tier before it)`,
  computed in exact integers (`_Rate`): the same floor as core.rules.points_for, without a
  Decimal multiplication per event, which is what lets a million customers replay in seconds;
- a customer who joined during the period gets the program's signup bonus before anything else
  (state is per customer, so "before their first entry" is the same as "when they joined");
- a redemption redeems the same reward at the same moment, if the program still has it and the
  replayed balance affords its cost in that program; otherwise it is skipped and counted
  (`redemptions_skipped`): the customer could not have had it. Reset mode spends the balance;
- corrections (void, refund, adjust) are not replayed: they fixed mistakes under the rules of
  the day, and what they would be under other rules is a guess. They stay in `actual`.
So replaying today's program over a period with no corrections and no change of rules gives
exactly the ledger: the check `loyalty-bot simulate` prints as its "replayed" column.

Nothing here reads the database: core/reports/simulation.py streams the starts and events in.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import NamedTuple

from core.rules import lifetime_change
from core.types import EntryKind, Program

__all__ = ["Event", "Outcome", "Simulation", "Start", "point_value", "simulate"]

_PENNY = Decimal("0.01")
_HUNDRED = Decimal(100)


class Event(NamedTuple):
    """One ledger entry of the period, as recorded: what a replay reads of it."""

    at: dt.datetime
    customer_id: int
    kind: EntryKind
    points: int  # signed, as recorded
    amount_minor: int | None  # a purchase's amount in minor units (2550 for 25.50)
    reward_id: str | None  # a redemption's reward


@dataclass(frozen=True)
class Start:
    """A customer's card when the period starts (from the ledger before it)."""

    balance: int = 0
    lifetime_earned: int = 0
    joined: bool = False  # registered during the period: a replay gives its signup bonus


@dataclass
class Outcome:
    """One column of the what-if: the period's figures and the cards at its end."""

    program: Program  # whose tiers and rewards the end-of-period figures use
    purchases: int = 0
    sales_minor: int = 0  # the purchases' amounts, in minor units
    purchase_points: int = 0
    bonus_points: int = 0  # signup bonuses
    correction_points: int = 0  # voids, refunds, adjustments: net, signed (actual only)
    redemptions: int = 0
    redemptions_skipped: int = 0  # replayed redemptions the balance could not afford
    points_redeemed: int = 0
    # EXTENSION POINT (expiry, [expiry] / core/expiry.py): points that expired in the period.
    # Always 0 today: the program has no expiry. See `_Replay.apply`.
    points_expired: int = 0
    outstanding: int = 0  # balances at the period's end
    tiers: dict[str, int] = field(default_factory=dict)  # members per tier at the end
    affordable: dict[str, int] = field(default_factory=dict)  # reward id -> members who can

    @property
    def points_issued(self) -> int:
        return self.purchase_points + self.bonus_points

    @property
    def sales(self) -> Decimal:
        return Decimal(self.sales_minor).scaleb(-2)

    @property
    def point_value(self) -> Decimal | None:
        return point_value(self.program)

    @property
    def liability(self) -> Decimal | None:
        """Outstanding points in money, at the cheapest reward's value per point."""
        value = self.point_value
        return None if value is None else _money(self.outstanding * value)

    @property
    def cost_per_100(self) -> Decimal | None:
        """What the points issued are worth, per 100 of sales (None without values or sales)."""
        value = self.point_value
        if value is None or not self.sales_minor:
            return None
        return _money(self.points_issued * value * _HUNDRED / self.sales)


@dataclass(frozen=True)
class Simulation:
    actual: Outcome  # the ledger as recorded, with the current program's tiers and rewards
    replays: tuple[Outcome, ...]  # one per program, in the order given


def point_value(program: Program) -> Decimal | None:
    """Money per point: the cheapest reward's value / cost, as the reports assume; None when
    that reward has no value (core/reports/queries.assumed_point_value is the same rule)."""
    reward = min(program.rewards, key=lambda r: (r.cost, r.id), default=None)
    if reward is None or reward.value is None or reward.value <= 0:
        return None
    return reward.value / reward.cost


def simulate(
    starts: Mapping[int, Start],
    events: Iterable[Event],
    *,
    current: Program,
    programs: Sequence[Program],
) -> Simulation:
    """The actual period (under `current`'s tiers and rewards) and a replay under each program.

    `starts` holds every member by the period's end (a customer absent from it has no card
    yet and its events are ignored); `events` are the period's ledger entries in time order.
    """
    actual = _Actual(starts, current)
    replays = [_Replay(starts, program) for program in programs]
    # One pass, each event unpacked once: this loop runs for every entry of the period.
    moves = [actual.apply, *(replay.apply for replay in replays)]
    for _at, customer, kind, points, minor, reward in events:
        if customer not in starts:
            continue
        for move in moves:
            move(customer, kind, points, minor, reward)
    finished = actual.finish()
    return Simulation(finished, tuple(replay.finish(finished) for replay in replays))


# --- the fold --------------------------------------------------------------------------------


class _Rate(NamedTuple):
    """A tier's earning rate as an exact fraction of minor units: points = minor * num // den."""

    min_points: int
    num: int
    den: int


def _rates(program: Program) -> list[_Rate]:
    """Each tier's rate; floor(minor * num / den) == points_for(minor / 100, ppu, multiplier)
    exactly, since Decimal arithmetic on these few digits is exact too (tested)."""
    rates = []
    for tier in program.tiers:
        rate = Fraction(program.points_per_unit) * Fraction(tier.multiplier) / 100
        rates.append(_Rate(tier.min_points, rate.numerator, rate.denominator))
    return rates


class _Cards:
    """Balance and lifetime points per customer, and the end-of-period figures from them."""

    def __init__(self, starts: Mapping[int, Start], program: Program, *, bonus: int) -> None:
        self.program = program
        self.balance = {c: s.balance + (bonus if s.joined else 0) for c, s in starts.items()}
        self.lifetime = {
            c: s.lifetime_earned + (bonus if s.joined else 0) for c, s in starts.items()
        }
        # Counters as plain ints: an Outcome is built once, at the end.
        self.purchase_points = self.redemptions = self.points_redeemed = 0

    def _cards(self, out: Outcome) -> Outcome:
        """`out` with the figures of the cards at the period's end."""
        # EXTENSION POINT (expiry): lots still unexpired at the period's end expire here too.
        balances = sorted(self.balance.values())
        out.outstanding = sum(balances)
        tiers = self.program.tiers
        mins = [t.min_points for t in tiers]
        counts = [0] * len(tiers)
        for lifetime in self.lifetime.values():
            counts[max(bisect_right(mins, lifetime) - 1, 0)] += 1  # core.rules.tier_for
        out.tiers = {tier.name: count for tier, count in zip(tiers, counts, strict=True)}
        out.affordable = {
            r.id: len(balances) - bisect_right(balances, r.cost - 1)
            for r in sorted(self.program.rewards, key=lambda r: (r.cost, r.id))
        }
        return out


class _Actual(_Cards):
    """The ledger as it was recorded: every entry moves the card by its recorded points."""

    def __init__(self, starts: Mapping[int, Start], program: Program) -> None:
        super().__init__(starts, program, bonus=0)
        self.purchases = self.sales_minor = self.bonus_points = self.correction_points = 0

    def apply(
        self, customer: int, kind: EntryKind, points: int, minor: int | None, _: str | None
    ) -> None:
        self.balance[customer] += points
        if kind == "earn":
            self.lifetime[customer] += points
            self.purchases += 1
            self.sales_minor += minor or 0
            self.purchase_points += points
        elif kind == "redeem":
            self.redemptions += 1
            self.points_redeemed -= points
        elif kind == "signup_bonus":
            self.lifetime[customer] += points
            self.bonus_points += points
        else:
            self.lifetime[customer] += lifetime_change(kind, points)[0]
            self.correction_points += points

    def finish(self) -> Outcome:
        return self._cards(
            Outcome(
                self.program,
                purchases=self.purchases,
                sales_minor=self.sales_minor,
                purchase_points=self.purchase_points,
                bonus_points=self.bonus_points,
                correction_points=self.correction_points,
                redemptions=self.redemptions,
                points_redeemed=self.points_redeemed,
            )
        )


class _Replay(_Cards):
    """The period's purchases, sign-ups and redemptions under `program`."""

    def __init__(self, starts: Mapping[int, Start], program: Program) -> None:
        super().__init__(starts, program, bonus=program.signup_bonus)
        self.joined = sum(s.joined for s in starts.values())
        self.rates = sorted(_rates(program), reverse=True)  # highest threshold first
        self.costs = {r.id: r.cost for r in program.rewards}
        self.reset = program.reset_after_redemption
        self.skipped = 0

    def apply(
        self, customer: int, kind: EntryKind, _: int, minor: int | None, reward: str | None
    ) -> None:
        # EXTENSION POINT (expiry, [expiry] / core/expiry.py): before this event moves the
        # card, expire the customer's lots older than the event's time under the program's
        # rule and count them in points_expired (simulate() would pass the time on). Campaigns
        # ([[campaigns]]) would pass the time to the earn rule; tier policies (tier_basis)
        # would replace `self.lifetime` as what picks the rate.
        if kind == "earn":
            lifetime = self.lifetime[customer]
            for rate in self.rates:
                if lifetime >= rate.min_points:
                    break
            points = (minor or 0) * rate.num // rate.den
            self.balance[customer] += points
            self.lifetime[customer] = lifetime + points
            self.purchase_points += points
        elif kind == "redeem":
            cost = self.costs.get(reward or "")
            balance = self.balance[customer]
            if cost is None or balance < cost:
                self.skipped += 1
                return
            spent = balance if self.reset else cost
            self.balance[customer] = balance - spent
            self.redemptions += 1
            self.points_redeemed += spent
        # signup bonuses were given at the start (Start.joined); corrections are not replayed.

    def finish(self, actual: Outcome) -> Outcome:
        """The replay's figures; the purchases themselves are the ledger's (`actual`)."""
        return self._cards(
            Outcome(
                self.program,
                purchases=actual.purchases,
                sales_minor=actual.sales_minor,
                purchase_points=self.purchase_points,
                bonus_points=self.program.signup_bonus * self.joined,
                redemptions=self.redemptions,
                redemptions_skipped=self.skipped,
                points_redeemed=self.points_redeemed,
            )
        )


def _money(value: Decimal) -> Decimal:
    return value.quantize(_PENNY, rounding=ROUND_HALF_UP)
