"""core.corrections and the rules under it (settle, lifetime_change): voids, refunds and
adjustments over literal customers and entries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import corrections, rules
from core.config import DEFAULT_PROGRAM
from core.errors import (
    AlreadyReversed,
    InvalidAmount,
    NotAPurchase,
    NotReversible,
    ReasonRequired,
    RefundTooLarge,
)
from core.types import Customer, EntryKind, LedgerEntry

PROGRAM = DEFAULT_PROGRAM  # Bronze x1 / Silver 500 x1.25 / Gold 2000 x1.5; coffee 100, cake 250
WHEN = dt.datetime(2026, 3, 14, 10, 30, tzinfo=dt.UTC)


def card(balance: int, *, owed: int = 0, lifetime: int | None = None, tier: str = "") -> Customer:
    earned = balance if lifetime is None else lifetime
    return {
        "id": 1,
        "card_number": "48213376",
        "name": "Ann Lee",
        "phone": "+447400123456",
        "email": None,
        "created_at": WHEN,
        "balance": balance,
        "lifetime_earned": earned,
        "lifetime_redeemed": earned - balance,
        "tier": tier or rules.tier_for(earned, PROGRAM.tiers).name,
        "telegram_user_id": None,
        "version": 3,
        "points_owed": owed,
    }


def entry(
    entry_id: int,
    kind: EntryKind,
    points: int,
    *,
    amount: str | None = None,
    reverses: int | None = None,
    details: dict[str, Any] | None = None,
    **more: Any,
) -> LedgerEntry:
    return {
        "id": entry_id,
        "customer_id": 1,
        "kind": kind,
        "points": points,
        "amount": None if amount is None else Decimal(amount),
        "reward_id": None,
        "actor_id": 7001,
        "created_at": WHEN,
        "idempotency_key": None,
        "note": None,
        "balance_after": 0,
        "details": {**(details or {}), **more},
        "reverses_id": reverses,
    }


def purchase(
    entry_id: int = 2, amount: str = "100.00", points: int = 100, **rule: Any
) -> LedgerEntry:
    details = {"points_per_unit": "1", "multiplier": "1", "points": points, **rule}
    return entry(entry_id, "earn", points, amount=amount, details=details)


# --- how a change meets the card ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("balance", "owed", "change", "expected"),
    [
        (100, 0, -40, (-40, 0, 0, 60, 0)),  # plenty on the card
        (30, 0, -100, (-30, 70, 0, 0, 70)),  # spent already: takes what is there, owes the rest
        (0, 70, 50, (0, 0, 50, 0, 20)),  # a credit pays what is owed first
        (0, 70, 100, (30, 0, 70, 30, 0)),  # ... and the rest reaches the balance
        (0, 20, -15, (0, 15, 0, 0, 35)),  # owing more
        (10, 0, 25, (25, 0, 0, 35, 0)),  # an ordinary earn
    ],
)
def test_a_change_takes_what_the_card_holds_and_owes_the_rest(
    balance: int, owed: int, change: int, expected: tuple[int, ...]
) -> None:
    settled = rules.settle(balance, owed, change)
    assert tuple(settled.values()) == expected
    # The card's worth moves by exactly the change; nothing is lost or made up.
    assert settled["balance_after"] - settled["owed_after"] == balance - owed + change


@given(
    balance=st.integers(0, 10_000),
    owed=st.integers(0, 10_000),
    change=st.integers(-10_000, 10_000),
)
def test_settling_never_goes_below_zero_and_never_both_holds_and_owes(
    balance: int, owed: int, change: int
) -> None:
    if owed:
        balance = 0  # the invariant every card keeps: owing means an empty balance
    s = rules.settle(balance, owed, change)
    assert s["balance_after"] >= 0 and s["owed_after"] >= 0
    assert s["balance_after"] == 0 or s["owed_after"] == 0
    assert s["points"] == s["balance_after"] - balance
    assert s["owed_added"] - s["owed_paid"] == s["owed_after"] - owed


@pytest.mark.parametrize(
    ("kind", "points", "expected"),
    [
        ("earn", 31, (31, 0)),
        ("signup_bonus", 50, (50, 0)),
        ("redeem", -250, (0, 250)),
        ("adjust", 20, (20, 0)),  # a positive adjustment counts toward lifetime points
        ("adjust", -20, (0, 20)),  # a negative one is points taken, not earned less
        ("void", -31, (-31, 0)),  # taking back an earn lowers lifetime points
        ("refund", -10, (-10, 0)),
        ("void", 250, (0, -250)),  # giving back a redemption lowers lifetime redeemed
        ("void", 0, (0, 0)),
    ],
)
def test_each_entry_moves_one_lifetime_total_so_they_always_explain_the_balance(
    kind: str, points: int, expected: tuple[int, int]
) -> None:
    earned, redeemed = rules.lifetime_change(kind, points)
    assert (earned, redeemed) == expected
    assert earned - redeemed == points


def test_an_earn_pays_what_the_card_owes_first_and_records_it() -> None:
    quote = rules.quote_earn(card(0, owed=30, lifetime=100), Decimal(50), PROGRAM)
    assert quote["points"] == 50  # what the purchase earned, by the rule
    assert quote["owed_paid"] == 30
    assert (quote["balance_before"], quote["balance_after"]) == (0, 20)


def test_an_earn_without_debt_has_no_owed_paid_in_its_quote() -> None:
    # Entries keep the shape they always had (bench/verify.py compares keys).
    assert "owed_paid" not in rules.quote_earn(card(10), Decimal(5), PROGRAM)


def test_what_pays_a_debt_does_not_count_toward_the_tier() -> None:
    # 470 lifetime, owing 40: a 60-point purchase puts only 20 on the card, so not Silver (500).
    quote = rules.quote_earn(card(0, owed=40, lifetime=470), Decimal(60), PROGRAM)
    assert (quote["owed_paid"], quote["balance_after"], quote["tier_after"]) == (40, 20, "Bronze")


# --- what is left of an entry -----------------------------------------------------------------


def test_what_is_left_of_a_purchase_after_its_refunds() -> None:
    refunds = [
        entry(5, "refund", -20, amount="20.00", reverses=2, gross=-20),
        entry(6, "refund", -30, amount="30.50", reverses=2, gross=-30),
    ]
    left = corrections.remaining(purchase(), refunds)
    assert left == {
        "entry_id": 2,
        "kind": "earn",
        "points": 50,
        "amount": Decimal("49.50"),
        "refunded": Decimal("50.50"),
        "voided_by": None,
        "reversed_by": [5, 6],
    }


def test_nothing_is_left_of_a_voided_entry() -> None:
    left = corrections.remaining(purchase(), [entry(7, "void", -100, reverses=2, gross=-100)])
    assert (left["points"], left["amount"], left["voided_by"]) == (0, Decimal("0.00"), 7)


# --- voids ------------------------------------------------------------------------------------


def test_a_void_of_a_purchase_takes_its_points_back() -> None:
    quote = corrections.quote_void(card(100), purchase(), [], PROGRAM, reason=" typo  ")
    assert quote == {
        "kind": "void",
        "reverses_id": 2,
        "gross": -100,
        "points": -100,
        "owed_added": 0,
        "owed_paid": 0,
        "amount": Decimal("100.00"),
        "balance_before": 100,
        "balance_after": 0,
        "points_owed_before": 0,
        "points_owed_after": 0,
        "lifetime_earned_after": 0,
        "tier_before": "Bronze",
        "tier_after": "Bronze",
        "reason": "typo",
        "code": None,
    }


def test_a_void_of_a_purchase_already_spent_takes_what_is_there_and_records_the_rest() -> None:
    # 100 earned, 80 spent on a reward: the void takes the 20 left and the card owes 80.
    quote = corrections.quote_void(card(20, lifetime=100), purchase(), [], PROGRAM)
    assert (quote["points"], quote["owed_added"], quote["balance_after"]) == (-20, 80, 0)
    assert quote["points_owed_after"] == 80


def test_a_void_of_a_partly_refunded_purchase_takes_what_the_refunds_left() -> None:
    refund = entry(5, "refund", -40, amount="40.00", reverses=2, gross=-40)
    quote = corrections.quote_void(card(60), purchase(), [refund], PROGRAM)
    assert (quote["gross"], quote["amount"]) == (-60, Decimal("60.00"))


def test_a_void_of_a_purchase_that_paid_a_debt_takes_back_all_it_earned() -> None:
    # The earn gave 100: 30 paid what was owed, 70 reached the card. Voided, the card owes
    # the 30 again, and the 70 go.
    paid = purchase(points=100, owed_paid=30)
    paid["points"] = 70
    quote = corrections.quote_void(card(70, lifetime=70), paid, [], PROGRAM)
    assert (quote["points"], quote["owed_added"], quote["points_owed_after"]) == (-70, 30, 30)


def test_voiding_the_earn_that_crossed_a_threshold_takes_the_tier_back() -> None:
    # 450 lifetime + a 60-point purchase = 510: Silver. Voided: 450, Bronze again.
    quote = corrections.quote_void(card(510, tier="Silver"), purchase(points=60), [], PROGRAM)
    assert (quote["tier_before"], quote["tier_after"], quote["lifetime_earned_after"]) == (
        "Silver",
        "Bronze",
        450,
    )


def test_a_void_of_a_redemption_gives_its_points_back_and_its_code_is_no_longer_valid() -> None:
    redemption = entry(3, "redeem", -250, reward_id="cake", code="ZW7-W83")
    quote = corrections.quote_void(card(131, lifetime=631, tier="Silver"), redemption, [], PROGRAM)
    assert (quote["gross"], quote["points"], quote["balance_after"]) == (250, 250, 381)
    assert quote["code"] == "ZW7-W83"
    assert quote["tier_after"] == "Silver"  # lifetime points did not move
    assert quote["amount"] is None


def test_a_void_of_a_redemption_pays_what_the_card_owes_first() -> None:
    redemption = entry(3, "redeem", -100)
    quote = corrections.quote_void(card(0, owed=30, lifetime=70), redemption, [], PROGRAM)
    assert (quote["points"], quote["owed_paid"], quote["points_owed_after"]) == (70, 30, 0)


@pytest.mark.parametrize(
    ("voided", "gross"),
    [
        (entry(1, "signup_bonus", 50, signup_bonus=50), -50),
        (entry(4, "adjust", 20, gross=20, reason="goodwill"), -20),
        (entry(4, "adjust", -20, gross=-20, reason="penalty"), 20),
        # A negative adjustment that could take only 5 is voided for all 20 it meant.
        (entry(4, "adjust", -5, gross=-20, reason="penalty"), 20),
    ],
)
def test_a_void_reverses_a_bonus_or_an_adjustment_by_what_it_meant(
    voided: LedgerEntry, gross: int
) -> None:
    assert corrections.quote_void(card(100), voided, [], PROGRAM)["gross"] == gross


@pytest.mark.parametrize("kind", ["void", "refund"])
def test_a_void_or_a_refund_cannot_itself_be_voided(kind: EntryKind) -> None:
    with pytest.raises(NotReversible) as refused:
        corrections.quote_void(card(100), entry(9, kind, -10, reverses=2, gross=-10), [], PROGRAM)
    assert refused.value.kind == kind


def test_an_entry_is_voided_once() -> None:
    void = entry(7, "void", -100, reverses=2, gross=-100)
    with pytest.raises(AlreadyReversed) as refused:
        corrections.quote_void(card(0), purchase(), [void], PROGRAM)
    assert (refused.value.entry_id, refused.value.by_entry_id) == (2, 7)


def test_a_purchase_refunded_in_full_has_nothing_left_to_void() -> None:
    refund = entry(8, "refund", -100, amount="100.00", reverses=2, gross=-100)
    with pytest.raises(AlreadyReversed) as refused:
        corrections.quote_void(card(0), purchase(), [refund], PROGRAM)
    assert refused.value.by_entry_id == 8


# --- refunds ----------------------------------------------------------------------------------


def test_refunding_half_of_a_100_point_purchase_takes_back_50() -> None:
    quote = corrections.quote_refund(card(100), purchase(), [], Decimal(50), PROGRAM)
    assert (quote["kind"], quote["gross"], quote["points"], quote["balance_after"]) == (
        "refund",
        -50,
        -50,
        50,
    )
    assert (quote["refunded_before"], quote["refunded_after"]) == (Decimal(0), Decimal(50))


def test_a_refund_uses_the_rule_stored_on_the_purchase_not_todays_program() -> None:
    # Earned at Silver x1.25 on a program of 2 points a pound: 40.00 gave 100 points. Today's
    # program (1 point a pound) would take back 10 for 10.00; the purchase's rule takes 25.
    silver = purchase(amount="40.00", points=100, points_per_unit="2", multiplier="1.25")
    quote = corrections.quote_refund(card(100), silver, [], Decimal(10), PROGRAM)
    assert quote["gross"] == -25
    assert (quote["points_per_unit"], quote["multiplier"]) == (Decimal(2), Decimal("1.25"))


def test_partial_refunds_round_on_the_running_total_and_the_last_takes_the_rest() -> None:
    # 10.00 at x1.25 gave 12 points (12.5 rounded down). Three refunds of 3.33, 3.33, 3.34.
    earn = purchase(amount="10.00", points=12, multiplier="1.25")
    earlier: list[LedgerEntry] = []
    taken = []
    for n, part in enumerate(["3.33", "3.33", "3.34"]):
        quote = corrections.quote_refund(card(100), earn, earlier, Decimal(part), PROGRAM)
        taken.append(-quote["gross"])
        earlier.append(
            entry(10 + n, "refund", quote["gross"], amount=part, reverses=2, gross=quote["gross"])
        )
    # floor(3.33 x 1.25) = 4; floor(6.66 x 1.25) = 8, less 4; the last takes 12 - 8.
    assert taken == [4, 4, 4]


def test_a_refund_of_a_purchase_already_spent_records_what_is_owed() -> None:
    quote = corrections.quote_refund(card(10, lifetime=100), purchase(), [], Decimal(100), PROGRAM)
    assert (quote["points"], quote["owed_added"], quote["points_owed_after"]) == (-10, 90, 90)


@settings(max_examples=200)
@given(
    cents=st.integers(1, 100_000),
    cuts=st.lists(st.integers(1, 100), min_size=1, max_size=6),
    per_unit=st.sampled_from(["1", "2", "0.5", "0.1"]),
    multiplier=st.sampled_from(["1", "1.1", "1.25", "1.5"]),
)
def test_refunds_never_take_more_than_the_purchase_gave_and_all_of_them_take_it_all(
    cents: int, cuts: list[int], per_unit: str, multiplier: str
) -> None:
    amount = Decimal(cents).scaleb(-2)
    points = rules.points_for(amount, Decimal(per_unit), Decimal(multiplier))
    earn = purchase(
        amount=str(amount), points=points, points_per_unit=per_unit, multiplier=multiplier
    )
    # Split the amount into parts by the weights in `cuts`, the last part what is left.
    parts, left = [], amount
    for weight in cuts[:-1]:
        part = (amount * weight / 100 / len(cuts)).quantize(Decimal("0.01"))
        if 0 < part < left:
            parts.append(part)
            left -= part
    parts.append(left)
    earlier: list[LedgerEntry] = []
    total = 0
    for n, part in enumerate(parts):
        quote = corrections.quote_refund(card(10**9), earn, earlier, part, PROGRAM)
        total -= quote["gross"]
        assert 0 <= total <= points
        refunded = sum(parts[: n + 1], Decimal(0))
        assert total == min(
            rules.points_for(refunded, Decimal(per_unit), Decimal(multiplier)), points
        )
        earlier.append(
            entry(
                10 + n, "refund", quote["gross"], amount=str(part), reverses=2, gross=quote["gross"]
            )
        )
    assert total == points


@pytest.mark.parametrize(
    ("refunded", "amount", "error"),
    [
        (None, "100.01", RefundTooLarge),
        ("60.00", "40.01", RefundTooLarge),
        ("100.00", "1", AlreadyReversed),
        (None, "0", InvalidAmount),
        (None, "-5", InvalidAmount),
        (None, "1.005", InvalidAmount),
        (None, "NaN", InvalidAmount),
    ],
)
def test_a_refund_beyond_what_is_left_or_not_an_amount_is_refused(
    refunded: str | None, amount: str, error: type[Exception]
) -> None:
    earlier = []
    if refunded is not None:
        earlier.append(entry(5, "refund", -60, amount=refunded, reverses=2, gross=-60))
    with pytest.raises(error):
        corrections.quote_refund(card(100), purchase(), earlier, Decimal(amount), PROGRAM)


def test_a_refund_too_large_says_how_much_is_left() -> None:
    earlier = [entry(5, "refund", -60, amount="60.00", reverses=2, gross=-60)]
    with pytest.raises(RefundTooLarge) as refused:
        corrections.quote_refund(card(100), purchase(), earlier, Decimal(50), PROGRAM)
    assert refused.value.remaining == Decimal("40.00")


@pytest.mark.parametrize(
    "refunded",
    [
        entry(3, "redeem", -100),
        entry(1, "signup_bonus", 50),
        entry(4, "adjust", 20, gross=20),
        entry(5, "refund", -10, amount="10.00", reverses=2, gross=-10),
    ],
)
def test_only_a_purchase_can_be_refunded(refunded: LedgerEntry) -> None:
    with pytest.raises(NotAPurchase) as refused:
        corrections.quote_refund(card(100), refunded, [], Decimal(1), PROGRAM)
    assert refused.value.kind == refunded["kind"]


def test_a_voided_purchase_cannot_be_refunded() -> None:
    void = entry(7, "void", -100, reverses=2, gross=-100)
    with pytest.raises(AlreadyReversed) as refused:
        corrections.quote_refund(card(0), purchase(), [void], Decimal(1), PROGRAM)
    assert refused.value.by_entry_id == 7


# --- adjustments ------------------------------------------------------------------------------


def test_a_positive_adjustment_is_a_credit_that_can_promote() -> None:
    quote = corrections.quote_adjust(card(490), 20, "birthday", PROGRAM)
    assert (quote["points"], quote["balance_after"], quote["tier_after"]) == (20, 510, "Silver")
    assert (quote["reverses_id"], quote["reason"]) == (None, "birthday")


def test_a_negative_adjustment_never_demotes() -> None:
    quote = corrections.quote_adjust(card(600, tier="Silver"), -200, "duplicate card", PROGRAM)
    assert (quote["points"], quote["tier_after"], quote["lifetime_earned_after"]) == (
        -200,
        "Silver",
        600,
    )


def test_a_negative_adjustment_beyond_the_balance_records_what_is_owed() -> None:
    quote = corrections.quote_adjust(card(15), -40, "duplicate card", PROGRAM)
    assert (quote["points"], quote["owed_added"], quote["points_owed_after"]) == (-15, 25, 25)


@pytest.mark.parametrize("reason", ["", "   ", "\n"])
def test_an_adjustment_must_say_why(reason: str) -> None:
    with pytest.raises(ReasonRequired):
        corrections.quote_adjust(card(15), 10, reason, PROGRAM)


@pytest.mark.parametrize(
    "points", [0, corrections.MAX_ADJUSTMENT + 1, -corrections.MAX_ADJUSTMENT - 1]
)
def test_an_adjustment_of_nothing_or_of_a_typo_sized_number_is_refused(points: int) -> None:
    with pytest.raises(InvalidAmount):
        corrections.quote_adjust(card(15), points, "why", PROGRAM)


def test_a_long_reason_is_kept_to_its_first_200_characters() -> None:
    quote = corrections.quote_adjust(card(15), 10, "x" * 500, PROGRAM)
    assert quote["reason"] == "x" * corrections.REASON_LENGTH


@pytest.mark.parametrize(
    ("before", "after", "up"),
    [
        ("Bronze", "Silver", True),
        ("Silver", "Bronze", False),
        ("Gold", "Gold", False),
        ("Platinum", "Bronze", True),
    ],
)
def test_only_a_move_up_is_a_promotion(before: str, after: str, up: bool) -> None:
    assert corrections.is_promotion(before, after, PROGRAM) is up
