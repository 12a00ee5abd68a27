"""Money-off rewards (cashback): points taken off a bill, pure functions over plain data.

A reward with a `money_off` rule ([[rewards]] money_off = true) is worth 1.00 of currency per
`points_per_unit` points, taken off the bill the customer is paying now:
- in steps of `step` (0.50: 4.50 or 5.00 off, never 4.73);
- spending at least `min_points` (the reward's `cost`, so the reward list shows the shortfall);
- taking at most `max_share` of the bill (0.5: at most half of it), and never more than the
  balance pays for.

- discount_range: the least and the most this bill and balance allow (or why none)
- offers:         a few of them for buttons, the largest first
- quote_money_off: what taking `discount` off would do: the preview and the ledger's record

Rounding is down for the most and up for the least, always to whole steps: the customer is
never given money their points did not pay for, and the bill's share is never exceeded.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from core.errors import DiscountNotAllowed, InsufficientPoints, Reason
from core.marks import N_
from core.rules import validate_amount
from core.types import Customer, MoneyOff, Program, RedeemQuote, Reward

BUTTONS = 4  # discount buttons offered at most: the largest, the least, and two between


def rule_of(reward: Reward) -> MoneyOff:
    """The money-off rule of `reward` (which must be a money-off reward)."""
    if reward.money_off is None:
        raise ValueError(f"{reward.id} is not a money-off reward")
    return reward.money_off


def _steps(amount: Decimal, step: Decimal, rounding: str) -> int:
    return int((amount / step).to_integral_value(rounding=rounding))


def points_for(discount: Decimal, rule: MoneyOff) -> int:
    """The points a discount costs (exact: a whole number of steps, each whole points)."""
    return int(discount * rule.points_per_unit)


def discount_range(
    balance: int, bill: Decimal, reward: Reward, program: Program
) -> tuple[Decimal, Decimal]:
    """(least, most) discount on `bill` with `balance` points, both whole steps.

    InsufficientPoints when the balance is below min_points; DiscountNotAllowed when the bill
    is too small for the least discount.
    """
    rule = rule_of(reward)
    if balance < rule.min_points:
        raise InsufficientPoints(balance=balance, cost=rule.min_points)
    step = rule.step
    least = _steps(Decimal(rule.min_points) / rule.points_per_unit, step, ROUND_CEILING) * step
    by_share = _steps(bill * rule.max_share, step, ROUND_FLOOR) * step
    by_points = _steps(Decimal(balance) / rule.points_per_unit, step, ROUND_FLOOR) * step
    most = min(by_share, by_points)
    if most < least:
        share = f"{rule.max_share * 100:f}"
        share = (share.rstrip("0").rstrip(".") if "." in share else share) + "%"  # 50%, 33.5%
        raise DiscountNotAllowed(
            Reason(
                N_(
                    "at most {share} of a {bill} {currency} bill can come off, {most}; "
                    "this reward starts at {least} off"
                ),
                {
                    "share": share,
                    "bill": bill,
                    "currency": program.currency,
                    "most": by_share,
                    "least": least,
                },
            )
        )
    return least, most


def offers(least: Decimal, most: Decimal, step: Decimal) -> list[Decimal]:
    """Up to BUTTONS discounts for buttons, largest first, always the most and the least."""
    count = _steps(most - least, step, ROUND_FLOOR) + 1
    if count <= BUTTONS:
        return [most - i * step for i in range(count)]
    picked = {most, least}
    for part in range(1, BUTTONS - 1):  # evenly between, on whole steps
        picked.add(least + _steps((most - least) * part / (BUTTONS - 1), step, ROUND_FLOOR) * step)
    return sorted(picked, reverse=True)


def quote_money_off(
    customer: Customer, reward: Reward, bill: Decimal, discount: Decimal, program: Program
) -> RedeemQuote:
    """What taking `discount` off `bill` would do; refused (DiscountNotAllowed, with the
    allowed range; InsufficientPoints) if the rule does not allow it.

    Spends exactly the discount's points, even in reset mode: the discount is already priced in
    points, and resetting would take points that bought nothing.
    """
    rule = rule_of(reward)
    bill = validate_amount(bill, program)
    least, most = discount_range(customer["balance"], bill, reward, program)
    if not discount.is_finite() or discount % rule.step != 0 or not least <= discount <= most:
        raise DiscountNotAllowed(
            Reason(
                N_(
                    "{discount} off is not on offer: from {least} to {most} {currency}, "
                    "in steps of {step}"
                ),
                {
                    "discount": discount,
                    "least": least,
                    "most": most,
                    "currency": program.currency,
                    "step": rule.step,
                },
            )
        )
    discount = discount.quantize(Decimal("0.01"))
    spent = points_for(discount, rule)
    return {
        "reward_id": reward.id,
        "reward_name": reward.name,
        "cost": spent,
        "points": spent,
        "balance_before": customer["balance"],
        "balance_after": customer["balance"] - spent,
        "bill": bill,
        "discount": discount,
        "currency": program.currency,
    }
