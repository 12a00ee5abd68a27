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

from sqlalchemy import Select, bindparam, case, exists, func, literal_column, select, update
from sqlalchemy.engine import Row

from core.types import CorrectionQuote, Customer, EarnQuote, LedgerEntry, RedeemQuote

from .tables import REVERSES, customers, ledger

_DECIMAL_FIELDS = (
    "amount",
    "points_per_unit",
    "multiplier",
    "campaign_multiplier",
    "refunded_before",
    "refunded_after",
    "bill",  # a money-off redemption's bill and discount (core/money_off.py)
    "discount",
)


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
# Birthdays (migration 0009): read and set apart from the Customer record, which earns read.
BIRTHDAY_OF = select(customers.c.birthday).where(customers.c.id == bindparam("customer_id"))
SET_BIRTHDAY = (
    update(customers)
    .where(customers.c.id == bindparam("customer_id"))
    .values(birthday=bindparam("birthday", type_=customers.c.birthday.type))
)
WITH_BIRTHDAYS = select(customers.c.id, customers.c.birthday).where(
    customers.c.birthday.is_not(None)
)
PURCHASES = select(customers.c.purchases).where(customers.c.id == bindparam("customer_id"))
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
        # Points owed are paid first from an earn (0 for a redemption, or when nothing is owed).
        points_owed=customers.c.points_owed - bindparam("owed_paid"),
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

# --- corrections (core/corrections.py) -----------------------------------------------------------

ENTRY_BY_ID = select(ledger).where(ledger.c.id == bindparam("entry_id"))
# The voids and refunds recorded against an entry, oldest first (ix_ledger_reverses_id).
CORRECTIONS_OF = (
    select(ledger)
    .where(ledger.c.reverses_id == bindparam("entry_id"), REVERSES)
    .order_by(ledger.c.id)
)
CORRECTIONS_OF_ANY = (
    select(ledger)
    .where(ledger.c.reverses_id.in_(bindparam("entry_ids", expanding=True)), REVERSES)
    .order_by(ledger.c.id)
)


def voided(entry: Any) -> Any:
    """Whether a void reverses `entry` (a ledger table or alias): one step into the unique
    partial index uq_ledger_reverses_id_void. `kind = 'void'` is written out, not bound, so
    that SQLite sees the index's own condition and uses it."""
    void = ledger.alias("void")
    return exists().where(void.c.reverses_id == entry.c.id, void.c.kind == literal_column("'void'"))


def standing(entry: Any) -> Any:
    """The entry has not been voided: a purchase or redemption that still counts."""
    return ~voided(entry)


# A card's recent purchases and redemptions that still have something to correct: not voided,
# and for a purchase, not refunded in full. Newest first, through the (customer_id, id) index.
_refund = ledger.alias("refund")
_REFUNDED = (
    select(func.coalesce(func.sum(_refund.c.amount_minor), 0))
    .where(
        _refund.c.reverses_id == ledger.c.id,
        _refund.c.reverses_id.is_not(None),  # the partial index ix_ledger_reverses_id
        _refund.c.kind == literal_column("'refund'"),
    )
    .scalar_subquery()
)
CORRECTABLE = (
    select(ledger)
    .where(
        ledger.c.customer_id == bindparam("customer_id"),
        ledger.c.kind.in_(("earn", "redeem")),
        standing(ledger),
        (ledger.c.kind == "redeem") | (ledger.c.amount_minor > _REFUNDED),
    )
    .order_by(ledger.c.id.desc())
    .limit(bindparam("limit"))
)

# The compare-and-swap of a correction: the balance and what is owed, the lifetime totals and
# tier, and the report counters (a voided purchase is no longer a purchase; a refund lowers
# what was spent). Matches no row if the card changed since it was read.
CORRECT = (
    update(customers)
    .where(customers.c.id == bindparam("customer_id"), customers.c.version == bindparam("seen"))
    .values(
        balance=customers.c.balance + bindparam("points"),
        points_owed=customers.c.points_owed + bindparam("owed_change"),
        version=customers.c.version + 1,
        lifetime_earned=customers.c.lifetime_earned + bindparam("earned"),
        lifetime_redeemed=customers.c.lifetime_redeemed + bindparam("redeemed"),
        tier=bindparam("new_tier", type_=customers.c.tier.type),
        purchases=customers.c.purchases + bindparam("purchase"),
        spent_minor=customers.c.spent_minor + bindparam("spent"),
        redemptions=customers.c.redemptions + bindparam("redemption"),
    )
)


def _latest_standing(kinds: tuple[str, ...], offset: int = 0) -> Any:
    """The time of the customer's latest (or, offset 1, second latest) entry of `kinds` that
    no void reversed: read from their own entries, through the (customer_id, id) index."""
    entry = ledger.alias("entry")
    return (
        select(entry.c.created_at)
        .where(
            entry.c.customer_id == bindparam("customer_id"),
            entry.c.kind.in_(kinds),
            standing(entry),
        )
        .order_by(entry.c.created_at.desc())
        .limit(1)
        .offset(offset)
        .scalar_subquery()
    )


# After a void of a purchase or a redemption: the customer's latest visit, two latest purchases
# and latest redemption, as their entries that still stand say (docs/database.md).
REVISIT = (
    update(customers)
    .where(customers.c.id == bindparam("customer_id"))
    .values(
        last_visit_at=_latest_standing(("earn", "redeem")),
        last_purchase_at=_latest_standing(("earn",)),
        prev_purchase_at=_latest_standing(("earn",), 1),
        last_redemption_at=_latest_standing(("redeem",)),
    )
)
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
        # A forgotten customer's column holds a placeholder, never a number (core/db/privacy.py).
        "phone": m["phone"] if m["phone"] and m["phone"].startswith("+") else None,
        "email": m["email"],
        "created_at": utc(m["created_at"]),
        "balance": m["balance"],
        "lifetime_earned": m["lifetime_earned"],
        "lifetime_redeemed": m["lifetime_redeemed"],
        "tier": m["tier"],
        "telegram_user_id": m["telegram_user_id"],
        "version": m["version"],
        "points_owed": m["points_owed"],
        "pinned_tier": m["pinned_tier"],
        "pinned_reason": m["pinned_reason"],
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
        "reverses_id": m["reverses_id"],
    }


def to_json(quote: EarnQuote | RedeemQuote | CorrectionQuote) -> dict[str, object]:
    return {k: _json(v) for k, v in quote.items()}


def _json(value: object) -> object:
    """Decimals as exact strings, inside lists and dicts too (an earn's campaigns)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    return value


def from_json(details: dict[str, object]) -> dict[str, Any]:
    return {
        k: Decimal(str(v)) if k in _DECIMAL_FIELDS and v is not None else v
        for k, v in details.items()
    }
