"""After a commit, the truth: what a change owes people is delivered, once, whatever fails.

The result of a Confirm and the customer's notice are queued in the outbox with the change
(core/db/outbox.py) and sent by bot/delivery.py. These tests break things after the commit (the
sender itself, the process) and check what the cashier and the customer finally see, how many
times, and that the ledger holds the change exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import delivery
from bot.errors import SORRY, SORRY_AFTER_SAVING
from core.config import Config
from core.db.tables import outbox
from tests.support.harness import CASHIER, CUSTOMER, BotHarness, make_config

PHONE = "+447400123456"
RESULT = "✅ +25 points for 25.00 GBP"
NOTICE = "⭐ You earned 25 points"


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


@pytest.fixture
async def bot(config: Config) -> AsyncIterator[BotHarness]:
    async with BotHarness(config) as harness:
        await linked_customer(harness)
        yield harness


async def linked_customer(bot: BotHarness) -> None:
    await bot.store.register(
        {"name": "Ann Lee", "phone": PHONE, "email": None},
        actor_id=CASHIER,
        now=bot.services.clock(),
    )
    await bot.share_contact(CUSTOMER, PHONE)


def seen(bot: BotHarness, chat_id: int, text: str) -> int:
    """How many messages to `chat_id` contain `text`."""
    return sum(text in t for t in bot.texts_to(chat_id))


async def outbox_rows(bot: BotHarness) -> list[tuple[int, str | None]]:
    async with bot.store.engine.connect() as conn:
        rows = await conn.execute(select(outbox.c.chat_id, outbox.c.outcome).order_by(outbox.c.id))
        return [(r.chat_id, r.outcome) for r in rows]


async def balance(bot: BotHarness) -> int:
    customer = await bot.store.find_customer(PHONE)
    assert await bot.store.ledger_sum(customer["id"]) == customer["balance"]
    return customer["balance"]


async def wait_until(condition: object, *, seconds: float = 5.0) -> None:
    assert callable(condition)
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not delivered in time")


async def test_a_confirmed_earn_queues_its_result_and_notice_and_marks_them_sent(
    bot: BotHarness,
) -> None:
    await bot.send(CASHIER, "/earn 07400123456 25")
    await bot.press(CASHIER, "Confirm")

    assert seen(bot, CASHIER, RESULT) == 1
    assert seen(bot, CUSTOMER, NOTICE) == 1
    assert await outbox_rows(bot) == [(CASHIER, "sent"), (CUSTOMER, "sent")]
    assert await balance(bot) == 25


async def test_a_failure_after_the_commit_never_says_nothing_was_changed(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: object) -> None:
        raise RuntimeError("the sender broke after the commit")

    monkeypatch.setattr(delivery, "send_now", broken)
    await bot.send(CASHIER, "/earn 07400123456 25")

    await bot.press(CASHIER, "Confirm")

    assert SORRY_AFTER_SAVING in bot.alerts()
    assert SORRY not in bot.alerts()
    assert "after a commit" in caplog.text
    assert await balance(bot) == 25  # it WAS recorded, as the cashier is told


async def test_a_failure_before_any_commit_still_says_nothing_was_changed(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the store broke before writing")

    monkeypatch.setattr(bot.store, "earn", broken)
    await bot.send(CASHIER, "/earn 07400123456 25")

    await bot.press(CASHIER, "Confirm")

    assert SORRY in bot.alerts()
    assert SORRY_AFTER_SAVING not in bot.alerts()
    assert await balance(bot) == 0


async def test_a_crash_between_commit_and_send_delivers_once_after_restart(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with BotHarness(config) as first:
        await linked_customer(first)

        async def died(*args: object) -> None:
            return None  # the process "dies" right after the commit: nothing is sent

        monkeypatch.setattr(delivery, "send_now", died)
        await first.send(CASHIER, "/earn 07400123456 25")
        await first.press(CASHIER, "Confirm")
        assert seen(first, CASHIER, RESULT) == 0
    monkeypatch.undo()

    async with BotHarness(config) as restarted:  # the same database, a new process
        await wait_until(lambda: seen(restarted, CUSTOMER, NOTICE) == 1)
        await asyncio.sleep(0.2)  # nothing more arrives

        assert seen(restarted, CASHIER, RESULT) == 1
        assert seen(restarted, CUSTOMER, NOTICE) == 1
        assert await outbox_rows(restarted) == [(CASHIER, "sent"), (CUSTOMER, "sent")]
        assert await balance(restarted) == 25


async def test_pressing_confirm_again_after_a_restart_says_done_and_sends_what_was_owed(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def died(*args: object) -> None:
        return None

    async with BotHarness(config) as first:
        await linked_customer(first)
        monkeypatch.setattr(delivery, "send_now", died)
        await first.send(CASHIER, "/earn 07400123456 25")
        confirm = first.find_button(CASHIER, "Confirm")[1]["callback_data"]
        await first.press(CASHIER, "Confirm")
    monkeypatch.undo()

    async def asleep(context: object) -> None:
        """The worker, kept out of the way: this test is about the press."""

    monkeypatch.setattr(delivery, "deliver_due", asleep)
    async with BotHarness(config) as restarted:
        await restarted.press_data(CASHIER, confirm)
        await restarted.press_data(CASHIER, confirm)  # and once more, for good measure

        assert restarted.alerts().count("Already done ✔ — it was recorded once.") == 2
        assert seen(restarted, CASHIER, RESULT) == 1
        assert seen(restarted, CUSTOMER, NOTICE) == 1
        assert await balance(restarted) == 25


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.5", 0.5), ("", 5.0), ("fast", 5.0), ("0", 5.0), ("-1", 5.0), ("inf", 5.0), ("nan", 5.0)],
)
def test_the_test_only_worker_interval_is_taken_from_the_environment(
    value: str, expected: float
) -> None:
    assert delivery.worker_interval({delivery.WORKER_INTERVAL_ENV: value}) == expected
    assert delivery.worker_interval({}) == delivery.WORKER_INTERVAL == 5.0
