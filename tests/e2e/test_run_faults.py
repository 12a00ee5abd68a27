"""`loyalty-bot run` as a real process while Telegram misbehaves: down at start, a refused
token, flood control, another process polling the same token.

The fake Bot API (tests/support/fake_bot_api.py) plays the faults the test scripts
(``fake.fail``), or is simply not there yet: the bot is started on a port nobody listens on,
and the fake comes up on it later. LOYALTY_BOT_TEST_RETRY_SCALE shortens the start-up waits
(1 s doubling to 30 s, a log line a minute at most) twenty-fold, so a down time of seconds
already shows the growing waits and the rate-limited log lines.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.network import RETRY_SCALE_ENV, Backoff
from bot.offline import Fault
from tests.support.chat import REPLY_TIMEOUT, Chat
from tests.support.fake_bot_api import FakeBotApi
from tests.support.process import TOKEN, BotProcess, write_config

pytestmark = pytest.mark.e2e

ADMIN, CASHIER = 1001, 2002
SCALE = 0.05
FAST = {RETRY_SCALE_ENV: str(SCALE)}
BACKOFF = Backoff.from_environment(FAST)  # 0.05 s doubling to 1.5 s; a line every 3 s at most
DOWN = 2.0  # seconds Telegram stays down once the bot has noticed
UNREACHABLE = r"cannot reach Telegram \((.+?)\)"
CONFLICT = "another bot process is polling this token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def config_for(directory: Path, base_url: str) -> Path:
    return write_config(directory, base_url=base_url, admins=[ADMIN], cashiers=[CASHIER])


def assert_clean_stop(process: BotProcess) -> str:
    exited = process.stop()
    assert exited.returncode == 0, exited.stderr
    assert "Traceback" not in exited.stderr and TOKEN not in exited.output
    return exited.stderr


def assert_few_lines_while_down(stderr: str, down_for: float) -> None:
    """One line at the first failure, then one per `log_every` at most (+1 for timing slack)."""
    lines = re.findall(UNREACHABLE, stderr)
    assert 1 <= len(lines) <= 2 + down_for / BACKOFF.log_every, stderr


# --- Telegram down at start --------------------------------------------------------------------


def test_with_no_server_at_start_run_keeps_trying_and_serves_once_it_is_up(
    tmp_path: Path,
) -> None:
    port = free_port()  # connection refused until the fake binds it
    config = config_for(tmp_path, f"http://127.0.0.1:{port}/bot")
    with BotProcess(config, env=FAST) as process:
        first = process.wait_for_stderr(UNREACHABLE)
        assert "NetworkError" in first.group(1)
        noticed = time.monotonic()
        time.sleep(DOWN)
        assert process.running  # no traceback and exit, as before

        with FakeBotApi(port=port) as fake:
            up = time.monotonic()
            assert "/earn" in Chat(fake, CASHIER).send("/help")
            served = time.monotonic() - up
            stderr = assert_clean_stop(process)

    print(f"served {served:.2f} s after the Bot API came back")  # shown with -s; see report
    # The next try comes at most one capped wait (1.5 s here) after the server is back.
    assert served < BACKOFF.cap + REPLY_TIMEOUT / 3
    assert_few_lines_while_down(stderr, up - noticed)
    assert re.search(r"reached Telegram after \d+ tries", stderr)


def test_with_the_api_answering_502_at_start_run_keeps_trying_and_serves_after(
    tmp_path: Path,
) -> None:
    with FakeBotApi() as fake:
        fake.fail("*", Fault.error(502), times=None)
        with BotProcess(config_for(tmp_path, fake.base_url), env=FAST) as process:
            assert "Bad Gateway" in process.wait_for_stderr(UNREACHABLE).group(1)
            time.sleep(DOWN)
            tries = [c for c in fake.calls if c.method == "getMe"]
            # Waits of 0.05, 0.1, 0.2 ... 1.5 s: several tries, but no hammering.
            assert 4 <= len(tries) <= 12, len(tries)

            fake.clear_faults()
            up = time.monotonic()
            assert "/earn" in Chat(fake, CASHIER).send("/help")
            served = time.monotonic() - up
            stderr = assert_clean_stop(process)

    print(f"served {served:.2f} s after the Bot API came back")
    assert fake.bad_requests == []
    assert_few_lines_while_down(stderr, DOWN)


def test_a_stop_signal_while_telegram_is_down_ends_run_cleanly(tmp_path: Path) -> None:
    config = config_for(tmp_path, f"http://127.0.0.1:{free_port()}/bot")
    with BotProcess(config, env=FAST) as process:
        process.wait_for_stderr(UNREACHABLE)
        exited = process.stop()
    assert exited.returncode == 0 and exited.seconds < 5
    assert "Traceback" not in exited.stderr
    assert "stopped before Telegram could be reached" in exited.stderr


def test_a_refused_token_ends_run_at_once_with_one_line_naming_it(tmp_path: Path) -> None:
    with FakeBotApi() as fake:
        fake.fail("getMe", Fault.error(401), times=None)
        with BotProcess(config_for(tmp_path, fake.base_url), env=FAST) as process:
            exited = process.wait()

    assert exited.returncode == 2
    assert "Telegram refused the bot token (Unauthorized)" in exited.stderr
    assert "TELEGRAM_BOT_TOKEN" in exited.stderr
    assert "Traceback" not in exited.stderr
    assert TOKEN not in exited.output and TOKEN.split(":")[1] not in exited.output
    assert [c.method for c in fake.calls] == ["getMe"]  # not retried


# --- while running -----------------------------------------------------------------------------


@dataclass
class Running:
    fake: FakeBotApi
    process: BotProcess


@pytest.fixture(scope="module")
def contested(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """One bot for the tests below (a process start costs seconds): its first two polls are
    refused with 409, as when another process polls the same token. The last test stops it."""
    with FakeBotApi() as fake:
        fake.fail("getUpdates", Fault.conflict(), times=2)
        config = config_for(tmp_path_factory.mktemp("contested"), fake.base_url)
        with BotProcess(config) as process:
            yield Running(fake, process)


def test_another_process_polling_the_token_is_logged_once_not_per_poll(
    contested: Running,
) -> None:
    fake, process = contested.fake, contested.process
    process.wait_for_stderr(CONFLICT)

    # python-telegram-bot keeps polling, waiting 1 then 1.5 s after each 409; then it works.
    assert "/earn" in Chat(fake, CASHIER).send("/help")

    assert len([c for c in fake.calls if c.method == "getUpdates" and c.fault]) == 2
    assert process.stderr.count(CONFLICT) == 1
    assert "terminated by other getUpdates request" in process.stderr
    assert "Traceback" not in process.stderr


def test_a_429_on_a_reply_is_waited_out_and_the_reply_arrives(contested: Running) -> None:
    fake, process = contested.fake, contested.process
    fake.fail("sendMessage", Fault.flood(1), chat_id=ADMIN)
    started = time.monotonic()

    assert "/earn" in Chat(fake, ADMIN).send("/help")

    assert time.monotonic() - started >= 1.0
    sent = [c for c in fake.calls if c.method == "sendMessage" and c.chat_id == ADMIN]
    assert [c.delivered for c in sent] == [False, True]
    assert fake.bad_requests == []
    process.wait_for_stderr("Rate limit hit. Retrying after")  # python-telegram-bot's INFO line


def test_after_the_409s_and_the_429_the_bot_stops_cleanly(contested: Running) -> None:
    stderr = assert_clean_stop(contested.process)
    assert stderr.count(CONFLICT) == 1  # still just the one line
