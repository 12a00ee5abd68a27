"""The translation catalogs (bot/locale): complete, faithful to their placeholders and HTML,
and compiled. A text marked in the code but missing from a shipped language fails here, so no
reader ever gets English in the middle of their own language by accident.

To fix a failure: `python3 dev.py i18n` (extract, update, compile), translate the new empty
entries in bot/locale/<lang>/LC_MESSAGES/messages.po, and run it again to compile.
"""

from __future__ import annotations

import ast
import gettext
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot import i18n
from core.config import SHIPPED_LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [lang for lang in i18n.LANGUAGES if lang != i18n.SOURCE]
# "gettext": core's `words.gettext(...)` (core/marks.py), as pybabel's default keywords read it.
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}


def _marked_in_code() -> set[str]:
    """Every text the code marks for translation (as `dev.py i18n` extracts them)."""
    found: set[str] = set()
    for folder in ("bot", "core"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


def _catalog(language: str) -> Catalog:
    path = i18n.LOCALE_DIR / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with path.open("rb") as f:
        return read_po(f, locale=language)


def _messages(language: str) -> list[Message]:
    return [m for m in _catalog(language) if m.id]


def _forms(message: Message) -> list[tuple[str, str]]:
    """(original, translation) pairs: one, or one per plural form (the plural original for
    every form after the first)."""
    ids = [str(i) for i in message.id] if isinstance(message.id, (tuple, list)) else [message.id]
    strings = message.string if isinstance(message.string, (tuple, list)) else [message.string]
    return [(ids[min(i, len(ids) - 1)], str(s or "")) for i, s in enumerate(strings)]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(f"<{tag} {sorted(attrs)}>")

    def handle_endtag(self, tag: str) -> None:
        self.tags.append(f"</{tag}>")


def _tags(text: str) -> list[str]:
    parser = _Tags()
    parser.feed(text)
    return sorted(parser.tags)


def test_the_shop_languages_are_the_shipped_ones() -> None:
    assert tuple(i18n.LANGUAGES) == SHIPPED_LANGUAGES


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_marked_text_has_a_translation(language: str) -> None:
    catalog = {m.id[0] if isinstance(m.id, tuple) else m.id: m for m in _messages(language)}
    missing = [
        text
        for text in sorted(_marked_in_code())
        if text not in catalog or not all(t for _, t in _forms(catalog[text]))
    ]
    assert not missing, f"{language}: no translation for {missing[:5]} (run dev.py i18n)"


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_their_placeholders_html_and_commands(language: str) -> None:
    broken = []
    for message in _messages(language):
        for original, translated in _forms(message):
            same = (
                set(re.findall(r"\{\w*\}", original)) == set(re.findall(r"\{\w*\}", translated))
                and _tags(original) == _tags(translated)
                and set(re.findall(r"/[a-z]+", original)) <= set(re.findall(r"/[a-z]+", translated))
            )
            if not same:
                broken.append(original[:40])
    assert not broken, f"{language}: placeholders, tags or commands differ in {broken}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalog_is_up_to_date(language: str) -> None:
    compiled = gettext.translation(i18n.DOMAIN, i18n.LOCALE_DIR, languages=[language])
    stale = []
    for message in _messages(language):
        forms = _forms(message)
        if len(forms) > 1:  # a counted text: its first form and its last ("5 баллов")
            (singular, one), (plural, many) = forms[0], forms[-1]
            if (compiled.ngettext(singular, plural, 1), compiled.ngettext(singular, plural, 5)) != (
                one,
                many,
            ):
                stale.append(singular[:40])
        elif compiled.gettext(forms[0][0]) != forms[0][1]:
            stale.append(forms[0][0][:40])
    assert not stale, f"{language}: the .mo differs from the .po for {stale} (dev.py i18n)"


def test_russian_counts_take_their_three_forms() -> None:
    with i18n.speaking("ru"):
        shown = [i18n.ngettext("{n} point", "{n} points", n).format(n=n) for n in (1, 3, 5, 21)]
    assert shown == ["1 балл", "3 балла", "5 баллов", "21 балл"]


def test_no_marked_text_hides_inside_an_f_string() -> None:
    """Babel's extractor (on Python 3.11) skips calls written inside an f-string, so
    `f"{_('Balance')}: ..."` would reach no catalog and stay English in every language, and
    the tests above, which extract the same way, could not see it."""
    marks = {"_", "N_", "ngettext", "gettext"}
    hidden = []
    for folder in ("bot", "core"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for fstring in (n for n in ast.walk(tree) if isinstance(n, ast.JoinedStr)):
                for call in (n for n in ast.walk(fstring) if isinstance(n, ast.Call)):
                    name = getattr(call.func, "id", None) or getattr(call.func, "attr", None)
                    if name in marks and call.args and isinstance(call.args[0], ast.Constant):
                        hidden.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert not hidden, f"marked texts inside f-strings (move them out): {hidden}"
