"""reports: customers.last_visit_at and the indexes the report summary needs at scale

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 15:40:00

Measured on 1M customers / 10M ledger entries (docs/reports.md, "Performance"):
- customers.last_visit_at + index: active members in 30/90 days become a range count instead
  of a COUNT(DISTINCT customer_id) over a quarter of the ledger (seconds -> milliseconds);
- customers (tier, created_at, balance): members by tier, new members and outstanding points
  from one index-only scan instead of reading every customer row and sorting by tier;
- ledger (created_at) WHERE new_tier IS NOT NULL: tier-ups read only the entries that changed a
  tier, not every entry of the period.
last_visit_at is filled from the ledger once, here; Store keeps it current from then on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_visit_at', sa.DateTime(timezone=True), nullable=True))

    ledger = sa.table(
        'ledger',
        sa.column('customer_id', sa.Integer),
        sa.column('kind', sa.String),
        sa.column('created_at', sa.DateTime(timezone=True)),
        sa.column('new_tier', sa.String),
    )
    customers = sa.table(
        'customers', sa.column('id', sa.Integer), sa.column('last_visit_at', sa.DateTime)
    )
    # One grouped pass over the ledger (UPDATE ... FROM), not one subquery per customer.
    last = (
        sa.select(ledger.c.customer_id, sa.func.max(ledger.c.created_at).label('last'))
        .where(ledger.c.kind.in_(['earn', 'redeem']))
        .group_by(ledger.c.customer_id)
        .subquery()
    )
    op.execute(
        customers.update()
        .where(customers.c.id == last.c.customer_id)
        .values(last_visit_at=last.c.last)
    )

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index('ix_customers_last_visit_at', ['last_visit_at'], unique=False)
        batch_op.create_index(
            'ix_customers_tier_created_at_balance', ['tier', 'created_at', 'balance'], unique=False
        )
    with op.batch_alter_table('ledger', schema=None) as batch_op:
        batch_op.create_index(
            'ix_ledger_tier_ups',
            ['created_at'],
            unique=False,
            sqlite_where=ledger.c.new_tier.is_not(None),
            postgresql_where=ledger.c.new_tier.is_not(None),
        )


def downgrade() -> None:
    with op.batch_alter_table('ledger', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_tier_ups')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index('ix_customers_tier_created_at_balance')
        batch_op.drop_index('ix_customers_last_visit_at')
        batch_op.drop_column('last_visit_at')
