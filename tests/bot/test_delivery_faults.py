"""When Telegram misbehaves after a Confirm: each fault from issue 11's table, once, on the result
or the notice. What the cashier and the customer finally see, how many times, and that the
ledger holds the change exactly once (the fault-injecting emulator: bot/offline/faults.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import delivery
from bot.errors import SORRY
from bot.offline import Fault
from core.db.tables import outbox
from tests.support.harness import CASHIER, CUSTOMER, BotHarness, make_config

PHONE = "+447400123456"
RESULT = "✅ +25 points for 25.00 GBP"
NOTICE = "⭐ You earned 25 points"


@pytest.fixture
async def bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BotHarness]:
    monkeypatch.setattr(delivery, "INLINE_WAITS", (0.01, 0.01))  # the same tries, less waiting
    async with BotHarness(make_config(tmp_path)) as harness:
        await harness.store.register(
            {"name": "Ann Lee", "phone": PHONE, "email": None},
            actor_id=CASHIER,
            now=harness.services.clock(),
        )
        await harness.share_contact(CUSTOMER, PHONE)
        await harness.send(CASHIER, "/earn 07400123456 25")
        yield harness


def delivered(bot: BotHarness, chat_id: int, text: str) -> int:
    """How many messages containing `text` Telegram holds for `chat_id`."""
    return sum(
        1
        for call in bot.emulator.calls
        if call.method == "sendMessage"
        and call.delivered
        and str(call.chat_id) == str(chat_id)
        and text in (call.text or "").replace("<b>", "").replace("</b>", "")
    )


async def outcomes(bot: BotHarness) -> list[tuple[int, str | None, int]]:
    async with bot.store.engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.chat_id, outbox.c.outcome, outbox.c.attempts).order_by(outbox.c.id)
        )
        return [(r.chat_id, r.outcome, r.attempts) for r in rows]


async def recorded_once(bot: BotHarness) -> None:
    customer = await bot.store.find_customer(PHONE)
    entries = await bot.store.recent_entries(customer["id"], 10)
    assert [e["kind"] for e in entries] == ["earn"]
    assert customer["balance"] == 25 == await bot.store.ledger_sum(customer["id"])


@pytest.mark.parametrize(
    "fault",
    [Fault.error(500), Fault.error(502), Fault.flood(1), Fault.drop_before()],
    ids=["500", "502", "429 retry_after=1", "connection dropped"],
)
async def test_a_failed_result_message_is_sent_again_and_arrives_once(
    bot: BotHarness, fault: Fault
) -> None:
    bot.emulator.fail("sendMessage", fault, chat_id=CASHIER)

    await bot.press(CASHIER, "Confirm")

    assert delivered(bot, CASHIER, RESULT) == 1
    assert delivered(bot, CUSTOMER, NOTICE) == 1
    assert SORRY not in bot.alerts()
    assert not any("nothing was changed" in t for t in bot.texts_to(CASHIER))
    assert [o for _, o, _ in await outcomes(bot)] == ["sent", "sent"]
    await recorded_once(bot)


async def test_a_failed_notice_is_sent_again_and_the_cashier_is_unaffected(
    bot: BotHarness,
) -> None:
    bot.emulator.fail("sendMessage", Fault.error(502), chat_id=CUSTOMER)

    await bot.press(CASHIER, "Confirm")

    assert delivered(bot, CUSTOMER, NOTICE) == 1
    assert delivered(bot, CASHIER, RESULT) == 1
    await recorded_once(bot)


async def test_a_lost_answer_is_retried_so_the_result_may_arrive_twice_but_never_not_at_all(
    bot: BotHarness,
) -> None:
    # Telegram sent it, then the connection broke: the bot can't know, and retries.
    bot.emulator.fail("sendMessage", Fault.drop_after(), chat_id=CASHIER)

    await bot.press(CASHIER, "Confirm")

    assert delivered(bot, CASHIER, RESULT) == 2  # the documented trade-off: at least once
    await recorded_once(bot)


async def test_a_failed_popup_and_buttons_change_nothing_for_the_cashier(bot: BotHarness) -> None:
    bot.emulator.fail("answerCallbackQuery", Fault.error(502))
    bot.emulator.fail("editMessageReplyMarkup", Fault.drop_before())

    await bot.press(CASHIER, "Confirm")

    assert delivered(bot, CASHIER, RESULT) == 1
    assert SORRY not in bot.alerts()
    await recorded_once(bot)


async def test_a_customer_who_blocked_the_bot_is_given_up_on_and_the_sale_stands(
    bot: BotHarness,
) -> None:
    bot.emulator.fail("sendMessage", Fault.blocked(), chat_id=CUSTOMER)

    await bot.press(CASHIER, "Confirm")

    assert delivered(bot, CASHIER, RESULT) == 1
    assert delivered(bot, CUSTOMER, NOTICE) == 0
    assert await outcomes(bot) == [(CASHIER, "sent", 1), (CUSTOMER, "undeliverable", 1)]
    await recorded_once(bot)


async def test_a_long_outage_leaves_the_result_to_the_worker_which_sends_it_once_telegram_is_back(
    bot: BotHarness,
) -> None:
    bot.emulator.fail("sendMessage", Fault.error(502), times=None)

    await bot.press(CASHIER, "Confirm")

    assert delivered(bot, CASHIER, RESULT) == 0
    assert [(o, a) for _, o, a in await outcomes(bot)] == [(None, 3), (None, 3)]
    assert "Recorded ✔" in bot.alerts()  # the press itself was answered: it IS recorded

    bot.emulator.clear_faults()
    a_minute_later = bot.services.clock() + dt.timedelta(minutes=1)  # past the retry's due time
    bot.services.clock = lambda: a_minute_later
    assert bot.app.job_queue is not None
    (worker,) = bot.app.job_queue.get_jobs_by_name(delivery.JOB_NAME)
    await worker.run(bot.app)
    await worker.run(bot.app)  # again: nothing is sent twice

    assert delivered(bot, CASHIER, RESULT) == 1
    assert delivered(bot, CUSTOMER, NOTICE) == 1
    assert [o for _, o, _ in await outcomes(bot)] == ["sent", "sent"]
    await recorded_once(bot)
