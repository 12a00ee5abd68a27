"""tests.support.fake_bot_api with scripted faults: the real HTTP client (HTTPXRequest) meets a
refusal, a 429, a hung-up connection and a slow answer as it would meet them from Telegram.

Scripts are set from the test (``fake.fail``) while the server answers on its own threads.
"""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from telegram.error import Conflict, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, ApplicationBuilder

from bot.offline import Fault
from tests.support.fake_bot_api import FakeBotApi

TOKEN = "123:ABC"
USER = 42

AnyApp = Application[Any, Any, Any, Any, Any, Any]


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with FakeBotApi() as server:
        yield server


@pytest.fixture
async def app(fake: FakeBotApi) -> AsyncIterator[AnyApp]:
    application = ApplicationBuilder().token(TOKEN).base_url(fake.base_url).read_timeout(1).build()
    async with application:
        yield application


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_error_statuses_arrive_as_the_library_raises_them(
    app: AnyApp, fake: FakeBotApi
) -> None:
    fake.fail("sendMessage", Fault.blocked())
    fake.fail("sendMessage", Fault.error(502))
    fake.fail("sendMessage", Fault.flood(2))

    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await app.bot.send_message(USER, "1")
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await app.bot.send_message(USER, "2")
    with pytest.raises(RetryAfter, match="Retry in 2 seconds"):
        await app.bot.send_message(USER, "3")

    assert (await app.bot.send_message(USER, "4")).text == "4"
    assert [c.delivered for c in fake.calls if c.method == "sendMessage"] == [
        False,
        False,
        False,
        True,
    ]
    assert fake.bad_requests == []


@pytest.mark.parametrize("fault", [Fault.drop_before(), Fault.drop_after()], ids=str)
async def test_a_dropped_connection_hangs_up_without_an_answer(
    app: AnyApp, fake: FakeBotApi, fault: Fault
) -> None:
    fake.fail("sendMessage", fault)
    with pytest.raises(NetworkError, match="disconnected") as caught:
        await app.bot.send_message(USER, "lost?")
    assert not isinstance(caught.value, TimedOut)

    [call] = [c for c in fake.calls if c.method == "sendMessage"]
    assert call.delivered is fault.reaches_telegram  # sent only when dropped after Telegram
    assert (await app.bot.send_message(USER, "next")).text == "next"  # a new connection works


async def test_an_answer_slower_than_the_read_timeout_is_a_timeout(
    app: AnyApp, fake: FakeBotApi
) -> None:
    fake.fail("sendMessage", Fault.delay(2))  # the app's read timeout is 1 s
    started = time.monotonic()
    with pytest.raises(TimedOut):
        await app.bot.send_message(USER, "slow")
    assert time.monotonic() - started < 1.9
    assert fake.sent_to(USER)[0].text == "slow"  # Telegram sent it all the same

    fake.fail("sendMessage", Fault.delay(0.3))
    started = time.monotonic()
    assert (await app.bot.send_message(USER, "late")).text == "late"
    assert time.monotonic() - started >= 0.3


async def test_a_409_answers_a_long_poll_at_once(app: AnyApp, fake: FakeBotApi) -> None:
    fake.fail("getUpdates", Fault.conflict())
    started = time.monotonic()
    with pytest.raises(Conflict, match="only one bot instance"):
        await app.bot.get_updates(timeout=10)
    assert time.monotonic() - started < 5


async def test_everything_fails_until_the_faults_are_cleared(app: AnyApp, fake: FakeBotApi) -> None:
    fake.fail("*", Fault.error(502), times=None)
    for _ in range(3):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await app.bot.get_me()
    fake.clear_faults()
    assert (await app.bot.get_me()).username == "loyalty_test_bot"


async def test_a_fake_on_a_fixed_port_can_come_up_after_the_bot_tried() -> None:
    port = free_port()
    fake = FakeBotApi(port=port)
    application = ApplicationBuilder().token(TOKEN).base_url(f"http://127.0.0.1:{port}/bot").build()
    with pytest.raises(NetworkError):  # connection refused: Telegram unreachable
        await application.bot.get_me()
    with fake:
        assert fake.base_url == f"http://127.0.0.1:{port}/bot"
        assert (await application.bot.get_me()).username == "loyalty_test_bot"
    await application.bot.shutdown()
