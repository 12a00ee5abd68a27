"""The loyalty engine's exceptions: each names a fact and carries what a friendly reply needs.

    LoyaltyError
    ├── UnknownCustomer        reference tried            ("no card 1234 5678")
    ├── DuplicateCustomer      the existing card          ("that phone is on card ...")
    ├── InsufficientPoints     balance, cost, shortfall
    ├── InvalidAmount          why                        ("more than two decimal places")
    ├── InvalidContact         field, why                 ("not a valid UK number")
    ├── InvalidReference       why                        ("check digit does not match")
    ├── UnknownReward          the ids that exist
    ├── AlreadyLinked          the card already linked to another Telegram account
    ├── InvalidPeriod          text, why                  ("2026-13 is not a month")
    └── ConfigError            key, problem               (one line, no traceback)

Handlers in bot/ map each of these to a one-line reply; anything else is a bug and goes to the
one error handler.
"""

from __future__ import annotations


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


class InvalidAmount(LoyaltyError):
    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


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
