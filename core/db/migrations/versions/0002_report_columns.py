"""reports: ledger.new_tier (tier-ups without parsing JSON)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 10:00:00

ledger.new_tier is the tier an entry moved its customer into, NULL when the tier did not change.
Existing earn entries are filled in from the quote they recorded (details.tier_before/after),
once, so tier-up counts are right for history written before this column existed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ledger', schema=None) as batch_op:
        batch_op.add_column(sa.Column('new_tier', sa.String(length=50), nullable=True))

    ledger = sa.table(
        'ledger',
        sa.column('kind', sa.String),
        sa.column('details', sa.JSON),
        sa.column('new_tier', sa.String),
    )
    before = ledger.c.details['tier_before'].as_string()
    after = ledger.c.details['tier_after'].as_string()
    op.execute(
        ledger.update()
        .where(ledger.c.kind == 'earn', after.is_not(None), after != before)
        .values(new_tier=after)
    )


def downgrade() -> None:
    with op.batch_alter_table('ledger', schema=None) as batch_op:
        batch_op.drop_column('new_tier')
