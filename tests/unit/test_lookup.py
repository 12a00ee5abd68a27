"""core.lookup: what a cashier typed is a card number, a phone number, or a typo said so."""

from __future__ import annotations

import random

import pytest

from core.cards import card_from_payload, is_valid_card
from core.errors import InvalidReference
from core.lookup import parse_reference

CARD = card_from_payload(4821337)  # "48213379"
TYPO = "that card number doesn't check out: a digit is probably mistyped"


@pytest.mark.parametrize("typed", ["48213379", "4821 3379", "4821-3379", " 4821.3379 "])
def test_a_valid_card_number_is_found_as_a_card_however_it_is_spaced(typed: str) -> None:
    assert CARD == "48213379"
    assert parse_reference(typed, "GB") == ("card", "48213379")


@pytest.mark.parametrize("typed", ["07400 123456", "+44 7400 123456", "447400123456"])
def test_a_phone_number_is_found_as_a_phone_in_e164(typed: str) -> None:
    assert parse_reference(typed, "GB") == ("phone", "+447400123456")


def test_a_card_number_with_one_wrong_digit_is_called_a_typo() -> None:
    with pytest.raises(InvalidReference) as typo:
        parse_reference("4821 3376", "GB")
    assert typo.value.why == TYPO
    assert typo.value.reference == "4821 3376"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_single_digit_typo_and_adjacent_swap_of_a_card_is_called_a_typo(seed: int) -> None:
    card = card_from_payload(random.Random(seed).randrange(10**7))
    typos = {card[:i] + d + card[i + 1 :] for i in range(8) for d in "0123456789"}
    typos |= {card[:i] + card[i + 1] + card[i] + card[i + 2 :] for i in range(7)}
    typos.discard(card)
    for typed in sorted(typos):
        with pytest.raises(InvalidReference) as refused:
            parse_reference(typed, "GB")
        assert refused.value.why == TYPO, typed


def test_eight_bare_digits_are_not_guessed_to_be_a_foreign_number() -> None:
    # A typo of card 49793484 that is also +49 793481 in Germany: in a UK shop it is a typo.
    assert not is_valid_card("49793481")
    with pytest.raises(InvalidReference, match="mistyped"):
        parse_reference("49793481", "GB")


def test_a_foreign_number_written_with_its_plus_is_a_phone() -> None:
    assert parse_reference("+49 793481", "GB") == ("phone", "+49793481")


def test_in_a_country_with_eight_digit_numbers_they_are_phones_unless_they_are_cards() -> None:
    assert not is_valid_card("32123456")
    assert parse_reference("32 12 34 56", "DK") == ("phone", "+4532123456")
    assert parse_reference("48213379", "DK") == ("card", "48213379")


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("hello", "“hello” is not a card number or a phone number (a phone number has only"),
        (
            "4821337",
            "“4821337” is not a card number or a phone number (it is not a valid number for GB)",
        ),
        ("", "“” is not a card number or a phone number (the phone number is empty)"),
    ],
)
def test_something_that_is_neither_is_refused_with_the_reason(typed: str, why: str) -> None:
    with pytest.raises(InvalidReference) as refused:
        parse_reference(typed, "GB")
    assert refused.value.why.startswith(why)
