"""The loyalty rules: pure functions over plain dicts. No I/O; rules and `now` are passed in.

- parse_amount: what a cashier typed -> a Decimal purchase amount (or InvalidAmount, with why)
- points_for:   THE rounding rule: floor(amount x points_per_unit x multiplier)
- tier_for / tier_progress: tiers by lifetime points earned, never by balance
- quote_earn / quote_redeem: what an earn or a redemption would do, shown before Confirm
- reward_options: which rewards a balance affords, and the shortfall for the rest
- settle / lifetime_change: how any change of points meets the card (points owed first) and
  which lifetime total it moves; core/corrections.py builds voids, refunds and adjustments on them
"""

from __future__ import annotations

import re
import secrets
from decimal import ROUND_FLOOR, Decimal, InvalidOperation

from core.errors import InsufficientPoints, InvalidAmount, UnknownReward
from core.types import (
    Customer,
    EarnQuote,
    Program,
    RedeemQuote,
    Reward,
    RewardOption,
    Settlement,
    Tier,
    TierProgress,
)

CENT = Decimal("0.01")
_AMOUNT = re.compile(r"^-?\d+(\.\d+)?$")
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read over a counter


# --- purchase amounts ------------------------------------------------------------------------


def parse_amount(text: str, program: Program) -> Decimal:
    """Turns '25.50', '£25.50', '25,50' or '25.50 GBP' into Decimal('25.50'), or says why not."""
    cleaned = text.strip().replace(" ", "")
    for mark in ("£", "$", "€", program.currency, program.currency.lower()):
        cleaned = cleaned.replace(mark, "")
    if re.fullmatch(r"-?\d+,\d{1,2}", cleaned):
        cleaned = cleaned.replace(",", ".")  # "25,50": a decimal comma, as typed in much of Europe
    elif re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", cleaned):
        cleaned = cleaned.replace(",", "")  # "1,250.00": thousands separators
    if not _AMOUNT.fullmatch(cleaned):
        raise InvalidAmount(f"“{text.strip()[:20]}” is not an amount: send digits like 25.50")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:  # pragma: no cover - the regex admits only plain decimals
        raise InvalidAmount("that is not a number") from None
    return validate_amount(amount, program)


def validate_amount(amount: Decimal, program: Program) -> Decimal:
    """Refuses NaN/Infinity, zero, negative, more than two decimals, or above max_purchase."""
    if not amount.is_finite():
        raise InvalidAmount("that is not a number")
    if amount < 0:
        raise InvalidAmount("the amount can't be negative")
    if amount == 0:
        raise InvalidAmount("the amount must be more than zero")
    if amount > program.max_purchase:
        raise InvalidAmount(
            f"{amount:,.2f} {program.currency} is above the {program.max_purchase:,.2f} limit "
            "(probably a typo)"
        )
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:  # "12.340" is fine, "12.345" is not
        raise InvalidAmount("use at most two decimal places, like 12.34")
    return amount.quantize(CENT)


def points_for(amount: Decimal, points_per_unit: Decimal, multiplier: Decimal) -> int:
    """The one rounding rule: points are always rounded down, so 0.99 spent earns 0 points."""
    return int((amount * points_per_unit * multiplier).to_integral_value(rounding=ROUND_FLOOR))


# --- tiers -----------------------------------------------------------------------------------


def tier_for(lifetime_earned: int, tiers: tuple[Tier, ...]) -> Tier:
    """The highest tier whose threshold the lifetime points reach (redeeming never demotes)."""
    current = tiers[0]
    for tier in tiers:
        if lifetime_earned >= tier.min_points:
            current = tier
    return current


def tier_progress(lifetime_earned: int, tiers: tuple[Tier, ...]) -> TierProgress:
    """The current tier and the points still needed for the next one."""
    current = tier_for(lifetime_earned, tiers)
    for tier in tiers:
        if tier.min_points > lifetime_earned:
            return {
                "tier": current.name,
                "next_tier": tier.name,
                "points_to_next": tier.min_points - lifetime_earned,
            }
    return {"tier": current.name, "next_tier": None, "points_to_next": None}


# --- earning ---------------------------------------------------------------------------------


def quote_earn(customer: Customer, amount: Decimal, program: Program) -> EarnQuote:
    """What a purchase earns: the preview a cashier confirms, and the record kept with the entry."""
    amount = validate_amount(amount, program)
    tier = tier_for(customer["lifetime_earned"], program.tiers)
    base = points_for(amount, program.points_per_unit, Decimal(1))
    points = points_for(amount, program.points_per_unit, tier.multiplier)
    # Points the card owes (a correction took back points already spent) are paid first: the
    # entry records the purchase's points, and how many of them reached the balance.
    settled = settle(customer["balance"], customer.get("points_owed", 0), points)
    after = tier_for(customer["lifetime_earned"] + settled["points"], program.tiers)
    quote: EarnQuote = {
        "amount": amount,
        "currency": program.currency,
        "points_per_unit": program.points_per_unit,
        "base_points": base,
        "multiplier": tier.multiplier,
        "points": points,
        "balance_before": customer["balance"],
        "balance_after": settled["balance_after"],
        "tier_before": tier.name,
        "tier_after": after.name,
    }
    if settled["owed_paid"]:
        quote["owed_paid"] = settled["owed_paid"]
    return quote


# --- any change of points --------------------------------------------------------------------


def settle(balance: int, owed: int, change: int) -> Settlement:
    """How a change of `change` points meets a card holding `balance` and owing `owed`.

    The policy for points already spent (docs/decisions.md): a change that takes points takes
    what the card holds and records the rest as owed; a change that gives points pays what is
    owed first. So the card's worth, balance - owed, always moves by exactly `change`, the
    balance never goes below zero, and while anything is owed the balance is zero.
    """
    worth = balance - owed + change
    balance_after, owed_after = max(worth, 0), max(-worth, 0)
    return {
        "points": balance_after - balance,
        "owed_added": max(owed_after - owed, 0),
        "owed_paid": max(owed - owed_after, 0),
        "balance_after": balance_after,
        "owed_after": owed_after,
    }


def lifetime_change(kind: str, points: int) -> tuple[int, int]:
    """(to lifetime_earned, to lifetime_redeemed) for an entry that moved the balance `points`.

    Credits (earn, signup_bonus, a positive adjustment) count toward lifetime_earned, and so
    decide the tier; spending (redeem, a negative adjustment) counts toward lifetime_redeemed.
    A void or a refund moves the total of what it reverses back: taking back an earn's points
    lowers lifetime_earned (the tier follows), giving back a redemption's lowers
    lifetime_redeemed. Either way balance == lifetime_earned - lifetime_redeemed.
    """
    if kind in ("void", "refund"):
        return min(points, 0), -max(points, 0)
    return max(points, 0), max(-points, 0)


# --- rewards ---------------------------------------------------------------------------------


def find_reward(reward_id: str, program: Program) -> Reward:
    """The reward with this id (case-insensitive), or UnknownReward listing the ids that exist."""
    wanted = reward_id.strip().lower()
    for reward in program.rewards:
        if reward.id == wanted:
            return reward
    raise UnknownReward(reward_id, [r.id for r in program.rewards])


def reward_options(balance: int, program: Program) -> list[RewardOption]:
    """Every reward, cheapest first, with whether `balance` affords it and the shortfall."""
    return [
        {
            "id": r.id,
            "name": r.name,
            "cost": r.cost,
            "affordable": balance >= r.cost,
            "shortfall": max(r.cost - balance, 0),
        }
        for r in sorted(program.rewards, key=lambda r: (r.cost, r.id))
    ]


def quote_redeem(customer: Customer, reward: Reward, program: Program) -> RedeemQuote:
    """What redeeming `reward` would do; InsufficientPoints (with the shortfall) if it can't.

    With reset_after_redemption (punch-card style) the whole balance is spent, not just the cost.
    """
    balance = customer["balance"]
    if balance < reward.cost:
        raise InsufficientPoints(balance=balance, cost=reward.cost)
    spent = balance if program.reset_after_redemption else reward.cost
    return {
        "reward_id": reward.id,
        "reward_name": reward.name,
        "cost": reward.cost,
        "points": spent,
        "balance_before": balance,
        "balance_after": balance - spent,
    }


def new_redemption_code() -> str:
    """A short code the customer can show at the till, e.g. 'K7M-3QD'."""
    chars = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))
    return f"{chars[:3]}-{chars[3:]}"
