"""Words the loyalty engine writes for people, marked for the translation catalogs.

core/ never imports bot/ (imports point one way), so it cannot translate; it marks. A text
marked `N_("...")` here is extracted into bot/locale's catalogs by `python3 dev.py i18n` and
translated by bot/ where it is shown (bot/i18n.py). A core function that writes whole texts (a
report) takes a `Words` and calls `words.gettext` / `words.ngettext`: bot/ passes the reader's
language, tests and the CLI pass `ENGLISH`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final


def N_(message: str) -> str:
    """Marks a text for the catalogs without translating it (bot/ translates it when shown)."""
    return message


def _english_plural(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


@dataclass(frozen=True)
class Words:
    """How to translate: `gettext(text)` and `ngettext(singular, plural, n)`."""

    gettext: Callable[[str], str]
    ngettext: Callable[[str, str, int], str]


ENGLISH: Final = Words(gettext=lambda message: message, ngettext=_english_plural)
