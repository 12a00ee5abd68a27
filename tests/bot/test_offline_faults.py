"""bot.offline's scripted faults: each gives the bot exactly what python-telegram-bot raises for
the real thing, and the emulator records every attempt with whether Telegram acted on it.

The bot here is the plain library (Bot, Application) over OfflineRequest, no loyalty code: the
tests check the double, so the bot tests that use it can trust what it does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import Update
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import Application, ApplicationBuilder

from bot.offline import BotApiEmulator, ConnectionDropped, Fault, FaultKind, OfflineRequest

TOKEN = "123:ABC"
USER, OTHER = 42, 43

AnyApp = Application[Any, Any, Any, Any, Any, Any]


def build_app(emulator: BotApiEmulator, *, read_timeout: float | None = 5.0) -> AnyApp:
    return (
        ApplicationBuilder()
        .token(TOKEN)
        .request(OfflineRequest(emulator=emulator, read_timeout=read_timeout))
        .get_updates_request(OfflineRequest(emulator=emulator, read_timeout=read_timeout))
        .build()
    )


@pytest.fixture
def emulator() -> BotApiEmulator:
    return BotApiEmulator()


@pytest.fixture
async def app(emulator: BotApiEmulator) -> AsyncIterator[AnyApp]:
    async with build_app(emulator) as application:
        yield application


def sends(emulator: BotApiEmulator) -> list[Any]:
    return [c for c in emulator.calls if c.method == "sendMessage"]


# --- each fault kind gives the exception python-telegram-bot raises for it ---------------------


@pytest.mark.parametrize(
    ("fault", "raised", "message"),
    [
        (Fault.error(500), NetworkError, "Internal Server Error"),
        (Fault.error(502), NetworkError, "Bad Gateway"),
        (Fault.blocked(), Forbidden, "Forbidden: bot was blocked by the user"),
        (Fault.error(400, "Bad Request: chat not found"), BadRequest, "Chat not found"),
        (Fault.error(401), InvalidToken, "Unauthorized"),
        (Fault.conflict(), Conflict, "Conflict: terminated by other getUpdates request"),
        (Fault.flood(3), RetryAfter, "Flood control exceeded. Retry in 3 seconds"),
        (Fault.drop_before(), NetworkError, "Server disconnected without sending a response"),
        (Fault.drop_after(), NetworkError, "Server disconnected without sending a response"),
    ],
    ids=["500", "502", "403", "400", "401", "409", "429", "drop_before", "drop_after"],
)
async def test_each_fault_raises_what_the_library_raises_for_the_real_thing(
    app: AnyApp,
    emulator: BotApiEmulator,
    fault: Fault,
    raised: type[TelegramError],
    message: str,
) -> None:
    emulator.fail("sendMessage", fault)

    with pytest.raises(raised) as caught:
        await app.bot.send_message(USER, "Hi")

    assert type(caught.value) is raised  # not just a subclass: TimedOut is a NetworkError too
    assert message in caught.value.message
    assert emulator.bad_requests == []  # a scripted fault is not the bot's mistake
    assert (await app.bot.send_message(USER, "again")).text == "again"  # used up: normal again


async def test_a_flood_fault_carries_its_retry_after(app: AnyApp, emulator: BotApiEmulator) -> None:
    emulator.fail("sendMessage", Fault.flood(7))
    with pytest.raises(RetryAfter) as caught:
        await app.bot.send_message(USER, "Hi")
    # Read from the message: the retry_after attribute is mid-way from int to timedelta (v22.2).
    assert "Retry in 7 seconds" in caught.value.message


async def test_a_refusal_and_a_drop_before_leave_no_message_a_drop_after_does(
    app: AnyApp, emulator: BotApiEmulator
) -> None:
    emulator.fail("sendMessage", Fault.error(500))
    emulator.fail("sendMessage", Fault.drop_before())
    emulator.fail("sendMessage", Fault.drop_after())
    for text in ("refused", "never arrived", "arrived unheard"):
        with pytest.raises(NetworkError):
            await app.bot.send_message(USER, text)

    refused, lost, unheard = sends(emulator)
    assert [c.delivered for c in (refused, lost, unheard)] == [False, False, True]
    assert refused.error == "Internal Server Error" and refused.fault == Fault.error(500)
    assert lost.fault is not None and lost.fault.kind is FaultKind.DROP_BEFORE
    assert unheard.result["text"] == "arrived unheard"  # the user sees it, the bot never knew
    assert emulator.message(USER, 1) == unheard.result
    assert emulator.message(USER, 2) is None
    assert (await app.bot.send_message(USER, "next")).message_id == 2


# --- delays and timeouts ------------------------------------------------------------------------


async def test_a_delay_within_the_read_timeout_answers_late(
    app: AnyApp, emulator: BotApiEmulator
) -> None:
    emulator.fail("sendMessage", Fault.delay(0.3))
    started = time.monotonic()
    sent = await app.bot.send_message(USER, "slow")
    assert time.monotonic() - started >= 0.3
    assert sent.text == "slow" and sends(emulator)[0].delivered


async def test_a_delay_past_the_read_timeout_is_a_timeout_though_the_message_was_sent(
    emulator: BotApiEmulator,
) -> None:
    async with build_app(emulator, read_timeout=0.2) as app:
        emulator.fail("sendMessage", Fault.delay(5))
        started = time.monotonic()
        with pytest.raises(TimedOut):
            await app.bot.send_message(USER, "too slow")
        waited = time.monotonic() - started

    assert 0.2 <= waited < 2  # gave up at the read timeout, not after the 5 s delay
    [call] = sends(emulator)
    assert call.delivered and emulator.message(USER, 1) is not None


async def test_a_per_call_read_timeout_wins_over_the_requests_own(
    app: AnyApp, emulator: BotApiEmulator
) -> None:
    emulator.fail("sendMessage", Fault.delay(1))
    with pytest.raises(TimedOut):
        await app.bot.send_message(USER, "hurry", read_timeout=0.1)


# --- scripts: order, counts, chats, methods -----------------------------------------------------


async def test_scripts_are_consumed_in_the_order_they_were_added(
    app: AnyApp, emulator: BotApiEmulator
) -> None:
    emulator.fail("sendMessage", Fault.error(502), times=2)
    emulator.fail("sendMessage", Fault.blocked())
    assert emulator.pending_faults == 3

    outcomes: list[str] = []
    for _ in range(4):
        try:
            await app.bot.send_message(USER, "Hi")
            outcomes.append("sent")
        except TelegramError as error:
            outcomes.append(type(error).__name__)

    assert outcomes == ["NetworkError", "NetworkError", "Forbidden", "sent"]
    assert emulator.pending_faults == 0
    assert [c.delivered for c in sends(emulator)] == [False, False, False, True]


async def test_a_script_for_one_chat_leaves_the_others_alone(
    app: AnyApp, emulator: BotApiEmulator
) -> None:
    emulator.fail("sendMessage", Fault.blocked(), chat_id=OTHER)
    assert (await app.bot.send_message(USER, "fine")).text == "fine"
    with pytest.raises(Forbidden):
        await app.bot.send_message(OTHER, "blocked")


async def test_a_script_for_any_method_until_cleared(app: AnyApp, emulator: BotApiEmulator) -> None:
    emulator.fail("*", Fault.error(502), times=None)
    for _ in range(3):
        with pytest.raises(NetworkError):
            await app.bot.get_me()
        with pytest.raises(NetworkError):
            await app.bot.send_message(USER, "Hi")
    assert emulator.pending_faults == -1

    emulator.clear_faults()

    assert (await app.bot.send_message(USER, "back")).text == "back"
    assert len(emulator.calls) == 1 + 6 + 1  # getMe at start, every failed attempt, the last


async def test_a_faulted_long_poll_answers_at_once(app: AnyApp, emulator: BotApiEmulator) -> None:
    emulator.fail("getUpdates", Fault.conflict())
    started = time.monotonic()
    with pytest.raises(Conflict):
        await app.bot.get_updates(timeout=10)
    assert time.monotonic() - started < 2  # Telegram answers a 409 at once, not after the poll


async def test_the_application_polling_through_a_drop_still_gets_the_update(
    emulator: BotApiEmulator,
) -> None:
    async with build_app(emulator) as app:
        assert app.updater is not None
        queue = await app.updater.start_polling(timeout=1)
        emulator.fail("getUpdates", Fault.drop_after())
        emulator.push_update(
            {
                "update_id": 1,
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": USER, "type": "private"},
                    "text": "hello",
                },
            }
        )
        update = await asyncio.wait_for(queue.get(), timeout=10)
        await app.updater.stop()
    assert isinstance(update, Update)  # the queue holds whatever was put in it
    assert update.update_id == 1  # the answer was lost, so the update was asked for again


def test_times_must_be_positive() -> None:
    with pytest.raises(ValueError, match="times"):
        BotApiEmulator().fail("sendMessage", Fault.blocked(), times=0)


def test_an_error_fault_needs_an_error_status() -> None:
    with pytest.raises(ValueError, match="400-599"):
        Fault.error(200)


def test_call_raises_connection_dropped_for_a_drop() -> None:
    emulator = BotApiEmulator()
    emulator.fail("sendMessage", Fault.drop_after())
    with pytest.raises(ConnectionDropped) as caught:
        emulator.call("sendMessage", {"chat_id": USER, "text": "Hi"})
    assert caught.value.fault.kind is FaultKind.DROP_AFTER
    assert emulator.calls[-1].delivered
