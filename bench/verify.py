"""Checks a generated database against the engine's invariants (the generator's own audit).

The generator writes rows in bulk, bypassing the Store, so it must prove it wrote what the Store
would have: every balance equals the sum of its ledger, lifetime totals, versions and the last
visit match the entries, tiers are core.rules.tier_for of lifetime points, card numbers check
out, phone numbers are what core.contact.normalize_phone returns, and a sample of entries holds
exactly the JSON the engine writes with the points core.rules computes.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

from core import rules
from core.cards import is_valid_card
from core.contact import normalize_phone
from core.db.health import LOTS_OFF, USES_OFF  # the same SQL `loyalty-bot db check` runs
from core.errors import InvalidContact
from core.types import Customer, Program

SAMPLE = 2000


def verify(path: Path, program: Program) -> list[str]:
    """Every broken invariant found, as a sentence (an empty list when the data is sound)."""
    conn = sqlite3.connect(path)
    try:
        return [
            *_totals(conn),
            *_lots(conn),
            *_tiers(conn, program),
            *_contacts(conn),
            *_entries(conn, program),
        ]
    finally:
        conn.close()


def _totals(conn: sqlite3.Connection) -> list[str]:
    # One pass over the ledger in rowid order, grouped by a temporary b-tree: no random reads.
    bad = conn.execute(
        """
        WITH sums AS (
            SELECT customer_id,
                   SUM(points) AS balance,
                   -- core.rules.lifetime_change: voids and refunds move what they reverse back
                   SUM(CASE WHEN kind IN ('void', 'refund') THEN MIN(points, 0)
                            WHEN points > 0 THEN points ELSE 0 END) AS earned,
                   SUM(CASE WHEN kind IN ('void', 'refund') THEN -MAX(points, 0)
                            WHEN points < 0 THEN -points ELSE 0 END) AS redeemed,
                   COUNT(*) AS entries,
                   MAX(CASE WHEN kind IN ('earn', 'redeem') THEN created_at END) AS last_visit,
                   MAX(CASE WHEN kind = 'earn' THEN created_at END) AS last_purchase,
                   MAX(CASE WHEN kind = 'redeem' THEN created_at END) AS last_redemption,
                   SUM(CASE WHEN kind = 'earn' THEN 1 ELSE 0 END) AS purchases,
                   SUM(CASE WHEN kind = 'earn' THEN amount_minor ELSE 0 END) AS spent,
                   SUM(CASE WHEN kind = 'redeem' THEN 1 ELSE 0 END) AS redemptions
            FROM ledger NOT INDEXED GROUP BY customer_id
        )
        SELECT COUNT(*) FROM customers c LEFT JOIN sums s ON s.customer_id = c.id
        WHERE c.balance != COALESCE(s.balance, 0)
           OR c.lifetime_earned != COALESCE(s.earned, 0)
           OR c.lifetime_redeemed != COALESCE(s.redeemed, 0)
           OR c.version != COALESCE(s.entries, 0)
           OR c.last_visit_at IS NOT s.last_visit
           OR c.last_purchase_at IS NOT s.last_purchase
           OR c.last_redemption_at IS NOT s.last_redemption
           OR c.purchases != COALESCE(s.purchases, 0)
           OR c.spent_minor != COALESCE(s.spent, 0)
           OR c.redemptions != COALESCE(s.redemptions, 0)
           OR c.points_owed != 0
        """
    ).fetchone()[0]
    # The schema's CHECK constraints, which the generator switched off while loading.
    negative = conn.execute(
        "SELECT (SELECT COUNT(*) FROM ledger WHERE balance_after < 0"
        "        OR kind NOT IN ('signup_bonus', 'earn', 'redeem', 'adjust', 'void', 'refund'))"
        "     + (SELECT COUNT(*) FROM customers WHERE balance < 0)"
    ).fetchone()[0]
    problems = []
    if bad:
        problems.append(
            f"{bad} customers' balance/lifetime/version/visits/counters differ from their ledger"
        )
    # The purchase before the latest, for a sample (ranking every purchase would sort them all).
    previous = conn.execute(
        "SELECT COUNT(*) FROM (SELECT id, prev_purchase_at FROM customers"
        "                      ORDER BY random() LIMIT ?) c"
        " WHERE c.prev_purchase_at IS NOT (SELECT created_at FROM ledger"
        "     WHERE customer_id = c.id AND kind = 'earn'"
        "     ORDER BY created_at DESC LIMIT 1 OFFSET 1)",
        (SAMPLE,),
    ).fetchone()[0]
    if previous:
        problems.append(f"{previous} sampled customers' previous purchase differs from the ledger")
    if negative:
        problems.append(f"{negative} rows break a CHECK constraint (negative balance, odd kind)")
    return problems


def _lots(conn: sqlite3.Connection) -> list[str]:
    """Expiry's lots (migration 0008): each card's hold its balance, each debit took its points."""
    off = conn.execute(LOTS_OFF).fetchall()
    unmatched = conn.execute(USES_OFF).fetchone()[0]
    problems = [f"{len(off)} cards' lots don't hold their balance"] if off else []
    if unmatched:
        problems.append(f"{unmatched} debits don't say which lots they took")
    return problems


def _tiers(conn: sqlite3.Connection, program: Program) -> list[str]:
    problems = []
    # Everyone above the first tier got there through an entry that says so (ledger.new_tier).
    promoted = conn.execute(
        "SELECT (SELECT COUNT(*) FROM customers WHERE tier != ?),"
        "       (SELECT COUNT(DISTINCT customer_id) FROM ledger WHERE new_tier IS NOT NULL)",
        (program.tiers[0].name,),
    ).fetchone()
    if promoted[0] != promoted[1]:
        problems.append(f"{promoted[0]} customers above the first tier, {promoted[1]} promoted")
    rows = conn.execute(
        "SELECT tier, MIN(lifetime_earned), MAX(lifetime_earned) FROM customers GROUP BY tier"
    )
    for tier, low, high in rows:
        if {rules.tier_for(low, program.tiers).name, rules.tier_for(high, program.tiers).name} != {
            tier
        }:
            problems.append(f"tier {tier} holds lifetime points {low}..{high}")
    return problems


def _contacts(conn: sqlite3.Connection) -> list[str]:
    problems = []
    rows = conn.execute(
        "SELECT card_number, phone FROM customers ORDER BY random() LIMIT ?", (SAMPLE,)
    ).fetchall()
    for card, phone in rows:
        if not is_valid_card(card):
            problems.append(f"card {card} fails its check digit")
        try:
            normal = normalize_phone(phone, "GB")
        except InvalidContact:
            normal = None
        if normal != phone:
            problems.append("a phone number is not in normalize_phone's E.164 form")
    return problems[:5]


def _entries(conn: sqlite3.Connection, program: Program) -> list[str]:
    """A sample of entries, each re-derived with core.rules and compared key by key."""
    rich: Customer = {
        "id": 0, "card_number": "", "name": "", "phone": "", "email": None,
        "created_at": dt.datetime.now(dt.UTC), "balance": 10**9, "lifetime_earned": 0,
        "lifetime_redeemed": 0, "tier": "", "telegram_user_id": None, "version": 0,
    }  # fmt: skip
    # The key order Store._apply writes: the quote's own, then card_number (and code).
    earn_keys = [*rules.quote_earn(rich, Decimal(1), program), "card_number"]
    redeem_keys = [*rules.quote_redeem(rich, program.rewards[0], program), "card_number", "code"]
    problems = []
    for kind, points, minor, reward_id, code, after, text, card, moved in _sample_entries(conn):
        details = json.loads(text)
        if json.dumps(details) != text:
            problems.append(f"details not in json.dumps form: {text}")
        if details.get("card_number") != card or details.get("balance_after") != after:
            problems.append(f"details disagree with their row: {text}")
        if kind == "earn":
            amount = rules.validate_amount(Decimal(minor) / 100, program)  # as quote_earn does
            wanted = rules.points_for(
                amount, Decimal(details["points_per_unit"]), Decimal(details["multiplier"])
            )
            changed = (
                details["tier_after"] if details["tier_after"] != details["tier_before"] else None
            )
            if list(details) != earn_keys or points != wanted or details["amount"] != str(amount):
                problems.append(f"earn entry differs from the engine's: {text}")
            if moved != changed:
                problems.append(f"new_tier is {moved!r} for an entry that moved to {changed!r}")
        else:
            cost = rules.find_reward(reward_id, program).cost
            if (
                list(details) != redeem_keys
                or details["code"] != code
                or details["cost"] != cost
                or (moved is not None)
            ):
                problems.append(f"redeem entry differs from the engine's: {text}")
    return problems[:5]


def _sample_entries(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    top = conn.execute("SELECT MAX(id) FROM ledger").fetchone()[0] or 0
    ids = random.Random(top).sample(range(1, top + 1), min(SAMPLE, top))
    return conn.execute(
        "SELECT kind, points, amount_minor, reward_id, code, balance_after, details, c.card_number,"
        " new_tier "
        "FROM ledger JOIN customers c ON c.id = ledger.customer_id "
        "WHERE ledger.id IN (SELECT value FROM json_each(?))",
        (json.dumps(ids),),
    ).fetchall()
