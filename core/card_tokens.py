"""The customer's QR card: short-lived signed tokens for a `t.me/<bot>?start=<payload>` link.

A customer's /card shows a QR code of a deep link whose payload names their card, signed by the
server and valid for TOKEN_TTL. A cashier who scans it gets that customer's card; a screenshot
passed around stops working within minutes. Printed cards (`loyalty-bot cards`) carry the card
number instead (PRINTED_PREFIX): not a secret, since the number is printed under the code
anyway, and only staff get anything from opening it.

Telegram allows a deep-link payload of at most 64 characters of A-Z a-z 0-9 _ -, so a token is
TOKEN_PREFIX + base64url (no padding) of 21 bytes, 30 characters in all:

    customer id (5 bytes, big-endian) | expires at (4 bytes, Unix seconds) | HMAC-SHA256 (12 bytes)

The MAC covers the first nine bytes under a secret made once per database (core/db/secret.py):
96 bits make a forgery a guess against 2**96. Pure functions: `now` and the secret are passed
in, so a test steps time by changing a literal.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import re
from typing import Final, Literal

from core.cards import is_valid_card
from core.errors import CardCodeExpired, CardCodeInvalid

TOKEN_TTL: Final = dt.timedelta(minutes=5)
TOKEN_PREFIX: Final = "t_"  # a signed, rotating token from /card
PRINTED_PREFIX: Final = "c_"  # a printed card: "c_" + the 8-digit card number
_ID_BYTES, _TIME_BYTES, _MAC_BYTES = 5, 4, 12
_BODY = _ID_BYTES + _TIME_BYTES
_TOKEN_CHARS = 4 * (_BODY + _MAC_BYTES) // 3  # 28: 21 bytes are a whole number of base64 groups
PAYLOAD_PATTERN: Final = rf"^(?:{TOKEN_PREFIX}[A-Za-z0-9_-]{{1,62}}|{PRINTED_PREFIX}\d{{8}})$"
_PAYLOAD = re.compile(PAYLOAD_PATTERN)

Payload = tuple[Literal["token", "printed"], str]


def sign(
    customer_id: int, secret: bytes, *, now: dt.datetime, ttl: dt.timedelta = TOKEN_TTL
) -> str:
    """The deep-link payload for this customer's card, valid from `now` for `ttl`."""
    if not 0 < customer_id < 1 << (8 * _ID_BYTES):
        raise ValueError(f"customer id {customer_id} does not fit a card token")
    expires = int((now + ttl).timestamp())
    body = customer_id.to_bytes(_ID_BYTES, "big") + expires.to_bytes(_TIME_BYTES, "big")
    token = base64.urlsafe_b64encode(body + _mac(body, secret)).decode("ascii")
    return TOKEN_PREFIX + token


def verify(payload: str, secret: bytes, *, now: dt.datetime) -> int:
    """The customer id a token names; CardCodeInvalid if it was not signed with `secret` (or
    is not a token at all), CardCodeExpired if it was but its time is up.

    The MAC is checked before the expiry, so an altered token never learns whether its time
    would still have been good.
    """
    if not payload.startswith(TOKEN_PREFIX):
        raise CardCodeInvalid()
    text = payload.removeprefix(TOKEN_PREFIX)
    if len(text) != _TOKEN_CHARS:
        raise CardCodeInvalid()
    try:
        raw = base64.urlsafe_b64decode(text.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError):
        raise CardCodeInvalid() from None
    body, mac = raw[:_BODY], raw[_BODY:]
    if not hmac.compare_digest(mac, _mac(body, secret)):
        raise CardCodeInvalid()
    expires = int.from_bytes(body[_ID_BYTES:], "big")
    if now.timestamp() >= expires:
        raise CardCodeExpired()
    return int.from_bytes(body[:_ID_BYTES], "big")


def printed(card_number: str) -> str:
    """The deep-link payload of a printed card: the card number, unsigned."""
    return PRINTED_PREFIX + card_number


def read_payload(payload: str) -> Payload:
    """("token", payload) or ("printed", card number); CardCodeInvalid for anything else,
    including a printed number whose check digit is wrong."""
    if not _PAYLOAD.fullmatch(payload):
        raise CardCodeInvalid()
    if payload.startswith(PRINTED_PREFIX):
        number = payload.removeprefix(PRINTED_PREFIX)
        if not is_valid_card(number):
            raise CardCodeInvalid()
        return ("printed", number)
    return ("token", payload)


def deep_link(bot_username: str, payload: str) -> str:
    """https://t.me/<bot>?start=<payload>: what a phone camera opens in Telegram."""
    return f"https://t.me/{bot_username}?start={payload}"


def _mac(body: bytes, secret: bytes) -> bytes:
    return hmac.new(secret, b"card:" + body, hashlib.sha256).digest()[:_MAC_BYTES]
