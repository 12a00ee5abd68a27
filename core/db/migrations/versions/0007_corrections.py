"""corrections: voids and refunds that point at what they reverse, points owed, an audit trail

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10 11:00:00

Issue "Mistakes happen": a confirmed mistake was permanent, because nothing wrote the `void`
and `adjust` kinds the schema reserved. Now:
- ledger.reverses_id (nullable, to ledger.id): the entry a void or a refund reverses, with a
  partial index (only corrections are in it, so an earn pays nothing for it) that also gives
  the reports every correction from the index alone;
- uq_ledger_reverses_id_void, unique over reverses_id for voids only: an entry can be voided
  once, whatever key the second try carries;
- the kind `refund` (part of a purchase given back) joins the kinds CHECK;
- customers.points_owed (>= 0): points a correction could not take back because the card had
  already spent them, paid first from the next credits (docs/decisions.md);
- audit: who did what, append-only, indexed by customer, by actor and by time.
Nothing before this revision wrote a correction, so there is nothing to fill in.

Cost on SQLite: changing a CHECK constraint means rebuilding the table (batch mode copies the
ledger once, then rebuilds its indexes), minutes at ten million entries; it runs inside the one
upgrade transaction, so a failure leaves the database as it was.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

KINDS_BEFORE = "kind IN ('signup_bonus', 'earn', 'redeem', 'adjust', 'void')"
KINDS = "kind IN ('signup_bonus', 'earn', 'redeem', 'adjust', 'void', 'refund')"
REVERSES = sa.text("reverses_id IS NOT NULL")
VOIDS = sa.text("kind = 'void'")
OWED_CHECK = "ck_customers_points_owed_not_negative"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Not a batch rebuild: dropping the old customers table would break the foreign keys
        # of every ledger entry (they are enforced). SQLite adds a column with its CHECK in
        # place, checking the rows already there.
        op.execute(
            "ALTER TABLE customers ADD COLUMN points_owed BIGINT DEFAULT '0' NOT NULL"
            f" CONSTRAINT {OWED_CHECK} CHECK (points_owed >= 0)"
        )
    else:
        op.add_column(
            "customers",
            sa.Column("points_owed", sa.BigInteger(), nullable=False, server_default="0"),
        )
        op.create_check_constraint(op.f(OWED_CHECK), "customers", "points_owed >= 0")

    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reverses_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_ledger_reverses_id_ledger"), "ledger", ["reverses_id"], ["id"]
        )
        batch_op.drop_constraint(op.f("ck_ledger_kind_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_ledger_kind_known"), KINDS)
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_reverses_id",
            ["reverses_id", "kind", "points", "amount_minor"],
            unique=False,
            sqlite_where=REVERSES,
            postgresql_where=REVERSES,
        )
        batch_op.create_index(
            "uq_ledger_reverses_id_void",
            ["reverses_id"],
            unique=True,
            sqlite_where=VOIDS,
            postgresql_where=VOIDS,
        )

    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_audit_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["entry_id"], ["ledger.id"], name=op.f("fk_audit_entry_id_ledger")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit")),
    )
    op.create_index("ix_audit_customer_id_at", "audit", ["customer_id", "at"])
    op.create_index("ix_audit_actor_id_at", "audit", ["actor_id", "at"])
    op.create_index("ix_audit_at", "audit", ["at"])


def downgrade() -> None:
    op.drop_index("ix_audit_at", table_name="audit")
    op.drop_index("ix_audit_actor_id_at", table_name="audit")
    op.drop_index("ix_audit_customer_id_at", table_name="audit")
    op.drop_table("audit")
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.drop_index("uq_ledger_reverses_id_void")
        batch_op.drop_index("ix_ledger_reverses_id")
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ledger_kind_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_ledger_kind_known"), KINDS_BEFORE)
        batch_op.drop_constraint(op.f("fk_ledger_reverses_id_ledger"), type_="foreignkey")
        batch_op.drop_column("reverses_id")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE customers DROP COLUMN points_owed")  # its own CHECK goes too
    else:
        op.drop_constraint(op.f(OWED_CHECK), "customers", type_="check")
        op.drop_column("customers", "points_owed")
