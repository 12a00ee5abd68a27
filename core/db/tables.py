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
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
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

# The largest id a customer, entry or other Integer key can have: INTEGER is 32-bit on
# PostgreSQL (SQLite's is 64-bit), so an id read from a forged button or a typed "#99999999999"
# beyond it names nothing, and is refused before it reaches a query PostgreSQL would reject.
MAX_ID = 2**31 - 1

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
    # A tier an admin pinned with /tier, and why (migration 0010): it overrides the tier policy
    # until unpinned. NULL (nearly always) when the policy decides.
    Column("pinned_tier", String(50)),
    Column("pinned_reason", Text),
    # The folded name and e-mail (core/search.py), for /find: SQLite can't ignore accents
    # itself (migration 0012). Written with the name at registration.
    Column("search_key", String(400)),
    # The customer's birthday (migration 0009), for the yearly birthday bonus (bot/birthdays.py);
    # year 4 when they gave none (core/birthdays.py).
    Column("birthday", Date),
    # The code in this customer's referral link, t.me/<bot>?start=ref_<code> (migration 0009):
    # drawn at their first /invite, random so it says nothing about the card.
    Column("referral_code", String(16)),
    # Whether the customer gets notices about their card (/notifications, migration 0011);
    # core/db/outbox.py drops a notice to a customer who turned them off.
    Column("notify", Boolean, nullable=False, default=True, server_default="1"),
    # When the customer was forgotten (/forget, migration 0011): their personal columns are
    # erased (core/privacy.py PERSONAL_COLUMNS), the card and its ledger stay. NULL otherwise.
    Column("forgotten_at", DateTime(timezone=True)),
    CheckConstraint("balance >= 0", name="balance_not_negative"),
    CheckConstraint("points_owed >= 0", name="points_owed_not_negative"),
)
# A referral code finds one customer (a unique index: SQLite adds it without a table rebuild).
Index("uq_customers_referral_code", customers.c.referral_code, unique=True)
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

# /find: a substring of the folded name or e-mail, read from this index alone (core/db/finding.py).
Index("ix_customers_search_key", customers.c.search_key)

ledger = Table(
    "ledger",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
    # signup_bonus / earn / redeem / adjust / void / refund / bonus (a birthday's, migration 0009)
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
        "kind IN ('signup_bonus', 'earn', 'redeem', 'adjust', 'void', 'refund', 'expire', 'bonus')",
        name="kind_known",
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

# Qualifying points per customer per shop day (migration 0010), kept in the transaction of every
# change of lifetime points: a tier policy that counts the last 365 days or the calendar year
# reads one customer's few rows of the window (the primary key) instead of summing the ledger.
# A void or refund lowers the day of the credit it takes back. Rows before the window are
# never read again; the daily tier job (bot/tiers_job.py) finds who may drop by `day`.
tier_points = Table(
    "tier_points",
    metadata,
    Column("customer_id", Integer, ForeignKey("customers.id"), primary_key=True),
    Column("day", Date, primary_key=True),  # in the shop's time zone ([reports] timezone)
    Column("points", BigInteger, nullable=False),
)
Index("ix_tier_points_day", tier_points.c.day)

# Points expiry, per earn lot (migration 0008, core/expiry.py): every credit entry is a lot,
# every debit takes from lots (oldest first) and records which in lot_uses, so an expiry only
# takes what is left of a lot and never points already spent. sum(remaining) == balance.
lots = Table(
    "lots",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
    Column("entry_id", Integer, ForeignKey("ledger.id"), nullable=False),  # the credit
    Column("points", BigInteger, nullable=False),
    Column("remaining", BigInteger, nullable=False),
    Column("earned_at", DateTime(timezone=True), nullable=False),  # the credit's time (UTC)
    CheckConstraint("points > 0", name="points_positive"),
    CheckConstraint("remaining >= 0 AND remaining <= points", name="remaining_in_range"),
)
# A card's lots with something left, oldest first: what a debit reads (partial: spent lots
# leave it, so it stays a handful of rows per card however long the history).
OPEN_LOTS = lots.c.remaining > 0
Index(
    "ix_lots_open",
    lots.c.customer_id,
    lots.c.earned_at,
    lots.c.id,
    sqlite_where=OPEN_LOTS,
    postgresql_where=OPEN_LOTS,
)

lot_uses = Table(
    "lot_uses",
    metadata,
    Column("entry_id", Integer, ForeignKey("ledger.id"), primary_key=True),  # the debit
    Column("lot_id", Integer, ForeignKey("lots.id"), primary_key=True),
    Column("points", BigInteger, nullable=False),  # taken from the lot, > 0
    CheckConstraint("points > 0", name="points_positive"),
)

# Referrals (migration 0009, core/db/referrals.py): who opened whose invite link, and the card
# it attached to when they linked one. One row per Telegram account (the first link it opened
# wins) and per invited card: a customer is referred once.
referrals = Table(
    "referrals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("referrer_id", Integer, ForeignKey("customers.id"), nullable=False),
    Column("invited_user_id", BigInteger, nullable=False, unique=True),
    Column("clicked_at", DateTime(timezone=True), nullable=False),
    Column("invited_customer_id", Integer, ForeignKey("customers.id"), unique=True),
    Column("rewarded_at", DateTime(timezone=True)),  # both bonuses given (or the referrer's capped)
)
# The monthly cap counts a referrer's rewarded referrals.
Index("ix_referrals_referrer_id_rewarded_at", referrals.c.referrer_id, referrals.c.rewarded_at)

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

# What the bot was in the middle of, per person (migration 0013; bot/persistence.py): the state
# of each open conversation ("conversation", key "<flow>:<chat id>:<user id>") and each
# person's drafts and pending previews ("user", key "<telegram user id>"), pickled as
# python-telegram-bot hands them over. Written after each update that changed them, so a
# restart or a standby's takeover continues a flow where it was.
bot_state = Table(
    "bot_state",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("key", String(100), primary_key=True),
    Column("value", LargeBinary, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
