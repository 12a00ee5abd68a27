"""core.search: /find compares names and e-mails folded the same way on both sides."""

from __future__ import annotations

import pytest

from core.search import fold, like_pattern, search_key


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Zoë O'Brien", "zoe o'brien"),
        ("  CHRIS   lee ", "chris lee"),
        ("José Álvarez", "jose alvarez"),
        ("Straße", "strasse"),  # casefold, not lower
        ("ﬁona", "fiona"),  # a ligature, by compatibility form
    ],
)
def test_fold_ignores_case_accents_and_spacing(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_the_key_holds_the_name_then_the_email_apart() -> None:
    assert search_key("Zoë Lee", "Zoe@Example.com") == "zoe lee\tzoe@example.com"
    assert search_key("Zoë Lee", None) == "zoe lee"


def test_like_wildcards_typed_by_a_cashier_match_only_themselves() -> None:
    assert like_pattern("Zoë") == "%zoe%"
    assert like_pattern("50%_off\\") == "%50\\%\\_off\\\\%"
