"""tier policy: pinned tiers, qualifying points per customer per shop day

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 19:00:00

Issue 13, "Tier policy":
- customers.pinned_tier, customers.pinned_reason (nullable): a tier an admin pinned with /tier,
  which overrides the policy until unpinned;
- tier_points (customer_id, day, points): the qualifying points of each customer per shop day,
  kept with the balance, so a policy counting the last 365 days or the calendar year reads a
  customer's few rows instead of summing the ledger. Filled here from the ledger's credits
  (earn, signup_bonus, positive adjustments) less the voids and refunds that took them back.
  The migration cannot know the shop's time zone, so existing entries are put on their UTC
  date: an entry within a few hours of midnight may count on the neighbouring day, which only
  matters under the calendar-year basis for entries made around New Year before this upgrade.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# What core.rules.lifetime_change counts toward lifetime_earned, per entry: credits their
# points, voids and refunds the (negative) points they took back, on the credit's own day.
BACKFILL = """
INSERT INTO tier_points (customer_id, day, points)
SELECT customer_id, day, SUM(points) FROM (
    SELECT e.customer_id AS customer_id, DATE(COALESCE(t.created_at, e.created_at)) AS day,
           CASE WHEN e.kind IN ('void', 'refund') THEN MIN(e.points, 0)
                ELSE MAX(e.points, 0) END AS points
    FROM ledger AS e LEFT JOIN ledger AS t ON t.id = e.reverses_id
    WHERE e.kind IN ('earn', 'signup_bonus', 'adjust', 'void', 'refund')
) AS credits
WHERE points != 0
GROUP BY customer_id, day
"""


def upgrade() -> None:
    # Plain ADD COLUMN, not a batch rebuild: dropping the old customers table would break the
    # foreign keys of every ledger entry (as in 0007).
    op.add_column("customers", sa.Column("pinned_tier", sa.String(length=50), nullable=True))
    op.add_column("customers", sa.Column("pinned_reason", sa.Text(), nullable=True))
    op.create_table(
        "tier_points",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_tier_points_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("customer_id", "day", name=op.f("pk_tier_points")),
    )
    op.create_index("ix_tier_points_day", "tier_points", ["day"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute(BACKFILL)
    else:  # GREATEST/LEAST instead of SQLite's two-argument MIN/MAX
        op.execute(
            BACKFILL.replace("MIN(e.points, 0)", "LEAST(e.points, 0)")
            .replace("MAX(e.points, 0)", "GREATEST(e.points, 0)")
            .replace("DATE(", "CAST(")
            .replace("e.created_at)) AS day", "e.created_at) AS DATE) AS day")
        )


def downgrade() -> None:
    op.drop_index("ix_tier_points_day", table_name="tier_points")
    op.drop_table("tier_points")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE customers DROP COLUMN pinned_reason")
        op.execute("ALTER TABLE customers DROP COLUMN pinned_tier")
    else:
        op.drop_column("customers", "pinned_reason")
        op.drop_column("customers", "pinned_tier")
