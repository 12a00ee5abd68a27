"""Every user-visible text in the reader's own language (issue "Customers at the centre").

How a text is translated:
- In code, a text is wrapped where it is used: `_("Nothing to cancel.")`, or for counts
  `ngettext("{n} point", "{n} points", n).format(n=n)`. A text defined at import time (a
  module constant, a menu) is marked with `N_(...)` and translated where it is sent: `_(HELP)`.
  Placeholders are named (`{name}`), never positional, so a translation may reorder them.
- The catalogs are gettext `.po` files in `bot/locale/<lang>/LC_MESSAGES/messages.po`, managed
  with Babel (`python3 dev.py i18n extract|update|compile`); the compiled `.mo` files are
  committed and ship in the package, so an install needs no build step. A test fails when a
  shipped language lacks a translation or a translation breaks a placeholder or the HTML
  (tests/unit/test_catalogs.py).
- Which language: the one the person chose with /language, else their Telegram app's
  `language_code` when it is one we ship, else the shop's `[shop] language`. `speaking(lang)`
  renders text for someone else (a notice to a customer written while serving the cashier).

The language lives in a context variable: python-telegram-bot runs each update (and each job) in
its own asyncio task, and a task starts with a copy of the context, so one person's language
never leaks into another's reply.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Final

# The languages with complete catalogs, and their names as their speakers write them (the
# /language buttons).
LANGUAGES: Final[dict[str, str]] = {"en": "English", "es": "Español", "ru": "Русский"}
SOURCE: Final = "en"  # the language the code is written in: its catalog is the identity
LOCALE_DIR: Final = Path(__file__).parent / "locale"
DOMAIN: Final = "messages"

_current: ContextVar[str] = ContextVar("language", default=SOURCE)


@cache
def _catalog(language: str) -> gettext.NullTranslations:
    if language == SOURCE:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[language], fallback=True)


def _(message: str) -> str:
    """`message` in the current language (itself when untranslated)."""
    return _catalog(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a counted message for `n` in the current language (Russian has three)."""
    return _catalog(_current.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a text for the catalogs without translating it (translated where it is sent)."""
    return message


def current() -> str:
    """The language texts are being written in now."""
    return _current.get()


def use(language: str) -> None:
    """Sets the language for the rest of this update (the task's own copy of the context)."""
    _current.set(language if language in LANGUAGES else SOURCE)


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Texts inside are written in `language`: for a message to someone other than the sender."""
    token = _current.set(language if language in LANGUAGES else SOURCE)
    try:
        yield
    finally:
        _current.reset(token)


def supported(code: str | None) -> str | None:
    """The shipped language for a Telegram `language_code` ("es-419" -> "es"), or None."""
    if not code:
        return None
    base = code.replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def choose(chosen: str | None, telegram_code: str | None, shop_default: str) -> str:
    """The reader's language: their /language choice, their app's language, or the shop's."""
    return supported(chosen) or supported(telegram_code) or supported(shop_default) or SOURCE
