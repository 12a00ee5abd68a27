"""A standby on PostgreSQL: two real `loyalty-bot run` processes on one PostgreSQL database
(issue "Beyond one box"). The first serves; the second stands by, saying so; kill -9 of the
first in the middle of an /earn, and the standby serves within 10 s, continuing that /earn where
it was, with every earn the cashier was told of in the ledger exactly once. Runs when
LOYALTY_BOT_TEST_POSTGRES names a server (tests/conftest.py)."""

from __future__ import annotations

import asyncio
import pickle
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.persistence import RECENT_UPDATES
from core.db.engine import open_engine
from tests.support.chat import Chat
from tests.support.fake_bot_api import FakeBotApi
from tests.support.process import BotProcess, write_config

pytestmark = pytest.mark.e2e

ADMIN, CASHIER = 1001, 2002


async def _ledger(url: str) -> list[tuple[str, int]]:
    engine = open_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT kind, points FROM ledger ORDER BY id"))
            return [(kind, points) for kind, points in rows]
    finally:
        await engine.dispose()


async def _kept_updates(url: str) -> int:
    """How many updates' changes the bot has written (bot/persistence.py)."""
    engine = open_engine(url)
    try:
        async with engine.connect() as conn:
            value = (
                await conn.execute(
                    text("SELECT value FROM bot_state WHERE kind = 'meta' AND key = :key"),
                    {"key": RECENT_UPDATES},
                )
            ).scalar_one_or_none()
            return 0 if value is None else len(pickle.loads(value))  # our own rows
    finally:
        await engine.dispose()


def said(chat: Chat, words: str, *, after: int, timeout: float = 10) -> None:
    """Waits until a message (or an edit) to `chat` from call `after` on contains `words`."""
    deadline = time.monotonic() + timeout
    while not any(words in m for m in chat.messages(after=after)):
        assert time.monotonic() < deadline, f"never said {words!r}: {chat.messages(after=after)}"
        time.sleep(0.05)


def test_a_standby_on_postgresql_takes_over_from_a_killed_bot(
    tmp_path: Path, empty_postgres: str
) -> None:
    with FakeBotApi() as fake:
        config = write_config(
            tmp_path,
            base_url=fake.base_url,
            admins=[ADMIN],
            cashiers=[CASHIER],
            database_url=empty_postgres,
        )
        cashier = Chat(fake, CASHIER)
        with BotProcess(config) as first:
            assert cashier.send("/help")
            with BotProcess(config) as standby:
                standby.wait_for_stderr(r"standby: another loyalty-bot run \(at ")
                cashier.send("/register")
                cashier.send("Ann Lee")
                cashier.send("07400 123456")
                cashier.press("Skip")
                assert "Registered" in cashier.press("Confirm")
                cashier.send("/earn 07400 123456 12")
                assert "+12 points" in cashier.press("Confirm")
                # A second purchase is half entered when the active bot dies.
                cashier.send("/earn")
                handled = asyncio.run(_kept_updates(empty_postgres))
                assert "How much did they spend" in cashier.send("07400 123456")
                # The step's state is written just after its reply; a kill in those few ms
                # would lose the step (the cashier would be asked for the customer again).
                deadline = time.monotonic() + 10
                while asyncio.run(_kept_updates(empty_postgres)) == handled:
                    assert time.monotonic() < deadline, "the step's state was never written"
                    time.sleep(0.02)
                first.stop(signal.SIGKILL)
                killed = time.monotonic()
                standby.wait_for_stderr("serving: this process holds the database's lock")
                # The standby first gets what Telegram redelivers: updates the killed bot
                # handled but had not yet confirmed (exactly-once keys make replays harmless).
                # The standby continues the flow where it was: the amount comes next.
                mark = len(fake.calls)
                cashier.send("30")
                said(cashier, "30.00 GBP → 30 points", after=mark)
                mark = len(fake.calls)
                cashier.press("Confirm")
                said(cashier, "+30 points", after=mark)
                took_over = time.monotonic() - killed
                assert standby.stop().returncode == 0
        assert took_over < 10
        assert fake.bad_requests == []
    assert asyncio.run(_ledger(empty_postgres)) == [("earn", 12), ("earn", 30)]
