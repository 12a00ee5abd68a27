"""core.card_tokens: a scanned QR card names its customer for five minutes, and only if the
server signed it; a printed card's payload is its (checked) card number."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.card_tokens import (
    PRINTED_PREFIX,
    TOKEN_TTL,
    deep_link,
    printed,
    read_payload,
    sign,
    verify,
)
from core.errors import CardCodeExpired, CardCodeInvalid

SECRET = bytes(range(32))
OTHER_SECRET = bytes(range(1, 33))
NOON = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
# What Telegram accepts as a /start payload.
DEEP_LINK_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")


def test_a_token_names_its_customer_until_it_expires() -> None:
    token = sign(42, SECRET, now=NOON)
    assert verify(token, SECRET, now=NOON) == 42
    assert verify(token, SECRET, now=NOON + TOKEN_TTL - dt.timedelta(seconds=1)) == 42


def test_a_token_is_refused_from_the_moment_its_five_minutes_are_up() -> None:
    token = sign(42, SECRET, now=NOON)
    assert dt.timedelta(minutes=5) == TOKEN_TTL
    with pytest.raises(CardCodeExpired):
        verify(token, SECRET, now=NOON + TOKEN_TTL)
    with pytest.raises(CardCodeExpired):
        verify(token, SECRET, now=NOON + dt.timedelta(days=1))


def test_each_minute_gives_a_new_token_so_an_old_screenshot_is_not_the_current_code() -> None:
    assert sign(42, SECRET, now=NOON) != sign(42, SECRET, now=NOON + dt.timedelta(minutes=1))


def test_a_token_signed_with_another_secret_is_refused_as_invalid_not_expired() -> None:
    token = sign(42, OTHER_SECRET, now=NOON - dt.timedelta(days=1))  # also long expired
    with pytest.raises(CardCodeInvalid):
        verify(token, SECRET, now=NOON)


def test_changing_the_customer_id_in_a_token_breaks_its_signature() -> None:
    token = sign(42, SECRET, now=NOON)
    # The id is the first bytes: the 7th character carries the low bits of byte 4 (the id's
    # last byte) and the high bits of the expiry.
    for i in range(2, len(token)):
        for ch in "AQgw_-":
            forged = token[:i] + ch + token[i + 1 :]
            if forged == token:
                continue
            with pytest.raises(CardCodeInvalid):
                verify(forged, SECRET, now=NOON)


@pytest.mark.parametrize(
    "payload", ["", "t_", "t_abc", "t_" + "A" * 28, "t_" + "A" * 29, "x_" + "A" * 28, "c_48213379"]
)
def test_anything_else_is_an_invalid_token(payload: str) -> None:
    with pytest.raises(CardCodeInvalid):
        verify(payload, SECRET, now=NOON)


@given(
    customer_id=st.integers(min_value=1, max_value=2**40 - 1),
    seconds=st.integers(min_value=0, max_value=2**31),
)
def test_every_token_fits_a_deep_link_and_reads_back(customer_id: int, seconds: int) -> None:
    now = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=seconds)
    token = sign(customer_id, SECRET, now=now)
    assert DEEP_LINK_PAYLOAD.fullmatch(token)
    assert len(token) == 30
    assert read_payload(token) == ("token", token)
    assert verify(token, SECRET, now=now) == customer_id


def test_a_printed_card_payload_is_its_number_and_the_check_digit_still_counts() -> None:
    assert printed("48213379") == f"{PRINTED_PREFIX}48213379"
    assert read_payload("c_48213379") == ("printed", "48213379")
    with pytest.raises(CardCodeInvalid):
        read_payload("c_48213378")  # one digit off: the Damm check digit refuses it
    with pytest.raises(CardCodeInvalid):
        read_payload("c_4821337")


def test_the_deep_link_is_a_t_me_start_link() -> None:
    assert deep_link("shop_bot", "c_48213379") == "https://t.me/shop_bot?start=c_48213379"
