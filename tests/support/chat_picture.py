"""Draws a chat as the guide's pictures show it: what the bot sent (and what the user typed)
as bubbles with their bold text and inline buttons, from the offline bot's recorded calls.

The guide's pictures of a scan and of a history page (docs/images) are made by running the real
Application (tests/support/guide_pictures.py), so they show the bot's real words and buttons,
not a mock-up that drifts from the code. Pillow comes with matplotlib; the fonts are the DejaVu
faces matplotlib ships. Emoji those fonts lack are left out of the picture (a phone shows them).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import matplotlib
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]  # matplotlib's dependency
from PIL import Image, ImageDraw, ImageFont

from bot.offline import keyboard_rows
from bot.offline.html import parse_entities

WIDTH = 720
MARGIN = 16
BUBBLE_MAX = 560
PAD = 12
LINE = 24
FONT_SIZE = 17
BACKGROUND = (223, 231, 236)
BOT_BUBBLE = (255, 255, 255)
USER_BUBBLE = (225, 247, 203)
BUTTON = (181, 198, 211)
TEXT = (20, 24, 28)

_FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@cache
def _font(bold: bool) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(_FONTS / name), FONT_SIZE)


@cache
def _drawable() -> frozenset[int]:
    """The code points the regular face can draw (both faces cover the same ones we use)."""
    cmap = TTFont(str(_FONTS / "DejaVuSans.ttf"))["cmap"].getBestCmap()
    return frozenset(cmap)


def drawable(text: str) -> str:
    """`text` without the characters the font cannot draw (emoji), spaces tidied."""
    kept = "".join(ch for ch in text if ord(ch) in _drawable() or ch == "\n")
    return "\n".join(" ".join(line.split()) for line in kept.split("\n"))


@dataclass
class Bubble:
    """One message: who sent it, its visible text with bold ranges, its buttons, a picture."""

    text: str
    bold: list[tuple[int, int]] = field(default_factory=list)
    from_user: bool = False
    buttons: list[list[str]] = field(default_factory=list)
    image: bytes | None = None


def bot_bubble(html: str, reply_markup: object = None) -> Bubble:
    """A bot message from its HTML text and the `reply_markup` it was sent with."""
    visible, entities = parse_entities(html)
    bold = [(start, end) for tag, _arg, start, end in entities if tag in ("b", "strong")]
    rows = keyboard_rows({"reply_markup": reply_markup}) if reply_markup else []
    buttons = [[drawable(str(b.get("text", ""))) for b in row] for row in rows]
    return Bubble(text=visible, bold=bold, buttons=buttons)


def _runs(bubble: Bubble) -> list[list[tuple[str, bool]]]:
    """The bubble's lines, each as (word, bold) pairs."""
    lines: list[list[tuple[str, bool]]] = []
    offset = 0
    for raw in bubble.text.split("\n"):
        words: list[tuple[str, bool]] = []
        position = offset
        for word in raw.split(" "):
            is_bold = any(start <= position < end for start, end in bubble.bold)
            shown = drawable(word)
            if shown:
                words.append((shown, is_bold))
            position += len(word) + 1
        lines.append(words)
        offset += len(raw) + 1
    return lines


def _wrapped(bubble: Bubble, width: int) -> list[list[tuple[str, bool, int]]]:
    """Lines that fit `width`: (word, bold, x) triples."""
    space = int(_font(False).getlength(" "))
    out: list[list[tuple[str, bool, int]]] = []
    for words in _runs(bubble):
        line: list[tuple[str, bool, int]] = []
        x = 0
        for word, bold in words:
            w = int(_font(bold).getlength(word))
            if line and x + w > width:
                out.append(line)
                line, x = [], 0
            line.append((word, bold, x))
            x += w + space
        out.append(line)
    return out


def render(bubbles: list[Bubble]) -> bytes:
    """The chat as a PNG, bubbles top to bottom."""
    inner = BUBBLE_MAX - 2 * PAD
    layouts = [_wrapped(b, inner) for b in bubbles]
    pictures = [
        Image.open(io.BytesIO(b.image)).convert("RGB") if b.image else None for b in bubbles
    ]
    height = MARGIN
    for bubble, lines, picture in zip(bubbles, layouts, pictures, strict=True):
        height += (260 + PAD if picture else 0) + len(lines) * LINE + 2 * PAD + MARGIN
        height += len(bubble.buttons) * (LINE + 18)
    image = Image.new("RGB", (WIDTH, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    y = MARGIN
    for bubble, lines, picture in zip(bubbles, layouts, pictures, strict=True):
        text_width = max(
            (x + int(_font(b).getlength(w)) for line in lines for w, b, x in line), default=0
        )
        box_width = max(text_width, 260 if picture else 0) + 2 * PAD
        if not bubble.text.strip():
            box_width = 260 + 2 * PAD if picture else box_width
        left = WIDTH - MARGIN - box_width if bubble.from_user else MARGIN
        box_height = (260 + PAD if picture else 0) + len(lines) * LINE + 2 * PAD
        colour = USER_BUBBLE if bubble.from_user else BOT_BUBBLE
        draw.rounded_rectangle((left, y, left + box_width, y + box_height), 14, fill=colour)
        top = y + PAD
        if picture:
            image.paste(picture.resize((260, 260)), (left + PAD, top))
            top += 260 + PAD
        for line in lines:
            for word, bold, x in line:
                draw.text((left + PAD + x, top), word, font=_font(bold), fill=TEXT)
            top += LINE
        y += box_height + 6
        for row in bubble.buttons:
            cell = (BUBBLE_MAX - 4 * (len(row) - 1)) // max(len(row), 1)
            for i, label in enumerate(row):
                x0 = MARGIN + i * (cell + 4)
                draw.rounded_rectangle((x0, y, x0 + cell, y + LINE + 12), 10, fill=BUTTON)
                w = _font(False).getlength(label)
                draw.text(
                    (x0 + (cell - w) / 2, y + 6), label, font=_font(False), fill=(255, 255, 255)
                )
            y += LINE + 18
        y += MARGIN - 6
    out = io.BytesIO()
    image.crop((0, 0, WIDTH, y)).save(out, format="PNG", optimize=True)
    return out.getvalue()
