"""What a correction (a void, a refund, an adjustment) tells the staff member and the customer.

Shared by /void and Undo (bot/handlers/void.py), /refund (bot/handlers/refund.py) and /adjust;
the rules behind it are core/corrections.py. The staff member's reply is written in their
language, the customer's notice in the customer's (`in_their_language`).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from babel.numbers import format_decimal

from core.db.ledger import Tell
from core.types import CorrectionResult, Outgoing

from . import confirm, i18n
from .format import esc, number, points
from .i18n import _, ngettext, speaking
from .languages import language_for
from .services import Services


def describe_correction(result: CorrectionResult) -> confirm.Told:
    """'↩ Voided ref #41: −25 points' to staff; the same, in the customer's terms, to them."""
    ref = f"#{result['reverses_id']}" if result["reverses_id"] else ""
    if result["kind"] == "void":
        done = _("Voided ref {ref}").format(ref=ref) if ref else _("Voided")
    elif result["kind"] == "refund" and result["amount"]:
        amount = _amount(result["amount"])
        done = (
            _("Refunded {amount} of ref {ref}").format(amount=amount, ref=ref)
            if ref
            else _("Refunded {amount}").format(amount=amount)
        )
    elif result["kind"] == "refund":
        done = _("Refunded ref {ref}").format(ref=ref) if ref else _("Refunded")
    else:
        done = _("Adjusted ref {ref}").format(ref=ref) if ref else _("Adjusted")
    owed = (
        "\n"
        + _("{points} owed, paid from the next purchases.").format(
            points=points(result["points_owed_after"])
        )
        if result["points_owed_after"]
        else ""
    )
    code = (
        "\n" + _("Code <code>{code}</code> is no longer valid.").format(code=esc(result["code"]))
        if result["kind"] == "void" and result["code"]
        else ""
    )
    change = _signed(result["points"])
    balance = points(result["balance_after"])
    return confirm.Told(
        reply=_("↩ {done}: <b>{change}</b> (entry #{entry})").format(
            done=done, change=change, entry=result["entry_id"]
        )
        + "\n"
        + _("New balance: <b>{balance}</b> · {tier}").format(
            balance=balance, tier=esc(result["tier_after"])
        )
        + f"{owed}{code}",
        notify_chat=result["notify_user_id"],
        notice=_("↩ A correction on your card: <b>{change}</b>. Balance: <b>{balance}</b>.").format(
            change=change, balance=balance
        )
        + owed,
    )


def _signed(n: int) -> str:
    """'+25 points', '-1 point' (the sign always shown)."""
    shown = f"+{number(n)}" if n >= 0 else number(n)
    return ngettext("{n} point", "{n} points", abs(n)).format(n=shown)


def _amount(amount: Decimal) -> str:
    """'1,250.00' the reader's way (a refund's amount; the currency is not in the result)."""
    if i18n.current() == i18n.SOURCE:
        return f"{amount:,.2f}"
    return format_decimal(amount, format="#,##0.00", locale=i18n.current())


def in_their_language(
    svc: Services,
    tell: Tell[CorrectionResult],
    describe: Callable[[CorrectionResult], confirm.Told],
) -> Tell[CorrectionResult]:
    """`tell`, with the customer's notice written again in the customer's own language (the
    reply to staff stays in theirs): confirm.py describes a result once, in the presser's."""

    def told(result: CorrectionResult) -> list[Outgoing]:
        messages = list(tell(result))
        for message in messages:
            if message.get("notice"):
                with speaking(language_for(svc, int(message["chat_id"]))):
                    message["text"] = describe(result).notice
        return messages

    return told
