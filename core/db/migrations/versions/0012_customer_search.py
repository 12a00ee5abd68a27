"""customer search: customers.search_key, the folded name and e-mail, indexed for /find

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 18:50:00

Issue 14: staff find a customer by name or e-mail ("/find Chris"), case and accents ignored.
SQLite can fold neither accents nor most non-ASCII case, so the folded text (core/search.py)
is stored with the customer and indexed: a substring query then reads that index alone (a
covering scan, no customer rows) and stops at the first few matches. Filled here for the
customers already registered, in batches.

Cost: one pass over the customers in Python (the folding can't be done in SQL) and the index
build: 5.3 s for the 100,000-customer benchmark database, so about a minute at a million, inside
the one upgrade transaction.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.search import search_key

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BATCH = 10_000


def upgrade() -> None:
    op.add_column("customers", sa.Column("search_key", sa.String(length=400), nullable=True))
    customers = sa.table(
        "customers",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("email", sa.String),
        sa.column("search_key", sa.String),
    )
    bind = op.get_bind()
    fill = (
        customers.update()
        .where(customers.c.id == sa.bindparam("row_id"))
        .values(search_key=sa.bindparam("key"))
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(customers.c.id, customers.c.name, customers.c.email)
            .where(customers.c.id > last)
            .order_by(customers.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        bind.execute(fill, [{"row_id": r.id, "key": search_key(r.name, r.email)} for r in rows])
        last = rows[-1].id
    op.create_index("ix_customers_search_key", "customers", ["search_key"])


def downgrade() -> None:
    op.drop_index("ix_customers_search_key", table_name="customers")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE customers DROP COLUMN search_key")
    else:
        op.drop_column("customers", "search_key")
