"""The friendly one-line replies for the engine's exceptions (core/errors.py).

Handlers catch LoyaltyError and send `friendly(exc)`; anything else goes to the one error
handler (bot/errors.py). Every text here is safe HTML: user input is escaped.
"""

from __future__ import annotations

from core.errors import (
    AlreadyForgotten,
    AlreadyLinked,
    AlreadyReversed,
    CardCodeExpired,
    CardCodeInvalid,
    DiscountNotAllowed,
    DuplicateCustomer,
    InsufficientPoints,
    InvalidAmount,
    InvalidBirthday,
    InvalidContact,
    InvalidPeriod,
    InvalidReference,
    LoyaltyError,
    NotAPurchase,
    NothingToEarn,
    NotReversible,
    ReasonRequired,
    RefundTooLarge,
    UnknownCustomer,
    UnknownEntry,
    UnknownReward,
)
from core.reports.periods import EXAMPLES

from .format import a_kind, card, esc, money


def friendly(exc: LoyaltyError) -> str:
    """One line a cashier or customer can act on."""
    match exc:
        case UnknownCustomer():
            return (
                f"I can't find a customer with “{esc(exc.reference)}”. Check the number, "
                "or register them with /register."
            )
        case InvalidReference():
            return f"{esc(exc.why[:1].upper() + exc.why[1:])}."
        case InvalidAmount():
            return f"That amount won't work: {esc(exc.why)}."
        case DiscountNotAllowed():
            return f"That discount won't work: {esc(exc.why)}."
        case NothingToEarn():
            spent = money(exc.amount, exc.currency)
            if exc.minimum is not None:
                return (
                    f"{spent} earns no points: purchases from "
                    f"{money(exc.minimum, exc.currency)} earn points. Nothing was recorded."
                )
            return f"{spent} is too little for a point. Nothing was recorded."
        case InvalidBirthday():
            return f"That birthday won't work: {esc(exc.why)}."
        case InsufficientPoints():
            return (
                f"Not enough points: the balance is {exc.balance:,}, the reward costs "
                f"{exc.cost:,} ({exc.shortfall:,} short). Nothing was changed."
            )
        case DuplicateCustomer():
            return f"That {exc.field} is already registered on card {card(exc.card_number)}."
        case InvalidContact():
            # email_validator's reasons are whole sentences ("An email address must have an
            # @-sign."): fold them into ours without a doubled full stop.
            why = exc.why.rstrip(".")
            field = "e-mail" if exc.field == "email" else exc.field
            return f"That {field} won't work: {esc(why[:1].lower() + why[1:])}."
        case UnknownReward():
            known = esc(", ".join(exc.known))
            return f"There is no reward “{esc(exc.reward_id)}”. Rewards: {known}."
        case InvalidPeriod():
            # One line with examples; the "can't read" reason already lists them.
            examples = "" if EXAMPLES in exc.why else f" Try {EXAMPLES}."
            return f"{esc(exc.why[:1].upper() + exc.why[1:])}.{examples}"
        case AlreadyLinked():
            return (
                "That card is already linked to another Telegram account. Please ask at the till."
            )
        # Corrections (core/corrections.py): each refusal changed nothing.
        case UnknownEntry():
            return f"There is no entry #{exc.entry_id}. Check the number and send it again."
        case AlreadyReversed():
            return (
                f"Entry #{exc.entry_id} was already reversed in full (by #{exc.by_entry_id}): "
                "there is nothing left to undo. Nothing was changed."
            )
        case NotReversible():
            return (
                f"{a_kind(exc.kind).capitalize()} is itself a correction and can't be undone; "
                "an admin can put the card right with /adjust. Nothing was changed."
            )
        case NotAPurchase():
            return (
                f"Only a purchase can be refunded, and that entry is {a_kind(exc.kind)}. "
                "Nothing was changed."
            )
        case RefundTooLarge():
            return (
                f"That is more than is left of the purchase: at most {exc.remaining:,.2f} can "
                "still be refunded. Nothing was changed."
            )
        case ReasonRequired():
            return (
                "Please say why in a few words (e.g. “double scan”): a correction needs a reason."
            )
        # The QR card (core/card_tokens.py); only staff ever see these.
        case CardCodeExpired():
            return (
                "That card code has expired (they last a few minutes): ask the customer to "
                "send /card again, or type their card number."
            )
        case CardCodeInvalid():
            return "That is not a valid card code. Type the card or phone number instead."
        case AlreadyForgotten():
            return (
                f"The customer of card {card(exc.card_number)} asked to be forgotten: there are "
                "no personal details left to show or change. Nothing was changed."
            )
        case _:
            return f"That didn't work: {esc(str(exc))}."
