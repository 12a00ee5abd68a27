"""Different people are served at the same time; each person's own updates stay in order.

The processor (bot/concurrency.py) is tested directly with plain coroutines that record when
they start and finish, then once through the running Application's update queue, where order
is what keeps a cashier's conversation coherent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import pytest
from telegram import Update

from bot.concurrency import PerUserUpdateProcessor
from bot.offline import make_message_update
from core.types import Customer
from tests.support.harness import ADMIN, CASHIER, BotHarness

pytestmark = pytest.mark.asyncio

ANN, BOB = 111, 222


def update_from(user_id: int, update_id: int = 1) -> Update:
    return Update.de_json(make_message_update(update_id, user_id=user_id, text="hi"), None)


class Timeline:
    """Records "<name> start" / "<name> end" as recorded steps run."""

    def __init__(self) -> None:
        self.events: list[str] = []

    async def step(self, name: str, until: asyncio.Event | None = None, pause: float = 0) -> None:
        self.events.append(f"{name} start")
        if until is not None:
            await until.wait()
        await asyncio.sleep(pause)
        self.events.append(f"{name} end")


def submit(
    processor: PerUserUpdateProcessor, user_id: int, work: Awaitable[Any]
) -> asyncio.Task[None]:
    """What the Application does with each update it fetches: one task each, in arrival order."""
    return asyncio.create_task(processor.process_update(update_from(user_id), work))


async def settle() -> None:
    """Lets every task that can run, run."""
    for _ in range(10):
        await asyncio.sleep(0)


async def test_another_users_update_runs_while_the_first_user_waits() -> None:
    processor, timeline, slow = PerUserUpdateProcessor(256), Timeline(), asyncio.Event()
    ann = submit(processor, ANN, timeline.step("ann", until=slow))
    bob = submit(processor, BOB, timeline.step("bob"))

    async with asyncio.timeout(2):
        await bob  # finishes although Ann's update is still running

    assert timeline.events == ["ann start", "bob start", "bob end"]
    slow.set()
    await ann
    assert timeline.events[-1] == "ann end"


async def test_one_users_updates_run_one_at_a_time_in_the_order_they_came() -> None:
    processor, timeline = PerUserUpdateProcessor(256), Timeline()
    # Later updates are quicker: without the per-user lock they would finish first.
    tasks = [
        submit(processor, ANN, timeline.step(f"ann{i}", pause=0.03 * (3 - i))) for i in range(3)
    ]
    tasks.append(submit(processor, BOB, timeline.step("bob")))

    await asyncio.gather(*tasks)

    ann = [e for e in timeline.events if e.startswith("ann")]
    assert ann == [f"ann{i} {edge}" for i in range(3) for edge in ("start", "end")]
    assert timeline.events.index("bob end") < timeline.events.index("ann0 end")


async def test_idle_users_are_forgotten() -> None:
    processor, timeline, slow = PerUserUpdateProcessor(256), Timeline(), asyncio.Event()
    tasks = [
        submit(processor, ANN, timeline.step("ann0", until=slow)),
        submit(processor, ANN, timeline.step("ann1")),
        submit(processor, BOB, timeline.step("bob", until=slow)),
    ]
    await settle()
    assert processor.users_in_flight == 2

    slow.set()
    await asyncio.gather(*tasks)

    assert processor.users_in_flight == 0
    await asyncio.gather(*(submit(processor, 1000 + i, timeline.step("x")) for i in range(50)))
    assert processor.users_in_flight == 0


async def test_a_failing_update_releases_its_user_for_the_next_one() -> None:
    processor, timeline = PerUserUpdateProcessor(256), Timeline()

    async def fail() -> None:
        raise RuntimeError("handler blew up")

    failed = submit(processor, ANN, fail())
    after = submit(processor, ANN, timeline.step("ann"))

    with pytest.raises(RuntimeError):
        await failed
    async with asyncio.timeout(2):
        await after
    assert timeline.events == ["ann start", "ann end"]
    assert processor.users_in_flight == 0


async def test_an_update_cancelled_while_waiting_its_turn_leaves_no_trace() -> None:
    processor, timeline, slow = PerUserUpdateProcessor(256), Timeline(), asyncio.Event()
    first = submit(processor, ANN, timeline.step("ann0", until=slow))
    never_run = timeline.step("ann1")
    waiting = submit(processor, ANN, never_run)
    await settle()

    waiting.cancel()
    never_run.close()  # it never started: close it, as the Application does on shutdown
    await settle()
    slow.set()
    await first

    assert timeline.events == ["ann0 start", "ann0 end"]
    assert processor.users_in_flight == 0


async def test_updates_from_nobody_in_particular_are_not_held_up() -> None:
    processor, timeline, slow = PerUserUpdateProcessor(256), Timeline(), asyncio.Event()
    ann = submit(processor, ANN, timeline.step("ann", until=slow))
    anonymous = asyncio.create_task(
        processor.process_update(Update(update_id=9), timeline.step("anonymous"))
    )

    async with asyncio.timeout(2):
        await anonymous

    assert timeline.events == ["ann start", "anonymous start", "anonymous end"]
    slow.set()
    await ann


# --- through the running Application --------------------------------------------------------


async def register(bot: BotHarness, phone: str, name: str) -> Customer:
    result = await bot.store.register(
        {"name": name, "phone": phone, "email": None}, actor_id=ADMIN, now=bot.services.clock()
    )
    return result["customer"]


async def queue(bot: BotHarness, update_id: int, user_id: int, text: str) -> None:
    """Hands an update to the Application as polling would (through its update queue)."""
    data = make_message_update(update_id, user_id=user_id, text=text)
    await bot.app.update_queue.put(Update.de_json(data, bot.app.bot))


async def said(bot: BotHarness, chat_id: int, words: str) -> None:
    async with asyncio.timeout(5):
        await bot.emulator.until(lambda: any(words in t for t in bot.texts_to(chat_id)) or None)


async def test_a_cashier_typing_fast_is_answered_in_order(bot: BotHarness) -> None:
    await register(bot, "+447400123456", "Ann Lee")
    for update_id, text in enumerate(["/earn", "07400123456", "12"], start=100):
        await queue(bot, update_id, CASHIER, text)

    await said(bot, CASHIER, "12 points")

    texts = bot.texts_to(CASHIER)
    assert len(texts) == 3
    assert "card number" in texts[0]
    assert "How much did they spend" in texts[1]
    assert "12.00 GBP → 12 points" in texts[2]


async def test_a_slow_lookup_for_one_cashier_does_not_hold_up_another(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await register(bot, "+447400123456", "Ann Lee")
    await register(bot, "+447400654321", "Bo Chen")
    release = asyncio.Event()
    find = bot.store.find_customer

    async def slow_for_ann(reference: str) -> Customer:
        if "123456" in reference:
            await release.wait()  # Ann's card: the database is slow today
        return await find(reference)

    monkeypatch.setattr(bot.store, "find_customer", slow_for_ann)

    await queue(bot, 200, ADMIN, "/earn 07400123456 10")
    await queue(bot, 201, CASHIER, "/earn 07400654321 20")
    await said(bot, CASHIER, "20 points")  # served while the admin's lookup still waits

    assert bot.texts_to(ADMIN) == []
    release.set()
    await said(bot, ADMIN, "10 points")
