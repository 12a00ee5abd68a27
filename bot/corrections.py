"""What a correction (a void, a refund, an adjustment) tells the staff member and the customer.

Shared by /void and Undo (bot/handlers/void.py), /refund (bot/handlers/refund.py) and /adjust;
the rules behind it are core/corrections.py.
"""

from __future__ import annotations

from core.types import CorrectionResult

from . import confirm
from .format import esc, points


def describe_correction(result: CorrectionResult) -> confirm.Told:
    """'↩ Voided ref #41: −25 points' to staff; the same, in the customer's terms, to them."""
    done = {"void": "Voided", "refund": "Refunded", "adjust": "Adjusted"}[result["kind"]]
    ref = f" ref #{result['reverses_id']}" if result["reverses_id"] else ""
    refunded = (
        f" {result['amount']:,.2f} of" if result["kind"] == "refund" and result["amount"] else ""
    )
    owed = (
        f"\n{points(result['points_owed_after'])} owed, paid from the next purchases."
        if result["points_owed_after"]
        else ""
    )
    code = (
        f"\nCode <code>{esc(result['code'])}</code> is no longer valid."
        if result["kind"] == "void" and result["code"]
        else ""
    )
    change = f"{result['points']:+,}"
    return confirm.Told(
        reply=f"↩ {done}{refunded}{ref}: <b>{change}</b> points (entry #{result['entry_id']})\n"
        f"New balance: <b>{points(result['balance_after'])}</b> · {esc(result['tier_after'])}"
        f"{owed}{code}",
        notify_chat=result["notify_user_id"],
        notice=f"↩ A correction on your card: <b>{change}</b> points. Balance: "
        f"<b>{points(result['balance_after'])}</b>.{owed}",
    )
