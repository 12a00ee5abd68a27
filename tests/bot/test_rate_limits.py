"""Telegram's flood control through the real Application: a 429 is waited out, not a lost reply.

The Application is the one `loyalty-bot run` builds, rate limiter included (bot/network.py);
Telegram's 429 answers are scripted on the offline Bot API (bot/offline/faults.py).
"""

from __future__ import annotations

import logging
import time

import pytest

from bot.network import RATE_LIMIT_MAX_WAIT
from bot.offline import Fault
from tests.support.harness import CASHIER, CUSTOMER, BotHarness

pytestmark = pytest.mark.asyncio


def errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_429_on_a_reply_is_waited_out_and_the_reply_sent_once(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    bot.emulator.fail("sendMessage", Fault.flood(1), chat_id=CASHIER)

    started = time.monotonic()
    calls = await bot.send(CASHIER, "/help")
    waited = time.monotonic() - started

    flooded, sent = [c for c in calls if c.method == "sendMessage"]
    assert not flooded.delivered and flooded.error == "Too Many Requests: retry after 1"
    assert sent.delivered and "/earn" in (sent.visible_text or "")
    assert waited >= 1.0  # Telegram's retry_after, respected
    assert len(bot.said_to(CASHIER)) == 1
    assert bot.bad_requests() == [] and errors(caplog) == []


async def test_while_one_429_is_waited_out_other_chats_wait_too(bot: BotHarness) -> None:
    # Flood control is per bot: AIORateLimiter holds every call until the wait is over, so
    # the bot does not earn itself a longer ban by carrying on elsewhere.
    bot.emulator.fail("sendMessage", Fault.flood(1), chat_id=CASHIER)
    flooded = bot.app.create_task(bot.send(CASHIER, "/help"))
    await bot.emulator.until(lambda: bot.emulator.calls[-1].error)  # the 429 is in
    started = time.monotonic()
    await bot.send(CUSTOMER, "/help")
    assert time.monotonic() - started >= 0.5
    await flooded
    assert len(bot.said_to(CASHIER)) == len(bot.said_to(CUSTOMER)) == 1


async def test_a_429_on_a_button_answer_is_waited_out_too(bot: BotHarness) -> None:
    bot.emulator.fail("answerCallbackQuery", Fault.flood(1))
    calls = await bot.press_data(CUSTOMER, "no-such-button")
    answers = [c for c in calls if c.method == "answerCallbackQuery"]
    assert [c.delivered for c in answers] == [False, True]


async def test_a_429_asking_for_more_than_the_longest_wait_is_not_sat_out(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    # Minutes of flood wait are a penalty, not a burst: holding every call that long would
    # freeze the bot. The reply fails at once (the error handler apologises: not flooded).
    bot.emulator.fail("sendMessage", Fault.flood(int(RATE_LIMIT_MAX_WAIT) + 20), chat_id=CASHIER)

    started = time.monotonic()
    calls = await bot.send(CASHIER, "/help")

    assert time.monotonic() - started < RATE_LIMIT_MAX_WAIT
    flooded, apology = [c for c in calls if c.method == "sendMessage"]
    assert not flooded.delivered and "/earn" in (flooded.visible_text or "")
    assert apology.delivered and "Sorry" in (apology.visible_text or "")
    assert any("RetryAfter" in repr(r.exc_info) for r in errors(caplog))
