"""What an earn or a redemption returns: built from what it just wrote, or, for a confirmation
already recorded, rebuilt from its ledger entry."""

from __future__ import annotations

from typing import Any, cast

from core.types import CorrectionResult, Customer, EarnResult, LedgerEntry, RedeemResult

from .statements import from_json


def written(customer: Customer, entry_id: int) -> dict[str, Any]:
    """What an earn's or a redemption's result adds to its quote, from what was just written
    (not read back: a round trip fewer per change)."""
    return {
        "card_number": customer["card_number"],
        "entry_id": entry_id,
        "customer_id": customer["id"],
        "replayed": False,
        "notify_user_id": customer["telegram_user_id"],
        "queued": [],  # filled by the caller, from what it queued in the same transaction
    }


def replayed(entry: LedgerEntry) -> dict[str, Any]:
    """The result a recorded confirmation returned, rebuilt from its entry's details (the quote,
    the card and any code), marked replayed. Nobody is to be notified: they were told the first
    time."""
    details = from_json(entry["details"])
    return {
        **details,
        "entry_id": entry["id"],
        "customer_id": entry["customer_id"],
        "card_number": details.get("card_number", ""),
        "replayed": True,
        "notify_user_id": None,
        "queued": [],
    }


def earn_replayed(entry: LedgerEntry) -> EarnResult:
    return cast(EarnResult, replayed(entry))


def redeem_replayed(entry: LedgerEntry) -> RedeemResult:
    return cast(RedeemResult, {"code": "", **replayed(entry)})


def correction_replayed(entry: LedgerEntry) -> CorrectionResult:
    return cast(CorrectionResult, replayed(entry))
