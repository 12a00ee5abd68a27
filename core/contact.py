"""Customer contact details: names, phone numbers (E.164) and e-mail addresses.

Phone numbers go through the `phonenumbers` library (Google's libphonenumber rules) rather than a
regex: it knows each country's lengths and prefixes, so "07400 123456" in the UK and
"+44 7400 123456" end up as the same "+447400123456", and a number that cannot exist is refused
with the reason.
"""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from core.errors import InvalidContact, Reason
from core.marks import N_

MAX_NAME_LENGTH = 100

_REASONS = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: N_("the country code is not valid"),
    phonenumbers.ValidationResult.TOO_SHORT: N_("it is too short"),
    # Digits that could only be dialled inside one area ("123456" in a UK shop).
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: N_(
        "it is too short: include the area code"
    ),
    phonenumbers.ValidationResult.TOO_LONG: N_("it is too long"),
    phonenumbers.ValidationResult.INVALID_LENGTH: N_("it has the wrong number of digits"),
}


def normalize_name(text: str) -> str:
    """Trims and folds white space; refuses empty, over-long or digits-only names."""
    name = " ".join(text.split())
    if not name:
        raise InvalidContact("name", Reason(N_("the name is empty")))
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidContact(
            "name",
            Reason(
                N_("the name is longer than {limit} characters"), {"limit": str(MAX_NAME_LENGTH)}
            ),
        )
    if not any(ch.isalpha() for ch in name):
        raise InvalidContact("name", Reason(N_("a name needs at least one letter")))
    return name


def normalize_phone(text: str, region: str, *, international: bool = False) -> str:
    """Returns the number in E.164 ("+447400123456") or raises InvalidContact with the reason.

    `region` applies to numbers written without a country code. With `international=True`
    (a contact shared through Telegram) a number without "+" is still international: Telegram
    sometimes drops the plus sign.
    """
    raw = text.strip()
    if not raw:
        raise InvalidContact("phone", Reason(N_("the phone number is empty")))
    if re.search(r"[A-Za-z]", raw):
        raise InvalidContact("phone", Reason(N_("a phone number has only digits, spaces and +")))
    digits_only = re.sub(r"[\s().-]", "", raw)
    candidates = [raw]
    if international and not digits_only.startswith("+"):
        candidates = ["+" + digits_only]
    elif digits_only.isdigit() and not digits_only.startswith("0"):
        # "447400123456": a country code typed without the "+"; try local first, then this.
        candidates.append("+" + digits_only)
    # The reason given is about the first reading that parses: what was typed, not the "+" we
    # guessed ("482133790" in a UK shop is not a valid UK number, not "not valid for Poland").
    why: Reason | None = None
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException as exc:
            if exc.error_type == exc.INVALID_COUNTRY_CODE and candidate is candidates[0]:
                why = Reason(_REASONS[phonenumbers.ValidationResult.INVALID_COUNTRY_CODE])
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        reason = phonenumbers.is_possible_number_with_reason(number)
        if why is None:
            why = (
                Reason(_REASONS[reason])
                if reason in _REASONS
                else Reason(
                    N_("it is not a valid number for {region}"),
                    {"region": _region_of(number, region)},
                )
            )
    raise InvalidContact("phone", why or Reason(N_("it is not a valid phone number")))


def _region_of(number: phonenumbers.PhoneNumber, default: str) -> str:
    region = phonenumbers.region_code_for_number(number)
    return region or default


def format_phone(e164: str) -> str:
    """'+447400123456' -> '+44 7400 123456', for showing to people."""
    number = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def mask_phone(e164: str) -> str:
    """'+447400123456' -> '+44 ••• ••3456': enough for a cashier to confirm with the customer."""
    # The real country code, not the first two digits: "+1 ••• ••0123", never "+12 ••• ••0123".
    country_code = phonenumbers.parse(e164, None).country_code
    return f"+{country_code} ••• ••{e164[-4:]}"


def normalize_email(text: str | None) -> str | None:
    """Returns the normalised address, None for no e-mail, or raises InvalidContact.

    Syntax only: no DNS look-up, so registering works offline and never waits on the network.
    """
    if text is None or not text.strip():
        return None
    try:
        result = validate_email(text.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        # email_validator says precisely what is wrong, in English only: English readers get
        # its words, everyone else our own (core/errors.Reason.english).
        raise InvalidContact(
            "email",
            Reason(N_("it is not a valid e-mail address, like name@example.com"), english=str(exc)),
        ) from None
    return str(result.normalized)
