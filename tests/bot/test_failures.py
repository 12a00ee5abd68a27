"""When something breaks: one short apology, nothing half-written, a useful but clean log.
And what must never break: names full of HTML, long messages, button data.

Failures are injected at the storage boundary (monkeypatched Store methods); everything else is
the real Application talking to the offline Bot API, which refuses what Telegram refuses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, select

from bot.errors import SORRY
from bot.logs import RedactingFilter
from bot.offline import TEXT_LIMIT, SentCall, keyboard_rows
from core.db.store import Store
from core.db.tables import customers
from core.types import Customer, Reward
from tests.bot.conftest import sqlite_only
from tests.support.harness import ADMIN, CASHIER, CUSTOMER, TOKEN, BotHarness, make_config

pytestmark = pytest.mark.asyncio

PHONE = "+447400123456"
SECRETS = (TOKEN, PHONE, "07400 123456", "ann@example.com")
# Said by the failing code, as a careless library might: every secret in one exception text.
LEAKY_ERROR = f"boom for {PHONE} / 07400 123456 / ann@example.com via bot{TOKEN}/sendMessage"


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Captured log records, redacted as bot/logs.py redacts every handler in production."""
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(RedactingFilter())
    return caplog


async def register(bot: BotHarness, name: str = "Ann Lee", points: int = 0) -> Customer:
    now = bot.services.clock()
    result = await bot.store.register(
        {"name": name, "phone": PHONE, "email": "ann@example.com"}, actor_id=CASHIER, now=now
    )
    customer = result["customer"]
    if points:  # Bronze: 1 point per GBP
        await bot.store.earn(customer["id"], Decimal(points), actor_id=CASHIER, now=now)
    return await bot.store.get_customer(customer["id"])


def messages(calls: list[SentCall]) -> list[SentCall]:
    return [c for c in calls if c.method == "sendMessage"]


def answers(calls: list[SentCall]) -> list[SentCall]:
    return [c for c in calls if c.method == "answerCallbackQuery"]


async def boom(*args: object, **kwargs: object) -> Any:
    raise RuntimeError(LEAKY_ERROR)


def assert_logged_cleanly(log: pytest.LogCaptureFixture) -> None:
    """One error record with the traceback, and not one secret anywhere in the log."""
    errors = [r for r in log.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is not None
    assert "Traceback (most recent call last)" in log.text
    assert "RuntimeError: boom for <phone>" in log.text
    for secret in SECRETS:
        assert secret not in log.text


# --- the one error handler ------------------------------------------------------------------


async def test_an_exception_on_confirm_says_sorry_once_and_records_nothing(
    bot: BotHarness, log: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = await register(bot)
    await bot.send(CASHIER, "/earn 07400123456 30")
    monkeypatch.setattr(bot.store, "earn", boom)

    calls = await bot.press(CASHIER, "Confirm")

    # One answer to the button press: the error handler's, not also a "stale button" one.
    assert [a.params.get("text") for a in answers(calls)] == [SORRY]
    assert not messages(calls)
    assert await bot.store.get_customer(customer["id"]) == customer
    assert await bot.store.recent_entries(customer["id"]) == []
    assert_logged_cleanly(log)


async def test_an_exception_while_typing_says_sorry_once_and_no_hint(
    bot: BotHarness, log: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = await register(bot)
    await bot.send(CASHIER, "/earn")
    monkeypatch.setattr(bot.store, "find_customer", boom)

    calls = await bot.send(CASHIER, "07400 123456")

    assert [c.visible_text for c in messages(calls)] == [SORRY]
    assert await bot.store.get_customer(customer["id"]) == customer
    assert_logged_cleanly(log)


async def test_after_a_failure_doing_it_again_records_exactly_once(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = await register(bot)
    await bot.send(CASHIER, "/earn 07400123456 30")
    with monkeypatch.context() as patched:
        patched.setattr(bot.store, "earn", boom)
        await bot.press(CASHIER, "Confirm")

    await bot.press(CASHIER, "Confirm")  # the same, spent button: nothing was recorded
    assert "expired" in bot.alerts()[-1]
    await bot.send(CASHIER, "/earn 07400123456 30")
    await bot.press(CASHIER, "Confirm")

    assert (await bot.store.get_customer(customer["id"]))["balance"] == 30
    assert await bot.store.ledger_sum(customer["id"]) == 30


@sqlite_only  # the fault is a SQLite trigger
async def test_a_database_error_logs_no_customer_details(
    bot: BotHarness, log: pytest.LogCaptureFixture
) -> None:
    async with bot.services.engine.begin() as conn:  # the disk fills up: every insert fails
        await conn.exec_driver_sql(
            "CREATE TRIGGER disk_full BEFORE INSERT ON customers "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )
    for text in ("/register", "Zoë Secretname", "07400 999888", "zoe@example.com"):
        await bot.send(CASHIER, text)

    await bot.press(CASHIER, "Confirm")

    assert bot.alerts()[-1] == SORRY
    assert await bot.store.customer_by_phone("+447400999888") is None
    assert "database or disk is full" in log.text  # the error itself is logged ...
    for detail in ("Secretname", "+447400999888", "zoe@example.com"):
        assert detail not in log.text  # ... but none of the statement's values


# --- nothing half-written: a failure inside the transaction rolls all of it back -------------


@pytest.fixture
def break_ledger(monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[int]]:
    """Arms a failure of the ledger INSERT, after the balance UPDATE in the same transaction.

    Arming returns the balances the transaction itself saw just before failing, so a test can
    prove the UPDATE really happened (and was then rolled back), rather than never running.
    """

    def arm() -> list[int]:
        seen: list[int] = []

        def append(self: Store, conn: Connection, **entry: Any) -> int:
            query = select(customers.c.balance).where(customers.c.id == entry["customer_id"])
            seen.append(conn.execute(query).scalar_one())
            raise RuntimeError("disk full while writing the ledger")

        monkeypatch.setattr(Store, "_append", append)
        return seen

    return arm


async def test_a_ledger_insert_failing_after_the_balance_update_leaves_the_balance_unchanged(
    bot: BotHarness, log: pytest.LogCaptureFixture, break_ledger: Callable[[], list[int]]
) -> None:
    customer = await register(bot, points=200)
    await bot.send(CASHIER, "/earn 07400123456 30")
    seen = break_ledger()

    await bot.press(CASHIER, "Confirm")

    assert seen == [230]  # the UPDATE ran inside the transaction...
    assert await bot.store.get_customer(customer["id"]) == customer  # ...and was rolled back
    assert await bot.store.ledger_sum(customer["id"]) == 200
    assert bot.alerts()[-1] == SORRY


async def test_a_failed_redemption_spends_no_points(
    bot: BotHarness, log: pytest.LogCaptureFixture, break_ledger: Callable[[], list[int]]
) -> None:
    customer = await register(bot, points=200)
    await bot.send(CASHIER, "/redeem 07400123456 coffee")
    seen = break_ledger()

    await bot.press(CASHIER, "Confirm")

    assert seen == [100]
    assert await bot.store.get_customer(customer["id"]) == customer
    assert bot.alerts()[-1] == SORRY


async def test_a_registration_whose_bonus_entry_fails_creates_no_customer(
    tmp_path: Path, log: pytest.LogCaptureFixture, break_ledger: Callable[[], list[int]]
) -> None:
    async with BotHarness(make_config(tmp_path, signup_bonus=50)) as bot:
        for text in ("/register", "Bo Chen", "07400 999888", "-"):
            await bot.send(CASHIER, text)
        seen = break_ledger()

        await bot.press(CASHIER, "Confirm")

        assert seen == [50]
        assert await bot.store.customer_by_phone("+447400999888") is None
        assert bot.alerts()[-1] == SORRY


# --- escaping: names full of HTML never break a message ---------------------------------------

TRICKY = "<b>Zoë_O'Brien*"


async def test_a_name_full_of_html_shows_as_typed_in_every_message(bot: BotHarness) -> None:
    customer = await register(bot, name=TRICKY, points=150)
    await bot.store.link_telegram(PHONE, CUSTOMER)

    for user_id, text in [
        (CUSTOMER, "/start"),
        (CUSTOMER, "/status"),
        (CASHIER, "/status 07400123456"),
        (CASHIER, "/earn 07400123456 30"),
        (CASHIER, "/redeem 07400123456"),
    ]:
        await bot.send(user_id, text)
        assert TRICKY in bot.last_text(user_id), text
    await bot.press(CASHIER, "Free coffee")
    assert TRICKY in bot.last_text(CASHIER)
    await bot.press(CASHIER, "Confirm")

    assert "You redeemed Free coffee" in bot.last_text(CUSTOMER)
    assert (await bot.store.get_customer(customer["id"]))["balance"] == 50
    assert not bot.bad_requests()


# --- limits: every message and every button fits Telegram ------------------------------------


def all_callback_data(calls: list[SentCall]) -> list[str]:
    return [
        str(button["callback_data"])
        for call in calls
        for row in keyboard_rows(call.params)
        for button in row
        if "callback_data" in button
    ]


async def run_every_flow_once(bot: BotHarness) -> None:
    """Earn, redeem (picking from the list), register (skipping the e-mail), status, cancel."""
    await bot.send(CASHIER, "/earn 07400123456 400")
    await bot.press(CASHIER, "Confirm")
    await bot.send(CASHIER, "/redeem 07400123456")
    await bot.press(CASHIER, bot.config.program.rewards[0].name)
    await bot.press(CASHIER, "Confirm")
    for text in ("/register", "Bo Chen", "07400 999888"):
        await bot.send(CASHIER, text)
    await bot.press(CASHIER, "Skip")
    await bot.press(CASHIER, "Confirm")
    await bot.send(CASHIER, "/earn 07400999888 5")
    await bot.press(CASHIER, "Cancel")
    await bot.send(CASHIER, "/status 07400123456")
    await bot.send(CUSTOMER, "/start")


async def test_every_button_the_flows_show_carries_at_most_64_bytes(bot: BotHarness) -> None:
    await register(bot)
    await run_every_flow_once(bot)

    data = all_callback_data(bot.emulator.calls)

    kinds = {d.split(":")[0] + ":" + d.split(":")[1] for d in data}
    assert kinds >= {"earn:ok", "earn:no", "redeem:pick", "redeem:ok", "reg:skip_email", "reg:ok"}
    assert all(1 <= len(d.encode("utf-8")) <= 64 for d in data)
    assert not bot.bad_requests()


async def test_the_longest_reward_ids_and_names_still_fit(tmp_path: Path) -> None:
    rewards = (
        Reward("a" * 20, "🎁 " + "Very long reward name " * 3, 100),
        Reward("z-9_" * 5, "<b>Ünïcødé & “quotes”</b> treat", 200),
    )
    async with BotHarness(make_config(tmp_path, rewards=rewards)) as bot:
        await register(bot)
        await run_every_flow_once(bot)

        data = all_callback_data(bot.emulator.calls)

        assert "redeem:pick:" + "a" * 20 in data
        assert all(len(d.encode("utf-8")) <= 64 for d in data)
        assert not bot.bad_requests()


async def test_a_card_with_the_longest_names_and_many_entries_fits_one_message(
    tmp_path: Path,
) -> None:
    long_name = "Ŵ" * 100  # the longest name core/contact.py accepts
    rewards = tuple(Reward(f"r{i}", f"{long_name} {i}", 1) for i in range(20))
    async with BotHarness(make_config(tmp_path, rewards=rewards)) as bot:
        customer = await register(bot, name=long_name, points=50)
        for _ in range(10):
            await bot.store.redeem(customer["id"], "r1", actor_id=CASHIER, now=bot.services.clock())
        await bot.send(CASHIER, "/status 07400123456")
        await bot.send(CASHIER, "/redeem 07400123456")

        assert all(len(text) <= TEXT_LIMIT for text in bot.texts_to(CASHIER))
        assert not bot.bad_requests()


async def test_a_staff_list_longer_than_one_message_is_split(bot: BotHarness) -> None:
    now = bot.services.clock()
    for user_id in range(10_000, 10_120):
        await bot.staff.add(user_id, "cashier", by=None, now=now, name="<i>N</i> " + "x" * 60)

    calls = await bot.send(ADMIN, "/staff")

    sent = messages(calls)
    assert len(sent) >= 2
    assert all(c.ok and len(c.visible_text or "") <= TEXT_LIMIT for c in sent)
    assert sum((c.visible_text or "").count("<i>N</i>") for c in sent) == 120
