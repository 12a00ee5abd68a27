"""The Store's SQL, built once at import, and the rows it reads turned into records.

Building a statement (`update(customers).where(...).values(...)`) and computing its cache key
cost more CPU per earn than SQLite spent running it (bench/README.md), so every statement the
Store runs is built here once, with bound parameters; core/db/ledger.py and reads.py bind the
values.
Bound parameter names differ from the columns an UPDATE sets: SQLAlchemy reserves those names.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, bindparam, case, func, select, update
from sqlalchemy.engine import Row

from core.types import Customer, EarnQuote, LedgerEntry, RedeemQuote

from .tables import customers, ledger

_DECIMAL_FIELDS = ("amount", "points_per_unit", "multiplier")


def utc(value: dt.datetime) -> dt.datetime:
    """The same instant in UTC; a naive value is taken to be UTC already.

    Everything is stored in UTC and SQLite keeps only the wall-clock digits (it drops the zone),
    so `now` is converted on the way in (12:00+01:00 is stored as 11:00) and the zone is put back
    on the way out.
    """
    return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)


# --- the statements ------------------------------------------------------------------------------


# The columns a Customer record holds, and no more: the report columns (latest visits, counters)
# are not read back per earn, and each time column costs a parse on SQLite.
RECORD = [customers.c[name] for name in Customer.__annotations__]


def customer_by(column: Any) -> Select[Any]:
    return select(*RECORD).where(column == bindparam("value"))


BY_ID = customer_by(customers.c.id)
BY_CARD = customer_by(customers.c.card_number)
BY_PHONE = customer_by(customers.c.phone)
BY_TELEGRAM = customer_by(customers.c.telegram_user_id)
BY_REGISTRATION = customer_by(customers.c.registration_key)

ENTRY_BY_KEY = select(ledger).where(ledger.c.idempotency_key == bindparam("key"))
# An earn's or a redemption's first read asks both questions at once: the customer, and the id of
# the entry its key already recorded (NULL for a new confirmation). A round trip fewer per change.
CUSTOMER_UNLESS_RECORDED: Select[Any] = select(
    *RECORD,
    select(ledger.c.id)
    .where(ledger.c.idempotency_key == bindparam("key"))
    .scalar_subquery()
    .label("recorded_id"),
).where(customers.c.id == bindparam("customer_id"))
RECENT = (
    select(ledger)
    .where(ledger.c.customer_id == bindparam("customer_id"))
    .order_by(ledger.c.id.desc())  # the (customer_id, id) index, newest first
    .limit(bindparam("limit"))
)
LEDGER_SUM = select(func.coalesce(func.sum(ledger.c.points), 0)).where(
    ledger.c.customer_id == bindparam("customer_id")
)

_NOW = bindparam("now", type_=customers.c.last_visit_at.type)
_PURCHASE: Any = bindparam("purchase")  # 1 for an earn, else 0
_REDEMPTION: Any = bindparam("redemption")  # 1 for a redemption, else 0
_LAST_VISIT = customers.c.last_visit_at
_LAST_BUY = customers.c.last_purchase_at
_PREV_BUY = customers.c.prev_purchase_at


def _latest(column: Any, this_kind: Any = None) -> Any:
    """The column, moved to `now` if it is older (and this entry is of its kind): kept as the
    latest even if entries arrive out of order (two cashiers' clocks)."""
    newer = column.is_(None) | (column < _NOW)
    return case((newer if this_kind is None else (this_kind == 1) & newer, _NOW), else_=column)


# The compare-and-swap of an earn or a redemption: matches no row if the card changed since read.
SWAP = (
    update(customers)
    .where(customers.c.id == bindparam("customer_id"), customers.c.version == bindparam("seen"))
    .values(
        balance=customers.c.balance + bindparam("points"),
        version=customers.c.version + 1,
        lifetime_earned=customers.c.lifetime_earned + bindparam("earned"),
        lifetime_redeemed=customers.c.lifetime_redeemed + bindparam("redeemed"),
        tier=func.coalesce(bindparam("new_tier", type_=customers.c.tier.type), customers.c.tier),
        # A visit. Reports count active members with it.
        last_visit_at=_latest(_LAST_VISIT),
        # Running totals for all-time reports and the customers CSV (migration 0004).
        purchases=customers.c.purchases + _PURCHASE,
        spent_minor=customers.c.spent_minor + bindparam("spent"),
        redemptions=customers.c.redemptions + _REDEMPTION,
        # The two latest purchases and the latest redemption, for recent periods' reports
        # (migration 0005, core/reports/recent.py). SET sees the row as it was before.
        last_purchase_at=_latest(_LAST_BUY, _PURCHASE),
        prev_purchase_at=case(
            (_PURCHASE == 0, _PREV_BUY),
            (_LAST_BUY.is_(None), _PREV_BUY),  # the first purchase: none before it
            (_LAST_BUY <= _NOW, _LAST_BUY),  # in time order: the latest becomes the previous
            (_PREV_BUY.is_(None) | (_PREV_BUY < _NOW), _NOW),  # late, between the two
            else_=_PREV_BUY,  # late, older than both: they stay the two latest
        ),
        last_redemption_at=_latest(customers.c.last_redemption_at, _REDEMPTION),
    )
)
APPEND = ledger.insert().returning(ledger.c.id)  # values: every column but id, by name
INSERT_CUSTOMER = customers.insert().returning(customers.c.id)
UNLINK = (
    update(customers)
    .where(customers.c.telegram_user_id == bindparam("user_id"))
    .values(telegram_user_id=None)
)
LINK = (
    update(customers)
    .where(customers.c.id == bindparam("customer_id"), customers.c.telegram_user_id.is_(None))
    .values(telegram_user_id=bindparam("user_id"))
)


# --- rows to records -----------------------------------------------------------------------------


def customer_record(row: Row[Any]) -> Customer:
    m = row._mapping
    return {
        "id": m["id"],
        "card_number": m["card_number"],
        "name": m["name"],
        "phone": m["phone"],
        "email": m["email"],
        "created_at": utc(m["created_at"]),
        "balance": m["balance"],
        "lifetime_earned": m["lifetime_earned"],
        "lifetime_redeemed": m["lifetime_redeemed"],
        "tier": m["tier"],
        "telegram_user_id": m["telegram_user_id"],
        "version": m["version"],
    }


def entry_record(row: Row[Any]) -> LedgerEntry:
    m = row._mapping
    minor = m["amount_minor"]
    return {
        "id": m["id"],
        "customer_id": m["customer_id"],
        "kind": m["kind"],
        "points": m["points"],
        "amount": None if minor is None else Decimal(minor).scaleb(-2),  # 2550 -> 25.50
        "reward_id": m["reward_id"],
        "actor_id": m["actor_id"],
        "created_at": utc(m["created_at"]),
        "idempotency_key": m["idempotency_key"],
        "note": m["note"],
        "balance_after": m["balance_after"],
        "details": dict(m["details"]),
    }


def to_json(quote: EarnQuote | RedeemQuote) -> dict[str, object]:
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in quote.items()}


def from_json(details: dict[str, object]) -> dict[str, Any]:
    return {k: Decimal(str(v)) if k in _DECIMAL_FIELDS else v for k, v in details.items()}
