"""Webhooks: the real `loyalty-bot run --webhook` takes the updates Telegram POSTs, with the
secret_token checked on every request, and a later `run` without it goes back to polling
(issue "Beyond one box"). The fake Bot API records setWebhook and plays Telegram's part by
POSTing updates the way Telegram does."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.offline import make_message_update
from tests.support.chat import Chat
from tests.support.fake_bot_api import FakeBotApi
from tests.support.process import BotProcess, write_config

pytestmark = pytest.mark.e2e

ADMIN = 1001


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def post_update(url: str, update: dict[str, object], secret: str | None) -> int:
    """POSTs `update` as Telegram does; returns the HTTP status the bot answered.

    Telegram retries a webhook it cannot reach; so does this, for a while: the bot sets the
    webhook and opens its listener at about the same moment, in either order.
    """
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, json.dumps(update).encode(), headers, method="POST")
    deadline = time.monotonic() + 15
    while True:
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status: int = response.status
                return status
        except urllib.error.HTTPError as refused:
            return refused.code
        except urllib.error.URLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_webhook_takes_updates_with_the_secret_only_and_polling_removes_it(
    tmp_path: Path,
) -> None:
    port = free_port()
    hook = f"http://127.0.0.1:{port}/telegram/hook"
    with FakeBotApi() as fake:
        config = write_config(tmp_path, base_url=fake.base_url, admins=[ADMIN])
        args = ["--webhook", hook, "--listen", f"127.0.0.1:{port}"]
        with BotProcess(config, args=args) as bot:
            wait_until(lambda: bool(fake.emulator.webhook))
            secret = fake.emulator.webhook["secret_token"]
            assert fake.emulator.webhook["url"] == hook and len(secret) >= 32
            bot.wait_for_stderr("starting: webhook at ")

            mark = len(fake.calls)
            forged = make_message_update(1, user_id=ADMIN, text="/help")
            assert post_update(hook, forged, secret="guessed") == 403
            assert post_update(hook, forged, secret=None) == 403
            assert (
                post_update(hook, make_message_update(2, user_id=ADMIN, text="/help"), secret)
                == 200
            )
            help_text = Chat(fake, ADMIN).next_message(after=mark)
            assert "At the till" in help_text
            replies = [c for c in fake.calls[mark:] if c.method == "sendMessage"]
            assert len(replies) == 1  # the forged updates were never handled
            assert bot.stop().returncode == 0
        assert fake.emulator.webhook  # kept while stopped: Telegram holds updates for the next run

        with BotProcess(config) as polling:
            assert "At the till" in Chat(fake, ADMIN).send("/help")
            assert fake.emulator.webhook == {}  # deleted when polling started
            assert polling.stop().returncode == 0
        assert fake.bad_requests == []
