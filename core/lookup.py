"""Finding a customer from what a cashier types: a card number or a phone number.

Rules, in order (pure, no I/O; the database lookup itself is in core/db/repository.py):
- eight digits (spaces and dashes allowed) whose check digit matches: a card number;
- otherwise anything that parses as a phone number in any common format: a phone number;
- eight digits with a wrong check digit that are not a phone number either: a typo, said so,
  rather than silently matching someone else.
"""

from __future__ import annotations

import re
from typing import Literal

from core.cards import CARD_DIGITS, is_valid_card
from core.contact import normalize_phone
from core.errors import InvalidContact, InvalidReference

Reference = tuple[Literal["card", "phone"], str]


def parse_reference(text: str, region: str) -> Reference:
    """Returns ("card", "48213376") or ("phone", "+447400123456"), or InvalidReference."""
    raw = text.strip()
    compact = re.sub(r"[\s.-]", "", raw)
    if compact.isdigit() and len(compact) == CARD_DIGITS and is_valid_card(compact):
        return ("card", compact)
    try:
        return ("phone", normalize_phone(raw, region))
    except InvalidContact as exc:
        if compact.isdigit() and len(compact) == CARD_DIGITS:
            raise InvalidReference(
                raw, "that card number doesn't check out: a digit is probably mistyped"
            ) from None
        raise InvalidReference(
            raw, f"“{raw[:30]}” is not a card number or a phone number ({exc.why})"
        ) from None
