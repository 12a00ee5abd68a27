"""Telegram's HTML: what a formatted text reads as, and what Telegram refuses to parse.

The rules are tdlib's ``parse_html``; error messages use Telegram's words and byte offsets so
a refused call in a test reads like the ``BadRequest`` production would get.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["Entity", "parse_entities", "parse_html", "utf16_len"]

Entity = tuple[str, str, int, int]  # (tag, argument, start, end) in visible-text positions

_HTML_TAGS: Final = frozenset(
    {"a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler"}
    | {"code", "pre", "blockquote", "tg-emoji"}
)
_NAMED_ENTITIES: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE: Final = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")


def parse_html(text: str) -> str:
    """Returns the visible text of an HTML-formatted message, or raises ValueError.

    Follows Telegram's parser (tdlib's ``parse_html``): only the documented tags, every tag closed
    in order, tag names case-insensitive, unknown attributes ignored. One deliberate strictness:
    a bare ``&`` or ``>`` is refused although Telegram tolerates them, because the Bot API says
    they must be escaped and an unescaped one almost always means ``html.escape`` was forgotten
    on user-supplied text (which breaks for real as soon as that text contains ``<``).
    """
    return parse_entities(text)[0]


def parse_entities(text: str) -> tuple[str, list[Entity]]:
    """Returns the visible text and its entities, sorted by position, or raises ValueError."""
    out: list[str] = []
    entities: list[Entity] = []
    stack: list[tuple[str, str, int]] = []  # open tags: (name, argument, visible start)
    n = len(text)
    i = 0

    def fail(message: str) -> ValueError:
        return ValueError(f"can't parse entities: {message}")

    def byte_offset(pos: int) -> int:
        # Telegram reports offsets in UTF-8 bytes of the original text.
        return len(text[:pos].encode("utf-8"))

    def visible_len() -> int:
        return sum(len(part) for part in out)

    while i < n:
        char = text[i]
        if char == "&":
            match = _ENTITY_RE.match(text, i)
            if match is None:
                raise fail(
                    f"Character '&' is reserved and must be escaped as &amp; "
                    f"at byte offset {byte_offset(i)}"
                )
            out.append(_decode_entity(match))
            i = match.end()
            continue
        if char == ">":
            raise fail(
                f"Character '>' is reserved and must be escaped as &gt; "
                f"at byte offset {byte_offset(i)}"
            )
        if char != "<":
            out.append(char)
            i += 1
            continue
        begin = i
        if i + 1 < n and text[i + 1] == "/":
            j = i + 2
            while j < n and not text[j].isspace() and text[j] != ">":
                j += 1
            end_name = text[i + 2 : j].lower()
            while j < n and text[j].isspace():
                j += 1
            if j >= n or text[j] != ">":
                raise fail(f"Unclosed end tag at byte offset {byte_offset(begin)}")
            if not stack:
                raise fail(f"Unexpected end tag at byte offset {byte_offset(begin)}")
            name, argument, start = stack.pop()
            if end_name and end_name != name:
                raise fail(
                    f"Unmatched end tag at byte offset {byte_offset(begin)}, "
                    f'expected "</{name}>", found "</{end_name}>"'
                )
            entities.append((name, argument, start, visible_len()))
            i = j + 1
            continue
        j = i + 1
        while j < n and not text[j].isspace() and text[j] != ">":
            j += 1
        if j >= n:
            raise fail(f"Unclosed start tag at byte offset {byte_offset(begin)}")
        name = text[i + 1 : j].lower()
        if name not in _HTML_TAGS:
            raise fail(f'Unsupported start tag "{name}" at byte offset {byte_offset(begin)}')
        attributes, i = _parse_attributes(text, j, name, byte_offset(begin))
        argument = ""
        if name == "a":
            argument = attributes.get("href", "")
        elif name == "span":
            if attributes.get("class") != "tg-spoiler":
                raise fail(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}'
                )
        elif name == "code":
            argument = attributes.get("class", "")
        stack.append((name, argument, visible_len()))
    if stack:
        raise fail(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return "".join(out), sorted(entities, key=lambda e: (e[2], -e[3]))


def _parse_attributes(text: str, i: int, tag: str, tag_offset: int) -> tuple[dict[str, str], int]:
    """Parses `name="value"` pairs from text[i:] up to '>'; returns them and the index after it."""
    attributes: dict[str, str] = {}
    n = len(text)
    unclosed = ValueError(f"can't parse entities: Unclosed start tag at byte offset {tag_offset}")
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise unclosed
        if text[i] == ">":
            return attributes, i + 1
        start = i
        while i < n and not text[i].isspace() and text[i] not in "=>":
            i += 1
        attr = text[start:i].lower()
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise unclosed
        if text[i] != "=":
            if tag == "blockquote" and attr == "expandable":
                attributes[attr] = ""
                continue
            raise ValueError(
                "can't parse entities: Expected equal sign in declaration of an attribute "
                f'of the tag "{tag}" at byte offset {tag_offset}'
            )
        i += 1
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise unclosed
        if text[i] in "'\"":
            quote = text[i]
            end = text.find(quote, i + 1)
            if end < 0:
                raise unclosed
            raw = text[i + 1 : end]
            value = _ENTITY_RE.sub(_decode_entity, raw)
            i = end + 1
        else:
            start = i
            while i < n and (text[i].isalnum() or text[i] in ".-"):
                i += 1
            value = text[start:i]
        attributes[attr] = value


def _decode_entity(match: re.Match[str]) -> str:
    named, decimal, hexadecimal = match.groups()
    if named:
        return _NAMED_ENTITIES[named]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"


def utf16_len(text: str) -> int:
    """The length Telegram measures entity offsets in: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2
