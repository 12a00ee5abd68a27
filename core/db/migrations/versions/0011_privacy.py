"""privacy: customers can turn notices off, and be forgotten

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 19:00:00

Issue 14 ("their data, under their control"):
- customers.notify (boolean, default true): whether the customer gets notices about their card
  (/notifications); core/db/outbox.py drops a notice to a customer who turned them off;
- customers.forgotten_at (nullable): when the customer was forgotten (/forget).
Both are added in place (ALTER TABLE ... ADD COLUMN), no table is rebuilt: every existing
customer gets notices, as before, and nobody is forgotten.

customers.phone stays NOT NULL: relaxing it on SQLite means rebuilding `customers`, whose
DROP fails under the enforced foreign keys of every ledger entry (0007 says the same), so a
forgotten customer's phone column holds a per-card placeholder instead (core/db/privacy.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "customers", sa.Column("notify", sa.Boolean(), nullable=False, server_default="1")
    )
    op.add_column("customers", sa.Column("forgotten_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    # SQLite (3.35+) drops a plain column in place; batch mode would rebuild `customers`.
    op.execute("ALTER TABLE customers DROP COLUMN forgotten_at")
    op.execute("ALTER TABLE customers DROP COLUMN notify")
