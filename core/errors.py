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

Each exception says why twice: `str(exc)` (and `exc.why`) in English, for logs and the CLI, and
`exc.reason`, a `Reason`: the same words as a template marked for the translation catalogs
(core/marks.py) with its named values, which bot/ renders in the reader's language
(`exc.reason.render(words)`). Core never translates (it does not know who reads); it marks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Union

from core.marks import ENGLISH, Words

# A value in a reason: words as they are (what was typed, a card number), a number written the
# reader's way when shown (an int as a count, a Decimal as an amount of money), or another
# reason translated with this one ("not a phone number (it is too short)").
Value = Union[str, int, Decimal, "Reason"]


def english_number(value: int | Decimal) -> str:
    """1,250 and 1,250.00: how English writes a count and an amount."""
    return f"{value:,.2f}" if isinstance(value, Decimal) else f"{value:,}"


@dataclass(frozen=True)
class Reason:
    """Why something was refused, ready for any language: a template marked with `N_` and the
    named values for its `{placeholders}`, filled in AFTER translation so a translation may
    reorder them.

    `translated=False` for words that are in no catalog (a reason a caller wrote as plain text):
    shown as they are. `english` holds a library's own English words that say more than our
    template (email_validator's "The part after the @-sign is not valid."): shown instead of
    the template wherever the template has no translation, i.e. to English readers.
    """

    template: str
    values: Mapping[str, Value] = field(default_factory=dict)
    translated: bool = True
    english: str | None = None

    @classmethod
    def verbatim(cls, text: str) -> Reason:
        """Words from elsewhere, shown as they are in every language."""
        return cls("{text}", {"text": text}, translated=False)

    def render(
        self,
        words: Words = ENGLISH,
        number: Callable[[int | Decimal], str] = english_number,
    ) -> str:
        """The reason in `words`' language, its numbers written by `number`."""
        text = words.gettext(self.template) if self.translated else self.template
        if self.english is not None and text == self.template:
            return self.english
        shown = {
            key: (
                value.render(words, number)
                if isinstance(value, Reason)
                else number(value)
                if isinstance(value, (int, Decimal)) and not isinstance(value, bool)
                else str(value)
            )
            for key, value in self.values.items()
        }
        return text.format(**shown)

    def __str__(self) -> str:
        return self.render()


def _reason(why: str | Reason) -> Reason:
    return why if isinstance(why, Reason) else Reason.verbatim(why)


class LoyaltyError(Exception):
    """Base of every expected, user-facing failure of the loyalty engine.

    `reason`: what went wrong, translatable (see the module's docstring). An exception whose
    reply bot/replies.py words from its fields (UnknownCustomer: the reference) keeps its
    English message here as it is.
    """

    def __init__(self, why: str | Reason = "") -> None:
        self.reason = _reason(why)
        super().__init__(str(self.reason))


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

    def __init__(self, why: str | Reason) -> None:
        super().__init__(why)
        self.why = str(self.reason)


class InvalidAmount(LoyaltyError):
    def __init__(self, why: str | Reason) -> None:
        super().__init__(why)
        self.why = str(self.reason)


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
    """`reason` is why the value won't do, without the field (`field` names it)."""

    def __init__(self, field: str, why: str | Reason) -> None:
        super().__init__(why)
        self.field = field
        self.why = str(self.reason)
        self.args = (f"{field}: {self.why}",)


class InvalidReference(LoyaltyError):
    """What was typed is neither a valid card number nor a phone number."""

    def __init__(self, reference: str, why: str | Reason) -> None:
        super().__init__(why)
        self.reference = reference
        self.why = str(self.reason)


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

    def __init__(self, why: str | Reason) -> None:
        super().__init__(why)
        self.why = str(self.reason)


class InvalidPeriod(LoyaltyError):
    """A report period that can't be read ("/report 2026-13"): what was typed and why."""

    def __init__(self, text: str, why: str | Reason) -> None:
        super().__init__(why)
        self.text = text
        self.why = str(self.reason)


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
