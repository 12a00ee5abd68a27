"""lots: points expiry per earn lot, oldest first

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 19:00:00

Issue "Expiry": points expire per earn lot, and an expiry must never take points already spent.
- lots: one per credit entry (signup bonus, earn, positive adjustment, the void of a
  redemption): its points, what is left of them, when they were earned; a partial index over
  the lots with something left, by card and age (what a debit reads);
- lot_uses: which lots each debit entry (redemption, negative adjustment, void or refund of a
  credit, expiry) took from, and how much;
- the kind `expire` joins the ledger's kinds CHECK.

Existing ledgers are replayed into lots here, card by card in entry order, by the rule the
Store follows from now on (core/expiry.consume, restated below so this revision never changes
when the code does): a credit makes a lot; a debit takes from the lots, oldest first, a void
or refund taking from its own entry's lot first. Each card's lots must then sum to its
balance, or the upgrade stops (and, being one transaction, changes nothing).

Cost: the ledger is read once in (customer_id, id) order and the lots written in batches;
about a minute per million entries on SQLite. The kinds CHECK is changed in place (core/db/ledger_kinds.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

from core.db.ledger_kinds import change_ledger_kinds

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

KINDS_BEFORE = "kind IN ('signup_bonus', 'earn', 'redeem', 'adjust', 'void', 'refund')"
KINDS = "kind IN ('signup_bonus', 'earn', 'redeem', 'adjust', 'void', 'refund', 'expire')"
OPEN = sa.text("remaining > 0")
BATCH = 10_000


class LotsDisagree(RuntimeError):
    """A card's replayed lots don't sum to its balance: its ledger needs a look first."""


def upgrade() -> None:
    change_ledger_kinds(KINDS_BEFORE, KINDS)

    lots = op.create_table(
        "lots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("remaining", sa.BigInteger(), nullable=False),
        sa.Column("earned_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("points > 0", name=op.f("ck_lots_points_positive")),
        sa.CheckConstraint(
            "remaining >= 0 AND remaining <= points", name=op.f("ck_lots_remaining_in_range")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_lots_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["entry_id"], ["ledger.id"], name=op.f("fk_lots_entry_id_ledger")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lots")),
    )
    uses = op.create_table(
        "lot_uses",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("points > 0", name=op.f("ck_lot_uses_points_positive")),
        sa.ForeignKeyConstraint(["entry_id"], ["ledger.id"], name=op.f("fk_lot_uses_entry_id_ledger")),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_lot_uses_lot_id_lots")),
        sa.PrimaryKeyConstraint("entry_id", "lot_id", name=op.f("pk_lot_uses")),
    )
    _replay(op.get_bind(), lots, uses)
    op.create_index(
        "ix_lots_open",
        "lots",
        ["customer_id", "earned_at", "id"],
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )


# The ledger as this revision knows it (typed, so times come back as datetimes on SQLite too).
LEDGER = sa.table(
    "ledger",
    sa.column("id", sa.Integer()),
    sa.column("customer_id", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("points", sa.BigInteger()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("reverses_id", sa.Integer()),
)


def _entries(conn: sa.Connection) -> Iterator[Any]:
    c = LEDGER.c
    query = sa.select(c.customer_id, c.id, c.kind, c.points, c.created_at, c.reverses_id)
    return iter(conn.execute(query.order_by(c.customer_id, c.id)))


def _replay(conn: sa.Connection, lots: sa.Table, uses: sa.Table) -> None:
    balances = dict(conn.execute(sa.text("SELECT id, balance FROM customers")).all())
    new_lots: list[dict[str, Any]] = []
    new_uses: list[dict[str, Any]] = []
    # Per card: [lot id, entry id, earned_at, points, remaining], in lot id order (= entry order).
    card: list[list[Any]] = []
    current: int | None = None
    next_id = 1

    def finish(customer_id: int | None) -> None:
        if customer_id is None:
            return
        held = sum(lot[4] for lot in card)
        if held != balances.get(customer_id, 0):
            raise LotsDisagree(
                f"customer {customer_id}: lots replayed from the ledger hold {held} points,"
                f" the balance is {balances.get(customer_id)}; check the ledger (loyalty-bot db"
                " check) before upgrading"
            )
        for lot_id, entry_id, earned_at, points, remaining in card:
            new_lots.append(
                {
                    "id": lot_id,
                    "customer_id": customer_id,
                    "entry_id": entry_id,
                    "points": points,
                    "remaining": remaining,
                    "earned_at": earned_at,
                }
            )
        card.clear()
        if len(new_lots) >= BATCH:
            flush()

    def flush() -> None:
        if new_lots:
            conn.execute(lots.insert(), new_lots)
            new_lots.clear()
        if new_uses:
            conn.execute(uses.insert(), new_uses)
            new_uses.clear()

    seen: set[int] = set()
    for customer_id, entry_id, kind, points, created_at, reverses_id in _entries(conn):
        if customer_id != current:
            finish(current)
            current = customer_id
            seen.add(customer_id)
        if points > 0:
            card.append([next_id, entry_id, created_at, points, points])
            next_id += 1
        elif points < 0:
            own = reverses_id if kind in ("void", "refund") else None
            # Oldest first (lot ids follow entry order here), the reversed entry's own lot first.
            order = sorted(
                (lot for lot in card if lot[4] > 0), key=lambda lot: (lot[1] != own, lot[2], lot[0])
            )
            left = -points
            for lot in order:
                if not left:
                    break
                take = min(lot[4], left)
                lot[4] -= take
                left -= take
                new_uses.append({"entry_id": entry_id, "lot_id": lot[0], "points": take})
            if left:
                raise LotsDisagree(
                    f"customer {customer_id}: entry {entry_id} takes {-points} points, the"
                    f" entries before it left {-points - left}"
                )
    finish(current)
    flush()
    # Cards without a single entry must have a zero balance too.
    for customer_id, balance in balances.items():
        if balance and customer_id not in seen:
            raise LotsDisagree(f"customer {customer_id}: balance {balance} with no entries")


def downgrade() -> None:
    expired = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM ledger WHERE kind = 'expire'"))
    if expired.scalar_one():
        # The kinds CHECK before 0008 has no `expire`: those entries would break it.
        raise RuntimeError("the ledger holds expire entries: 0007 has no such kind")
    op.drop_index("ix_lots_open", table_name="lots")
    op.drop_table("lot_uses")
    op.drop_table("lots")
    change_ledger_kinds(KINDS, KINDS_BEFORE)
