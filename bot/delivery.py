"""Delivering what a committed change owes people: the result to the cashier, the notice to the
customer. The messages come from the outbox (core/db/outbox.py), written with the change.

Why: a cashier told "nothing was changed" (or told nothing) about a recorded earn types it again,
and the customer gets the points twice. So after a commit, every reply about it is delivered at
least once, whatever Telegram does:
- in line, by the confirmation that made the change: up to INLINE_ATTEMPTS tries, a short wait
  between them, or Telegram's own `retry_after` when it asks for a short one;
- then by the background worker (`deliver_due`, every WORKER_INTERVAL seconds, and at start-up:
  a crash between commit and send still delivers after restart), with growing waits (for tests
  only, LOYALTY_BOT_TEST_OUTBOX_INTERVAL sets the worker's interval: `worker_interval`);
- never again once sent (marked in the outbox), and never by two senders at once (claims).
A chat that blocked the bot, or a message Telegram refuses as malformed, will not get through by
retrying: it is marked undeliverable at once. After GIVE_UP_AFTER, so is anything else.

A timeout is the one ambiguous case: Telegram may have sent the message and failed to say so.
It is retried all the same (at least once beats at most once for a receipt a cashier acts on).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any, Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes

from core.db import outbox
from core.types import Button, Owed

from .services import Services, services_of

log = logging.getLogger(__name__)

INLINE_ATTEMPTS: Final = 3
INLINE_WAITS: Final = (0.5, 1.5)  # seconds between the in-line attempts
INLINE_MAX_RETRY_AFTER: Final = 5.0  # a longer flood wait is left to the worker
WORKER_INTERVAL: Final = 5.0  # seconds between the worker's looks at the outbox
# For tests only: the worker's interval in seconds instead of WORKER_INTERVAL, so an end-to-end
# test sees a restarted process deliver what it owes within a second of it falling due, not
# five (tests/e2e/test_run_outbox.py). The retry waits (BACKOFF) are not changed.
WORKER_INTERVAL_ENV: Final = "LOYALTY_BOT_TEST_OUTBOX_INTERVAL"
# The worker's waits after each failed attempt; the last one repeats.
BACKOFF: Final = tuple(dt.timedelta(seconds=s) for s in (5, 15, 60, 300, 900, 3600))
GIVE_UP_AFTER: Final = dt.timedelta(days=1)
KEEP_SENT_FOR: Final = dt.timedelta(days=7)  # then the texts (names, balances) are deleted
JOB_NAME: Final = "outbox"
PRUNE_INTERVAL: Final = 3600.0  # seconds


async def send_now(app: Application[Any, Any, Any, Any, Any, Any], owed: Sequence[Owed]) -> None:
    """Sends a confirmation's messages in line; what can't be sent yet is left owed for the
    worker, which picks it up when due."""
    svc = services_of(app)
    for message in owed:
        for attempt in range(INLINE_ATTEMPTS):
            failure = await _try(app, message)
            tries = attempt + 1
            if failure is None:
                await _mark(svc, message, outcome="sent", tries=tries)
                break
            if failure.final:
                await _mark(svc, message, outcome="undeliverable", error=failure.error, tries=tries)
                break
            last = tries == INLINE_ATTEMPTS
            if last or failure.retry_after > INLINE_MAX_RETRY_AFTER:
                await _owe(svc, message, failure, tries=tries)
                break
            await asyncio.sleep(max(failure.retry_after, INLINE_WAITS[attempt]))


async def deliver_due(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The worker: sends every owed message that is due, one try each; prunes old sent ones."""
    app = context.application
    svc = services_of(app)
    now = svc.clock()
    due = await svc.store.unit.write(outbox.claim_due, now=now)
    for message in due:
        failure = await _try(app, message)
        if failure is None:
            await _mark(svc, message, outcome="sent")
        elif failure.final or now - message["created_at"] >= GIVE_UP_AFTER:
            log.warning(
                "gave up on message %s to chat %s: %s",
                message["id"],
                message["chat_id"],
                failure.error,
            )
            await _mark(svc, message, outcome="undeliverable", error=failure.error)
        else:
            await _owe(svc, message, failure)
    if due:
        log.info("outbox: %d owed message(s) handled", len(due))


async def prune(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Hourly: deletes messages done more than KEEP_SENT_FOR ago (their texts hold names)."""
    svc = services_of(context.application)
    await svc.store.unit.write(outbox.prune, before=svc.clock() - KEEP_SENT_FOR)


async def claim_owed(svc: Services, change_key: str) -> list[Owed]:
    """What a change still owes (a replayed confirmation finishes what the first could not)."""
    return await svc.store.unit.write(outbox.claim_due, now=svc.clock(), change_key=change_key)


async def start(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """At start-up: frees claims a dead process left, and starts the worker (which runs at once,
    so what a crash left owed goes out now)."""
    svc = services_of(app)
    freed = await svc.store.unit.write(outbox.release_claims)
    owed = await svc.store.unit.read(outbox.owed_count)
    if owed:
        log.info(
            "outbox: %d message(s) owed from before this start (%d were mid-send)", owed, freed
        )
    if app.job_queue is not None:
        app.job_queue.run_repeating(prune, interval=PRUNE_INTERVAL, name=f"{JOB_NAME}-prune")
        job = app.job_queue.run_repeating(deliver_due, interval=worker_interval(), name=JOB_NAME)
        # Run once now: APScheduler can't start a repeating job immediately (PTB's own advice).
        await job.run(app)


def worker_interval(environ: Mapping[str, str] = os.environ) -> float:
    """WORKER_INTERVAL, or the seconds ``LOYALTY_BOT_TEST_OUTBOX_INTERVAL`` names (tests only);
    a value that is not a positive number is ignored."""
    raw = environ.get(WORKER_INTERVAL_ENV, "").strip()
    try:
        seconds = float(raw) if raw else WORKER_INTERVAL
    except ValueError:
        return WORKER_INTERVAL
    return seconds if math.isfinite(seconds) and seconds > 0 else WORKER_INTERVAL


class _Failure:
    """Why an attempt failed: final (retrying can't help) or worth another try, and when."""

    def __init__(self, error: TelegramError) -> None:
        self.error = f"{type(error).__name__}: {error}"
        self.final = isinstance(error, Forbidden | BadRequest)
        self.retry_after = _retry_after(error)


def _retry_after(error: TelegramError) -> float:
    """Seconds Telegram asked us to wait (429), else 0; PTB gives an int or a timedelta."""
    if not isinstance(error, RetryAfter):
        return 0.0
    wait = error.retry_after
    return wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)


async def _try(app: Application[Any, Any, Any, Any, Any, Any], message: Owed) -> _Failure | None:
    try:
        await app.bot.send_message(
            message["chat_id"], message["text"], reply_markup=_keyboard(message["buttons"])
        )
    except TelegramError as exc:
        log.info("message %s to chat %s not sent: %s", message["id"], message["chat_id"], exc)
        return _Failure(exc)
    return None


def _keyboard(rows: list[list[Button]] | None) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b["text"], callback_data=b["data"]) for b in row] for row in rows]
    )


async def _mark(
    svc: Services,
    message: Owed,
    *,
    outcome: outbox.Outcome,
    error: str | None = None,
    tries: int = 1,
) -> None:
    await svc.store.unit.write(
        outbox.mark, message["id"], now=svc.clock(), outcome=outcome, error=error, tries=tries
    )


async def _owe(svc: Services, message: Owed, failure: _Failure, *, tries: int = 1) -> None:
    """Leaves the message owed, due again after the backoff (or Telegram's retry_after)."""
    now = svc.clock()
    # The worker's own tries so far pick the wait: the in-line ones came first, quickly.
    worker_tries = max(message["attempts"] + tries - INLINE_ATTEMPTS, 0)
    wait = BACKOFF[min(worker_tries, len(BACKOFF) - 1)]
    wait = max(wait, dt.timedelta(seconds=failure.retry_after))
    await svc.store.unit.write(
        outbox.mark,
        message["id"],
        now=now,
        outcome=None,
        error=failure.error,
        retry_at=now + wait,
        tries=tries,
    )
