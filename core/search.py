"""Finding a customer by name or e-mail (/find): the one way text is folded for comparing.

"Zoë O'Brien" and "zoe o'brien" must meet, and so must "CHRIS" and "Christine", so both the
stored key and the query are folded the same way: Unicode compatibility form, accents
(combining marks) dropped, case folded, runs of spaces made one. The key is kept on the
customer's row (customers.search_key, migration 0012) and indexed; core/db/finding.py matches
a query as a substring of it.
"""

from __future__ import annotations

import unicodedata
from typing import Final

MIN_QUERY: Final = 2  # characters: one letter matches half the shop
MAX_QUERY: Final = 60


def fold(text: str) -> str:
    """'  Zoë   O’Brien ' -> "zoe o’brien": what /find compares."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def search_key(name: str, email: str | None) -> str:
    """The stored key of a customer: their folded name, then their folded e-mail if any.

    One column rather than two, so one index scan answers "Chris" and "chris@example.com"
    alike. A tab separates them: no folded name or e-mail contains one, so a query never
    matches across the two.
    """
    return fold(name) + ("\t" + fold(email) if email else "")


def like_pattern(query: str) -> str:
    """The folded query as a LIKE pattern matching it anywhere (with `\\` as the escape)."""
    folded = fold(query)
    escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
