"""The engine's reasons, the refusals and the apology, in every language the bot speaks.

core/ raises with a reason marked for the catalogs (core/errors.Reason); bot/replies.py renders
it in the reader's language, numbers written their way. Each flow runs through the real
Application for every shipped language and checks what the cashier or customer reads (their own
language, no English sentence left in the engine's line) and that nothing was written.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot import delivery, expiry, i18n
from bot.offline import SentCall
from core.expiry import ExpiryPolicy
from core.types import Customer
from tests.support.harness import ADMIN, CASHIER, CUSTOMER, BotHarness, make_config
from tests.support.languages import SHIPPED, leaked

pytestmark = pytest.mark.asyncio

PHONE = "+447400123456"
JAN_1 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)  # London is on GMT in January
AFTER_30 = ExpiryPolicy(policy="after_days", days=30, remind_days=14)

# A known phrase of each language, per reply.
BAD_AMOUNT = {"en": "That amount won't work", "es": "Ese importe no vale", "ru": "Эта сумма не"}
NOT_AN_AMOUNT = {"en": "is not an amount", "es": "no es un importe", "ru": "не сумма"}
UNKNOWN = {"en": "I can't find a customer", "es": "No encuentro ningún", "ru": "Не нахожу клиента"}
SHORT = {"en": "Not enough points", "es": "No hay puntos suficientes", "ru": "Не хватает баллов"}
STAFF_ONLY = {"en": "Only shop staff", "es": "Solo el personal", "ru": "только персонал"}
SORRY = {"en": "Sorry, something went wrong", "es": "Lo siento, algo falló", "ru": "Извините"}


async def customer_with(bot: BotHarness, points: int = 0) -> Customer:
    now = bot.services.clock()
    result = await bot.store.register(
        {"name": "Ann Lee", "phone": PHONE, "email": None}, actor_id=CASHIER, now=now
    )
    customer = result["customer"]
    if points:  # Bronze: 1 point per GBP
        await bot.store.earn(customer["id"], Decimal(points), actor_id=CASHIER, now=now)
    return await bot.store.get_customer(customer["id"])


def line_with(text: str, phrase: str) -> str:
    """The line of a reply that holds `phrase` (the engine's line, not the handler's prompt)."""
    lines = [line for line in text.split("\n") if phrase in line]
    assert lines, f"{phrase!r} not in {text!r}"
    return lines[0]


def assert_own_language(language: str, line: str) -> None:
    if language != i18n.SOURCE:
        assert leaked(line) == [], line


@pytest.mark.parametrize("language", SHIPPED)
async def test_a_bad_amount_says_why_in_the_cashiers_language(
    bot: BotHarness, language: str
) -> None:
    customer = await customer_with(bot)
    bot.set_app_language(CASHIER, language)
    await bot.send(CASHIER, "/earn")
    await bot.send(CASHIER, "07400 123456")

    await bot.send(CASHIER, "abc")

    line = line_with(bot.last_text(CASHIER), BAD_AMOUNT[language])
    assert NOT_AN_AMOUNT[language] in line and "“abc”" in line
    assert_own_language(language, line)
    assert await bot.store.recent_entries(customer["id"]) == []


@pytest.mark.parametrize("language", SHIPPED)
async def test_an_amount_above_the_limit_writes_the_limit_the_readers_way(
    bot: BotHarness, language: str
) -> None:
    await customer_with(bot)
    bot.set_app_language(CASHIER, language)
    await bot.send(CASHIER, "/earn")
    await bot.send(CASHIER, "07400 123456")

    await bot.send(CASHIER, "20000")

    line = line_with(bot.last_text(CASHIER), BAD_AMOUNT[language])
    limit = {"en": "10,000.00", "es": "10.000,00", "ru": "10\xa0000,00"}[language]
    assert limit in line
    assert_own_language(language, line)


@pytest.mark.parametrize("language", SHIPPED)
async def test_an_unknown_customer_is_named_in_the_cashiers_language(
    bot: BotHarness, language: str
) -> None:
    bot.set_app_language(CASHIER, language)

    await bot.send(CASHIER, "/history 07400 999999")

    reply = bot.last_text(CASHIER)
    assert UNKNOWN[language] in reply and "07400 999999" in reply and "/register" in reply
    assert_own_language(language, reply)


@pytest.mark.parametrize("language", SHIPPED)
async def test_insufficient_points_give_the_numbers_and_change_nothing(
    bot: BotHarness, language: str
) -> None:
    customer = await customer_with(bot, 180)
    bot.set_app_language(CASHIER, language)

    await bot.send(CASHIER, "/redeem 07400123456 cake")

    line = line_with(bot.last_text(CASHIER), SHORT[language])
    assert "180" in line and "250" in line and "70" in line
    assert_own_language(language, line)
    stored = await bot.store.get_customer(customer["id"])
    assert stored["balance"] == 180
    assert all(e["kind"] != "redeem" for e in await bot.store.recent_entries(customer["id"]))


@pytest.mark.parametrize("language", SHIPPED)
async def test_a_customer_refused_a_staff_command_reads_why_in_their_language(
    bot: BotHarness, language: str
) -> None:
    customer = await customer_with(bot, 30)
    bot.set_app_language(CUSTOMER, language)

    await bot.send(CUSTOMER, "/earn 07400123456 25")

    reply = bot.last_text(CUSTOMER)
    assert STAFF_ONLY[language] in reply and "/help" in reply
    assert_own_language(language, reply)
    assert (await bot.store.get_customer(customer["id"]))["balance"] == 30


@pytest.mark.parametrize("language", SHIPPED)
async def test_a_period_that_cant_be_read_gets_examples_in_the_admins_language(
    bot: BotHarness, language: str
) -> None:
    bot.set_app_language(ADMIN, language)

    await bot.send(ADMIN, "/report 2026-13")

    line = line_with(bot.last_text(ADMIN), "2026-13")
    assert {"en": "is not a month", "es": "no es un mes", "ru": "не месяц"}[language] in line
    assert {"en": " or all", "es": " o all", "ru": " или all"}[language] in line
    assert_own_language(language, line)


async def _boom(*args: object, **kwargs: object) -> Any:
    raise RuntimeError("boom")


@pytest.mark.parametrize("language", SHIPPED)
async def test_an_unexpected_error_apologises_in_the_senders_language(
    bot: BotHarness, language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = await customer_with(bot)
    bot.set_app_language(CASHIER, language)
    await bot.send(CASHIER, "/earn")
    monkeypatch.setattr(bot.store, "find_customer", _boom)

    calls: list[SentCall] = await bot.send(CASHIER, "07400 123456")

    sent = [c.visible_text or "" for c in calls if c.method == "sendMessage"]
    assert len(sent) == 1 and sent[0].startswith(SORRY[language])
    assert_own_language(language, sent[0])
    assert await bot.store.recent_entries(customer["id"]) == []


@pytest.mark.parametrize("language", SHIPPED)
async def test_an_expiry_reminder_is_written_in_the_recipients_language(
    tmp_path: Path, language: str
) -> None:
    """The daily job serves nobody in particular: the reminder takes the language the customer
    chose (/language), not the job's."""
    config = dataclasses.replace(make_config(tmp_path), expiry=AFTER_30)
    async with BotHarness(config) as bot:
        done = bot.services.notes[expiry.CATCH_UP_NOTE]
        assert isinstance(done, asyncio.Event)
        await asyncio.wait_for(done.wait(), timeout=10)  # the start-up run, on no cards
        bot.services.notes[expiry.SINCE_NOTE] = JAN_1 - dt.timedelta(days=365)
        ann = await customer_with(bot)
        await bot.store.link_telegram(PHONE, CUSTOMER)
        await bot.send(CUSTOMER, f"/language {language}")
        await bot.store.earn(ann["id"], Decimal(120), actor_id=CASHIER, now=JAN_1)
        before = len(bot.texts_to(CUSTOMER))

        due = dt.datetime(2026, 1, 17, 10, 0, tzinfo=dt.UTC)  # 14 days before 31 Jan
        bot.services.clock = lambda: due
        queued = await expiry.run(bot.services, due)
        await delivery.deliver_due(SimpleNamespace(application=bot.app))  # type: ignore[arg-type]

        assert queued.reminders == 1 and len(bot.texts_to(CUSTOMER)) == before + 1
        text = bot.last_text(CUSTOMER)
        assert "/status" in text
        assert {"en": "expire on", "es": "caducan el", "ru": "сгорят"}[language] in text
        assert {"en": "31 Jan 2026", "es": "31 ene 2026", "ru": "31 янв. 2026"}[language] in text
        assert_own_language(language, text)
