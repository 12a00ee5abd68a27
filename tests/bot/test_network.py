"""bot/network.py: start-up that survives an unreachable Telegram, and polling errors logged
once instead of once per poll.

`connect` runs on the real Application that `loyalty-bot run` builds, over the offline Bot API
with scripted faults; time is a fake clock, so an outage of minutes takes no time at all. The
end-to-end versions (the real process, real HTTP) are in tests/e2e/test_run_faults.py.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from telegram.error import BadRequest, Conflict, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackContext,
)

from bot.app import build_application
from bot.network import RETRY_SCALE_ENV, Backoff, PollingTrouble, TokenRefused, connect
from bot.offline import BotApiEmulator, Fault, OfflineRequest
from tests.support.fake_bot_api import FakeBotApi
from tests.support.harness import TOKEN, BotHarness, make_config

AnyApp = Application[Any, Any, Any, Any, Any, Any]


class FakeTime:
    """A clock that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
        if len(self.waits) > 100:  # a test gone wrong fails instead of spinning forever
            raise AssertionError("still retrying after 100 waits")

    def clock(self) -> float:
        return self.now


@pytest.fixture
def emulator() -> BotApiEmulator:
    return BotApiEmulator()


@pytest.fixture
async def app(tmp_path: Path, emulator: BotApiEmulator) -> AsyncIterator[AnyApp]:
    # A short read timeout, so a scripted slow answer times out quickly.
    application = build_application(
        make_config(tmp_path),
        request=OfflineRequest(emulator=emulator, read_timeout=0.2),
        get_updates_request=OfflineRequest(emulator=emulator, read_timeout=0.2),
        token=TOKEN,
    )
    yield application
    await application.shutdown()
    await application.bot.shutdown()


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="bot.network")
    return caplog


def lines(log: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in log.records if text in r.getMessage()]


def get_mes(emulator: BotApiEmulator) -> list[Any]:
    return [c for c in emulator.calls if c.method == "getMe"]


# --- start-up: keep trying, with growing waits and few log lines -------------------------------


@pytest.mark.parametrize(
    "fault",
    [Fault.drop_before(), Fault.error(502), Fault.error(500), Fault.delay(10)],
    ids=["connection refused", "502", "500", "timeout"],
)
async def test_telegram_unreachable_at_start_is_tried_again_until_it_answers(
    app: AnyApp, emulator: BotApiEmulator, log: pytest.LogCaptureFixture, fault: Fault
) -> None:
    emulator.fail("getMe", fault, times=3)
    time = FakeTime()

    tries = await connect(app, Backoff(), sleep=time.sleep, clock=time.clock)

    assert tries == 4 and time.waits == [1, 2, 4]
    assert app.bot.username == "loyalty_test_bot"
    [warning] = lines(log, "cannot reach Telegram")
    assert lines(log, "reached Telegram after 4 tries in 7.0 s")
    assert "NetworkError" in warning or "TimedOut" in warning


async def test_a_long_outage_waits_at_most_30_s_and_logs_a_line_a_minute_at_most(
    app: AnyApp, emulator: BotApiEmulator, log: pytest.LogCaptureFixture
) -> None:
    emulator.fail("getMe", Fault.drop_before(), times=12)
    time = FakeTime()

    await connect(app, Backoff(), sleep=time.sleep, clock=time.clock)

    assert time.waits == [1, 2, 4, 8, 16, 30, 30, 30, 30, 30, 30, 30]
    # Failures at 0, 1, 3, 7, 15, 31, 61, 91 ... 211 s; answered at 241 s: lines at 0, 61,
    # 121 and 181 s.
    logged = lines(log, "cannot reach Telegram")
    assert len(logged) == 4
    assert logged[1].startswith("still cannot reach Telegram after 7 tries in 61 s")
    assert len(get_mes(emulator)) == 13


async def test_a_429_at_start_waits_as_long_as_telegram_asks(emulator: BotApiEmulator) -> None:
    # Under `run` the rate limiter waits out a 429 on getMe first (tests/bot/test_rate_limits.py);
    # a flood that outlasts its retries reaches `connect`, which waits as long as Telegram asks.
    emulator.fail("getMe", Fault.flood(5))
    plain = ApplicationBuilder().token(TOKEN).request(OfflineRequest(emulator=emulator)).build()
    time = FakeTime()
    assert await connect(plain, Backoff(), sleep=time.sleep, clock=time.clock) == 2
    assert time.waits == [pytest.approx(5.1)]
    await plain.shutdown()


@pytest.mark.parametrize(
    ("fault", "said"), [(Fault.error(401), "Unauthorized"), (Fault.error(404), "Not Found")]
)
async def test_a_refused_token_is_not_retried_and_the_message_never_shows_it(
    app: AnyApp, emulator: BotApiEmulator, fault: Fault, said: str
) -> None:
    emulator.fail("getMe", fault, times=None)
    time = FakeTime()

    with pytest.raises(TokenRefused) as refused:
        await connect(app, Backoff(), sleep=time.sleep, clock=time.clock)

    message = str(refused.value)
    assert message.startswith(f"Telegram refused the bot token ({said})")
    assert "TELEGRAM_BOT_TOKEN" in message
    assert TOKEN not in message and TOKEN.split(":")[1] not in message
    assert len(get_mes(emulator)) == 1 and time.waits == []


async def test_a_dns_failure_is_tried_again_like_any_unreachable_network(
    monkeypatch: pytest.MonkeyPatch, log: pytest.LogCaptureFixture
) -> None:
    # Real HTTP (HTTPXRequest) to a host name; the resolver fails twice, then finds the fake.
    # No real DNS query is made: getaddrinfo is replaced for that one name.
    real_getaddrinfo = socket.getaddrinfo
    failures = iter(range(2))

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host in ("api.telegram.invalid", b"api.telegram.invalid"):  # asyncio passes bytes
            if next(failures, None) is not None:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            host = "127.0.0.1"
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with FakeBotApi() as fake:
        port = fake.base_url.split(":")[2].split("/")[0]
        app = ApplicationBuilder().token(TOKEN).base_url(f"http://api.telegram.invalid:{port}/bot")
        application = app.build()
        time = FakeTime()
        tries = await connect(application, Backoff(), sleep=time.sleep, clock=time.clock)
        await application.shutdown()

    assert tries == 3
    [warning] = lines(log, "cannot reach Telegram")
    assert "NetworkError: httpx.ConnectError" in warning and "Name or service" in warning


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.05", Backoff(0.05, 1.5, 3.0)),
        ("1", Backoff()),
        ("", Backoff()),
        ("fast", Backoff()),
        ("-1", Backoff()),
        ("inf", Backoff()),
    ],
)
def test_the_test_only_scale_shortens_every_wait_and_nothing_else(
    value: str, expected: Backoff
) -> None:
    assert Backoff.from_environment({RETRY_SCALE_ENV: value}) == expected
    assert Backoff.from_environment({}) == Backoff(1.0, 30.0, 60.0)


# --- while polling: a 409 once, the network once a minute --------------------------------------


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with BotHarness(make_config(tmp_path)) as bot:
        yield bot


@pytest.fixture
def polling_time() -> Iterator[FakeTime]:
    yield FakeTime()


async def raise_through(
    trouble: PollingTrouble, app: AnyApp, error: TelegramError, update: object = None
) -> bool:
    """Whether `trouble` handled `error` (stopping the general handler)."""
    context = CallbackContext.from_error(update=update, error=error, application=app)
    try:
        await trouble(update, context)
    except ApplicationHandlerStop:
        return True
    return False


CONFLICT = Conflict(
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)


async def test_a_409_while_polling_is_logged_once_then_reminded_hourly(
    harness: BotHarness, log: pytest.LogCaptureFixture, polling_time: FakeTime
) -> None:
    trouble = PollingTrouble(clock=polling_time.clock)
    for _ in range(50):  # 50 polls, 30 s apart: 25 minutes
        assert await raise_through(trouble, harness.app, CONFLICT)
        polling_time.now += 30
    [logged] = lines(log, "another bot process is polling this token")
    assert "terminated by other getUpdates request" in logged
    assert [r.levelno for r in log.records] == [logging.ERROR]
    assert not any(r.exc_info for r in log.records)  # one clear line, no traceback

    polling_time.now += 3600
    assert await raise_through(trouble, harness.app, CONFLICT)
    assert lines(log, "still polling this token (51 conflicts so far)")


async def test_network_errors_while_polling_get_a_line_a_minute_at_most(
    harness: BotHarness, log: pytest.LogCaptureFixture, polling_time: FakeTime
) -> None:
    trouble = PollingTrouble(clock=polling_time.clock)
    for _ in range(13):  # every 10 s for two minutes
        assert await raise_through(trouble, harness.app, NetworkError("Bad Gateway"))
        polling_time.now += 10
    logged = lines(log, "cannot reach Telegram while polling")
    assert len(logged) == 3  # at 0, 60 and 120 s
    assert "NetworkError: Bad Gateway; 6 errors since the last line" in logged[1]
    assert all(r.levelno == logging.WARNING for r in log.records)


async def test_errors_that_are_not_the_polling_loops_go_on_to_the_general_handler(
    harness: BotHarness,
) -> None:
    trouble = PollingTrouble()
    assert not await raise_through(trouble, harness.app, BadRequest("Chat not found"))
    assert not await raise_through(trouble, harness.app, CONFLICT, update=object())


async def test_the_application_sends_polling_errors_here_before_the_general_handler(
    harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assert await harness.app.process_error(update=None, error=CONFLICT) is True
    messages = [r.getMessage() for r in caplog.records]
    assert any("another bot process is polling this token" in m for m in messages)
    assert not any("unhandled exception" in m for m in messages)  # bot/errors.py stayed out
