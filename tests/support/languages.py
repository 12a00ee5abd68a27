"""For tests that run a flow in every shipped language: which English texts leaked into a reply.

A reply in Spanish or Russian should contain no sentence of the English catalog. `leaked(text)`
lists the English messages (their fixed words, placeholders cut out) found in `text`; a test
asserts it is empty. Short texts (a word or two: "Gold", "OK") are left out, because a name or
a command can legitimately be spelled the same in every language.
"""

from __future__ import annotations

import re
from functools import cache

from babel.messages.pofile import read_po

from bot import i18n

SHIPPED = tuple(i18n.LANGUAGES)  # ("en", "es", "ru"): parametrize flow tests over this
TRANSLATED = tuple(lang for lang in SHIPPED if lang != i18n.SOURCE)

_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_TAG = re.compile(r"<[^>]+>")


@cache
def _english_pieces() -> tuple[str, ...]:
    """The fixed runs of words of every English message that are long enough to be telling."""
    path = i18n.LOCALE_DIR / "es" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale="es")
    pieces: set[str] = set()
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, (tuple, list)) else (message.id,)
        for text in ids:
            for piece in _PLACEHOLDER.split(_TAG.sub(" ", str(text))):
                for line in piece.split("\n"):
                    words = line.strip(" .,:;!?–—-()«»“”\"'")
                    if len(words) >= 14 and len(words.split()) >= 3:
                        pieces.add(words)
    return tuple(sorted(pieces))


def leaked(text: str) -> list[str]:
    """The English pieces found in `text` (empty when the reply is wholly translated)."""
    plain = _TAG.sub(" ", text)
    return [piece for piece in _english_pieces() if piece in plain]
