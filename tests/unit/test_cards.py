"""core.cards: eight-digit card numbers whose Damm check digit catches every common typo."""

from __future__ import annotations

import random

import pytest

from core.cards import (
    CARD_DIGITS,
    card_from_payload,
    check_digit,
    format_card,
    is_valid_card,
    new_card_number,
)

# A few cards drawn once, reproducibly; the typo tests below are exhaustive for each.
RANDOM_CARDS = [card_from_payload(p) for p in random.Random(20260314).sample(range(10**7), 8)]
EXTREME_CARDS = [card_from_payload(0), card_from_payload(9_999_999)]  # "00000000", "99999999"


def single_digit_typos(card: str) -> list[str]:
    return [
        card[:i] + digit + card[i + 1 :]
        for i in range(len(card))
        for digit in "0123456789"
        if digit != card[i]
    ]


def adjacent_swaps(card: str) -> list[str]:
    return [
        card[:i] + card[i + 1] + card[i] + card[i + 2 :]
        for i in range(len(card) - 1)
        if card[i] != card[i + 1]
    ]


def test_the_damm_check_digit_of_the_textbook_example_is_4() -> None:
    # The worked example from the algorithm's description: 572 -> check digit 4.
    assert check_digit("572") == "4"
    assert is_valid_card(card_from_payload(5720000))


def test_a_card_number_is_eight_digits_ending_in_its_check_digit() -> None:
    card = card_from_payload(4821337)
    assert card == "4821337" + check_digit("4821337")
    assert len(card) == CARD_DIGITS
    assert is_valid_card(card)


def test_small_payloads_keep_their_leading_zeros() -> None:
    card = card_from_payload(42)
    assert card.startswith("0000042")
    assert is_valid_card(card)


@pytest.mark.parametrize("card", RANDOM_CARDS + EXTREME_CARDS)
def test_every_single_digit_typo_of_a_card_is_invalid(card: str) -> None:
    assert is_valid_card(card)
    typos = single_digit_typos(card)
    assert len(typos) == 8 * 9
    assert [t for t in typos if is_valid_card(t)] == []


@pytest.mark.parametrize("card", RANDOM_CARDS)
def test_every_swap_of_two_adjacent_digits_of_a_card_is_invalid(card: str) -> None:
    swaps = adjacent_swaps(card)
    assert len(swaps) >= 5  # most neighbours differ in a random card: the test has teeth
    assert [s for s in swaps if is_valid_card(s)] == []


@pytest.mark.parametrize(
    "text",
    ["", "1234567", "123456789", "4821 3376", "4821-3376", "abcdefgh", "４８２１３３７６"],
)
def test_anything_but_eight_plain_digits_is_not_a_card_number(text: str) -> None:
    assert not is_valid_card(text)


def test_new_card_numbers_are_valid_and_random_not_sequential() -> None:
    cards = [new_card_number() for _ in range(200)]
    assert all(is_valid_card(c) for c in cards)
    assert len(set(cards)) > 195
    payloads = sorted(int(c[:7]) for c in cards)
    # Sequential numbering would put 200 cards within a few hundred of each other.
    assert payloads[-1] - payloads[0] > 1_000_000


def test_a_card_is_printed_in_two_groups_of_four() -> None:
    assert format_card("48213376") == "4821 3376"
