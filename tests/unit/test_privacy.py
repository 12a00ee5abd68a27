"""core.privacy: which values are personal, how texts lose them, what /mydata exports."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from core.privacy import (
    ERASED,
    FORGOTTEN_NAME,
    PERSONAL_COLUMNS,
    export,
    is_forgotten,
    personal_values,
    scrub,
    scrub_json,
)
from core.types import AuditRecord, Customer, LedgerEntry

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
ANN: Customer = {
    "id": 7,
    "card_number": "48213379",
    "name": "Ann & Co",
    "phone": "+447400123456",
    "email": "ann@example.org",
    "created_at": NOW,
    "balance": 35,
    "lifetime_earned": 40,
    "lifetime_redeemed": 5,
    "tier": "Bronze",
    "telegram_user_id": 3003,
    "version": 3,
    "points_owed": 0,
}


def test_every_personal_column_is_erased_and_the_name_replaced() -> None:
    erased = ("phone", "email", "telegram_user_id", "birthday", "search_key")
    assert set(PERSONAL_COLUMNS) == {"name", *erased}
    assert PERSONAL_COLUMNS["name"] == FORGOTTEN_NAME
    assert all(PERSONAL_COLUMNS[c] is None for c in erased)


def test_personal_values_include_the_shown_and_escaped_forms_longest_first() -> None:
    values = personal_values(ANN)
    assert {"Ann & Co", "Ann &amp; Co", "+447400123456", "+44 7400 123456"} <= set(values)
    assert "ann@example.org" in values
    assert "3003" not in values  # a Telegram id is never searched for inside texts
    assert [len(v) for v in values] == sorted((len(v) for v in values), reverse=True)


def test_a_forgotten_customer_has_no_values_left_to_scrub() -> None:
    forgotten: Customer = {**ANN, "name": FORGOTTEN_NAME, "phone": None, "email": None}
    assert personal_values(forgotten) == []
    assert is_forgotten(forgotten) and not is_forgotten(ANN)


def test_scrub_replaces_whole_words_only() -> None:
    values = personal_values({**ANN, "name": "Al"})
    assert scrub("✅ +25 for <b>Al</b>, +44 7400 123456", values) == (
        f"✅ +25 for <b>{ERASED}</b>, {ERASED}"
    )
    assert scrub("Alice and Sal", values) == "Alice and Sal"


def test_scrub_json_reaches_nested_strings_and_leaves_numbers() -> None:
    details = {"reason": "goodwill for Ann & Co", "points": 5, "more": ["ann@example.org", 1]}
    assert scrub_json(details, personal_values(ANN)) == {
        "reason": f"goodwill for {ERASED}",
        "points": 5,
        "more": [ERASED, 1],
    }


def test_the_export_holds_the_card_contacts_entries_and_audit_as_json() -> None:
    entry: LedgerEntry = {
        "id": 41,
        "customer_id": 7,
        "kind": "earn",
        "points": 40,
        "amount": Decimal("40.00"),
        "reward_id": None,
        "actor_id": 2002,
        "created_at": NOW,
        "idempotency_key": "k",
        "note": None,
        "balance_after": 40,
        "details": {},
        "reverses_id": None,
    }
    record: AuditRecord = {
        "id": 1,
        "at": NOW,
        "actor_id": 2002,
        "action": "earn",
        "customer_id": 7,
        "entry_id": 41,
        "details": {"amount": Decimal("40.00")},
    }

    data = export(ANN, notify=False, entries=[entry], audit=[record], exported_at=NOW)

    assert json.loads(json.dumps(data)) == data  # plain JSON throughout
    assert data["contact"] == {
        "name": "Ann & Co",
        "phone": "+447400123456",
        "email": "ann@example.org",
        "telegram_user_id": 3003,
    }
    assert data["notifications"] == "off"
    assert data["ledger"] == [
        {
            "id": 41,
            "at": "2026-12-04T12:00:00+00:00",
            "kind": "earn",
            "points": 40,
            "balance_after": 40,
            "amount": "40.00",
            "reward_id": None,
            "note": None,
            "reverses_id": None,
        }
    ]
    assert data["audit"] == [
        {
            "id": 1,
            "at": "2026-12-04T12:00:00+00:00",
            "action": "earn",
            "entry_id": 41,
            "details": {"amount": "40.00"},
        }
    ]
