"""bot_state: conversations and their drafts, kept in the database so a restart continues them

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 19:00:00

Issue "Beyond one box": a restart, or a standby taking over, in the middle of /earn used to
start the cashier's flow over, and a Confirm pressed after it was "no longer active". The
conversation states and each person's drafts and previews (python-telegram-bot's user_data)
are now rows here, written after every update that changed them (bot/persistence.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bot_state",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name=op.f("pk_bot_state")),
    )


def downgrade() -> None:
    op.drop_table("bot_state")
