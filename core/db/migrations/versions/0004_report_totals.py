"""reports at scale: per-customer purchase/redemption counters and two ledger indexes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 16:10:00

Measured on 1M customers / 10M ledger entries (bench/README.md, issue "Scale"):
- customers.purchases, spent_minor, redemptions: running totals kept by Store in the same
  transaction as each earn/redeem entry (like lifetime_earned). With them the all-time summary
  and the all-time customers CSV read the customers table instead of grouping 10M entries.
- ledger (created_at, kind, customer_id, points, amount_minor): covers the period flows query,
  so a period's summary reads this index only, never the wide entry rows (their JSON details).
- ledger (created_at, kind, customer_id, points) WHERE kind NOT IN ('earn', 'redeem'): the few
  entries the counters don't describe (signup bonuses, adjustments, voids), read on their own
  (kind is in it so that it covers the query: without it SQLite prefers the index above).
The counters are filled from the ledger once, here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OTHER_KINDS = sa.text("kind NOT IN ('earn', 'redeem')")


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        for name, type_ in (
            ("purchases", sa.Integer()),
            ("spent_minor", sa.BigInteger()),
            ("redemptions", sa.Integer()),
        ):
            batch_op.add_column(sa.Column(name, type_, nullable=False, server_default="0"))

    ledger = sa.table(
        "ledger",
        sa.column("customer_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("amount_minor", sa.BigInteger),
    )
    customers = sa.table(
        "customers",
        sa.column("id", sa.Integer),
        sa.column("purchases", sa.Integer),
        sa.column("spent_minor", sa.BigInteger),
        sa.column("redemptions", sa.Integer),
    )
    kind = ledger.c.kind
    # One grouped pass over the ledger (UPDATE ... FROM), not one subquery per customer.
    totals = (
        sa.select(
            ledger.c.customer_id,
            sa.func.sum(sa.case((kind == "earn", 1), else_=0)).label("purchases"),
            sa.func.sum(
                sa.case((kind == "earn", sa.func.coalesce(ledger.c.amount_minor, 0)), else_=0)
            ).label("spent_minor"),
            sa.func.sum(sa.case((kind == "redeem", 1), else_=0)).label("redemptions"),
        )
        .where(kind.in_(["earn", "redeem"]))
        .group_by(ledger.c.customer_id)
        .subquery()
    )
    op.execute(
        customers.update()
        .where(customers.c.id == totals.c.customer_id)
        .values(
            purchases=totals.c.purchases,
            spent_minor=totals.c.spent_minor,
            redemptions=totals.c.redemptions,
        )
    )

    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_created_at_kind_customer_id_points_amount_minor",
            ["created_at", "kind", "customer_id", "points", "amount_minor"],
            unique=False,
        )
        batch_op.create_index(
            "ix_ledger_other_kinds",
            ["created_at", "kind", "customer_id", "points"],
            unique=False,
            sqlite_where=OTHER_KINDS,
            postgresql_where=OTHER_KINDS,
        )


def downgrade() -> None:
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_other_kinds")
        batch_op.drop_index("ix_ledger_created_at_kind_customer_id_points_amount_minor")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("redemptions")
        batch_op.drop_column("spent_minor")
        batch_op.drop_column("purchases")
