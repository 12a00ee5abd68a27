"""campaigns: customers' birthdays, and the `bonus` ledger kind for birthday bonuses

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-04 19:00:00

Issue 13, earning rules and campaigns:
- customers.birthday (a nullable date): given at /birthday by the customer or staff; a
  birthday given without a year is stored in year 4 (a leap year, so 29 February fits, and
  no customer is that old: docs/database.md);
- the kind `bonus` joins the kinds CHECK: points the program gives outside a purchase, with
  the reason in its details ({"reason": "birthday", "year": 2026}); its idempotency key
  (birthday:<customer>:<year>) makes it once a year, whatever runs the daily job twice.
Campaign bonuses at the till are part of the purchase's `earn` entry (its details keep the
breakdown), so they need nothing here.

Cost on SQLite: as in 0007, changing the CHECK rebuilds the ledger table once, inside the one
upgrade transaction.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None

KINDS_BEFORE = "kind IN ('signup_bonus', 'earn', 'redeem', 'adjust', 'void', 'refund')"
KINDS = "kind IN ('signup_bonus', 'earn', 'redeem', 'adjust', 'void', 'refund', 'bonus')"


def upgrade() -> None:
    # A plain ADD COLUMN on every database: nullable, no default, no rebuild of customers.
    op.add_column("customers", sa.Column("birthday", sa.Date(), nullable=True))
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ledger_kind_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_ledger_kind_known"), KINDS)


def downgrade() -> None:
    # Bonus entries have no kind to go back to: a downgrade refuses rather than lose them.
    bonuses = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM ledger WHERE kind = 'bonus'"))
    if bonuses.scalar_one():
        raise RuntimeError("the ledger holds bonus entries: restore a backup from before 0009")
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ledger_kind_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_ledger_kind_known"), KINDS_BEFORE)
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE customers DROP COLUMN birthday")
    else:
        op.drop_column("customers", "birthday")
