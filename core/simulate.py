"""What-if: a period's real ledger replayed under a program (`loyalty-bot simulate`). Pure.

Given every member's card at the period's start and the period's ledger entries in time order,
`simulate` returns, side by side:
- `actual`: the ledger as recorded (every kind of entry, corrections included);
- one `Outcome` per program: the period's purchases, sign-ups and redemptions replayed under
  that program, starting from each customer's real card at the period's start.

The replay rules, and why:
- a purchase earns what core.rules.quote_earn would give it at its moment: nothing below the
  program's min_purchase; else floor(amount x points_per_unit x the multiplier of the tier
  before it x the best campaign multiplier running), plus the bill-value and first-purchase
  bonuses of the campaigns running ([[campaigns]], on the shop's clock `program.timezone`),
  computed in exact integers (`_Rate`): the same floor as core.rules.points_for. A purchase
  that comes to 0 would have been refused at the till, so it is no card's first purchase;
  purchases before the period count (`Start.purchases`);
- a customer who joined during the period gets the program's signup bonus before anything else
  (cards are independent, so "before their first entry" is the same as "when they joined");
- a redemption redeems the same reward at the same moment, if the program still has it and the
  replayed balance affords its cost in that program; otherwise it is skipped and counted
  (`redemptions_skipped`): the customer could not have had it. Reset mode spends the balance;
- corrections (void, refund, adjust) are not replayed: they fixed mistakes under the rules of
  the day, and what they would be under other rules is a guess. They stay in `actual`.
So replaying today's program over a period with no corrections and no change of rules gives
exactly the ledger: the check `loyalty-bot simulate` prints as its "replayed" column.

Two entry points, one engine: `simulate(starts, events, ...)` takes readable records (`Start`,
`Event`), as tests write them; `simulate_columns(cards, entries, ...)` takes the same as numpy
columns, as core/reports/simulation.py reads them. The engine works on columns, all customers
at once (`_replay`): a loop per entry in Python cost a minute of CPU at a million customers,
this costs seconds. tests/unit/test_simulate.py holds it equal to core.rules applied entry by
entry, for random programs and ledgers.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt

from core import campaigns
from core.expiry import ExpiryPolicy, Lot, consume, expires_at, last_day
from core.types import BillLevel, EntryKind, Program

__all__ = [
    "KIND_CODES",
    "Cards",
    "Entries",
    "Event",
    "Outcome",
    "Simulation",
    "Start",
    "point_value",
    "simulate",
    "simulate_columns",
]

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
    purchases: int = 0  # purchases before the period (first-purchase campaigns)


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
    # Points that expired in the period: the ledger's expire entries (actual), or what the
    # program's [expiry] policy would have expired (a replay; see `_with_expiry`).
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
    expiry: Sequence[ExpiryPolicy] = (),
    period: tuple[dt.datetime, dt.datetime] | None = None,
) -> Simulation:
    """The actual period (under `current`'s tiers and rewards) and a replay under each program.

    `starts` holds every member by the period's end (a customer absent from it has no card
    yet and its events are ignored); `events` are the period's ledger entries in time order.
    `expiry` is each program's [expiry] policy (none given: off), `period` the period's
    [start, end) (needed only with expiry). The readable form of `simulate_columns`, for tests
    and small callers.
    """
    ids = sorted(starts)
    index = {cid: n for n, cid in enumerate(ids)}
    cards = Cards(
        balance=_ints(starts[c].balance for c in ids),
        lifetime=_ints(starts[c].lifetime_earned for c in ids),
        joined=np.array([starts[c].joined for c in ids], dtype=bool),
        purchases=_ints(starts[c].purchases for c in ids),
    )
    rewards: dict[str, int] = {}
    rows = [
        (
            index[e.customer_id],
            KIND_CODES[e.kind],
            e.points,
            e.amount_minor or 0,
            rewards.setdefault(e.reward_id, len(rewards)) if e.reward_id else -1,
            _seconds(e.at),
        )
        for e in events
        if e.customer_id in index
    ]
    entries = Entries.of_table(np.array(rows, dtype=np.int64).reshape(-1, 6), tuple(rewards))
    return simulate_columns(
        cards, entries, current=current, programs=programs, expiry=expiry, period=period
    )


# --- the columns -----------------------------------------------------------------------------

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
# How an entry's kind is coded in Entries.kind (and by the reader's SQL).
KIND_CODES: Final[dict[EntryKind, int]] = {
    "earn": 0,
    "redeem": 1,
    "signup_bonus": 2,
    "void": 3,
    "refund": 4,
    "adjust": 5,
    "expire": 6,
    "bonus": 7,  # birthday and referral bonuses: not replayed, like corrections
}
_EARN, _REDEEM, _BONUS, _VOID, _REFUND, _EXPIRE = 0, 1, 2, 3, 4, 6


@dataclass(frozen=True)
class Cards:
    """Every member by the period's end (a dense index 0..n-1), as they stood at its start."""

    balance: IntArray
    lifetime: IntArray
    joined: BoolArray  # registered during the period
    purchases: IntArray  # purchases before the period (a first-purchase campaign's "first")


@dataclass(frozen=True)
class Entries:
    """The period's ledger entries in time order, one column each."""

    customer: IntArray  # index into Cards
    kind: IntArray  # KIND_CODES
    points: IntArray  # signed, as recorded
    amount_minor: IntArray  # a purchase's amount in minor units; 0 for other kinds
    reward: IntArray  # a redemption's reward, an index into reward_ids; -1 for other kinds
    reward_ids: tuple[str, ...]
    at: IntArray  # when, in whole seconds since the Unix epoch (UTC)

    @classmethod
    def of_table(cls, table: IntArray, reward_ids: tuple[str, ...]) -> Entries:
        """From a table of (customer, kind, points, amount_minor, reward, at) rows."""
        customer, kind, points, minor, reward, at = (np.ascontiguousarray(c) for c in table.T)
        return cls(customer, kind, points, minor, reward, reward_ids, at)


def simulate_columns(
    cards: Cards,
    entries: Entries,
    *,
    current: Program,
    programs: Sequence[Program],
    expiry: Sequence[ExpiryPolicy] = (),
    period: tuple[dt.datetime, dt.datetime] | None = None,
) -> Simulation:
    """`simulate` over columns: what the database reader calls, a million customers at once."""
    actual = _actual(cards, entries, current)
    # Each customer's entries together, still in time order: the replays run per customer.
    grouped = _Grouped.of(entries, np.argsort(entries.customer, kind="stable"))
    policies = [*expiry, *[ExpiryPolicy()] * (len(programs) - len(expiry))]
    if period is None:
        times = entries.at if len(entries.at) else np.zeros(1, dtype=np.int64)
        window = (int(times.min()), int(times.max()) + 1)
    else:
        window = (_seconds(period[0]), _seconds(period[1]))
    replays = tuple(
        _replay(cards, grouped, program, actual, policy, window)
        for program, policy in zip(programs, policies, strict=True)
    )
    return Simulation(actual, replays)


# --- the actual column -----------------------------------------------------------------------


def _actual(cards: Cards, e: Entries, program: Program) -> Outcome:
    """The ledger as recorded: every entry moves its card by its recorded points."""
    n = len(cards.balance)
    reversing = (e.kind == _VOID) | (e.kind == _REFUND)
    # core.rules.lifetime_change: credits raise lifetime points; voids and refunds take back.
    credit = np.where(reversing, np.minimum(e.points, 0), np.maximum(e.points, 0))
    earn, redeem, bonus = e.kind == _EARN, e.kind == _REDEEM, e.kind == _BONUS
    expire = e.kind == _EXPIRE
    other = ~(earn | redeem | bonus | expire)
    out = Outcome(
        program,
        purchases=int(earn.sum()),
        sales_minor=int(e.amount_minor[earn].sum()),
        purchase_points=int(e.points[earn].sum()),
        bonus_points=int(e.points[bonus].sum()),
        correction_points=int(e.points[other].sum()),
        redemptions=int(redeem.sum()),
        points_redeemed=-int(e.points[redeem].sum()),
        points_expired=-int(e.points[expire].sum()),
    )
    balance = cards.balance + _per_card(e.customer, e.points, n)
    lifetime = cards.lifetime + _per_card(e.customer, credit, n)
    return _at_end(out, balance, lifetime)


# --- the replays -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Grouped:
    """Entries sorted by customer (time order kept within each): groups of one customer."""

    customer: IntArray
    kind: IntArray
    amount_minor: IntArray
    reward: IntArray
    reward_ids: tuple[str, ...]
    first: BoolArray  # True at each customer's first entry
    at: IntArray

    @classmethod
    def of(cls, e: Entries, order: IntArray) -> _Grouped:
        customer = e.customer[order]
        first = np.ones(len(customer), dtype=bool)
        first[1:] = customer[1:] != customer[:-1]
        return cls(
            customer,
            e.kind[order],
            e.amount_minor[order],
            e.reward[order],
            e.reward_ids,
            first,
            e.at[order],
        )


def _replay(
    cards: Cards,
    g: _Grouped,
    program: Program,
    actual: Outcome,
    policy: ExpiryPolicy,
    window: tuple[int, int],
) -> Outcome:
    """The period's purchases, sign-ups and redemptions under `program`.

    Vectorised over all customers at once; each rule is a fixed point reached in a few
    passes, because what it depends on only ever moves one way:
    - a purchase's rate is its tier's, and the tier follows lifetime points, which only grow:
      start every purchase at the tier of the card at the start, recompute the tiers from the
      points that gives, repeat until nothing changes (at most one pass per tier);
    - a redemption needs the balance before it: take every redemption whose reward the program
      has, drop each customer's first one the balance can't afford, recompute, repeat (a
      dropped redemption only raises the balances after it).
    With an [expiry] policy, the redemptions are replayed card by card instead, with the
    card's lots (`_Lots`): expired points are not there to spend. Purchases' points do not
    depend on expiry (tiers count points earned), so they stay vectorised.
    """
    # Tier policies (tier_basis, tier_rate_on_crossing) would change what `lifetime` means in
    # the tier pass: not replayed yet.
    n = len(cards.balance)
    bonus = program.signup_bonus * cards.joined.astype(np.int64)
    balance0, lifetime0 = cards.balance + bonus, cards.lifetime + bonus
    points = _purchase_points(g, program, lifetime0[g.customer], cards.purchases)
    expired = np.zeros(n, dtype=np.int64)
    if policy.on:
        redeemed, taken, expired = _with_expiry(
            g, program, policy, balance0, cards.joined, points, window
        )
    else:
        redeemed, taken = _redemptions(g, program, balance0[g.customer], points)
    out = Outcome(
        program,
        purchases=actual.purchases,
        sales_minor=actual.sales_minor,
        purchase_points=int(points.sum()),
        bonus_points=int(bonus.sum()),
        redemptions=int(taken.sum()),
        redemptions_skipped=int((g.kind == _REDEEM).sum() - taken.sum()),
        points_redeemed=int(redeemed.sum()),
        points_expired=int(expired.sum()),
    )
    balance = balance0 + _per_card(g.customer, points - redeemed, n) - expired
    lifetime = lifetime0 + _per_card(g.customer, points, n)
    return _at_end(out, balance, lifetime)


def _purchase_points(
    g: _Grouped, program: Program, lifetime_at_start: IntArray, purchases_at_start: IntArray
) -> IntArray:
    """Each entry's points under `program` (0 for anything but a purchase), as
    core.rules.quote_earn prices it: nothing below min_purchase; floor(amount x points_per_unit
    x the tier's multiplier x the best campaign multiplier running), plus the bill-value and
    first-purchase bonuses of the campaigns running; a purchase that comes to 0 is refused, so
    it is no card's first purchase either."""
    boost = _campaign_columns(g, program)
    rates = _rates(program, boost.multipliers)  # [tier, campaign multiplier]
    mins = np.array([t.min_points for t in program.tiers], dtype=np.int64)
    num = np.array([[r.num for r in row] for row in rates], dtype=np.int64).reshape(len(mins), -1)
    den = np.array([[r.den for r in row] for row in rates], dtype=np.int64).reshape(len(mins), -1)
    if len(g.amount_minor) and int(g.amount_minor.max()) * int(num.max()) >= 2**62:
        raise ValueError("a rate this precise would overflow: simplify points_per_unit")
    minimum = int((program.min_purchase * 100).to_integral_value(rounding=ROUND_CEILING))
    earns = (g.kind == _EARN) & (g.amount_minor >= minimum)
    bills = np.where(earns, boost.bill_bonus, 0)
    firsts = np.where(earns & (purchases_at_start[g.customer] == 0), boost.first_bonus, 0)
    tier = _tier_index(mins, lifetime_at_start)
    while True:
        rate = (tier, boost.multiplier)
        points = np.where(earns, g.amount_minor * num[rate] // den[rate], 0) + bills
        if firsts.any():
            # A card's first purchase is the first that would stand: one that earns something,
            # with its first-purchase bonus if need be.
            stands = earns & ((points > 0) | (firsts > 0))
            first = stands & (_before(stands.astype(np.int64), g.first) == 0)
            points = points + np.where(first, firsts, 0)
        after = _tier_index(mins, lifetime_at_start + _before(points, g.first))
        if np.array_equal(after, tier):
            return points
        tier = after


class _Boost(NamedTuple):
    """What the campaigns running at each entry's moment give it (core.campaigns.boost)."""

    multipliers: list[Decimal]  # the distinct best multipliers; 1 first
    multiplier: IntArray  # each entry's: an index into `multipliers`
    bill_bonus: IntArray  # each entry's bill-value bonuses, for its amount
    first_bonus: IntArray  # each entry's first-purchase bonuses, if it is the card's first


def _campaign_columns(g: _Grouped, program: Program) -> _Boost:
    """The campaigns' effect on every entry, evaluated once per distinct stretch of time in
    which the same campaigns run, not once per entry: a stretch is a local day cut at the
    campaigns' hours, so a year holds a few hundred of them, whatever the number of entries.

    The entry's local time is its UTC time plus the zone's offset, looked up once per distinct
    quarter hour (zones change offset on the quarter hour at most often); which campaigns run
    in a stretch is core.campaigns.is_on at its first second, on the shop's clock, and what
    they give is core.campaigns.boost: the rules are those of the till, not a copy of them.
    """
    n = len(g.kind)
    none = np.zeros(n, dtype=np.int64)
    if not program.campaigns or not n:
        return _Boost([Decimal(1)], none, none, none)
    zone = zoneinfo.ZoneInfo(program.timezone)
    quarters, quarter = np.unique(g.at // 900, return_inverse=True)
    offsets = _ints(_offset(_moment(int(q) * 900), zone) for q in quarters)
    local = g.at + offsets[quarter.reshape(-1)]
    cuts = sorted(
        {0}
        | {
            _second_of_day(t)
            for c in program.campaigns
            if c.hours is not None
            for t in c.hours
            if _second_of_day(t) < 86400
        }
    )
    edges = np.array(cuts, dtype=np.int64)
    stretch = (local // 86400) * len(edges) + np.searchsorted(edges, local % 86400, "right") - 1
    stretches, which = np.unique(stretch, return_inverse=True)
    which = which.reshape(-1)
    bills = [c for c in program.campaigns if c.bill_bonus]
    multipliers: dict[Decimal, int] = {Decimal(1): 0}
    best = np.zeros(len(stretches), dtype=np.int64)
    first = np.zeros(len(stretches), dtype=np.int64)
    billing = np.zeros((len(stretches), len(bills)), dtype=bool)
    for k, key in enumerate(stretches.tolist()):
        day, cut = divmod(key, len(edges))
        when = _EPOCH_DAY + dt.timedelta(days=day, seconds=cuts[cut])
        on = [c for c in program.campaigns if campaigns.is_on(c, when)]
        got = campaigns.boost(on, amount=Decimal(0), purchases=0)
        best[k] = multipliers.setdefault(got.multiplier, len(multipliers))
        first[k] = sum(c.first_purchase_bonus for c in on if c.effect == "first_purchase")
        billing[k] = [c in on for c in bills]
    bill_bonus = none.copy()
    for j, c in enumerate(bills):
        bill_bonus += np.where(billing[which, j], _bill_step(c.bill_bonus, g.amount_minor), 0)
    return _Boost(list(multipliers), best[which], bill_bonus, first[which])


def _bill_step(levels: Sequence[BillLevel], minor: IntArray) -> IntArray:
    """core.campaigns.bill_step over amounts in minor units: the points of the highest bill
    reached (at or above), 0 below the lowest."""
    steps: dict[int, int] = {}
    for level in levels:  # bill_step's max() keeps the first of equal bills
        bill = int((level.bill * 100).to_integral_value(rounding=ROUND_CEILING))
        steps.setdefault(bill, level.points)
    bill_minor = np.array(sorted(steps), dtype=np.int64)
    points = np.array([steps[b] for b in sorted(steps)] + [0], dtype=np.int64)
    reached = np.searchsorted(bill_minor, minor, side="right") - 1  # -1 reads the last: 0
    return points[reached]


def _second_of_day(t: dt.time) -> int:
    """A campaign's hour as seconds since midnight, rounded up: entries are timed to the
    second, and a time of whole seconds is at or after `t` exactly when it is at or after
    this."""
    return t.hour * 3600 + t.minute * 60 + t.second + (1 if t.microsecond else 0)


_EPOCH_DAY: Final = dt.datetime(1970, 1, 1)  # naive: days and hours on the shop's clock


def _offset(at: dt.datetime, zone: zoneinfo.ZoneInfo) -> int:
    """The zone's offset from UTC at `at`, in seconds."""
    return int((at.astimezone(zone).utcoffset() or dt.timedelta()).total_seconds())


def _moment(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def _seconds(at: dt.datetime) -> int:
    """An aware moment as whole seconds since the epoch (rounded down, as SQLite's %s)."""
    return int((at - _moment(0)) // dt.timedelta(seconds=1))


def _with_expiry(
    g: _Grouped,
    program: Program,
    policy: ExpiryPolicy,
    balance_at_start: IntArray,
    joined: BoolArray,
    points: IntArray,
    window: tuple[int, int],
) -> tuple[IntArray, BoolArray, IntArray]:
    """(what each redemption spends, which happen, points expired per card) with expiry.

    Card by card, in Python: every credit is a lot, every redemption takes from the lots
    oldest first (core.expiry.consume), and before each entry and at the period's end the lots
    whose last day (core.expiry.last_day, expires_at) has passed expire. A card's balance at
    the period's start is one lot earned at the start (the ledger before it is summed, not
    replayed); a card that joined in the period earns its signup bonus at its first entry.
    Cards with no entry in the period are done at once: their one lot expires, or not, for
    all of them.
    """
    tz = zoneinfo.ZoneInfo(program.timezone)
    start, end = window
    costs = {r.id: r.cost for r in program.rewards}
    cost_of = [costs.get(rid, -1) for rid in g.reward_ids] + [-1]
    spent = np.zeros(len(g.kind), dtype=np.int64)
    taken = np.zeros(len(g.kind), dtype=bool)
    expired = np.zeros(len(balance_at_start), dtype=np.int64)
    # Cards without entries: the lot of their balance at the start.
    idle = np.ones(len(balance_at_start), dtype=bool)
    idle[g.customer] = False
    if _Lots(policy, tz).deadline(start, None) <= end:
        expired[idle] = np.maximum(balance_at_start[idle], 0)
    firsts = [*np.flatnonzero(g.first).tolist(), len(g.kind)]
    kinds, ats, gained = g.kind.tolist(), g.at.tolist(), points.tolist()
    rewards = g.reward.tolist()
    for lo, hi in itertools.pairwise(firsts):
        card = int(g.customer[lo])
        lots = _Lots(policy, tz)
        lots.credit(int(balance_at_start[card]), ats[lo] if joined[card] else start)
        for k in range(lo, hi):
            at = ats[k]
            lots.expire(at)
            if kinds[k] == _EARN and gained[k] > 0:
                lots.credit(gained[k], at)
                lots.last_purchase = at
            elif kinds[k] == _REDEEM:
                cost = cost_of[rewards[k]]
                balance = lots.balance()
                if cost >= 0 and balance >= cost:
                    spent[k] = balance if program.reset_after_redemption else cost
                    taken[k] = True
                    lots.debit(int(spent[k]))
        lots.expire(end)
        expired[card] = lots.expired
    return spent, taken, expired


class _Lots:
    """One card's lots in a replay with expiry: core/expiry.py's rules on plain numbers."""

    def __init__(self, policy: ExpiryPolicy, tz: zoneinfo.ZoneInfo) -> None:
        self.policy, self.tz = policy, tz
        self.lots: list[Lot] = []
        self.last_purchase: int | None = None
        self.expired = 0
        self._deadlines: dict[int, tuple[int | None, int]] = {}
        self._made = 0

    def deadline(self, earned: int, last_purchase: int | None) -> int:
        """When a lot earned at `earned` expires (seconds): the local midnight after its last
        day."""
        day = last_day(
            self.policy,
            _moment(earned),
            tz=self.tz,
            last_purchase_at=None if last_purchase is None else _moment(last_purchase),
        )
        assert day is not None  # the policy is on
        return _seconds(_expires_at(day, self.tz))

    def _deadline_of(self, lot: Lot) -> int:
        """`deadline` of a lot, remembered until the card's last purchase changes (only the
        inactivity policy reads it)."""
        anchor = self.last_purchase if self.policy.policy == "inactivity" else None
        known = self._deadlines.get(lot["id"])
        if known is None or known[0] != anchor:
            known = (anchor, self.deadline(_seconds(lot["earned_at"]), anchor))
            self._deadlines[lot["id"]] = known
        return known[1]

    def credit(self, points: int, at: int) -> None:
        if points > 0:
            n = self._made = self._made + 1  # never reused: ids key `_deadlines`
            self.lots.append(
                {
                    "id": n,
                    "entry_id": n,
                    "points": points,
                    "remaining": points,
                    "earned_at": _moment(at),
                }
            )

    def balance(self) -> int:
        return sum(lot["remaining"] for lot in self.lots)

    def debit(self, points: int) -> None:
        if points > 0:
            by_id = {lot["id"]: lot for lot in self.lots}
            for lot_id, took in consume(self.lots, points):
                by_id[lot_id]["remaining"] -= took
            self.lots = [lot for lot in self.lots if lot["remaining"] > 0]

    def expire(self, now: int) -> None:
        """Every lot whose last day has passed by `now` expires. The lots are oldest first and
        a later lot never expires sooner under any policy, so the first that stands stops it."""
        gone = 0
        for lot in self.lots:
            if now < self._deadline_of(lot):
                break
            self.expired += lot["remaining"]
            gone += 1
        if gone:
            del self.lots[:gone]


@functools.lru_cache(maxsize=4096)
def _expires_at(day: dt.date, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    return expires_at(day, tz)


def _redemptions(
    g: _Grouped, program: Program, balance_at_start: IntArray, points: IntArray
) -> tuple[IntArray, BoolArray]:
    """(points each entry spends under `program`, which redemptions happen). A redemption
    can't happen when the program lacks its reward or the balance falls short of its cost."""
    costs = {r.id: r.cost for r in program.rewards}
    cost_of = np.array([costs.get(rid, -1) for rid in g.reward_ids] + [-1], dtype=np.int64)
    cost = np.where(g.kind == _REDEEM, cost_of[g.reward], -1)  # reward -1 reads the last: -1
    taken = cost >= 0
    while True:
        spent, before = _spend(
            g, program.reset_after_redemption, balance_at_start, points, cost, taken
        )
        short = np.flatnonzero(taken & (before < cost))
        if not len(short):
            return spent, taken
        # Only each customer's first shortfall is certain: dropping it raises what follows.
        firsts = short[np.unique(g.customer[short], return_index=True)[1]]
        taken[firsts] = False


def _spend(
    g: _Grouped,
    reset: bool,
    balance_at_start: IntArray,
    points: IntArray,
    cost: IntArray,
    taken: BoolArray,
) -> tuple[IntArray, IntArray]:
    """(what each taken redemption spends, the balance before every entry)."""
    if not reset:
        spent = np.where(taken, cost, 0)
        return spent, balance_at_start + _before(points - spent, g.first)
    # Reset mode: a redemption spends the whole balance, so the balance before an entry is
    # what was earned since the customer's last redemption (plus the card's balance at the
    # start, if none yet). A new stretch starts with each customer and after each redemption.
    stretch = g.first.copy()
    stretch[1:] |= taken[:-1]
    untouched = _before(taken.astype(np.int64), g.first) == 0
    before = np.where(untouched, balance_at_start, 0) + _before(points, stretch)
    return np.where(taken, before, 0), before


def _before(values: IntArray, first: BoolArray) -> IntArray:
    """For each entry, the sum of `values` over the earlier entries of its group (groups are
    runs that start where `first` is True)."""
    total = np.cumsum(values) - values  # over all earlier entries
    starts = np.maximum.accumulate(np.where(first, np.arange(len(values)), 0))
    return total - total[starts]


def _tier_index(mins: IntArray, lifetime: IntArray) -> IntArray:
    """core.rules.tier_for as indexes: the highest tier whose threshold is reached."""
    return np.maximum(np.searchsorted(mins, lifetime, side="right") - 1, 0)


def _per_card(customer: IntArray, values: IntArray, n: int) -> IntArray:
    """values summed per card (exact: int64 throughout)."""
    sums = np.zeros(n, dtype=np.int64)
    np.add.at(sums, customer, values)
    return sums


def _at_end(out: Outcome, balance: IntArray, lifetime: IntArray) -> Outcome:
    """`out` with the figures of the cards at the period's end."""
    tiers, rewards = out.program.tiers, out.program.rewards
    mins = np.array([t.min_points for t in tiers], dtype=np.int64)
    counts = np.bincount(_tier_index(mins, lifetime), minlength=len(tiers))
    ordered = np.sort(balance)
    out.outstanding = int(balance.sum())
    out.tiers = {tier.name: int(count) for tier, count in zip(tiers, counts, strict=True)}
    out.affordable = {
        r.id: int(len(ordered) - np.searchsorted(ordered, r.cost, side="left"))
        for r in sorted(rewards, key=lambda r: (r.cost, r.id))
    }
    return out


class _Rate(NamedTuple):
    """A tier's earning rate as an exact fraction of minor units: points = minor * num // den."""

    min_points: int
    num: int
    den: int


def _rates(program: Program, multipliers: Sequence[Decimal]) -> list[list[_Rate]]:
    """Each tier's rate under each campaign multiplier; floor(minor * num / den) ==
    points_for(minor / 100, ppu, tier multiplier x campaign multiplier) exactly, since Decimal
    arithmetic on these few digits is exact too (tested)."""
    rates = []
    for tier in program.tiers:
        row = []
        for multiplier in multipliers:
            rate = (
                Fraction(program.points_per_unit)
                * Fraction(tier.multiplier)
                * Fraction(multiplier)
                / 100
            )
            row.append(_Rate(tier.min_points, rate.numerator, rate.denominator))
        rates.append(row)
    return rates


def _ints(values: Iterable[int]) -> IntArray:
    return np.fromiter(values, dtype=np.int64)


def _money(value: Decimal) -> Decimal:
    return value.quantize(_PENNY, rounding=ROUND_HALF_UP)
