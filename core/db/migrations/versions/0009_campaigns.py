"""campaigns: birthdays, referrals, and the `bonus` ledger kind for their bonuses

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 19:00:00

Issue 13, earning rules and campaigns:
- customers.birthday (a nullable date): given at /birthday by the customer or staff; a
  birthday given without a year is stored in year 4 (a leap year, so 29 February fits, and
  no customer is that old: docs/database.md);
- customers.referral_code (unique, nullable): the code in the customer's /invite link;
- referrals: who opened whose link (one row per Telegram account: the first link wins), the
  card it attached to (unique: a customer is referred once) and when both were rewarded;
- the kind `bonus` joins the kinds CHECK: points the program gives outside a purchase, with
  the reason in its details ({"reason": "birthday", "year": 2026}, {"reason": "referral"});
  its idempotency key (birthday:<customer>:<year>, referral:<id>:invited|referrer) makes each
  once, whatever runs twice.
Campaign bonuses at the till are part of the purchase's `earn` entry (its details keep the
breakdown), so they need nothing here.

Cost on SQLite: the CHECK is changed in place, as 0008 does (core/db/ledger_kinds.py): no
rebuild of the ledger, which would break voids' and audit records' foreign keys.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.db.ledger_kinds import change_ledger_kinds

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

KINDS_BEFORE = "kind IN ('signup_bonus', 'earn', 'redeem', 'adjust', 'void', 'refund', 'expire')"
KINDS = (
    "kind IN ('signup_bonus', 'earn', 'redeem', 'adjust', 'void', 'refund', 'expire', 'bonus')"
)


def upgrade() -> None:
    # A plain ADD COLUMN on every database: nullable, no default, no rebuild of customers.
    op.add_column("customers", sa.Column("birthday", sa.Date(), nullable=True))
    op.add_column("customers", sa.Column("referral_code", sa.String(length=16), nullable=True))
    # A unique index, not a constraint: SQLite adds it without rebuilding customers.
    op.create_index("uq_customers_referral_code", "customers", ["referral_code"], unique=True)
    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referrer_id", sa.Integer(), nullable=False),
        sa.Column("invited_user_id", sa.BigInteger(), nullable=False),
        sa.Column("clicked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("invited_customer_id", sa.Integer(), nullable=True),
        sa.Column("rewarded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["referrer_id"], ["customers.id"], name=op.f("fk_referrals_referrer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["invited_customer_id"],
            ["customers.id"],
            name=op.f("fk_referrals_invited_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint("invited_user_id", name=op.f("uq_referrals_invited_user_id")),
        sa.UniqueConstraint(
            "invited_customer_id", name=op.f("uq_referrals_invited_customer_id")
        ),
    )
    op.create_index(
        "ix_referrals_referrer_id_rewarded_at", "referrals", ["referrer_id", "rewarded_at"]
    )
    change_ledger_kinds(KINDS_BEFORE, KINDS)  # in place: see core/db/ledger_kinds.py


def downgrade() -> None:
    # Bonus entries have no kind to go back to: a downgrade refuses rather than lose them.
    bonuses = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM ledger WHERE kind = 'bonus'"))
    if bonuses.scalar_one():
        raise RuntimeError("the ledger holds bonus entries: restore a backup from before 0009")
    change_ledger_kinds(KINDS, KINDS_BEFORE)  # no bonus entries: every row still meets it
    op.drop_index("ix_referrals_referrer_id_rewarded_at", table_name="referrals")
    op.drop_table("referrals")
    op.drop_index("uq_customers_referral_code", table_name="customers")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE customers DROP COLUMN referral_code")
        op.execute("ALTER TABLE customers DROP COLUMN birthday")
    else:
        op.drop_column("customers", "referral_code")
        op.drop_column("customers", "birthday")
