"""Card numbers: eight digits, the last a Damm check digit.

Eight digits read aloud in two groups ("4821 3379"). The Damm algorithm catches every
single-digit typo and every swap of two adjacent digits, so a mistyped card number is refused
rather than matching somebody else's card.
"""

from __future__ import annotations

import secrets

CARD_DIGITS = 8

# The Damm quasigroup of order 10 (weakly totally anti-symmetric).
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def check_digit(payload: str) -> str:
    """Returns the Damm check digit of a string of digits."""
    interim = 0
    for ch in payload:
        interim = _DAMM[interim][int(ch)]
    return str(interim)


def is_valid_card(number: str) -> bool:
    """True when `number` is 8 digits whose last is the check digit of the first seven."""
    return (
        len(number) == CARD_DIGITS
        and number.isascii()
        and number.isdigit()
        and check_digit(number) == "0"  # Damm: a valid number checks to zero
    )


def card_from_payload(payload: int) -> str:
    """The card number for a 7-digit payload (demo data and benchmarks make them in bulk)."""
    digits = f"{payload:0{CARD_DIGITS - 1}d}"
    return digits + check_digit(digits)


def new_card_number() -> str:
    """Returns a fresh random card number (uniqueness is the database's job: it retries).

    Random rather than sequential, so a card number says nothing about how many customers
    the shop has and the next one cannot be guessed.
    """
    return card_from_payload(secrets.randbelow(10 ** (CARD_DIGITS - 1)))


def format_card(number: str) -> str:
    """'48213379' -> '4821 3379', the way it is printed and read aloud."""
    return f"{number[:4]} {number[4:]}"
