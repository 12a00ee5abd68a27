"""Correcting mistakes: pure rules over plain dicts for voids, refunds and adjustments.

Nothing in the ledger is ever edited: a mistake is corrected by a new entry (docs/decisions.md).

- remaining:     what is left of an entry to reverse, after the corrections recorded against it
- quote_void:    a void takes back what is left of a credit (an earn less its refunds, a signup
                 bonus, a positive adjustment) or gives back a redemption's points (its code is
                 then no longer valid)
- quote_refund:  part of a purchase given back takes back the points that part earned, by the
                 rule stored on the earn's entry (points_per_unit, multiplier: never today's
                 program), so that refunds never take more than the purchase gave and the one
                 that completes the amount takes exactly the rest
- quote_adjust:  points added or removed by hand, with a reason

Each quote meets the card through core.rules.settle: points already spent are not taken twice
from nowhere but recorded as owed and paid from the next credits; and core.rules.lifetime_change
says which lifetime total moves, so the tier follows (a void of the earn that crossed a
threshold takes the promotion back). A refusal is a specific exception (core/errors.py) that
carries what a friendly reply needs.

Entries are LedgerEntry dicts; `earlier` is the list of corrections already recorded against
the entry (voids and refunds whose reverses_id is its id), oldest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from core import campaigns, rules
from core.errors import (
    AlreadyReversed,
    InvalidAmount,
    NotAPurchase,
    NotReversible,
    Reason,
    ReasonRequired,
    RefundTooLarge,
)
from core.marks import N_
from core.rules import NOT_A_NUMBER, TWO_DECIMALS
from core.types import (
    CorrectionKind,
    CorrectionQuote,
    Customer,
    LedgerEntry,
    Program,
    Remaining,
)

CENT = Decimal("0.01")
# An adjustment larger than this is a typo, not a correction (like max_purchase for amounts).
MAX_ADJUSTMENT = 1_000_000
REASON_LENGTH = 200
_CORRECTIONS = ("void", "refund")
# An expiry is the program's rule applied, not a mistake: it is not voided either (an admin
# who wants to give expired points back uses /adjust, saying why).
_NOT_REVERSIBLE = (*_CORRECTIONS, "expire")


def gross(entry: LedgerEntry) -> int:
    """What the entry meant to move the card by, signed: an earn's points as quoted (of which
    some may have paid points owed), a correction's `gross`, anything else its points."""
    details = entry["details"]
    if entry["kind"] == "earn":
        return int(str(details.get("points", entry["points"])))
    if entry["kind"] in ("void", "refund", "adjust", "bonus"):
        return int(str(details.get("gross", entry["points"])))
    return entry["points"]


def remaining(entry: LedgerEntry, earlier: Sequence[LedgerEntry]) -> Remaining:
    """What is left of `entry` to reverse: its gross points less what refunds took back, and
    for a purchase the amount not yet refunded. A voided entry has nothing left."""
    if entry["kind"] in _NOT_REVERSIBLE:
        raise NotReversible(entry["kind"])
    voided_by = next((e["id"] for e in earlier if e["kind"] == "void"), None)
    refunds = [e for e in earlier if e["kind"] == "refund"]
    points = 0 if voided_by is not None else gross(entry) + sum(gross(e) for e in refunds)
    amount = refunded = None
    if entry["kind"] == "earn" and entry["amount"] is not None:
        refunded = sum((e["amount"] or Decimal(0) for e in refunds), Decimal(0)).quantize(CENT)
        amount = Decimal(0).quantize(CENT) if voided_by else entry["amount"] - refunded
    return {
        "entry_id": entry["id"],
        "kind": entry["kind"],
        "points": points,
        "amount": amount,
        "refunded": refunded,
        "voided_by": voided_by,
        "reversed_by": [e["id"] for e in earlier],
    }


def quote_void(
    customer: Customer,
    entry: LedgerEntry,
    earlier: Sequence[LedgerEntry],
    program: Program,
    *,
    reason: str | None = None,
) -> CorrectionQuote:
    """What voiding `entry` does: takes back what is left of a credit, gives back a debit.

    Refused: a void or refund (NotReversible), an entry already voided or a purchase refunded
    in full (AlreadyReversed, with the entry that did it).
    """
    left = remaining(entry, earlier)
    if left["voided_by"] is not None:
        raise AlreadyReversed(entry["id"], left["voided_by"])
    if left["amount"] is not None and left["amount"] == 0 and left["reversed_by"]:
        raise AlreadyReversed(entry["id"], left["reversed_by"][-1])
    code = entry["details"].get("code") if entry["kind"] == "redeem" else None
    return _quote(
        customer,
        program,
        kind="void",
        reverses_id=entry["id"],
        gross=-left["points"],
        amount=left["amount"],
        reason=_reason(reason),
        code=None if code is None else str(code),
    )


def refundable(entry: LedgerEntry, earlier: Sequence[LedgerEntry]) -> Decimal:
    """What is left of the purchase `entry` to refund; refused as a refund of it would be: not
    a purchase (NotAPurchase), voided or refunded in full (AlreadyReversed)."""
    if entry["kind"] != "earn" or entry["amount"] is None:
        raise NotAPurchase(entry["kind"])
    left = remaining(entry, earlier)
    if left["voided_by"] is not None:
        raise AlreadyReversed(entry["id"], left["voided_by"])
    left_amount = left["amount"] or Decimal(0)
    if left_amount == 0:
        raise AlreadyReversed(entry["id"], left["reversed_by"][-1])
    return left_amount


def quote_refund(
    customer: Customer,
    entry: LedgerEntry,
    earlier: Sequence[LedgerEntry],
    amount: Decimal,
    program: Program,
) -> CorrectionQuote:
    """What refunding `amount` of the purchase `entry` does, by the earn's own rule.

    The refunds of a purchase together take back floor(refunded so far x points_per_unit x
    multiplier x campaign multiplier), the rule of its day, plus the bill-value bonus that what
    still stands no longer reaches: each takes that less what the earlier ones took, so
    together they never take more than the purchase gave, and the one that completes the
    amount takes exactly the rest (a first-purchase bonus included).
    """
    left_amount = refundable(entry, earlier)
    left = remaining(entry, earlier)
    bought = entry["amount"]
    assert bought is not None  # refundable() refused anything but a purchase
    amount = _refund_amount(amount)
    if amount > left_amount:
        raise RefundTooLarge(left_amount)
    details = entry["details"]
    per_unit = Decimal(str(details["points_per_unit"]))
    multiplier = Decimal(str(details["multiplier"]))
    given = gross(entry)
    taken_before = given - left["points"]
    before = bought - left_amount
    after = before + amount
    if after == bought:
        take = left["points"]  # the last refund takes exactly what is left
    else:
        # The campaigns the purchase had (core/campaigns.py) go back with it: the multiplied
        # part by its rate, a bill-value bonus as what stands falls below its step.
        rate = multiplier * Decimal(str(details.get("campaign_multiplier", 1)))
        taken = rules.points_for(after, per_unit, rate)
        taken += campaigns.bill_bonus_taken(details, bought, after)
        take = min(taken, given) - taken_before
    quote = _quote(
        customer,
        program,
        kind="refund",
        reverses_id=entry["id"],
        gross=-max(take, 0),
        amount=amount,
        reason=None,
        code=None,
    )
    quote["points_per_unit"] = per_unit
    quote["multiplier"] = multiplier
    quote["refunded_before"] = before
    quote["refunded_after"] = after
    return quote


def quote_adjust(customer: Customer, points: int, reason: str, program: Program) -> CorrectionQuote:
    """Points added (positive) or removed (negative) by hand, with a reason.

    A positive adjustment is a credit: it pays points owed first and counts toward lifetime
    points (so it can promote). A negative one takes what the card holds (the rest owed) and
    counts as points spent: a penalty never demotes, as a redemption never does.
    """
    why = _reason(reason)
    if why is None:
        raise ReasonRequired()
    if points == 0:
        raise InvalidAmount(Reason(N_("an adjustment must add or take away at least one point")))
    if abs(points) > MAX_ADJUSTMENT:
        raise InvalidAmount(
            Reason(
                N_("{points} points is beyond the {limit} limit (probably a typo)"),
                {"points": points, "limit": MAX_ADJUSTMENT},
            )
        )
    return _quote(
        customer,
        program,
        kind="adjust",
        reverses_id=None,
        gross=points,
        amount=None,
        reason=why,
        code=None,
    )


def is_promotion(before: str, after: str, program: Program) -> bool:
    """Whether moving from tier `before` to `after` is a move up (a tier no longer configured
    counts as the lowest): what ledger.new_tier records, and reports count as tier-ups."""
    names = [t.name for t in program.tiers]
    rank = {name: i for i, name in enumerate(names)}
    return before != after and rank.get(after, -1) > rank.get(before, -1)


# --- helpers ---------------------------------------------------------------------------------


def _quote(
    customer: Customer,
    program: Program,
    *,
    kind: CorrectionKind,
    reverses_id: int | None,
    gross: int,
    amount: Decimal | None,
    reason: str | None,
    code: str | None,
) -> CorrectionQuote:
    owed = customer.get("points_owed", 0)
    settled = rules.settle(customer["balance"], owed, gross)
    earned, _ = rules.lifetime_change(kind, settled["points"])
    lifetime = customer["lifetime_earned"] + earned
    # Only a change of lifetime points moves the tier (giving back a redemption never does).
    tier = rules.tier_for(lifetime, program.tiers).name if earned else customer["tier"]
    return {
        "kind": kind,
        "reverses_id": reverses_id,
        "gross": gross,
        "points": settled["points"],
        "owed_added": settled["owed_added"],
        "owed_paid": settled["owed_paid"],
        "amount": amount,
        "balance_before": customer["balance"],
        "balance_after": settled["balance_after"],
        "points_owed_before": owed,
        "points_owed_after": settled["owed_after"],
        "lifetime_earned_after": lifetime,
        "tier_before": customer["tier"],
        "tier_after": tier,
        "reason": reason,
        "code": code,
    }


def _reason(text: str | None) -> str | None:
    """The reason as typed, spaces folded, at most REASON_LENGTH characters; None if blank."""
    if text is None:
        return None
    folded = " ".join(text.split())
    return folded[:REASON_LENGTH] or None


def _refund_amount(amount: Decimal) -> Decimal:
    """A refund's amount: finite, above zero, at most two decimals (InvalidAmount says why)."""
    if not amount.is_finite():
        raise InvalidAmount(Reason(NOT_A_NUMBER))
    if amount <= 0:
        raise InvalidAmount(Reason(N_("a refund must be more than zero")))
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise InvalidAmount(Reason(TWO_DECIMALS))
    return amount.quantize(CENT)
