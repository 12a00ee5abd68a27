"""reports at scale: each customer's latest purchases and redemption; one ledger index less

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 17:20:00

Measured on 1M customers / 10M ledger entries (bench/README.md, issue "Scale"): the 30-day
summary took 2.5-2.9 s, most of it sorting the period's 1.2M entries by customer to count
purchasers, repeat customers and redeemers exactly. With these columns, kept by Store in the
same transaction as each earn/redeem entry, those are index range counts for any period that
ends after nearly everyone's last visit (core/reports/recent.py):
- customers.last_purchase_at, prev_purchase_at (the purchase before the latest), and
  last_redemption_at, each with an index (the redemption one with the balance, which says
  whether that redeemer can afford a reward now);
- ledger.ix_ledger_created_at is dropped: the covering index that starts with created_at
  (migration 0004) answers every query it did, and every write paid for both.
The columns are filled from the ledger once, here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COLUMNS = ("last_purchase_at", "prev_purchase_at", "last_redemption_at")

# UPDATE ... FROM reads the same in SQLite (3.33+) and PostgreSQL. Ties count: two purchases
# stamped the same microsecond are a latest and a previous one, as Store keeps them.
FILL_LATEST = """
UPDATE customers SET
    last_purchase_at = latest.last_purchase_at,
    last_redemption_at = latest.last_redemption_at
FROM (
    SELECT customer_id,
           MAX(CASE WHEN kind = 'earn' THEN created_at END) AS last_purchase_at,
           MAX(CASE WHEN kind = 'redeem' THEN created_at END) AS last_redemption_at
    FROM ledger
    WHERE kind IN ('earn', 'redeem')
    GROUP BY customer_id
) AS latest
WHERE latest.customer_id = customers.id
"""
FILL_PREVIOUS = """
UPDATE customers SET prev_purchase_at = ranked.created_at
FROM (
    SELECT customer_id, created_at,
           ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY created_at DESC) AS newest
    FROM ledger
    WHERE kind = 'earn'
) AS ranked
WHERE ranked.customer_id = customers.id AND ranked.newest = 2
"""


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.execute(FILL_LATEST)
    op.execute(FILL_PREVIOUS)
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index("ix_customers_last_purchase_at", ["last_purchase_at"])
        batch_op.create_index("ix_customers_prev_purchase_at", ["prev_purchase_at"])
        batch_op.create_index(
            "ix_customers_last_redemption_at_balance", ["last_redemption_at", "balance"]
        )
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_created_at")


def downgrade() -> None:
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_created_at", ["created_at"], unique=False)
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index("ix_customers_last_redemption_at_balance")
        batch_op.drop_index("ix_customers_prev_purchase_at")
        batch_op.drop_index("ix_customers_last_purchase_at")
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
