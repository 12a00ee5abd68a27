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

EntryKind = Literal["signup_bonus", "earn", "redeem", "adjust", "void", "refund", "expire", "bonus"]
# The entries that correct a mistake (core/corrections.py): a void reverses a whole entry, a
# refund part of a purchase, an adjustment adds or removes points by hand with a reason.
CorrectionKind = Literal["void", "refund", "adjust"]
Role = Literal["admin", "cashier", "customer"]
# What an audit record says happened (table `audit`). The Store writes the first six itself,
# in the transaction of the change; the bot records the rest with Store.record_audit.
AuditAction = Literal[
    "register",
    "earn",
    "redeem",
    "void",
    "refund",
    "adjust",
    "expire",  # details: {"day", "points"}: the lots whose last day it was (core/expiry.py)
    "expiry_reminder",  # details: {"day", "points"}: the customer was told before they expired
    "staff_add",  # details: {"user_id", "role"}
    "staff_remove",  # details: {"user_id"}
    "staff_invite",  # details: {"role"} (never the code: it is a credential until used)
    "invite_use",  # details: {"role"}
    "contacts_export",  # details: {"period", "rows"?}; never the contacts themselves
    "config_load",  # details: {"sha256", "path"?}: which program the bot started with
    "tier_pin",  # details: {"tier", "reason", "tier_before"}: an admin fixed the tier (/tier)
    "tier_unpin",  # details: {"reason", "tier_before", "tier_after"}: the policy decides again
    "tier_drop",  # details: {"tier_before", "tier_after"}: points aged out (bot/tiers_job.py)
    "birthday",  # details: {"set": bool}; never the date itself
    "bonus",  # details: {"reason", "gross", "points"}: a birthday bonus
    "forget",  # details: {"by": "customer" | "admin", "erased": [columns]}; never the values
    "customer_edit",  # details: {"fields": [columns]}; never the old or new values
    "notifications",  # details: {"on": bool}
]
# What counts toward a tier (docs/decisions.md, "Tier policy"): every point ever earned, the
# points of the last 365 days, or of the calendar year (a tier reached is kept to the end of
# the next year). Which tier's multiplier a purchase that crosses a threshold earns at.
TierBasis = Literal["lifetime", "rolling_365", "calendar_year"]
CrossingRate = Literal["before", "after"]


# --- the program (from [program], [[tiers]], [[rewards]]) -----------------------------------


@dataclass(frozen=True)
class Tier:
    name: str
    min_points: int  # lifetime points earned needed to reach this tier
    multiplier: Decimal  # exact: 1.1 in TOML is Decimal("1.1")


@dataclass(frozen=True)
class MoneyOff:
    """A "money off the bill" reward (cashback; core/money_off.py): points_per_unit points take
    1.00 off, in steps of `step`, spending at least min_points, at most max_share of the bill."""

    points_per_unit: int  # points for 1.00 of currency off
    step: Decimal  # the discount goes up in these steps (e.g. 0.50); step x points is whole
    min_points: int  # the smallest redemption, in points
    max_share: Decimal  # of the bill, in (0, 1]: 0.5 takes at most half the bill off


@dataclass(frozen=True)
class Reward:
    id: str
    name: str
    cost: int  # points; for money off, its min_points (the least a redemption spends)
    # What the reward is worth in the program's currency (optional, > 0). Reports use the
    # cheapest reward's value / cost to put outstanding points in money, saying so.
    value: Decimal | None = None
    money_off: MoneyOff | None = None  # set for a money-off reward (cashback)


@dataclass(frozen=True)
class TierPolicy:
    """How tiers are won and lost (core/tiers.py): [program] tier_basis, tier_rate_on_crossing."""

    basis: TierBasis = "lifetime"
    # "before": the purchase that crosses a threshold earns at the old tier's multiplier (the
    # tier is what the customer held when they paid); "after": at the new tier's.
    crossing: CrossingRate = "before"
    # The shop's time zone ([reports] timezone): which day, and so which year, a credit is in.
    timezone: str = "Europe/London"


@dataclass(frozen=True)
class BillLevel:
    """One step of a bill-value campaign: a bill of at least `bill` earns `points` more."""

    bill: Decimal
    points: int


CampaignEffect = Literal["multiplier", "bill_bonus", "first_purchase"]


@dataclass(frozen=True)
class Campaign:
    """A campaign from [[campaigns]] (core/campaigns.py): when it runs, in the shop's time zone,
    and its one effect. Exactly one of multiplier, bill_bonus, first_purchase_bonus is set."""

    name: str
    start: dt.date  # the first day it runs
    end: dt.date | None = None  # the last day it runs (inclusive); None: until removed
    weekdays: frozenset[int] = frozenset()  # 0 = Monday ... 6 = Sunday; empty: every day
    hours: tuple[dt.time, dt.time] | None = None  # [from, to) each day; None: all day
    multiplier: Decimal | None = None  # "double points": x2 on top of the tier's multiplier
    bill_bonus: tuple[BillLevel, ...] = ()  # ascending bills; the highest one reached counts
    first_purchase_bonus: int = 0  # points for the card's first purchase
    public: bool = True  # customers see it in /campaigns; staff always do

    @property
    def effect(self) -> CampaignEffect:
        if self.multiplier is not None:
            return "multiplier"
        return "bill_bonus" if self.bill_bonus else "first_purchase"


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
    tier_policy: TierPolicy = TierPolicy()
    # A purchase below this earns nothing and is refused before Confirm (0: no minimum).
    min_purchase: Decimal = Decimal(0)
    campaigns: tuple[Campaign, ...] = ()
    # The shop's clock for campaigns' dates and hours: [reports] timezone, copied here at load
    # so that quote_earn stays a pure function of its arguments.
    timezone: str = "Europe/London"
    # [referral]: points each side gets at the invited card's first purchase (0: no referrals),
    # and how many referrals a month earn the referrer a bonus (0: no limit).
    referral_bonus: int = 0
    referral_monthly_limit: int = 0


# --- records ---------------------------------------------------------------------------------


class Customer(TypedDict):
    id: int
    card_number: str  # 8 digits, the last a check digit; shown as "1234 5678"
    name: str
    # E.164, e.g. "+447400123456"; None once the customer is forgotten (core/privacy.py)
    phone: str | None
    email: str | None
    created_at: dt.datetime
    balance: int
    lifetime_earned: int
    lifetime_redeemed: int
    tier: str
    telegram_user_id: int | None
    version: int  # bumped on every balance change; compare-and-swap guard
    # Points a correction could not take back because they were already spent, paid first
    # from the next credits (docs/decisions.md): while above zero, the balance is zero. Always
    # present on records read from the database; optional so that older literals stay valid.
    points_owed: NotRequired[int]
    # The tier an admin pinned (/tier), which overrides the tier policy until unpinned, and why;
    # None when the policy decides (migration 0010). Optional like points_owed.
    pinned_tier: NotRequired[str | None]
    pinned_reason: NotRequired[str | None]


class NewCustomer(TypedDict):
    """A validated registration, before it has an id or a card number."""

    name: str
    phone: str
    email: str | None
    # Asked at /register when the shop gives a birthday bonus (bot/handlers/register.py);
    # year 4 when given without a year (core/birthdays.py).
    birthday: NotRequired[dt.date | None]


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
    reverses_id: int | None  # the entry a void or refund reverses; None for the others


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
    # Of `points`, how many paid points the card owed (Customer.points_owed); present only when
    # above zero. `balance_after` is then balance_before + points - owed_paid.
    owed_paid: NotRequired[int]
    # The campaigns that applied (core/campaigns.py), present only when one did: `points` is
    # then floor(amount x points_per_unit x multiplier x campaign_multiplier) plus their
    # bonuses. Stored with the entry, so a refund or a void reverses exactly what they gave.
    campaigns: NotRequired[list[AppliedCampaign]]
    campaign_multiplier: NotRequired[Decimal]  # the best campaign multiplier; absent: x1


class AppliedCampaign(TypedDict):
    """One campaign's part in a purchase's points (EarnQuote.campaigns)."""

    name: str
    effect: CampaignEffect
    points: int  # the points it added to the purchase
    multiplier: NotRequired[Decimal]  # a multiplier campaign's
    bill: NotRequired[Decimal]  # a bill-value campaign: the threshold the bill reached
    # ... and all its steps as [bill, points], so a partial refund can tell which step what
    # stands of the purchase still reaches
    levels: NotRequired[list[tuple[Decimal, int]]]


class Settlement(TypedDict):
    """How a change of points met the card (core.rules.settle)."""

    points: int  # what moved the balance, signed
    owed_added: int  # points that could not be taken: the card had already spent them
    owed_paid: int  # points that paid what the card owed instead of reaching the balance
    balance_after: int
    owed_after: int


class RedeemQuote(TypedDict):
    reward_id: str
    reward_name: str
    cost: int
    points: int  # points actually deducted (the whole balance in reset mode)
    balance_before: int
    balance_after: int
    # A money-off reward (core/money_off.py): the bill and the discount the cashier takes off
    # it, in the program's currency; what reports count as the redemption's money value.
    bill: NotRequired[Decimal]
    discount: NotRequired[Decimal]
    currency: NotRequired[str]


class EarnResult(EarnQuote):
    entry_id: int
    customer_id: int
    card_number: str
    replayed: bool  # True when the idempotency key had already been used
    # The customer's linked Telegram account, to tell them; None when not linked, and on a
    # replay (the first confirmation already told them).
    notify_user_id: int | None
    queued: list[Owed]  # the messages this change queued (core/db/outbox.py); none on a replay


class BonusResult(TypedDict):
    """A `bonus` entry the program gave (Store.bonus): a birthday's, once a year."""

    entry_id: int
    customer_id: int
    gross: int  # the bonus
    points: int  # what reached the balance (the rest paid points owed)
    balance_after: int
    reason: str  # "birthday"
    replayed: bool  # True when its key was already recorded: nothing changed
    notify_user_id: int | None
    queued: list[Owed]


class RedeemResult(RedeemQuote):
    entry_id: int
    customer_id: int
    card_number: str
    code: str  # short redemption code the customer can show
    replayed: bool
    notify_user_id: int | None  # as in EarnResult
    queued: list[Owed]  # as in EarnResult


class Remaining(TypedDict):
    """What is left of an entry to reverse, after the corrections recorded against it
    (core.corrections.remaining)."""

    entry_id: int
    kind: EntryKind
    # Signed, as the entry moved the card: + a credit's points not yet taken back (an earn less
    # its refunds), - a redemption's points not yet given back. 0 when nothing is left.
    points: int
    amount: Decimal | None  # of a purchase: the amount not yet refunded; None for other kinds
    refunded: Decimal | None  # of a purchase: the amount refunded so far
    voided_by: int | None  # the void that reversed it, if any
    reversed_by: list[int]  # every correction recorded against it, oldest first


class CorrectionQuote(TypedDict):
    """What a void, refund or adjustment does to a card (core/corrections.py), before it is
    recorded; stored with its entry (`details`)."""

    kind: CorrectionKind
    reverses_id: int | None  # the entry reversed; None for an adjustment
    # What the correction means to move, signed (-50: take back 50 points). It meets the card
    # through core.rules.settle: `points` moved the balance, the rest was added to or paid
    # from points_owed.
    gross: int
    points: int  # what moved the balance, signed
    owed_added: int  # points that could not be taken back: already spent, now owed
    owed_paid: int  # points given back that paid what the card owed instead
    # The purchase amount a refund gives back (or, for a void of an earn, what was left of it);
    # None when no purchase is involved.
    amount: Decimal | None
    balance_before: int
    balance_after: int
    points_owed_before: int
    points_owed_after: int
    lifetime_earned_after: int
    tier_before: str
    tier_after: str  # recomputed from lifetime points: a void can take a promotion back
    reason: str | None
    code: str | None  # a voided redemption's code, which is no longer valid
    # A refund's rule, read from the earn it refunds (never today's program), and how much of
    # the purchase was refunded before and after it.
    points_per_unit: NotRequired[Decimal]
    multiplier: NotRequired[Decimal]
    refunded_before: NotRequired[Decimal]
    refunded_after: NotRequired[Decimal]


class CorrectionResult(CorrectionQuote):
    """What Store.void, Store.refund and Store.adjust return."""

    entry_id: int  # the correction's own entry
    customer_id: int
    card_number: str
    replayed: bool  # True when the idempotency key had already been used: nothing changed
    notify_user_id: int | None  # as in EarnResult
    queued: list[Owed]  # as in EarnResult


class CorrectableEntry(TypedDict):
    """A recent purchase or redemption that can still be corrected (Store.correctable_entries):
    what the bot's buttons offer."""

    entry_id: int
    kind: Literal["earn", "redeem"]
    created_at: dt.datetime
    actor_id: int | None
    points: int  # as recorded: + what the purchase earned, - what the redemption spent
    amount: Decimal | None  # the purchase amount
    reward_id: str | None
    code: str | None  # the redemption's code
    refunded: Decimal | None  # of a purchase, refunded so far
    refundable: Decimal | None  # of a purchase, the most a refund can still give back
    void_points: int  # what a void would move now, signed: -points left of a purchase, +spent


class AuditRecord(TypedDict):
    """One row of the audit trail (Store.audit_log)."""

    id: int
    at: dt.datetime
    actor_id: int | None
    action: str  # an AuditAction, or one a newer version recorded
    customer_id: int | None
    entry_id: int | None
    details: dict[str, object]


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
    # A notice to a customer about their card: dropped when they have turned notifications off
    # (/notifications; core/db/outbox.py enqueue). Replies to staff never carry it.
    notice: NotRequired[bool]


class Owed(TypedDict):
    """A queued message a sender has claimed."""

    id: int
    change_key: str | None
    chat_id: int
    text: str
    buttons: list[list[Button]] | None
    attempts: int
    created_at: dt.datetime
