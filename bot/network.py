"""When Telegram misbehaves: flood limits, an unreachable Bot API, a second poller.

- ``rate_limiter``: python-telegram-bot's AIORateLimiter, so a 429 "retry after N" is waited
  out and the call sent, instead of the reply being lost (docs/decisions.md).
"""

from __future__ import annotations

from typing import Final

from telegram.ext import AIORateLimiter

__all__ = ["RATE_LIMIT_RETRIES", "rate_limiter"]

# How many times one call is sent again after a 429. Telegram names the wait; three tries cover
# a burst that meets the limit again right after the first wait.
RATE_LIMIT_RETRIES: Final = 3


def rate_limiter() -> AIORateLimiter:
    """Throttles to Telegram's published limits and retries a call that still gets a 429.

    AIORateLimiter (python-telegram-bot[rate-limiter]) holds every call with a ``chat_id`` to
    30 a second for the whole bot, and those to groups (a negative id) to 20 a minute per group;
    getUpdates is never held. A 429 pauses *all* calls for its retry_after + 0.1 s, then sends
    the call again, up to ``RATE_LIMIT_RETRIES`` times; after that the RetryAfter reaches the
    caller as before.
    """
    return AIORateLimiter(max_retries=RATE_LIMIT_RETRIES)
