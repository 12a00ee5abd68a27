"""When Telegram misbehaves: flood limits, an unreachable Bot API, a second poller.

- ``rate_limiter``: python-telegram-bot's AIORateLimiter, so a 429 "retry after N" is waited
  out and the call sent, instead of the reply being lost (docs/decisions.md).
- ``reach_telegram``: `loyalty-bot run` starts even when Telegram can't be reached yet (no
  network, DNS, 5xx): it tries again with a growing wait and logs a line a minute at most; a
  refused token ends it at once with one line (docs/decisions.md).
- ``PollingTrouble``: the errors of the polling loop itself (409 Conflict: another process polls
  this token; the network gone mid-run) are logged once, or once a minute, not once per poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from telegram.error import (
    BadRequest,
    Conflict,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import AIORateLimiter, Application, ApplicationHandlerStop, ContextTypes

from .logs import redact

__all__ = [
    "BOOTSTRAP_RETRIES",
    "RATE_LIMIT_MAX_WAIT",
    "RATE_LIMIT_RETRIES",
    "RETRY_SCALE_ENV",
    "Backoff",
    "PollingTrouble",
    "RateLimiter",
    "TokenRefused",
    "connect",
    "rate_limiter",
    "reach_telegram",
]

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]

# How many times one call is sent again after a 429. Telegram names the wait; three tries cover
# a burst that meets the limit again right after the first wait.
RATE_LIMIT_RETRIES: Final = 3
# The longest 429 wait sat out in line. Bursts get a few seconds; a longer wait is a penalty.
RATE_LIMIT_MAX_WAIT: Final = 10.0

# For tests only: multiplies every start-up wait and the interval between its log lines, so an
# end-to-end test can have Telegram down for seconds, not minutes (tests/e2e/test_run_faults.py).
RETRY_SCALE_ENV: Final = "LOYALTY_BOT_TEST_RETRY_SCALE"

# Tries python-telegram-bot's own bootstrap (deleteWebhook, right after `connect` succeeded)
# gets: its waits grow from 1 s to 30 s, so about 100 s. Never -1 ("forever"): in PTB 22.4
# that repeated even a bootstrap that had succeeded, forever (python-telegram-bot issue 4966).
BOOTSTRAP_RETRIES: Final = 10


class RateLimiter(AIORateLimiter):
    """AIORateLimiter that waits out a 429 of up to ``max_wait`` seconds, not a longer one.

    A retry_after that long is no burst but a penalty (Telegram gives minutes or hours to a bot
    it thinks floods): holding every call that long would freeze the bot, so the RetryAfter
    reaches the caller at once instead. bot/delivery.py then leaves the message to its
    outbox worker; anything else fails like any unexpected error.
    """

    def __init__(self, *, max_retries: int, max_wait: float) -> None:
        super().__init__(max_retries=max_retries)
        self.max_wait = max_wait

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        async def at_most_max_wait(*a: Any, **kw: Any) -> bool | JSONDict | list[JSONDict]:
            try:
                return await callback(*a, **kw)
            except RetryAfter as error:
                if _retry_after_seconds(error) > self.max_wait:
                    raise _TooLong(error) from error  # not a RetryAfter: not retried
                raise

        try:
            return await super().process_request(
                at_most_max_wait, args, kwargs, endpoint, data, rate_limit_args
            )
        except _TooLong as too_long:
            raise too_long.error from None


class _TooLong(Exception):
    def __init__(self, error: RetryAfter) -> None:
        super().__init__(str(error))
        self.error = error


def rate_limiter() -> RateLimiter:
    """Throttles to Telegram's published limits and retries a call that still gets a 429.

    AIORateLimiter (python-telegram-bot[rate-limiter]) holds every call with a ``chat_id`` to
    30 a second for the whole bot, and those to groups (a negative id) to 20 a minute per group;
    getUpdates is never held. A 429 pauses *all* calls for its retry_after + 0.1 s, then sends
    the call again, up to ``RATE_LIMIT_RETRIES`` times; after that, or at once when Telegram
    asks for more than ``RATE_LIMIT_MAX_WAIT`` seconds, the RetryAfter reaches the caller.
    """
    return RateLimiter(max_retries=RATE_LIMIT_RETRIES, max_wait=RATE_LIMIT_MAX_WAIT)


# --- start-up ----------------------------------------------------------------------------------


class TokenRefused(Exception):
    """Telegram refused the token (401, or 404 for a malformed one): retrying cannot help."""


@dataclass(frozen=True)
class Backoff:
    """Waits between start-up tries: ``first``, doubling, at most ``cap``; a log line at most
    every ``log_every`` seconds."""

    first: float = 1.0
    cap: float = 30.0
    log_every: float = 60.0

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Backoff:
        """The defaults, shortened by ``LOYALTY_BOT_TEST_RETRY_SCALE`` (tests only)."""
        raw = environ.get(RETRY_SCALE_ENV, "").strip()
        try:
            scale = float(raw) if raw else 1.0
        except ValueError:
            scale = 1.0
        if not (math.isfinite(scale) and scale > 0):
            scale = 1.0
        base = cls()
        return cls(base.first * scale, base.cap * scale, base.log_every * scale)

    def waits(self) -> Callable[[], float]:
        """A fresh sequence of waits: first, 2 x first, ... capped."""
        state = {"next": self.first}

        def next_wait() -> float:
            wait = state["next"]
            state["next"] = min(wait * 2, self.cap)
            return wait

        return next_wait


def _describe(error: TelegramError) -> str:
    # Exception texts hold no token (Bot API URLs are not in them), but redact to be sure.
    return redact(f"{type(error).__name__}: {error.message}")


def _retry_after_seconds(error: RetryAfter) -> float:
    # The public `retry_after` warns (PTB 22.2: it becomes a timedelta); PTB's own retry loops
    # and AIORateLimiter read the timedelta behind it, as here.
    return error._retry_after.total_seconds()


async def connect(
    app: Application,  # type: ignore[type-arg]
    backoff: Backoff,
    *,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Initializes ``app`` (getMe), trying again until Telegram answers; returns the tries.

    Any TelegramError but a refused token is taken as "not reachable yet": connection refused,
    DNS failure and timeouts (NetworkError), 5xx (NetworkError), 429 (its retry_after is waited).
    One log line at the first failure, then one every ``backoff.log_every`` seconds at most.
    Raises TokenRefused, naming the problem and never the token, on 401/404.
    """
    next_wait = backoff.waits()
    started = clock()
    logged_at: float | None = None
    tries = 0
    while True:
        tries += 1
        try:
            await app.initialize()
        except InvalidToken as refused:
            # Bot.initialize re-raises with the token in the text: use the server's own words.
            said = getattr(refused.__cause__, "message", "") or "Unauthorized"
            raise TokenRefused(
                f"Telegram refused the bot token ({redact(said)}): check TELEGRAM_BOT_TOKEN or "
                "[telegram] token (and [telegram] base_url, if set). Not retrying."
            ) from None
        except TelegramError as error:
            wait = next_wait()
            if isinstance(error, RetryAfter):
                wait = max(wait, _retry_after_seconds(error) + 0.1)
            now = clock()
            if logged_at is None:
                log.warning(
                    "cannot reach Telegram (%s); trying again in %.3g s, waiting longer each "
                    "time up to %.3g s; logging this at most every %.3g s until it answers",
                    _describe(error),
                    wait,
                    backoff.cap,
                    backoff.log_every,
                )
                logged_at = now
            elif now - logged_at >= backoff.log_every:
                log.warning(
                    "still cannot reach Telegram after %d tries in %.0f s (%s); next try in %.3g s",
                    tries,
                    now - started,
                    _describe(error),
                    wait,
                )
                logged_at = now
            await sleep(wait)
        else:
            if tries > 1:
                log.info("reached Telegram after %d tries in %.1f s", tries, clock() - started)
            return tries


def reach_telegram(
    app: Application,  # type: ignore[type-arg]
    *,
    stop_signals: Sequence[int],
    backoff: Backoff | None = None,
) -> bool:
    """Runs ``connect`` on a new event loop, the one ``app.run_polling`` then uses.

    Returns True once Telegram answered, False when a stop signal came first (the caller exits
    cleanly). Raises TokenRefused. ``app.run_polling`` finds the app initialized and goes on.
    """
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    task = loop.create_task(connect(app, backoff or Backoff.from_environment()))
    for sig in stop_signals:
        with contextlib.suppress(NotImplementedError, RuntimeError):  # e.g. Windows' loop
            loop.add_signal_handler(sig, task.cancel)
    try:
        loop.run_until_complete(task)
        return True
    except asyncio.CancelledError:
        log.info("stopped before Telegram could be reached")
        loop.run_until_complete(app.bot.shutdown())  # closes the HTTP connection pools
        return False
    except TokenRefused:
        loop.run_until_complete(app.bot.shutdown())
        raise
    finally:
        for sig in stop_signals:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)


# --- while polling -----------------------------------------------------------------------------


class PollingTrouble:
    """An error handler for the polling loop's own errors; register it before the general one.

    python-telegram-bot hands every failed getUpdates to the error handlers (no update, no job,
    no task). The general handler (bot/errors.py) would log each with a traceback: one per poll,
    every 1 to 30 s, for as long as it lasts. Here:
    - 409 Conflict (another process polls this token) is logged once, as an ERROR naming the
      cause, then again at most every ``remind_every`` seconds while it goes on;
    - network errors (Telegram or the network gone mid-run; PTB keeps retrying) get one WARNING
      line a minute at most.
    Other errors go on to the general handler.
    """

    def __init__(
        self,
        *,
        remind_every: float = 3600.0,
        network_every: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.remind_every = remind_every
        self.network_every = network_every
        self._clock = clock
        self._conflict_logged: float | None = None
        self._conflicts = 0
        self._network_logged: float | None = None
        self._network_errors = 0

    async def __call__(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        if update is not None or context.job is not None or context.coroutine is not None:
            return  # not the polling loop's: the general handler deals with it
        if isinstance(error, Conflict):
            self._conflict(error)
        elif isinstance(error, NetworkError) and not isinstance(error, BadRequest):
            # (python-telegram-bot makes BadRequest a NetworkError: that one is not the network.)
            self._network(error)
        else:
            return
        raise ApplicationHandlerStop  # handled: no traceback from the general handler

    def _conflict(self, error: Conflict) -> None:
        now = self._clock()
        self._conflicts += 1
        if self._conflict_logged is None:
            log.error(
                "another bot process is polling this token: %s. Stop the other one: while two "
                "poll, each gets only some of the updates. (Logged once; this one keeps "
                "polling.)",
                redact(error.message),
            )
        elif now - self._conflict_logged >= self.remind_every:
            log.error(
                "another bot process is still polling this token (%d conflicts so far)",
                self._conflicts,
            )
        else:
            return
        self._conflict_logged = now

    def _network(self, error: NetworkError) -> None:
        now = self._clock()
        self._network_errors += 1
        if self._network_logged is not None and now - self._network_logged < self.network_every:
            return
        log.warning(
            "cannot reach Telegram while polling (%s; %d errors since the last line like this); "
            "retrying",
            _describe(error),
            self._network_errors,
        )
        self._network_logged = now
        self._network_errors = 0
