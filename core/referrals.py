"""Referrals: pure rules for customer invite links and when a referral counts. No I/O.

- new_code / link / code_from: the code in t.me/<bot>?start=ref_<code>, random, short
- refusal:   why an invited person's card can't take the referral (None: it can): the
             referrer's own card, a card registered before the link was opened (an existing
             customer is not a new one), or one that has a purchase already
- referrer_rewarded: whether the referrer's bonus is within [referral] monthly_limit

How a card is tied to a link (docs/decisions.md, "Referrals"): the invited person opens the
link and the bot remembers their Telegram account (the first link it opens wins); when that
account later links a card registered after the click, with no purchase yet, the referral
attaches to the card; at that card's first purchase both get [referral] bonus, once.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Final, Literal

PREFIX: Final = "ref_"
_ALPHABET: Final = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or retyped
_CODE: Final = re.compile(rf"{PREFIX}([{_ALPHABET}]{{10}})")

Refusal = Literal["own_card", "registered_before", "has_purchases"]


def new_code() -> str:
    """Ten random characters: 31^10 codes, never guessed."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(10))


def link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={PREFIX}{code}"


def code_from(payload: str) -> str | None:
    """The code in a /start payload "ref_<code>", or None if it is not one."""
    match = _CODE.fullmatch(payload.strip())
    return None if match is None else match[1]


def refusal(
    *,
    referrer_id: int,
    customer_id: int,
    registered_at: dt.datetime,
    clicked_at: dt.datetime,
    purchases: int,
) -> Refusal | None:
    """Why the card can't take the referral, or None when it can."""
    if customer_id == referrer_id:
        return "own_card"
    if registered_at < clicked_at:
        return "registered_before"
    if purchases:
        return "has_purchases"
    return None


def referrer_rewarded(rewarded_this_month: int, monthly_limit: int) -> bool:
    """Whether one more referral this month still earns the referrer a bonus (0: no limit)."""
    return monthly_limit == 0 or rewarded_this_month < monthly_limit


def month_start(now: dt.datetime, timezone: dt.tzinfo) -> dt.datetime:
    """The first moment of `now`'s month on the shop's clock, as an aware datetime."""
    local = now.astimezone(timezone)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
