"""The friendly one-line replies for the engine's exceptions (core/errors.py).

Handlers catch LoyaltyError and send `friendly(exc)`; anything else goes to the one error
handler (bot/errors.py). Every text here is safe HTML: user input is escaped. Replies are in the
current language (bot/i18n.py), the engine's reasons too: `reason(exc)` renders `exc.reason`,
the template core marked, with its numbers written the reader's way.
"""

from __future__ import annotations

from decimal import Decimal

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
    Reason,
    ReasonRequired,
    RefundTooLarge,
    UnknownCustomer,
    UnknownEntry,
    UnknownReward,
)
from core.marks import Words
from core.reports.periods import EXAMPLES

from .format import a_kind, card, esc, money
from .format import number as count
from .i18n import N_, _, ngettext

# The words core's reasons are translated with: whatever language is current when rendered.
WORDS = Words(gettext=_, ngettext=ngettext)
# An InvalidContact by its field, a whole sentence each (a translation's words agree with it).
_WONT_WORK = {
    "name": N_("That name won't work: {why}."),
    "phone": N_("That phone won't work: {why}."),
    "email": N_("That e-mail won't work: {why}."),
}
# DuplicateCustomer's field ("That phone is already registered on card ...").
_REGISTERED = {
    "phone": N_("That phone is already registered on card {card}."),
    "email": N_("That e-mail is already registered on card {card}."),
}
_CANT_READ_PERIOD = N_("can't read {typed} as a period: try {examples}")


def shown_number(value: int | Decimal) -> str:
    """A number in a reason, the reader's way: a count (1,250) or an amount (1,250.00)."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(value)
        return money(value, "").rstrip()
    return count(value)


def reason(exc: LoyaltyError) -> str:
    """Why `exc` refused, in the current language (plain text: escape it for HTML)."""
    return render(exc.reason)


def render(why: Reason) -> str:
    """A core Reason in the current language (plain text: escape it for HTML)."""
    return why.render(WORDS, shown_number)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def friendly(exc: LoyaltyError) -> str:
    """One line a cashier or customer can act on, in the current language."""
    match exc:
        case UnknownCustomer():
            return _(
                "I can't find a customer with “{reference}”. Check the number, "
                "or register them with /register."
            ).format(reference=esc(exc.reference))
        case InvalidReference():
            return _("{why}.").format(why=esc(_sentence(reason(exc))))
        case InvalidAmount():
            return _("That amount won't work: {why}.").format(why=esc(reason(exc)))
        case DiscountNotAllowed():
            return _("That discount won't work: {why}.").format(why=esc(reason(exc)))
        case NothingToEarn():
            spent = money(exc.amount, exc.currency)
            if exc.minimum is not None:
                return _(
                    "{spent} earns no points: purchases from {minimum} earn points. "
                    "Nothing was recorded."
                ).format(spent=spent, minimum=money(exc.minimum, exc.currency))
            return _("{spent} is too little for a point. Nothing was recorded.").format(spent=spent)
        case InvalidBirthday():
            return _("That birthday won't work: {why}.").format(why=esc(reason(exc)))
        case InsufficientPoints():
            return _(
                "Not enough points: the balance is {balance}, the reward costs {cost} "
                "({shortfall} short). Nothing was changed."
            ).format(
                balance=count(exc.balance), cost=count(exc.cost), shortfall=count(exc.shortfall)
            )
        case DuplicateCustomer():
            if exc.field in _REGISTERED:
                return _(_REGISTERED[exc.field]).format(card=card(exc.card_number))
            return _("That {field} is already registered on card {card}.").format(
                field=esc(exc.field), card=card(exc.card_number)
            )
        case InvalidContact():
            # email_validator's reasons are whole sentences ("An email address must have an
            # @-sign."): fold them into ours without a doubled full stop.
            why = reason(exc).rstrip(".")
            why = esc(why[:1].lower() + why[1:])
            if exc.field in _WONT_WORK:
                return _(_WONT_WORK[exc.field]).format(why=why)
            return _("That {field} won't work: {why}.").format(field=esc(exc.field), why=why)
        case UnknownReward():
            return _("There is no reward “{reward}”. Rewards: {known}.").format(
                reward=esc(exc.reward_id), known=esc(", ".join(exc.known))
            )
        case InvalidPeriod():
            # One line with examples; the "can't read" reason already lists them.
            why = esc(_sentence(reason(exc)))
            if exc.reason.template == _CANT_READ_PERIOD:
                return _("{why}.").format(why=why)
            return _("{why}. Try {examples}.").format(why=why, examples=_(EXAMPLES))
        case AlreadyLinked():
            return _(
                "That card is already linked to another Telegram account. Please ask at the till."
            )
        # Corrections (core/corrections.py): each refusal changed nothing.
        case UnknownEntry():
            return _("There is no entry #{entry}. Check the number and send it again.").format(
                entry=exc.entry_id
            )
        case AlreadyReversed():
            return _(
                "Entry #{entry} was already reversed in full (by #{by}): "
                "there is nothing left to undo. Nothing was changed."
            ).format(entry=exc.entry_id, by=exc.by_entry_id)
        case NotReversible():
            return _(
                "{kind} is itself a correction and can't be undone; "
                "an admin can put the card right with /adjust. Nothing was changed."
            ).format(kind=_sentence(a_kind(exc.kind)))
        case NotAPurchase():
            return _(
                "Only a purchase can be refunded, and that entry is {kind}. Nothing was changed."
            ).format(kind=a_kind(exc.kind))
        case RefundTooLarge():
            return _(
                "That is more than is left of the purchase: at most {remaining} can "
                "still be refunded. Nothing was changed."
            ).format(remaining=shown_number(exc.remaining))
        case ReasonRequired():
            return _(
                "Please say why in a few words (e.g. “double scan”): a correction needs a reason."
            )
        # The QR card (core/card_tokens.py); only staff ever see these.
        case CardCodeExpired():
            return _(
                "That card code has expired (they last a few minutes): ask the customer to "
                "send /card again, or type their card number."
            )
        case CardCodeInvalid():
            return _("That is not a valid card code. Type the card or phone number instead.")
        case AlreadyForgotten():
            return _(
                "The customer of card {card} asked to be forgotten: there are "
                "no personal details left to show or change. Nothing was changed."
            ).format(card=card(exc.card_number))
        case _:
            return _("That didn't work: {why}.").format(why=esc(reason(exc)))
