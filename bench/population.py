"""A realistic shop's customers and ledger, as rows ready for bulk INSERTs (no database here).

The shape, and why:
- customers sign up over two years, more of them recently (a growing shop): signup time has a
  density rising linearly towards `now`; ids follow signup order, as they would in real life;
- activity is skewed: a customer's number of visits is Poisson around (lognormal taste x time
  since signup), scaled to ~10 entries per customer on average, so a few regulars have hundreds
  of entries and many people came once or never;
- ledger rows come out in time order (ids follow created_at, as in the real ledger), replaying
  each customer's history: earns at their tier's multiplier, redemptions of their favourite real
  reward once the balance allows (about one chance in three per visit), never a negative balance;
- each row holds what Store._apply writes: the quote as JSON with Decimals as strings plus the
  card number (and the code for a redemption), and a 16-hex-digit idempotency key like the bot's.
Points use the engine's rounding (floor) in exact integer arithmetic rather than Decimal per row,
which is what makes 10 million rows cheap; bench/verify.py re-checks a sample with core.rules.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from core.cards import card_from_payload
from core.rules import _CODE_ALPHABET  # the same letters as real codes: no 0/O or 1/I
from core.search import search_key
from core.types import Program

ENTRIES_PER_CUSTOMER = 10
HISTORY_DAYS = 730
REDEEM_CHANCE = 0.35  # per visit, when the balance affords a reward
EMAIL_SHARE = 0.6
TELEGRAM_SHARE = 0.4
STAFF = (9000001, 9000002, 9000003, 9000004, 9000005, 9000006, 9000007, 9000008)
_US = 1_000_000

FIRST = (
    "Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Freya Ella Emily "
    "Noah Muhammad George Oliver Leo Arthur Oscar Harry Archie Jack Henry Charlie Theo "
    "Alfie Thomas Jacob Priya Aisha Zofia Mateusz Chloe Daniel Sam Ruth Peter Ewa"
).split()
LAST = (
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Robinson Wright Thompson "
    "Evans Walker White Roberts Green Hall Wood Jackson Clarke Khan Nowak Kowalski Lewis "
    "Harris Martin Cooper King Lee Baker Hill Ward Scott Young Allen Morris Hughes"
).split()

Int64Array = npt.NDArray[np.int64]
LEDGER_COLUMNS = (
    "id", "customer_id", "kind", "points", "amount_minor", "reward_id", "code",
    "balance_after", "note", "details", "new_tier", "actor_id", "created_at", "idempotency_key",
    "reverses_id",
)  # fmt: skip
CUSTOMER_COLUMNS = (
    "id", "card_number", "name", "phone", "email", "created_at", "balance", "lifetime_earned",
    "lifetime_redeemed", "tier", "telegram_user_id", "version", "registration_key", "last_visit_at",
    "purchases", "spent_minor", "redemptions", "last_purchase_at", "prev_purchase_at",
    "last_redemption_at", "points_owed", "search_key", "birthday", "referral_code",
    "pinned_tier", "pinned_reason", "notify", "forgotten_at",
)  # fmt: skip


def scramble(index: int, modulus: int, multiplier: int, salt: int) -> int:
    """A bijection of range(modulus) (multiplier coprime to modulus): unique, random-looking."""
    return (index * multiplier + salt) % modulus


def hex_keys(ids: npt.NDArray[np.uint64], salt: int) -> list[str]:
    """Unique, random-looking 16-hex-digit keys, the shape of the bot's secrets.token_hex(8).

    splitmix64's mixer: every step (add, multiply by an odd number, xor-shift) is a bijection
    of 64-bit integers, so distinct ids always give distinct keys.
    """
    x = (ids + np.uint64(salt)) * np.uint64(0x9E3779B97F4A7C15)  # uint64 arithmetic wraps
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    text = x.astype(">u8").tobytes().hex()
    return [text[i : i + 16] for i in range(0, len(text), 16)]


def timestamps(micros: Int64Array) -> list[str]:
    """UTC microseconds since the epoch -> '2025-03-04 05:06:07.123456', as SQLAlchemy stores."""
    text = np.datetime_as_string(micros.astype("datetime64[us]"), unit="us")
    return [s.replace("T", " ") for s in text.tolist()]


@dataclass(frozen=True)
class Plan:
    """Who signed up when, how often they come back, and when each ledger entry happens."""

    now: dt.datetime
    created_us: Int64Array  # per customer, ascending (customer id = index + 1)
    entry_customer: Int64Array  # per entry, in time order: the customer's index
    entry_us: Int64Array  # per entry, ascending

    @property
    def customers(self) -> int:
        return len(self.created_us)

    @property
    def entries(self) -> int:
        return len(self.entry_us)


def plan(customers: int, now: dt.datetime, rng: np.random.Generator) -> Plan:
    """Draws signup times, visit counts and visit times for `customers` people."""
    end = int(now.timestamp() * _US)
    span = HISTORY_DAYS * 86_400 * _US
    created = np.sort(end - span + (span * np.sqrt(rng.random(customers))).astype(np.int64))
    tenure = (end - created) / span
    taste = rng.lognormal(0.0, 1.1, customers) * tenure
    visits = rng.poisson(taste * (ENTRIES_PER_CUSTOMER * customers / taste.sum()))
    who = np.repeat(np.arange(customers, dtype=np.int64), visits)
    when = created[who] + (rng.random(len(who)) * (end - created[who])).astype(np.int64)
    order = np.argsort(when, kind="stable")
    return Plan(now=now, created_us=created, entry_customer=who[order], entry_us=when[order])


class Ledger:
    """Replays the plan through the program's rules, keeping each customer's running state.

    Each customer saves for one favourite reward (most for the cheapest, a few for the dearest)
    and, once they can afford it, redeems it on a visit with probability REDEEM_CHANCE.
    """

    def __init__(self, program: Program, cards: list[str], rng: np.random.Generator) -> None:
        self.program = program
        self.cards = cards
        self.rng = rng
        n = len(cards)
        self.balance = [0] * n
        self.earned = [0] * n
        self.redeemed = [0] * n
        self.visits = [0] * n
        self.redemptions = [0] * n  # purchases are visits - redemptions
        self.spent = [0] * n  # pence, over every purchase
        self.last_visit: list[str | None] = [None] * n  # every entry here is a visit (earn/redeem)
        # The entries come in time order, so the latest so far is the latest (migration 0005).
        self.last_purchase: list[str | None] = [None] * n
        self.prev_purchase: list[str | None] = [None] * n
        self.last_redemption: list[str | None] = [None] * n
        self.tier = [0] * n  # index into program.tiers; lifetime points only grow
        self.rewards = sorted(program.rewards, key=lambda r: (r.cost, r.id))
        liking = 0.4 ** np.arange(len(self.rewards))
        self.goal = rng.choice(len(self.rewards), n, p=liking / liking.sum()).tolist()
        self.goal_cost = [self.rewards[g].cost for g in self.goal]
        q = json.dumps
        self.earn_head = (
            f'{{"amount": "%d.%02d", "currency": {q(program.currency)}, '
            f'"points_per_unit": {q(str(program.points_per_unit))}, "base_points": %d, '
        )
        self.tier_json = [(q(t.name), q(str(t.multiplier))) for t in program.tiers]
        self.reward_json = [(q(r.id), q(r.name)) for r in self.rewards]

    def rows(self, p: Plan, chunk: int = 100_000) -> Iterator[list[tuple[Any, ...]]]:
        """Ledger rows in LEDGER_COLUMNS order and in time order, `chunk` at a time.

        Replays once: the running balances it leaves are what customer_rows() writes.
        """
        # points = floor(amount x points_per_unit x multiplier) with the amount in pence, done
        # in exact integers: the engine's rounding rule without a Decimal per row.
        base = Fraction(self.program.points_per_unit) / 100
        rates = [Fraction(self.program.points_per_unit * t.multiplier) / 100 for t in
                 self.program.tiers]  # fmt: skip
        thresholds = [t.min_points for t in self.program.tiers[1:]] + [-1]
        # Local names for the hot loop below (ten million turns: attribute lookups add up).
        balance, earned, tier, visits = self.balance, self.earned, self.tier, self.visits
        last_visit, goal_cost, cards = self.last_visit, self.goal_cost, self.cards
        spent = self.spent
        last_buy, prev_buy = self.last_purchase, self.prev_purchase
        tier_json, head = self.tier_json, self.earn_head
        tier_names = [t.name for t in self.program.tiers]
        max_minor = int(self.program.max_purchase * 100)
        for start in range(0, p.entries, chunk):
            who = p.entry_customer[start : start + chunk].tolist()
            n = len(who)
            when = timestamps(p.entry_us[start : start + chunk])
            keys = hex_keys(np.arange(start + 1, start + n + 1, dtype=np.uint64), 0x5EED)
            pence = np.clip(np.rint(self.rng.lognormal(np.log(1200), 0.8, n)), 50, max_minor)
            amounts = pence.astype(np.int64).tolist()
            dice = self.rng.random(n).tolist()
            actors = self.rng.choice(STAFF, n).tolist()
            codes = self.rng.integers(0, len(_CODE_ALPHABET) ** 6, n).tolist()
            out: list[tuple[Any, ...]] = []
            for j in range(n):
                c = who[j]
                before = balance[c]
                visits[c] += 1
                last_visit[c] = when[j]
                if before >= goal_cost[c] and dice[j] < REDEEM_CHANCE:
                    body = self._redeem(c, codes[j])
                    self.last_redemption[c] = when[j]
                else:
                    prev_buy[c], last_buy[c] = last_buy[c], when[j]
                    minor, was = amounts[j], tier[c]
                    rate, t = rates[was], was
                    spent[c] += minor
                    points = minor * rate.numerator // rate.denominator
                    balance[c] = after = before + points
                    earned[c] = lifetime = earned[c] + points
                    while lifetime >= thresholds[t] >= 0:
                        t += 1
                    tier[c] = t
                    plain = minor * base.numerator // base.denominator  # base_points
                    details = (
                        head
                        % (minor // 100, minor % 100, plain)
                        + f'"multiplier": {tier_json[was][1]}, '
                        f'"points": {points}, "balance_before": {before}, '
                        f'"balance_after": {after}, "tier_before": {tier_json[was][0]}, '
                        f'"tier_after": {tier_json[t][0]}, "card_number": "{cards[c]}"}}'
                    )
                    moved = tier_names[t] if t != was else None  # new_tier: only on a change
                    body = ("earn", points, minor, None, None, after, None, details, moved)
                # No corrections: every entry reverses nothing (reverses_id NULL).
                out.append((start + j + 1, c + 1, *body, actors[j], when[j], keys[j], None))
            yield out

    def _redeem(self, c: int, code_number: int) -> tuple[Any, ...]:
        """A redemption of customer c's favourite reward (about one visit in ten)."""
        reward = self.rewards[self.goal[c]]
        reward_id, reward_name = self.reward_json[self.goal[c]]
        before = self.balance[c]
        spent = before if self.program.reset_after_redemption else reward.cost
        self.balance[c] = after = before - spent
        self.redeemed[c] += spent
        self.redemptions[c] += 1
        letters = []
        for _ in range(6):
            code_number, i = divmod(code_number, len(_CODE_ALPHABET))
            letters.append(_CODE_ALPHABET[i])
        code = "".join(letters[:3]) + "-" + "".join(letters[3:])  # core.rules' shape: K7M-3QD
        details = (
            f'{{"reward_id": {reward_id}, "reward_name": {reward_name}, "cost": {reward.cost}, '
            f'"points": {spent}, "balance_before": {before}, "balance_after": {after}, '
            f'"card_number": "{self.cards[c]}", "code": "{code}"}}'
        )
        return ("redeem", -spent, None, reward.id, code, after, None, details, None)


def customer_rows(p: Plan, ledger: Ledger, rng: np.random.Generator) -> list[tuple[Any, ...]]:
    """Every customers column, id first, with the balances the replayed ledger left."""
    created = timestamps(p.created_us)
    first = rng.integers(0, len(FIRST), p.customers).tolist()
    last = rng.integers(0, len(LAST), p.customers).tolist()
    email = (rng.random(p.customers) < EMAIL_SHARE).tolist()
    linked = (rng.random(p.customers) < TELEGRAM_SHARE).tolist()
    tiers = [t.name for t in ledger.program.tiers]
    keys = hex_keys(np.arange(p.customers, dtype=np.uint64), 0xC0FFEE)
    rows: list[tuple[Any, ...]] = []
    for i in range(p.customers):
        name = f"{FIRST[first[i]]} {LAST[last[i]]}"
        mail = f"{FIRST[first[i]].lower()}.{LAST[last[i]].lower()}{i}@example.com"
        rows.append(
            (
                i + 1,
                ledger.cards[i],
                name,
                phone_for(i),
                mail if email[i] else None,
                created[i],
                ledger.balance[i],
                ledger.earned[i],
                ledger.redeemed[i],
                tiers[ledger.tier[i]],
                scramble(i, 10**9, 747_474_747, 1_000_000_007) + 10**9 if linked[i] else None,
                ledger.visits[i],  # version: one bump per balance change
                keys[i],
                ledger.last_visit[i],
                ledger.visits[i] - ledger.redemptions[i],  # purchases: every other visit earns
                ledger.spent[i],
                ledger.redemptions[i],
                ledger.last_purchase[i],
                ledger.prev_purchase[i],
                ledger.last_redemption[i],
                0,  # points_owed: nothing was ever reversed
                search_key(name, mail if email[i] else None),  # /find (migration 0012)
                None,  # birthday: none given (0009)
                None,  # referral_code: drawn at a first /invite, which nobody sent (0009)
                None,  # pinned_tier: the policy decides (0010)
                None,  # pinned_reason
                1,  # notify: notices on, the default (0011)
                None,  # forgotten_at: nobody asked to be forgotten (0011)
            )
        )
    return rows


def card_for(index: int) -> str:
    """Customer `index`'s card: unique 7-digit payloads in a scrambled order, Damm-checked."""
    return card_from_payload(scramble(index, 10**7, 3_141_593, 2_718_281))


def phone_for(index: int) -> str:
    """A unique UK mobile number, +44 74xx xxxxxx (all valid to libphonenumber; checked)."""
    return f"+4474{scramble(index, 10**8, 16_180_339, 31_415_926):08d}"
