"""Earn lots in the database (tables `lots` and `lot_uses`; the rules are core/expiry.py).

Every ledger entry goes through Ledger._append, which calls `follow` in the same transaction:
a credit (points > 0) becomes a lot, a debit (points < 0) takes from the card's lots, oldest
first (a void or refund from its own entry's lot first), recording which. So the lots always
sum to the balance, and an expiry can only take what is left of a lot.

Cost on the hot path (issue "Scale"): an earn is one more INSERT; a redemption one indexed
read of the card's lots with something left (the partial index ix_lots_open: spent lots are
not in it) plus one UPDATE and one INSERT per lot it takes from, usually one or two.

Also here: what the daily expiry job reads (`open_lots`, `cards_with_lots_before`) and the
expire entry it writes (`expire_once`), each one unit of work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, bindparam, select, update

from core import expiry
from core.expiry import ExpiryPolicy, Lot
from core.types import Outgoing, Owed

from . import outbox
from .audit import audit
from .statements import APPEND, CORRECT, utc
from .tables import OPEN_LOTS, customers, ledger, lot_uses, lots
from .tables import audit as audit_table

# --- statements, built once (core/db/statements.py says why) ---------------------------------

NEW_LOT = lots.insert()
# `remaining > 0` written as the index's own condition, so SQLite reads ix_lots_open.
OPEN_OF = (
    select(lots.c.id, lots.c.entry_id, lots.c.points, lots.c.remaining, lots.c.earned_at)
    .where(lots.c.customer_id == bindparam("customer_id"), OPEN_LOTS)
    .order_by(lots.c.earned_at, lots.c.id)
)
TAKE = (
    update(lots)
    .where(lots.c.id == bindparam("lot_id"))
    .values(remaining=lots.c.remaining - bindparam("take"))
)
USE = lot_uses.insert()
CARDS_BEFORE = (
    select(lots.c.customer_id)
    .where(OPEN_LOTS, lots.c.earned_at < bindparam("before", type_=lots.c.earned_at.type))
    .distinct()
    .order_by(lots.c.customer_id)
)
REMINDED = (
    select(audit_table.c.details)
    .where(
        audit_table.c.customer_id == bindparam("customer_id"),
        audit_table.c.at >= bindparam("since", type_=audit_table.c.at.type),
        audit_table.c.action == "expiry_reminder",
    )
    .order_by(audit_table.c.at.desc())
)
IDLE_CARDS_BEFORE = (
    select(lots.c.customer_id)
    .join(customers, customers.c.id == lots.c.customer_id)
    .where(
        OPEN_LOTS,
        lots.c.earned_at < bindparam("before", type_=lots.c.earned_at.type),
        customers.c.last_purchase_at.is_(None)
        | (customers.c.last_purchase_at < bindparam("before", type_=lots.c.earned_at.type)),
    )
    .distinct()
    .order_by(lots.c.customer_id)
)
RECORDED = select(ledger.c.id).where(ledger.c.idempotency_key == bindparam("key"))
CARD = select(
    customers.c.id,
    customers.c.version,
    customers.c.balance,
    customers.c.tier,
    customers.c.card_number,
    customers.c.telegram_user_id,
    customers.c.last_purchase_at,
).where(customers.c.id == bindparam("customer_id"))


def _lot(row: Any) -> Lot:
    return {
        "id": row.id,
        "entry_id": row.entry_id,
        "points": row.points,
        "remaining": row.remaining,
        "earned_at": utc(row.earned_at),
    }


def open_lots(conn: Connection, customer_id: int) -> list[Lot]:
    """The card's lots with something left, oldest first."""
    return [_lot(r) for r in conn.execute(OPEN_OF, {"customer_id": customer_id})]


def follow(
    conn: Connection,
    *,
    customer_id: int,
    entry_id: int,
    points: int,
    own_entry: int | None,
    now: dt.datetime,
) -> None:
    """Keeps the lots in step with an entry just appended: a credit makes a lot, a debit takes
    from the lots (`own_entry`'s first: the credit a void or refund reverses)."""
    if points > 0:
        conn.execute(
            NEW_LOT,
            {
                "customer_id": customer_id,
                "entry_id": entry_id,
                "points": points,
                "remaining": points,
                "earned_at": utc(now),
            },
        )
    elif points < 0:
        taken = expiry.consume(open_lots(conn, customer_id), -points, own_entry=own_entry)
        conn.execute(TAKE, [{"lot_id": lot_id, "take": take} for lot_id, take in taken])
        conn.execute(
            USE,
            [{"entry_id": entry_id, "lot_id": lot_id, "points": take} for lot_id, take in taken],
        )


# --- the daily expiry job (bot/expiry.py) ----------------------------------------------------


def cards_with_lots_before(conn: Connection, before: dt.datetime, idle: bool = False) -> list[int]:
    """Cards holding a lot earned before `before` with something left: the only ones that can
    have points to expire (core/expiry.scan_before). With `idle` (the inactivity policy), only
    those whose last purchase was before it too: a lot's expiry counts from the later of the
    two, so every other card is kept by its recent purchase."""
    query = IDLE_CARDS_BEFORE if idle else CARDS_BEFORE
    return [int(r[0]) for r in conn.execute(query, {"before": utc(before)})]


def card(conn: Connection, customer_id: int) -> Any:
    return conn.execute(CARD, {"customer_id": customer_id}).one()


def expire_key(customer_id: int, day: dt.date) -> str:
    """An expire entry's idempotency key: the card and the last day it is for."""
    return f"expire:{customer_id}:{day.isoformat()}"


def expire_once(
    conn: Connection,
    customer_id: int,
    policy: ExpiryPolicy,
    *,
    tz: ZoneInfo,
    since: dt.datetime | None,
    now: dt.datetime,
) -> list[tuple[dt.date, int]] | None:
    """Writes an expire entry for each last day that has passed with points still on the card,
    oldest first; returns (day, points) written. None when another writer changed the card
    first (the caller runs it again). Nothing is due twice: an entry takes its lots' points."""
    row = card(conn, customer_id)
    held = open_lots(conn, customer_id)
    last_purchase = None if row.last_purchase_at is None else utc(row.last_purchase_at)
    written: list[tuple[dt.date, int]] = []
    version, balance = row.version, row.balance
    for day, points in expiry.due(
        policy, held, now, tz=tz, last_purchase_at=last_purchase, since=since
    ):
        # What stops a second expiry of the same points is the lots themselves (spent lots
        # are not due) and the compare-and-swap (two runs at once: one wins, the other reads
        # again). The key names the day; points due for a day already written (an entry
        # stamped a little in the past by a till's clock) get the next key rather than being
        # stuck on the card.
        key = expire_key(customer_id, day)
        again = 1
        while conn.execute(RECORDED, {"key": key}).first() is not None:
            again += 1
            key = f"{expire_key(customer_id, day)}:{again}"
        swapped = conn.execute(
            CORRECT,
            {
                "customer_id": customer_id,
                "seen": version,
                "points": -points,
                "owed_change": 0,
                "earned": 0,
                "redeemed": points,  # like spending: balance == earned - redeemed still holds
                "new_tier": row.tier,  # the tier is lifetime earned: expiry never lowers it
                "purchase": 0,
                "spent": 0,
                "redemption": 0,
            },
        )
        if swapped.rowcount != 1:
            return None
        version += 1
        balance -= points
        entry_id = int(
            conn.execute(
                APPEND,
                {
                    "customer_id": customer_id,
                    "kind": "expire",
                    "points": -points,
                    "amount_minor": None,
                    "reward_id": None,
                    "code": None,
                    "actor_id": None,
                    "created_at": utc(now),
                    "idempotency_key": key,
                    "note": None,
                    "balance_after": balance,
                    "details": {
                        "day": day.isoformat(),
                        "policy": policy.fingerprint(),
                        "card_number": row.card_number,
                    },
                    "new_tier": None,
                    "reverses_id": None,
                },
            ).scalar_one()
        )
        # The expired lots are the oldest with something left (core/expiry.last_day is
        # monotone in the earned time), so the oldest-first rule takes exactly them.
        follow(
            conn,
            customer_id=customer_id,
            entry_id=entry_id,
            points=-points,
            own_entry=None,
            now=now,
        )
        audit(
            conn,
            actor_id=None,
            action="expire",
            customer_id=customer_id,
            entry_id=entry_id,
            details={"day": day.isoformat(), "points": points},
            now=now,
        )
        written.append((day, points))
    return written


def remind_once(
    conn: Connection,
    customer_id: int,
    policy: ExpiryPolicy,
    *,
    tz: ZoneInfo,
    since: dt.datetime | None,
    now: dt.datetime,
    due_at: dt.datetime,
    text: Callable[[int, str, dt.date, int], str],
) -> list[Owed]:
    """Queues the customer's reminder of their soonest expiry within remind_days, once per card
    and last day: the audit trail keeps that it was sent (the outbox forgets after 7 days),
    which also answers "nobody told me". Only to a card linked to a Telegram account.
    `text(chat_id, card_number, day, points)` writes it (in the language of `chat_id`)."""
    row = card(conn, customer_id)
    if row.telegram_user_id is None or policy.remind_days <= 0:
        return []
    last_purchase = None if row.last_purchase_at is None else utc(row.last_purchase_at)
    soonest = expiry.upcoming(
        policy,
        open_lots(conn, customer_id),
        now,
        tz=tz,
        within_days=policy.remind_days,
        last_purchase_at=last_purchase,
        since=since,
    )
    if soonest is None:
        return []
    day, points = soonest
    window = utc(now) - dt.timedelta(days=policy.remind_days + 2)
    for (details,) in conn.execute(REMINDED, {"customer_id": customer_id, "since": window}):
        if isinstance(details, dict) and details.get("day") == day.isoformat():
            return []  # told already
    audit(
        conn,
        actor_id=None,
        action="expiry_reminder",
        customer_id=customer_id,
        details={"day": day.isoformat(), "points": points},
        now=now,
    )
    message: Outgoing = {
        "chat_id": int(row.telegram_user_id),
        "text": text(int(row.telegram_user_id), row.card_number, day, points),
        "notice": True,  # /notifications off: not sent (core/db/outbox.py)
    }
    return outbox.enqueue(
        conn, f"remind:{customer_id}:{day.isoformat()}", [message], now=now, due_at=due_at
    )
