"""QR codes: the customer's /card (bot/handlers/card.py) and printed cards (`loyalty-bot cards`).

segno draws the code; a printed card also carries its number under the code, so a cashier can
type it when there is no camera (its check digit still catches a typo, core/cards.py).
Error correction level M (15%): a card that has been in a wallet still scans.
"""

from __future__ import annotations

import io
from typing import Literal

import segno
from PIL import Image, ImageDraw, ImageFont

from core.cards import format_card

Format = Literal["png", "svg"]
SCALE = 8  # pixels per module: about 300 px for a t.me link, sharp on any phone
BORDER = 4  # modules of quiet zone, as the standard asks
LABEL = 48  # pixels under a printed code for its number


def card_png(link: str) -> bytes:
    """The QR code of `link` as a PNG, for a phone screen."""
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=SCALE, border=BORDER)
    return buffer.getvalue()


def printed_card(link: str, card_number: str, kind: Format) -> bytes:
    """The QR code of `link` with the card number ("4821 3379") under it, as PNG or SVG."""
    qr = segno.make(link, error="m")
    side = int(qr.symbol_size(scale=SCALE, border=BORDER)[0])
    label = format_card(card_number)
    if kind == "svg":
        inner = qr.svg_inline(scale=SCALE, border=BORDER)
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{side}" height="{side + LABEL}" '
            f'viewBox="0 0 {side} {side + LABEL}">'
            f'<rect width="100%" height="100%" fill="#fff"/>{inner}'
            f'<text x="{side // 2}" y="{side + LABEL // 2}" text-anchor="middle" '
            f'font-family="monospace" font-size="28">{label}</text></svg>\n'
        ).encode()
    code = Image.open(io.BytesIO(card_png(link))).convert("L")
    sheet = Image.new("L", (side, side + LABEL), 255)
    sheet.paste(code, (0, 0))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=28)
    draw.text((side // 2, side + LABEL // 3), label, fill=0, font=font, anchor="mt")
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    return buffer.getvalue()
