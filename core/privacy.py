"""What the shop holds about a customer, and erasing it (/mydata, /forget; issue 14).

Pure rules over plain data: which columns are personal, what they become when a customer is
forgotten, how their personal values are blanked out of free text (audit details, outbox texts,
notes a cashier typed), and the /mydata export. The transaction that applies them is
core/db/privacy.py; the bot's side bot/handlers/privacy.py. docs/decisions.md ("Forgetting a
customer") says what is erased, what is kept and why.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Mapping, Sequence
from typing import Final

from core.contact import format_phone
from core.types import AuditRecord, Customer, LedgerEntry

# THE list of personal columns of `customers`, and what each becomes when the customer is
# forgotten. Everything that erases or exports personal data reads it from here: a new
# personal column (e.g. `birthday`) is added here once. The Telegram link
# (`telegram_user_id`) is personal too: it says who the card belongs to.
# `phone` is NOT NULL and unique in the table (SQLite cannot relax that without rebuilding
# `customers`, which its enforced foreign keys forbid): core/db/privacy.py stores a per-card
# placeholder that is never a phone number, and reads it back as None.
FORGOTTEN_NAME: Final = "Forgotten customer"
PERSONAL_COLUMNS: Final[Mapping[str, object]] = {
    "name": FORGOTTEN_NAME,
    "phone": None,
    "email": None,
    "telegram_user_id": None,
    "birthday": None,  # /birthday (migration 0009)
    "search_key": None,  # the folded name and e-mail /find searches (migration 0012)
}
# The fields an admin may edit (/edit), by the word they type.
EDITABLE: Final[Mapping[str, str]] = {
    "name": "name",
    "phone": "phone",
    "email": "email",
    "e-mail": "email",
}
ERASED: Final = "[erased]"  # what a personal value inside free text becomes


def is_forgotten(customer: Customer) -> bool:
    """Whether the customer was forgotten: only then has a card no phone number."""
    return customer["phone"] is None


def personal_values(customer: Mapping[str, object]) -> list[str]:
    """The customer's personal values as they may appear in texts: as stored, as shown to
    people (a formatted phone), and HTML-escaped (outbox texts are HTML). Longest first, so a
    full name is replaced before a part of it could be."""
    found: set[str] = set()
    for column in PERSONAL_COLUMNS:
        value = customer.get(column)
        if value is None or isinstance(value, int) or not str(value).strip():
            continue  # a Telegram id is a number: it never appears inside a text by itself
        text = str(value)
        variants = {text, html.escape(text, quote=False), html.escape(text)}
        if column == "phone" and text.startswith("+"):
            shown = format_phone(text)
            variants |= {shown, shown.replace(" ", "\u00a0")}
        found |= variants
    if customer.get("name") == FORGOTTEN_NAME:
        found.discard(FORGOTTEN_NAME)
    return sorted(found, key=len, reverse=True)


def scrub(text: str, values: Sequence[str]) -> str:
    """`text` with each value replaced by ERASED where it stands as a whole word: "Al" is
    erased from "for Al." but not from "Alice" (another customer's receipt)."""
    for value in values:
        text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", ERASED, text)
    return text


def scrub_json(value: object, values: Sequence[str]) -> object:
    """A JSON value (audit or ledger details) with the values scrubbed out of every string."""
    if isinstance(value, str):
        return scrub(value, values)
    if isinstance(value, list):
        return [scrub_json(v, values) for v in value]
    if isinstance(value, dict):
        return {k: scrub_json(v, values) for k, v in value.items()}
    return value


def _when(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _plain(value: object) -> object:
    """A value as JSON holds it: times as ISO 8601, Decimals as strings."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)  # Decimal


def export(
    customer: Customer,
    *,
    notify: bool,
    entries: Sequence[LedgerEntry],
    audit: Sequence[AuditRecord],
    exported_at: dt.datetime,
) -> dict[str, object]:
    """Everything the shop holds about one customer, as a JSON-ready dict (/mydata)."""
    return {
        "exported_at": exported_at.isoformat(),
        "card": {
            "card_number": customer["card_number"],
            "created_at": _when(customer["created_at"]),
            "balance": customer["balance"],
            "points_owed": customer.get("points_owed", 0),
            "lifetime_earned": customer["lifetime_earned"],
            "lifetime_redeemed": customer["lifetime_redeemed"],
            "tier": customer["tier"],
        },
        "contact": {
            "name": customer["name"],
            "phone": customer["phone"],
            "email": customer["email"],
            "telegram_user_id": customer["telegram_user_id"],
        },
        "notifications": "on" if notify else "off",
        "ledger": [
            {
                "id": e["id"],
                "at": e["created_at"].isoformat(),
                "kind": e["kind"],
                "points": e["points"],
                "balance_after": e["balance_after"],
                "amount": None if e["amount"] is None else str(e["amount"]),
                "reward_id": e["reward_id"],
                "note": e["note"],
                "reverses_id": e["reverses_id"],
            }
            for e in entries
        ],
        "audit": [
            {
                "id": r["id"],
                "at": r["at"].isoformat(),
                "action": r["action"],
                "entry_id": r["entry_id"],
                "details": _plain(r["details"]),
            }
            for r in audit
        ],
    }
