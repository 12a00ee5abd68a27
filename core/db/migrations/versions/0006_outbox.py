"""outbox: messages owed about a committed change, written in the same transaction

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 16:40:00

Issue "When Telegram or the disk misbehaves": a cashier told "nothing was changed" about a
recorded earn types it again. The result message and the customer's notice are now rows written
with the change and sent afterwards (bot/delivery.py), so a failed or lost Bot API call is
retried and a crash between commit and send still delivers after restart.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("change_key", sa.String(length=64), nullable=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("buttons", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('sent', 'undeliverable')", name=op.f("ck_outbox_outcome_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index(
        "uq_outbox_change_key_chat_id", "outbox", ["change_key", "chat_id"], unique=True
    )
    op.create_index(
        "ix_outbox_owed",
        "outbox",
        ["due_at"],
        sqlite_where=sa.text("done_at IS NULL"),
        postgresql_where=sa.text("done_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_owed", table_name="outbox")
    op.drop_index("uq_outbox_change_key_chat_id", table_name="outbox")
    op.drop_table("outbox")
