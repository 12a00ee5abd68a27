"""The shapes the loyalty engine works with.

Records that flow through the engine (customers, ledger entries, quotes and results) are plain
dicts described by TypedDicts, so rules are testable with literals. The program's rules come from
the TOML file and are frozen dataclasses: loaded once, validated, never changed while running.
See docs/database.md for an example of each record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, NotRequired, TypedDict

EntryKind = Literal["signup_bonus", "earn", "redeem", "adjust", "void"]
Role = Literal["admin", "cashier", "customer"]


# --- the program (from [program], [[tiers]], [[rewards]]) -----------------------------------


@dataclass(frozen=True)
class Tier:
    name: str
    min_points: int  # lifetime points earned needed to reach this tier
    multiplier: Decimal  # exact: 1.1 in TOML is Decimal("1.1")


@dataclass(frozen=True)
class Reward:
    id: str
    name: str
    cost: int  # points
    # What the reward is worth in the program's currency (optional, > 0). Reports use the
    # cheapest reward's value / cost to put outstanding points in money, saying so.
    value: Decimal | None = None


@dataclass(frozen=True)
class Program:
    currency: str = "GBP"
    points_per_unit: Decimal = Decimal(1)
    signup_bonus: int = 0
    reset_after_redemption: bool = False
    max_purchase: Decimal = Decimal(10000)
    default_region: str = "GB"
    tiers: tuple[Tier, ...] = ()
    rewards: tuple[Reward, ...] = ()


# --- records ---------------------------------------------------------------------------------


class Customer(TypedDict):
    id: int
    card_number: str  # 8 digits, the last a check digit; shown as "1234 5678"
    name: str
    phone: str  # E.164, e.g. "+447400123456"
    email: str | None
    created_at: dt.datetime
    balance: int
    lifetime_earned: int
    lifetime_redeemed: int
    tier: str
    telegram_user_id: int | None
    version: int  # bumped on every balance change; compare-and-swap guard


class NewCustomer(TypedDict):
    """A validated registration, before it has an id or a card number."""

    name: str
    phone: str
    email: str | None


class LedgerEntry(TypedDict):
    id: int
    customer_id: int
    kind: EntryKind
    points: int  # signed: + for earn/signup_bonus, - for redeem
    amount: Decimal | None  # purchase amount, for earn
    reward_id: str | None
    actor_id: int | None  # Telegram user id of the cashier (None for system entries)
    created_at: dt.datetime
    idempotency_key: str | None
    note: str | None
    balance_after: int
    details: dict[str, object]  # the quote/result it recorded, incl. the rule used


class TierProgress(TypedDict):
    tier: str
    next_tier: str | None
    points_to_next: int | None  # None at the top tier


class EarnQuote(TypedDict):
    """What a purchase would earn: shown to the cashier before Confirm, stored with the entry."""

    amount: Decimal
    currency: str
    points_per_unit: Decimal
    base_points: int
    multiplier: Decimal
    points: int
    balance_before: int
    balance_after: int
    tier_before: str
    tier_after: str


class RedeemQuote(TypedDict):
    reward_id: str
    reward_name: str
    cost: int
    points: int  # points actually deducted (the whole balance in reset mode)
    balance_before: int
    balance_after: int


class EarnResult(EarnQuote):
    entry_id: int
    customer_id: int
    card_number: str
    replayed: bool  # True when the idempotency key had already been used
    # The customer's linked Telegram account, to tell them; None when not linked, and on a
    # replay (the first confirmation already told them).
    notify_user_id: int | None
    queued: list[Owed]  # the messages this change queued (core/db/outbox.py); none on a replay


class RedeemResult(RedeemQuote):
    entry_id: int
    customer_id: int
    card_number: str
    code: str  # short redemption code the customer can show
    replayed: bool
    notify_user_id: int | None  # as in EarnResult
    queued: list[Owed]  # as in EarnResult


class RewardOption(TypedDict):
    id: str
    name: str
    cost: int
    affordable: bool
    shortfall: int  # 0 when affordable


class RegisterResult(TypedDict):
    customer: Customer
    signup_bonus: int  # points credited as a signup_bonus ledger entry (0 when none)
    replayed: bool
    queued: list[Owed]  # as in EarnResult


class StaffMember(TypedDict):
    telegram_user_id: int
    role: Role
    name: str | None
    source: Literal["config", "database"]  # config-listed staff can only be removed in the file


# --- messages owed about a change (core/db/outbox.py) ----------------------------------------


class Button(TypedDict):
    """An inline button under a queued message: its label and the data it sends back."""

    text: str
    data: str


class Outgoing(TypedDict):
    """A message to queue: to whom, the text (HTML, as the bot sends it), and any buttons."""

    chat_id: int
    text: str
    buttons: NotRequired[list[list[Button]]]  # rows of inline buttons, e.g. "↩ Undo"


class Owed(TypedDict):
    """A queued message a sender has claimed."""

    id: int
    change_key: str | None
    chat_id: int
    text: str
    buttons: list[list[Button]] | None
    attempts: int
    created_at: dt.datetime
