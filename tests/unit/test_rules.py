"""core.rules: amounts, the one rounding rule, tiers, earning and redeeming, with literals."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core import rules
from core.config import DEFAULT_PROGRAM
from core.errors import InsufficientPoints, InvalidAmount, NothingToEarn, UnknownReward
from core.types import Customer, Program, Reward


def customer(*, balance: int = 0, lifetime_earned: int | None = None) -> Customer:
    earned = balance if lifetime_earned is None else lifetime_earned
    return {
        "id": 1,
        "card_number": "48213376",
        "name": "Ann Lee",
        "phone": "+447400123456",
        "email": None,
        "created_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        "balance": balance,
        "lifetime_earned": earned,
        "lifetime_redeemed": earned - balance,
        "tier": "Bronze",
        "telegram_user_id": None,
        "version": 0,
    }


# --- purchase amounts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("25.50", "25.50"),
        ("£25.50", "25.50"),
        ("25,50", "25.50"),
        ("1,250.00", "1250.00"),
        ("12.3400", "12.34"),  # zeros past the pence change nothing ("12.340": see below)
        ("0.250", "0.25"),  # a leading 0 is no thousands group, so only one reading
        ("  7 ", "7.00"),
        ("25.50 GBP", "25.50"),
        ("10000", "10000.00"),  # exactly max_purchase is allowed
        ("0.01", "0.01"),
        # a point or comma at either end has only one reading
        ("12.", "12.00"),
        (".5", "0.50"),
        ("12,", "12.00"),
        (",5", "0.50"),
        ("25,5", "25.50"),
        # thousands separators where they can't be a decimal mark
        ("1,250", "1250.00"),  # a comma then three digits is never pence
        ("1,250.5", "1250.50"),
        ("1.250,00", "1250.00"),  # the continental way: points for thousands, comma for pence
        ("1.250,5", "1250.50"),
        # the shop's own currency, by sign or code, before or after, any case, spaced or not
        ("£ 25.50", "25.50"),
        ("25.50£", "25.50"),
        ("25,50 £", "25.50"),
        ("GBP 25.50", "25.50"),
        ("GBP25.50", "25.50"),
        ("25.50GBP", "25.50"),
        ("25.50 gbp", "25.50"),
        ("Gbp 25.50", "25.50"),
        ("£25.50 GBP", "25.50"),
        # what a phone keyboard or a copied price may send
        ("１２．５０", "12.50"),  # full-width digits
        ("\u00a025.50\u00a0", "25.50"),  # no-break spaces around it
        ("\uffe125.50", "25.50"),  # a full-width pound sign
    ],
)
def test_an_amount_typed_in_a_common_way_is_read_as_exact_pounds_and_pence(
    typed: str, amount: str, program: Program
) -> None:
    parsed = rules.parse_amount(typed, program)
    assert parsed == Decimal(amount)
    assert str(parsed) == amount  # always two places, as the cashier will see it


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("abc", "“abc” is not an amount: send digits like 25.50"),
        ("-5", "the amount can't be negative"),
        ("0", "the amount must be more than zero"),
        ("0.00", "the amount must be more than zero"),
        ("12.345", "use at most two decimal places, like 12.34"),
        ("1e309", "“1e309” is not an amount: send digits like 25.50"),
        ("NaN", "“NaN” is not an amount: send digits like 25.50"),
        ("Infinity", "“Infinity” is not an amount: send digits like 25.50"),
        ("", "“” is not an amount: send digits like 25.50"),
        ("1.2.3", "“1.2.3” is not an amount: send digits like 25.50"),
        ("10000.01", "10,000.01 GBP is above the 10,000.00 limit (probably a typo)"),
        (".", "“.” is not an amount: send digits like 25.50"),
        (".0", "the amount must be more than zero"),
        ("-£5", "the amount can't be negative"),
        ("£-5", "the amount can't be negative"),
        ("0,250", "“0,250” is not an amount: send digits like 25.50"),
        ("1,2500", "“1,2500” is not an amount: send digits like 25.50"),
        ("12.50.", "“12.50.” is not an amount: send digits like 25.50"),
        ("12p", "“12p” is not an amount: send digits like 25.50"),  # pence? pounds? neither
        ("12 pounds", "“12 pounds” is not an amount: send digits like 25.50"),
        ("12 abc", "“12 abc” is not an amount: send digits like 25.50"),  # not a currency code
        ("+12", "“+12” is not an amount: send digits like 25.50"),
        ("1²", "“1²” is not an amount: send digits like 25.50"),  # not 12
        ("1½", "“1½” is not an amount: send digits like 25.50"),  # not 11/2
        # a space inside: the readings that would be accepted, so the cashier picks one
        ("12 50", "“12 50” has a space inside: send 12.50 or 1250, whichever you meant"),
        ("£12 50", "“£12 50” has a space inside: send 12.50 or 1250, whichever you meant"),
        ("12 5", "“12 5” has a space inside: send 12.5 or 125, whichever you meant"),
        ("12\u00a050", "“12\u00a050” has a space inside: send 12.50 or 1250, whichever you meant"),
        ("1 250", "“1 250” has a space inside: send 1250 if that is what you meant"),
        ("1 250,00", "“1 250,00” has a space inside: send 1250,00 if that is what you meant"),
        ("12 . 50", "“12 . 50” has a space inside: send 12.50 if that is what you meant"),
        # 15050 would be above the limit, so it is not offered
        ("150 50", "“150 50” has a space inside: send 150.50 if that is what you meant"),
        (
            "1 2 3 4 5 6",
            "“1 2 3 4 5 6” has a space inside: send the amount without spaces, like 25.50",
        ),
        # a symbol between digits
        (
            "1£2",
            "“1£2” has “£” between its digits: send only digits and a decimal point, like 25.50",
        ),
        (
            "12-50",
            "“12-50” has “-” between its digits: send only digits and a decimal point, like 25.50",
        ),
        (
            "12'50",
            "“12'50” has “'” between its digits: send only digits and a decimal point, like 25.50",
        ),
        (
            "1 £2",
            "“1 £2” has “£” between its digits: send only digits and a decimal point, like 25.50",
        ),
        # another currency, by sign or code: named, never converted or ignored
        ("$12", "this shop counts in GBP, not $: send the amount in GBP, like 25.50"),
        ("€12", "this shop counts in GBP, not €: send the amount in GBP, like 25.50"),
        ("12 €", "this shop counts in GBP, not €: send the amount in GBP, like 25.50"),
        ("12 EUR", "this shop counts in GBP, not EUR: send the amount in GBP, like 25.50"),
        ("usd12", "this shop counts in GBP, not USD: send the amount in GBP, like 25.50"),
        ("US$12", "this shop counts in GBP, not US$: send the amount in GBP, like 25.50"),
        ("12 zł", "this shop counts in GBP, not zł: send the amount in GBP, like 25.50"),
        ("₿12", "this shop counts in GBP, not ₿: send the amount in GBP, like 25.50"),
        ("£12 EUR", "this shop counts in GBP, not EUR: send the amount in GBP, like 25.50"),
        # a point then three digits: 1.25 with a stray zero, or 1250 written the continental way
        ("1.250", "“1.250” could mean 1.25 or 1250: send the one you meant"),
        ("12.340", "“12.340” could mean 12.34 or 12340: send the one you meant"),
        ("£1.000", "“£1.000” could mean 1.00 or 1000: send the one you meant"),
        ("1.234", "use at most two decimal places, like 12.34"),  # as today: 1.234 is no price
    ],
)
def test_each_invalid_amount_is_refused_with_its_reason(
    typed: str, why: str, program: Program
) -> None:
    with pytest.raises(InvalidAmount) as refused:
        rules.parse_amount(typed, program)
    assert refused.value.why == why


def test_an_amount_too_long_to_quote_back_is_refused_without_quoting_it(
    program: Program,
) -> None:
    # 4,000 digits pasted into /earn: echoed back, the reply would be over Telegram's limit.
    with pytest.raises(InvalidAmount) as refused:
        rules.parse_amount("9" * 4000, program)
    assert refused.value.why == "that amount is above the 10,000.00 limit (probably a typo)"
    with pytest.raises(InvalidAmount, match=r"^99,999,999,999\.00 GBP is above"):
        rules.parse_amount("99999999999", program)  # still short enough to show


def test_a_decimal_that_is_not_finite_is_refused_even_when_it_bypasses_parsing(
    program: Program,
) -> None:
    for value in (Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")):
        with pytest.raises(InvalidAmount, match="that is not a number"):
            rules.validate_amount(value, program)


def test_max_purchase_comes_from_the_program(program: Program) -> None:
    small_shop = dataclasses.replace(program, max_purchase=Decimal(50))
    assert rules.parse_amount("50", small_shop) == Decimal("50.00")
    with pytest.raises(InvalidAmount, match=r"above the 50\.00 limit"):
        rules.parse_amount("50.01", small_shop)


@pytest.mark.parametrize(
    ("currency", "typed", "amount"),
    [
        ("USD", "$12", "12.00"),
        ("USD", "US$ 12", "12.00"),
        ("USD", "12 usd", "12.00"),
        ("EUR", "12,50 €", "12.50"),
        ("EUR", "€12.50", "12.50"),
        ("AUD", "A$12", "12.00"),
        ("AUD", "$12", "12.00"),  # "$" is an Australian shop's own sign
        ("PLN", "12,50 zł", "12.50"),
        ("CHF", "CHF 12.50", "12.50"),  # no sign in the table: the code works
    ],
)
def test_the_shops_own_currency_is_its_sign_and_its_code(
    currency: str, typed: str, amount: str, program: Program
) -> None:
    shop = dataclasses.replace(program, currency=currency)
    assert rules.parse_amount(typed, shop) == Decimal(amount)


@pytest.mark.parametrize(
    ("currency", "typed", "why"),
    [
        ("USD", "£12", "this shop counts in USD, not £: send the amount in USD, like 25.50"),
        ("USD", "A$12", "this shop counts in USD, not A$: send the amount in USD, like 25.50"),
        ("EUR", "12 GBP", "this shop counts in EUR, not GBP: send the amount in EUR, like 25.50"),
        ("CHF", "$12", "this shop counts in CHF, not $: send the amount in CHF, like 25.50"),
    ],
)
def test_another_currency_is_refused_naming_the_shops(
    currency: str, typed: str, why: str, program: Program
) -> None:
    shop = dataclasses.replace(program, currency=currency)
    with pytest.raises(InvalidAmount) as refused:
        rules.parse_amount(typed, shop)
    assert refused.value.why == why


def test_the_signs_of_a_currency_come_from_its_code() -> None:
    assert rules.currency_signs("GBP") == ("£",)
    assert rules.currency_signs("EUR") == ("€",)
    assert "$" in rules.currency_signs("USD")
    assert rules.currency_signs("CHF") == ()


# Property tests: any amount written any accepted way reads back as itself, and slipping a space
# or a symbol between two of its digits is always refused, never read as some other amount.

SHOP = DEFAULT_PROGRAM
amounts_in_pence = st.integers(min_value=1, max_value=int(SHOP.max_purchase * 100))


@st.composite
def written(draw: st.DrawFn, pence: int) -> str:
    """`pence` as a cashier might type it: every form parse_amount promises to read."""
    whole, cents = divmod(pence, 100)
    forms = [f"{whole}.{cents:02d}", f"{whole},{cents:02d}"]
    if cents == 0:
        forms += [f"{whole}", f"{whole}.", f"{whole},"]
    if cents % 10 == 0:
        forms += [f"{whole}.{cents // 10}", f"{whole},{cents // 10}"]
    if whole == 0:
        forms += [f".{cents:02d}", f",{cents:02d}"]
    if whole >= 1000:
        grouped = f"{whole:,}"
        forms += [f"{grouped}.{cents:02d}", f"{grouped.replace(',', '.')},{cents:02d}"]
        if cents == 0:
            forms.append(grouped)
    number = draw(st.sampled_from(forms))
    mark = draw(st.sampled_from(["", "£", "GBP", "gbp", "Gbp"]))
    space = draw(st.sampled_from(["", " ", "\u00a0"]))
    if mark and draw(st.booleans()):
        number = f"{number}{space}{mark}"
    elif mark:
        number = f"{mark}{space}{number}"
    return draw(st.sampled_from(["", " ", "  "])) + number + draw(st.sampled_from(["", " "]))


def between_two_digits(data: st.DataObject, text: str) -> int:
    """An index i with digits at i - 1 and i (the caller makes sure there is one)."""
    places = [i for i in range(1, len(text)) if text[i - 1].isdigit() and text[i].isdigit()]
    assume(places)  # "0.1" has no two digits side by side
    return data.draw(st.sampled_from(places))


@settings(max_examples=500, deadline=None)
@given(st.data(), amounts_in_pence)
def test_any_amount_written_an_accepted_way_reads_back_as_itself(
    data: st.DataObject, pence: int
) -> None:
    typed = data.draw(written(pence))
    assert rules.parse_amount(typed, SHOP) == Decimal(pence).scaleb(-2)


@settings(max_examples=500, deadline=None)
@given(st.data(), st.integers(min_value=10, max_value=int(SHOP.max_purchase * 100)))
def test_a_space_between_two_digits_is_always_refused(data: st.DataObject, pence: int) -> None:
    typed = data.draw(written(pence))
    where = between_two_digits(data, typed)
    space = data.draw(st.sampled_from([" ", "  ", "\u00a0", "\u2009", "\u202f"]))
    spaced = typed[:where] + space + typed[where:]
    with pytest.raises(InvalidAmount) as refused:
        rules.parse_amount(spaced, SHOP)
    assert "has a space inside" in refused.value.why


@settings(max_examples=500, deadline=None)
@given(st.data(), st.integers(min_value=10, max_value=int(SHOP.max_purchase * 100)))
def test_a_symbol_between_two_digits_is_always_refused(data: st.DataObject, pence: int) -> None:
    typed = data.draw(written(pence))
    where = between_two_digits(data, typed)
    symbol = data.draw(st.sampled_from(list("£$€#/'_*+-=:;!?%&@~^|\\\"()[]")))
    with pytest.raises(InvalidAmount) as refused:
        rules.parse_amount(typed[:where] + symbol + typed[where:], SHOP)
    assert f"has “{symbol}” between its digits" in refused.value.why


@settings(max_examples=300, deadline=None)
@given(
    st.data(),
    amounts_in_pence,
    st.sampled_from(["$", "€", "¥", "₹", "US$", "EUR", "eur", "USD", "JPY", "CHF", "zł"]),
)
def test_any_other_currency_is_refused_naming_the_shops(
    data: st.DataObject, pence: int, foreign: str
) -> None:
    number = f"{Decimal(pence).scaleb(-2)}"
    typed = data.draw(
        st.sampled_from(
            [
                f"{foreign}{number}",
                f"{foreign} {number}",
                f"{number}{foreign}",
                f"{number} {foreign}",
            ]
        )
    )
    with pytest.raises(InvalidAmount) as refused:
        rules.parse_amount(typed, SHOP)
    assert refused.value.why.startswith("this shop counts in GBP, not ")


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=99_999), st.integers(min_value=0, max_value=999))
def test_every_reading_a_space_refusal_offers_is_accepted_as_offered(whole: int, part: int) -> None:
    for typed in (f"{whole} {part}", f"{whole} {part:02d}"):
        with pytest.raises(InvalidAmount) as refused:
            rules.parse_amount(typed, SHOP)
        why = refused.value.why
        offered = re.findall(r"send (\S+) or (\S+),|send (\S+) if", why)
        for reading in [r for match in offered for r in match if r]:
            assert rules.parse_amount(reading, SHOP) > 0


# --- the one rounding rule -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "points_per_unit", "multiplier", "points"),
    [
        ("0.99", "1", "1", 0),  # under a pound earns nothing
        ("1.00", "1", "1", 1),
        ("25.50", "1", "1.25", 31),  # 31.875 rounds down
        ("25.99", "1", "1", 25),
        ("9.99", "0.1", "1", 0),  # 0.999
        ("10.00", "0.1", "1", 1),  # exactly 1, not 0.9999...
        ("1234.56", "0.1", "1", 123),
        ("100.00", "1", "1.15", 115),  # binary floats would give 114.99999999999999 -> 114
        ("25.50", "0.1", "1.25", 3),  # 3.1875
        ("10000.00", "1", "1.5", 15000),
    ],
)
def test_points_are_always_rounded_down(
    amount: str, points_per_unit: str, multiplier: str, points: int
) -> None:
    assert rules.points_for(Decimal(amount), Decimal(points_per_unit), Decimal(multiplier)) == (
        points
    )


pence = st.integers(min_value=1, max_value=1_000_000)
rates = st.sampled_from(["0.1", "0.5", "1", "1.1", "1.15", "1.25", "1.5", "2", "3.333"])


@settings(max_examples=200, deadline=None)
@given(pence, rates, rates)
def test_points_are_the_exact_product_rounded_down(
    amount_pence: int, points_per_unit: str, multiplier: str
) -> None:
    amount = Decimal(amount_pence).scaleb(-2)
    exact = Fraction(amount_pence, 100) * Fraction(points_per_unit) * Fraction(multiplier)
    assert rules.points_for(amount, Decimal(points_per_unit), Decimal(multiplier)) == math.floor(
        exact
    )


@settings(max_examples=200, deadline=None)
@given(pence)
def test_a_tenth_of_a_point_per_pound_is_one_point_per_whole_ten_pounds(amount_pence: int) -> None:
    amount = Decimal(amount_pence).scaleb(-2)
    assert rules.points_for(amount, Decimal("0.1"), Decimal(1)) == amount_pence // 1000


# --- tiers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lifetime", "tier"),
    [(0, "Bronze"), (499, "Bronze"), (500, "Silver"), (1999, "Silver"), (2000, "Gold")],
)
def test_the_tier_is_the_highest_threshold_reached_by_lifetime_points(
    lifetime: int, tier: str, program: Program
) -> None:
    assert rules.tier_for(lifetime, program.tiers).name == tier


def test_redeeming_never_demotes_because_the_tier_follows_lifetime_points_not_balance(
    program: Program,
) -> None:
    spent_it_all = customer(balance=0, lifetime_earned=2500)
    assert rules.tier_for(spent_it_all["lifetime_earned"], program.tiers).name == "Gold"
    quote = rules.quote_earn(spent_it_all, Decimal("10.00"), program)
    assert quote["tier_before"] == "Gold"
    assert quote["multiplier"] == Decimal("1.5")
    assert quote["points"] == 15


@pytest.mark.parametrize(
    ("lifetime", "progress"),
    [
        (0, {"tier": "Bronze", "next_tier": "Silver", "points_to_next": 500}),
        (499, {"tier": "Bronze", "next_tier": "Silver", "points_to_next": 1}),
        (500, {"tier": "Silver", "next_tier": "Gold", "points_to_next": 1500}),
        (1999, {"tier": "Silver", "next_tier": "Gold", "points_to_next": 1}),
        (2000, {"tier": "Gold", "next_tier": None, "points_to_next": None}),
        (99_999, {"tier": "Gold", "next_tier": None, "points_to_next": None}),
    ],
)
def test_tier_progress_says_how_far_the_next_tier_is_and_none_at_the_top(
    lifetime: int, progress: dict[str, object], program: Program
) -> None:
    assert rules.tier_progress(lifetime, program.tiers) == progress


# --- earning ---------------------------------------------------------------------------------


def test_an_earn_quote_shows_every_number_the_cashier_confirms(program: Program) -> None:
    quote = rules.quote_earn(customer(balance=40, lifetime_earned=40), Decimal("25.50"), program)
    assert quote == {
        "amount": Decimal("25.50"),
        "currency": "GBP",
        "points_per_unit": Decimal(1),
        "base_points": 25,
        "multiplier": Decimal("1.0"),
        "points": 25,
        "balance_before": 40,
        "balance_after": 65,
        "tier_before": "Bronze",
        "tier_after": "Bronze",
    }


def test_a_silver_customer_earns_the_silver_multiplier_rounded_down(program: Program) -> None:
    quote = rules.quote_earn(customer(balance=600), Decimal("25.50"), program)
    assert (quote["base_points"], quote["multiplier"], quote["points"]) == (
        25,
        Decimal("1.25"),
        31,
    )


def test_an_earn_that_crosses_a_threshold_reports_the_tier_before_and_after(
    program: Program,
) -> None:
    quote = rules.quote_earn(customer(balance=490), Decimal("10.00"), program)
    assert quote["points"] == 10  # earned at the old tier's multiplier
    assert (quote["tier_before"], quote["tier_after"]) == ("Bronze", "Silver")


def test_an_earn_one_point_short_of_a_threshold_stays_in_the_tier(program: Program) -> None:
    quote = rules.quote_earn(customer(balance=490), Decimal("9.99"), program)
    assert quote["points"] == 9
    assert (quote["tier_before"], quote["tier_after"]) == ("Bronze", "Bronze")


def test_a_purchase_that_rounds_to_no_points_is_refused(program: Program) -> None:
    # Recording it would count a visit that earned nothing (issue 13: a 0-point earn).
    with pytest.raises(NothingToEarn, match=r"0\.99 GBP rounds to 0 points") as refused:
        rules.quote_earn(customer(balance=5), Decimal("0.99"), program)
    assert refused.value.minimum is None
    assert rules.quote_earn(customer(balance=5), Decimal("1.00"), program)["points"] == 1


def test_a_purchase_below_min_purchase_is_refused_and_one_at_it_earns(program: Program) -> None:
    shop = dataclasses.replace(program, min_purchase=Decimal("5.00"))
    with pytest.raises(NothingToEarn, match=r"4\.99 GBP is below the 5\.00 minimum"):
        rules.quote_earn(customer(), Decimal("4.99"), shop)
    assert rules.quote_earn(customer(), Decimal("5.00"), shop)["points"] == 5


def test_an_earn_quote_refuses_an_invalid_amount(program: Program) -> None:
    with pytest.raises(InvalidAmount, match="two decimal places"):
        rules.quote_earn(customer(), Decimal("1.005"), program)


# --- rewards ---------------------------------------------------------------------------------


def test_reward_options_list_every_reward_cheapest_first_with_the_shortfall(
    program: Program,
) -> None:
    assert rules.reward_options(250, program) == [
        {"id": "coffee", "name": "Free coffee", "cost": 100, "affordable": True, "shortfall": 0},
        {"id": "cake", "name": "Slice of cake", "cost": 250, "affordable": True, "shortfall": 0},
        {
            "id": "tenoff",
            "name": "£10 off your shop",
            "cost": 1000,
            "affordable": False,
            "shortfall": 750,
        },
    ]


def test_with_no_points_nothing_is_affordable(program: Program) -> None:
    options = rules.reward_options(0, program)
    assert [(o["affordable"], o["shortfall"]) for o in options] == [
        (False, 100),
        (False, 250),
        (False, 1000),
    ]


def test_find_reward_ignores_case_and_spaces(program: Program) -> None:
    assert rules.find_reward(" Coffee ", program) == Reward(
        "coffee", "Free coffee", 100, Decimal("2.50")
    )


def test_an_unknown_reward_lists_the_rewards_that_exist(program: Program) -> None:
    with pytest.raises(UnknownReward) as unknown:
        rules.find_reward("tea", program)
    assert unknown.value.reward_id == "tea"
    assert unknown.value.known == ["coffee", "cake", "tenoff"]
    assert str(unknown.value) == "no reward 'tea'; rewards are: coffee, cake, tenoff"


def test_a_redemption_deducts_the_reward_cost(program: Program) -> None:
    cake = rules.find_reward("cake", program)
    assert rules.quote_redeem(customer(balance=300), cake, program) == {
        "reward_id": "cake",
        "reward_name": "Slice of cake",
        "cost": 250,
        "points": 250,
        "balance_before": 300,
        "balance_after": 50,
    }


def test_a_redemption_with_exactly_the_cost_leaves_zero(program: Program) -> None:
    coffee = rules.find_reward("coffee", program)
    assert rules.quote_redeem(customer(balance=100), coffee, program)["balance_after"] == 0


def test_in_reset_mode_a_redemption_spends_the_whole_balance(program: Program) -> None:
    punch_card = dataclasses.replace(program, reset_after_redemption=True)
    coffee = rules.find_reward("coffee", punch_card)
    quote = rules.quote_redeem(customer(balance=340), coffee, punch_card)
    assert quote["cost"] == 100
    assert quote["points"] == 340
    assert quote["balance_after"] == 0


def test_a_redemption_short_of_points_says_by_how_much(program: Program) -> None:
    cake = rules.find_reward("cake", program)
    with pytest.raises(InsufficientPoints) as short:
        rules.quote_redeem(customer(balance=180), cake, program)
    assert (short.value.balance, short.value.cost, short.value.shortfall) == (180, 250, 70)
    assert str(short.value) == "balance 180 is 70 points short of 250"


def test_reset_mode_still_refuses_a_balance_below_the_cost(program: Program) -> None:
    punch_card = dataclasses.replace(program, reset_after_redemption=True)
    with pytest.raises(InsufficientPoints) as short:
        rules.quote_redeem(
            customer(balance=99), rules.find_reward("coffee", punch_card), punch_card
        )
    assert short.value.shortfall == 1


def test_redemption_codes_are_short_and_avoid_look_alike_characters() -> None:
    codes = {rules.new_redemption_code() for _ in range(200)}
    assert len(codes) > 190  # random, not a counter
    for code in codes:
        assert len(code) == 7
        assert code[3] == "-"
        assert not set(code) & set("0O1IL")
