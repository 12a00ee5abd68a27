"""core.contact: names, phone numbers (typed at the till or shared from Telegram) and e-mails."""

from __future__ import annotations

import pytest

from core.contact import (
    MAX_NAME_LENGTH,
    format_phone,
    mask_phone,
    normalize_email,
    normalize_name,
    normalize_phone,
)
from core.errors import InvalidContact

# --- phone numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "07400 123456",
        "07400123456",
        "+44 7400 123456",
        "+447400123456",
        "447400123456",  # the country code without its "+"
        "0044 7400 123456",  # the international dialling prefix
        "(0)7400-123456",  # decided: brackets and dashes are decoration, so this is the number
        "+44 (0)7400 123456",  # the common UK way of writing both forms at once
        " 07400.123.456 ",
    ],
)
def test_every_way_of_writing_a_uk_mobile_gives_the_same_e164_number(typed: str) -> None:
    assert normalize_phone(typed, "GB") == "+447400123456"


@pytest.mark.parametrize(
    ("typed", "region"),
    [
        ("+1 212 555 0123", "GB"),
        ("+1 (212) 555-0123", "GB"),
        ("12125550123", "GB"),  # no "+": not a UK number, so read as +1
        ("(212) 555-0123", "US"),  # a local number in a US shop
    ],
)
def test_a_us_number_is_read_with_its_country_code(typed: str, region: str) -> None:
    assert normalize_phone(typed, region) == "+12125550123"


def test_a_number_without_country_code_belongs_to_the_shops_region() -> None:
    assert normalize_phone("020 7946 0958", "GB") == "+442079460958"
    assert normalize_phone("01 234 5678", "IE") == "+35312345678"


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("", "the phone number is empty"),
        ("   ", "the phone number is empty"),
        ("call me", "a phone number has only digits, spaces and +"),
        ("07400 12345a", "a phone number has only digits, spaces and +"),
        ("1234", "it is too short: include the area code"),
        ("7946 0958", "it is too short: include the area code"),  # a London number without 020
        ("074", "it is too short"),
        ("0740012345678", "it is too long"),
        ("07400 12345", "it is not a valid number for GB"),  # one digit missing
        ("+44 1234", "it is too short: include the area code"),
        ("482133790", "it is not a valid number for GB"),  # not "for PL": nobody typed +48
        ("+999 123 456 789", "the country code is not valid"),
        ("+", "it is not a valid phone number"),
    ],
)
def test_an_invalid_phone_number_is_refused_with_the_reason(typed: str, why: str) -> None:
    with pytest.raises(InvalidContact) as refused:
        normalize_phone(typed, "GB")
    assert refused.value.field == "phone"
    assert refused.value.why == why


@pytest.mark.parametrize(
    ("shared", "e164"),
    [
        ("447400123456", "+447400123456"),  # Telegram dropped the "+"
        ("+447400123456", "+447400123456"),
        ("12125550123", "+12125550123"),
        ("353 1 234 5678", "+35312345678"),
    ],
)
def test_a_shared_telegram_contact_is_international_even_without_the_plus(
    shared: str, e164: str
) -> None:
    assert normalize_phone(shared, "GB", international=True) == e164


def test_a_shared_contact_is_never_read_as_a_local_number() -> None:
    # "7400123456" is a UK mobile without its 0, but a contact always carries its country code.
    assert normalize_phone("7400123456", "GB") == "+447400123456"
    with pytest.raises(InvalidContact):
        normalize_phone("7400123456", "GB", international=True)


def test_a_number_is_shown_to_people_in_international_format() -> None:
    assert format_phone("+447400123456") == "+44 7400 123456"
    assert format_phone("+12125550123") == "+1 212-555-0123"


@pytest.mark.parametrize(
    ("e164", "masked"),
    [
        ("+447400123456", "+44 ••• ••3456"),
        ("+12125550123", "+1 ••• ••0123"),
        ("+35312345678", "+353 ••• ••5678"),
    ],
)
def test_a_masked_number_shows_only_the_country_code_and_the_last_four_digits(
    e164: str, masked: str
) -> None:
    assert mask_phone(e164) == masked


# --- e-mail ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "email"),
    [
        ("alice@example.com", "alice@example.com"),
        (" Alice@Example.COM ", "Alice@example.com"),  # the domain is case-insensitive
        ("alice@shop.co.uk", "alice@shop.co.uk"),
        ("josé@exämple.com", "josé@exämple.com"),
    ],
)
def test_a_valid_email_is_kept_with_its_domain_in_lower_case(typed: str, email: str) -> None:
    assert normalize_email(typed) == email


@pytest.mark.parametrize("typed", [None, "", "   "])
def test_no_email_is_allowed(typed: str | None) -> None:
    assert normalize_email(typed) is None


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("alice", "must have an @-sign"),
        ("alice@", "There must be something after the @-sign"),
        ("alice@localhost", "It should have a period"),
        ("a b@example.com", "invalid characters before the @-sign"),
        ("a@@example.com", "invalid characters"),
    ],
)
def test_an_invalid_email_is_refused_with_the_reason(typed: str, why: str) -> None:
    with pytest.raises(InvalidContact) as refused:
        normalize_email(typed)
    assert refused.value.field == "email"
    assert why in refused.value.why


# --- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("  Ann   Lee ", "Ann Lee"),
        ("\tAnn\nLee", "Ann Lee"),
        ("O'Brien-Smith", "O'Brien-Smith"),
        ("李雷", "李雷"),
        ("Room 2", "Room 2"),
        ("A" * MAX_NAME_LENGTH, "A" * MAX_NAME_LENGTH),
    ],
)
def test_a_name_is_trimmed_and_its_spaces_folded(typed: str, name: str) -> None:
    assert normalize_name(typed) == name


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("", "the name is empty"),
        ("  \n ", "the name is empty"),
        ("12345", "a name needs at least one letter"),
        ("+44 7400", "a name needs at least one letter"),
        ("A" * (MAX_NAME_LENGTH + 1), "the name is longer than 100 characters"),
    ],
)
def test_an_unusable_name_is_refused_with_the_reason(typed: str, why: str) -> None:
    with pytest.raises(InvalidContact) as refused:
        normalize_name(typed)
    assert (refused.value.field, refused.value.why) == ("name", why)
