"""The loyalty engine's exceptions: each names a fact and carries what a friendly reply needs.

    LoyaltyError
    ├── UnknownCustomer        reference tried            ("no card 1234 5678")
    ├── DuplicateCustomer      the existing card          ("that phone is on card ...")
    ├── InsufficientPoints     balance, cost, shortfall
    ├── InvalidAmount          why                        ("more than two decimal places")
    ├── NothingToEarn          amount, the minimum        ("below the 5.00 minimum")
    ├── InvalidContact         field, why                 ("not a valid UK number")
    ├── InvalidReference       why                        ("check digit does not match")
    ├── UnknownReward          the ids that exist
    ├── DiscountNotAllowed     why, the allowed range     ("at most 5.00 off a 10.00 bill")
    ├── AlreadyLinked          the card already linked to another Telegram account
    ├── InvalidPeriod          text, why                  ("2026-13 is not a month")
    ├── InvalidBirthday        why                        ("February has no day 30")
    ├── ConfigError            key, problem               (one line, no traceback)
    │   corrections (core/corrections.py):
    ├── UnknownEntry           entry id                   ("no entry #41")
    ├── AlreadyReversed        entry id, by which entry   ("#41 was already voided by #57")
    ├── NotReversible          kind                       ("a void can't be voided")
    ├── NotAPurchase           kind                       ("only a purchase can be refunded")
    ├── RefundTooLarge         what is left to refund     ("at most 12.50 is left")
    ├── ReasonRequired                                    ("say why")
    │   the QR card (core/card_tokens.py):
    ├── CardCodeInvalid                                   (forged, altered, not ours)
    ├── CardCodeExpired                                   (signed by us, time is up)
    │   privacy (core/privacy.py):
    └── AlreadyForgotten       the card                   ("1234 5678 was forgotten")

Handlers in bot/ map each of these to a one-line reply; anything else is a bug and goes to the
one error handler.
"""

from __future__ import annotations

from decimal import Decimal


class LoyaltyError(Exception):
    """Base of every expected, user-facing failure of the loyalty engine."""


class UnknownCustomer(LoyaltyError):
    def __init__(self, reference: str) -> None:
        super().__init__(f"no customer matches {reference!r}")
        self.reference = reference


class DuplicateCustomer(LoyaltyError):
    def __init__(self, card_number: str, field: str = "phone") -> None:
        super().__init__(f"that {field} is already registered on card {card_number}")
        self.card_number = card_number
        self.field = field


class InsufficientPoints(LoyaltyError):
    def __init__(self, *, balance: int, cost: int) -> None:
        super().__init__(f"balance {balance} is {cost - balance} points short of {cost}")
        self.balance = balance
        self.cost = cost
        self.shortfall = cost - balance


class DiscountNotAllowed(LoyaltyError):
    """A money-off discount the reward does not allow on this bill and balance."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class InvalidAmount(LoyaltyError):
    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class NothingToEarn(LoyaltyError):
    """A purchase that would earn 0 points: below min_purchase (`minimum`), or too small for
    one point (`minimum` None). Refused, so no visit is recorded that earned nothing."""

    def __init__(self, amount: Decimal, currency: str, *, minimum: Decimal | None) -> None:
        why = "rounds to 0 points" if minimum is None else f"is below the {minimum:.2f} minimum"
        super().__init__(f"{amount:.2f} {currency} {why}")
        self.amount = amount
        self.currency = currency
        self.minimum = minimum


class InvalidContact(LoyaltyError):
    def __init__(self, field: str, why: str) -> None:
        super().__init__(f"{field}: {why}")
        self.field = field
        self.why = why


class InvalidReference(LoyaltyError):
    """What was typed is neither a valid card number nor a phone number."""

    def __init__(self, reference: str, why: str) -> None:
        super().__init__(why)
        self.reference = reference
        self.why = why


class UnknownReward(LoyaltyError):
    def __init__(self, reward_id: str, known: list[str]) -> None:
        super().__init__(f"no reward {reward_id!r}; rewards are: {', '.join(known)}")
        self.reward_id = reward_id
        self.known = known


class AlreadyLinked(LoyaltyError):
    """The card is linked to another Telegram account (or this account to another card)."""

    def __init__(self, card_number: str) -> None:
        super().__init__(f"card {card_number} is linked to another Telegram account")
        self.card_number = card_number


class InvalidBirthday(LoyaltyError):
    """A birthday that can't be read or can't exist (core/birthdays.py): why, with an example."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class InvalidPeriod(LoyaltyError):
    """A report period that can't be read ("/report 2026-13"): what was typed and why."""

    def __init__(self, text: str, why: str) -> None:
        super().__init__(why)
        self.text = text
        self.why = why


class ConfigError(LoyaltyError):
    """A bad config file: the key and the problem, for one clear line."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


# --- corrections (core/corrections.py) ------------------------------------------------------


class UnknownEntry(LoyaltyError):
    """No ledger entry has this id."""

    def __init__(self, entry_id: int) -> None:
        super().__init__(f"no ledger entry #{entry_id}")
        self.entry_id = entry_id


class AlreadyReversed(LoyaltyError):
    """The entry was voided, or its purchase refunded in full, by `by_entry_id`: nothing is
    left to reverse."""

    def __init__(self, entry_id: int, by_entry_id: int) -> None:
        super().__init__(f"entry #{entry_id} was already reversed by entry #{by_entry_id}")
        self.entry_id = entry_id
        self.by_entry_id = by_entry_id


class NotReversible(LoyaltyError):
    """A void or a refund is itself a correction: it is not voided (correct the card with an
    adjustment instead)."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"a {kind} entry can't be voided")
        self.kind = kind


class NotAPurchase(LoyaltyError):
    """Only a purchase (an earn entry) can be refunded."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"only a purchase can be refunded, not a {kind} entry")
        self.kind = kind


class RefundTooLarge(LoyaltyError):
    """More than what is left of the purchase: `remaining` is the most that can be refunded."""

    def __init__(self, remaining: Decimal) -> None:
        super().__init__(f"at most {remaining:.2f} of this purchase is left to refund")
        self.remaining = remaining


class ReasonRequired(LoyaltyError):
    """An adjustment changes points by hand: it must say why."""

    def __init__(self) -> None:
        super().__init__("an adjustment needs a reason")


class CardCodeInvalid(LoyaltyError):
    """A scanned card code that is not one the server signed (or not a card code at all)."""

    def __init__(self) -> None:
        super().__init__("not a valid card code")


class CardCodeExpired(LoyaltyError):
    """A card code the server signed whose few minutes are up (a screenshot, or an old one)."""

    def __init__(self) -> None:
        super().__init__("the card code has expired")


class AlreadyForgotten(LoyaltyError):
    """The customer was forgotten (/forget): there is nothing personal left to show or edit."""

    def __init__(self, card_number: str) -> None:
        super().__init__(f"the customer of card {card_number} was forgotten")
        self.card_number = card_number
