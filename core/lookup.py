"""Finding a customer from what a cashier types: a card number or a phone number.

Rules, in order (pure, no I/O; the database lookup itself is in core/db/store.py):
- eight digits (spaces and dashes allowed) whose check digit matches: a card number;
- otherwise anything that parses as a phone number in any common format: a phone number
  (eight bare digits only as a number of the shop's own country, see below);
- eight digits with a wrong check digit that are not a phone number either: a typo, said so,
  rather than silently matching someone else.
"""

from __future__ import annotations

import re
from typing import Literal

import phonenumbers

from core.cards import CARD_DIGITS, is_valid_card
from core.contact import normalize_phone
from core.errors import InvalidContact, InvalidReference, Reason
from core.marks import N_

Reference = tuple[Literal["card", "phone"], str]


def parse_reference(text: str, region: str) -> Reference:
    """Returns ("card", "48213379") or ("phone", "+447400123456"), or InvalidReference."""
    raw = text.strip()
    compact = re.sub(r"[\s.-]", "", raw)
    if compact.isdigit() and len(compact) == CARD_DIGITS and is_valid_card(compact):
        return ("card", compact)
    card_shaped = compact.isdigit() and len(compact) == CARD_DIGITS
    typo = InvalidReference(
        raw, Reason(N_("that card number doesn't check out: a digit is probably mistyped"))
    )
    try:
        phone = normalize_phone(raw, region)
    except InvalidContact as exc:
        if card_shaped:
            raise typo from None
        raise InvalidReference(
            raw,
            Reason(
                N_("“{typed}” is not a card number or a phone number ({why})"),
                {"typed": raw[:30], "why": exc.reason},
            ),
        ) from None
    # Eight bare digits are a phone only as a local number: read with a guessed "+" they are
    # often valid abroad ("49793481" -> +49 793481), which would hide a mistyped card number.
    if card_shaped and not _in_region(phone, region):
        raise typo
    return ("phone", phone)


def _in_region(e164: str, region: str) -> bool:
    return bool(
        phonenumbers.parse(e164, None).country_code == phonenumbers.country_code_for_region(region)
    )
