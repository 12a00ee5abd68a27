"""Table definitions (SQLAlchemy Core). docs/database.md describes each with an example row.

Core, not the ORM: every write is one explicit statement (a conditional UPDATE, an INSERT), which
is what the concurrency rules in store.py rely on, and bulk loads stay fast.
Money is stored as integer minor units (pence): exact, and summable in SQL.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("card_number", String(8), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("phone", String(16), nullable=False, unique=True),  # E.164
    Column("email", String(254)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("balance", BigInteger, nullable=False, default=0),
    Column("lifetime_earned", BigInteger, nullable=False, default=0),
    Column("lifetime_redeemed", BigInteger, nullable=False, default=0),
    Column("tier", String(50), nullable=False),
    Column("telegram_user_id", BigInteger, unique=True),
    # Bumped by every balance change: writers update "WHERE version = :seen" (compare-and-swap),
    # so two cashiers at once can never both spend the same points.
    Column("version", Integer, nullable=False, default=0),
    # The idempotency key of the /register confirmation that created this customer.
    Column("registration_key", String(64), unique=True),
    # Time of the latest earn or redeem entry, kept with the balance in the same transaction:
    # "active members" is an index range count instead of a DISTINCT over the ledger.
    Column("last_visit_at", DateTime(timezone=True)),
    # Running totals of the customer's earn and redeem entries, kept with the balance in the
    # same transaction: all-time reports and the customers CSV read these instead of grouping
    # the whole ledger (migration 0004).
    Column("purchases", Integer, nullable=False, default=0, server_default="0"),
    Column("spent_minor", BigInteger, nullable=False, default=0, server_default="0"),
    Column("redemptions", Integer, nullable=False, default=0, server_default="0"),
    # Times of the customer's latest purchase, the purchase before it, and latest redemption,
    # kept with the balance in the same transaction (migration 0005). For a period that ends
    # after nearly everyone's last visit (the last 30 days), "who bought, who came back, who
    # redeemed" are then index range counts instead of sorting the period's entries.
    Column("last_purchase_at", DateTime(timezone=True)),
    Column("prev_purchase_at", DateTime(timezone=True)),
    Column("last_redemption_at", DateTime(timezone=True)),
    # Points a correction could not take back because the card had already spent them
    # (migration 0007): paid first from the next credits, so while it is above zero the balance
    # is zero. balance - points_owed is what the card would hold had nothing been spent early.
    Column("points_owed", BigInteger, nullable=False, default=0, server_default="0"),
    # Whether the customer gets notices about their card (/notifications, migration 0011);
    # core/db/outbox.py drops a notice to a customer who turned them off.
    Column("notify", Boolean, nullable=False, default=True, server_default="1"),
    # When the customer was forgotten (/forget, migration 0011): their personal columns are
    # erased (core/privacy.py PERSONAL_COLUMNS), the card and its ledger stay. NULL otherwise.
    Column("forgotten_at", DateTime(timezone=True)),
    CheckConstraint("balance >= 0", name="balance_not_negative"),
    CheckConstraint("points_owed >= 0", name="points_owed_not_negative"),
)
# Reports: active members (a range count) and members by tier with their balances (an
# index-only scan, ~4x faster than reading every customer row at a million customers).
Index("ix_customers_last_visit_at", customers.c.last_visit_at)
Index(
    "ix_customers_tier_created_at_balance",
    customers.c.tier,
    customers.c.created_at,
    customers.c.balance,
)
# Reports: purchasers, repeat customers, redeemers (and which of them can afford a reward now)
# of a recent period, each a range count over one of these (core/reports/recent.py).
Index("ix_customers_last_purchase_at", customers.c.last_purchase_at)
Index("ix_customers_prev_purchase_at", customers.c.prev_purchase_at)
Index(
    "ix_customers_last_redemption_at_balance",
    customers.c.last_redemption_at,
    customers.c.balance,
)

ledger = Table(
    "ledger",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
    # signup_bonus / earn / redeem / adjust / void / refund
    Column("kind", String(16), nullable=False),
    Column("points", BigInteger, nullable=False),  # signed
    Column("amount_minor", BigInteger),  # purchase amount in pence, for earn entries
    Column("reward_id", String(20)),
    Column("code", String(7)),  # redemption code shown to the customer
    Column("actor_id", BigInteger),  # Telegram user id of the cashier
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("idempotency_key", String(64), unique=True),
    Column("note", Text),
    Column("balance_after", BigInteger, nullable=False),
    # The quote this entry recorded, including the rule used (points_per_unit, multiplier, tier),
    # so a later void or refund can reverse exactly what this entry gave.
    Column("details", JSON, nullable=False),
    # The tier this entry moved the customer into; NULL when the tier did not change (nearly
    # always). Reports count tier-ups from it without parsing `details` of every entry.
    Column("new_tier", String(50)),
    # The entry a void or refund reverses (migration 0007); NULL for every other entry.
    Column("reverses_id", Integer, ForeignKey("ledger.id")),
    CheckConstraint(
        "kind IN ('signup_bonus', 'earn', 'redeem', 'adjust', 'void', 'refund')", name="kind_known"
    ),
)
# A customer's recent entries (/status).
Index("ix_ledger_customer_id_id", ledger.c.customer_id, ledger.c.id)
# Reports: a period's flows (counts and sums per customer) read this index only, not the rows.
# It starts with created_at, so it also serves every "entries in a time range" query (the
# plain created_at index it replaced was dropped in migration 0005: one index less per write).
Index(
    "ix_ledger_created_at_kind_customer_id_points_amount_minor",
    ledger.c.created_at,
    ledger.c.kind,
    ledger.c.customer_id,
    ledger.c.points,
    ledger.c.amount_minor,
)
# Reports: the entries the customers' running totals don't describe (signup bonuses,
# adjustments, voids), few next to earns and redemptions. `kind` makes it a covering index,
# which SQLite then prefers; queries must repeat OTHER_KINDS word for word to use it.
OTHER_KINDS = text("kind NOT IN ('earn', 'redeem')")
Index(
    "ix_ledger_other_kinds",
    ledger.c.created_at,
    ledger.c.kind,
    ledger.c.customer_id,
    ledger.c.points,
    sqlite_where=OTHER_KINDS,
    postgresql_where=OTHER_KINDS,
)
# Corrections: what reversed an entry (refunds of a purchase, its void), and every correction
# for the reports, read from the index alone. Partial: the millions of entries that reverse
# nothing are not in it, so an earn pays nothing for it.
REVERSES = ledger.c.reverses_id.is_not(None)
Index(
    "ix_ledger_reverses_id",
    ledger.c.reverses_id,
    ledger.c.kind,
    ledger.c.points,
    ledger.c.amount_minor,
    sqlite_where=REVERSES,
    postgresql_where=REVERSES,
)
# An entry can be voided once: a second void of it, whatever its key, is refused here.
VOIDS = ledger.c.kind == "void"
Index(
    "uq_ledger_reverses_id_void",
    ledger.c.reverses_id,
    unique=True,
    sqlite_where=VOIDS,
    postgresql_where=VOIDS,
)
# Reports: the few entries that changed a tier (a partial index: only those rows are in it).
Index(
    "ix_ledger_tier_ups",
    ledger.c.created_at,
    sqlite_where=ledger.c.new_tier.is_not(None),
    postgresql_where=ledger.c.new_tier.is_not(None),
)

staff = Table(
    "staff",
    metadata,
    Column("telegram_user_id", BigInteger, primary_key=True),
    Column("role", String(10), nullable=False),  # admin / cashier
    Column("name", String(100)),
    Column("added_by", BigInteger),
    Column("added_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("role IN ('admin', 'cashier')", name="role_known"),
)

invites = Table(
    "invites",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("role", String(10), nullable=False),
    Column("created_by", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("used_by", BigInteger),
    Column("used_at", DateTime(timezone=True)),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", JSON, nullable=False),
)

# Messages owed to people about a committed change (issue "When Telegram misbehaves"): written in
# the same transaction as the change, sent by bot/delivery.py, marked done. A crash or a failed
# Bot API call between commit and send can then never lose a "✅ +25 points" (core/db/outbox.py).
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    # The idempotency key of the change the message is about, so a replayed confirmation finds
    # (and finishes sending) what the first one wrote; NULL for changes made without a key.
    Column("change_key", String(64)),
    Column("chat_id", BigInteger, nullable=False),
    Column("text", Text, nullable=False),  # HTML, as the bot sends it
    Column("buttons", JSON),  # rows of inline buttons ({"text", "data"}), e.g. "↩ Undo"
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),  # the next attempt, not before
    Column("attempts", Integer, nullable=False, default=0, server_default="0"),
    # Who is sending it until when: a sender claims a message for a while, so two senders (the
    # confirmation and the background worker, or two processes) never send it both.
    Column("claimed_until", DateTime(timezone=True)),
    Column("done_at", DateTime(timezone=True)),  # sent, or given up on
    Column("outcome", String(16)),  # "sent" or "undeliverable"; NULL while owed
    Column("last_error", String(200)),  # the Bot API's last refusal, for the logs and reports
    CheckConstraint("outcome IN ('sent', 'undeliverable')", name="outcome_known"),
)
# One message per chat per change: a confirmation replayed or raced never queues a second one.
Index("uq_outbox_change_key_chat_id", outbox.c.change_key, outbox.c.chat_id, unique=True)
# What is still owed, soonest first (a partial index: sent messages leave it).
Index(
    "ix_outbox_owed",
    outbox.c.due_at,
    sqlite_where=outbox.c.done_at.is_(None),
    postgresql_where=outbox.c.done_at.is_(None),
)

# Who did what, append-only (migration 0007): every change of points (register, earn, redeem,
# void, refund, adjust) writes one row in its own transaction; staff changes, contact exports
# and the config loaded at start are recorded by the bot (Store.record_audit). Never updated or
# deleted, like the ledger.
audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor_id", BigInteger),  # Telegram user id; NULL for the system (start-up)
    Column("action", String(32), nullable=False),  # core.types.AuditAction
    Column("customer_id", Integer, ForeignKey("customers.id")),
    Column("entry_id", Integer, ForeignKey("ledger.id")),
    Column("details", JSON, nullable=False),
)
# A customer's history, a staff member's actions, everything in a time range: newest first.
Index("ix_audit_customer_id_at", audit.c.customer_id, audit.c.at)
Index("ix_audit_actor_id_at", audit.c.actor_id, audit.c.at)
Index("ix_audit_at", audit.c.at)
