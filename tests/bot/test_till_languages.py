"""The till in every language the bot speaks: /earn, /redeem (a reward and money off), /refund's
preview and the buttons under a scanned card, through the real Application.

The cashier reads every reply, button and popup in the cashier's language; the customer reads
the notice about their points in the customer's own language, whatever the cashier's; and the
ledger holds the same whatever the languages.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot import flows, i18n
from bot.offline import keyboard_rows
from core.card_tokens import sign
from core.db.secret import card_secret
from core.types import MoneyOff, Reward
from tests.support.harness import CASHIER, CUSTOMER, STRANGER, BotHarness, make_config
from tests.support.languages import SHIPPED, leaked

pytestmark = pytest.mark.asyncio

PHONE = "+447400123456"
COFFEE = Reward("coffee", "Free coffee", 100, Decimal("2.50"))
# 100 points take 1.00 off, in 0.50 steps, from 500 points, at most half the bill.
CASHBACK = Reward(
    "cash",
    "Money off",
    500,
    Decimal(5),
    money_off=MoneyOff(100, Decimal("0.50"), 500, Decimal("0.5")),
)

# A word each reply about points says in that language, and the button labels to press.
POINTS = {"en": "points", "es": "puntos", "ru": "балл"}
CONFIRM = {"en": "Confirm", "es": "Confirmar", "ru": "Подтвердить"}
CANCEL = {"en": "Cancel", "es": "Cancelar", "ru": "Отмена"}
EARN = {"en": "Earn", "es": "Sumar puntos", "ru": "Начислить"}
REDEEM = {"en": "Redeem", "es": "Canjear", "ru": "Обменять"}
STATUS = {"en": "Status", "es": "Estado", "ru": "Карта"}
AGAIN = {"en": "Same customer again", "es": "Mismo cliente otra vez", "ru": "Тот же клиент"}
RECORDED = {"en": "Recorded ✔", "es": "Registrado ✔", "ru": "Записано ✔"}
REDEEMED = {"en": "Redeemed ✔", "es": "Canjeado ✔", "ru": "Обменяно ✔"}
ALL = {"en": "all", "es": "todo", "ru": "всё"}


def other(language: str) -> str:
    """Another shipped language than `language`: the customer's, so that a notice written in
    the cashier's language would show."""
    return SHIPPED[(SHIPPED.index(language) + 1) % len(SHIPPED)]


def in_language(text: str, language: str) -> None:
    """`text` reads as `language`: its word for points, and no English sentence in it."""
    assert POINTS[language] in text, text
    if language != i18n.SOURCE:
        assert leaked(text) == [], text


def translated(text: str, language: str) -> None:
    if language != i18n.SOURCE:
        assert leaked(text) == [], text


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with BotHarness(make_config(tmp_path, rewards=(COFFEE, CASHBACK))) as harness:
        yield harness


async def a_customer(bot: BotHarness, language: str, balance: int = 0) -> dict[str, Any]:
    """Ann, linked to CUSTOMER, who chose `language` with /language; `balance` points."""
    now = bot.services.clock()
    result = await bot.store.register(
        {"name": "Ann Lee", "phone": PHONE, "email": None}, actor_id=CASHIER, now=now
    )
    if balance:
        await bot.store.earn(result["customer"]["id"], Decimal(balance), actor_id=CASHIER, now=now)
    await bot.store.link_telegram(PHONE, CUSTOMER)
    await bot.send(CUSTOMER, f"/language {language}")
    return dict(await bot.store.get_customer(result["customer"]["id"]))


def labels(bot: BotHarness, chat_id: int) -> list[str]:
    """The button labels under the newest message to `chat_id` that has buttons."""
    for call in reversed(bot.said_to(chat_id)):
        rows = keyboard_rows(call.params)
        if rows:
            return [str(b["text"]) for row in rows for b in row]
    return []


@pytest.mark.parametrize("language", SHIPPED)
async def test_earn_in_the_cashiers_language_and_the_notice_in_the_customers(
    bot: BotHarness, language: str
) -> None:
    ann = await a_customer(bot, other(language))
    bot.set_app_language(CASHIER, language)

    await bot.send(CASHIER, "/earn")
    translated(bot.last_text(CASHIER), language)
    await bot.send(CASHIER, "07400 123456")
    in_language(bot.last_text(CASHIER), language)
    assert "GBP" in bot.last_text(CASHIER)
    await bot.send(CASHIER, "25.50")
    preview = bot.last_text(CASHIER)
    in_language(preview, language)
    assert "25 " + POINTS[language] in preview  # "25 баллов" in Russian
    assert labels(bot, CASHIER) == [f"✅ {CONFIRM[language]}", f"✖ {CANCEL[language]}"]
    assert (await bot.store.get_customer(ann["id"]))["balance"] == 0

    await bot.press(CASHIER, CONFIRM[language])

    done = bot.last_text(CASHIER)
    in_language(done, language)
    assert "+25" in done
    assert bot.alerts()[-1] == RECORDED[language]
    assert any(AGAIN[language] in label for label in labels(bot, CASHIER))
    notice = bot.last_text(CUSTOMER)
    in_language(notice, other(language))
    assert "25" in notice
    assert (await bot.store.get_customer(ann["id"]))["balance"] == 25
    assert await bot.store.ledger_sum(ann["id"]) == 25
    assert not bot.bad_requests()


@pytest.mark.parametrize("language", SHIPPED)
async def test_redeem_a_reward_in_the_cashiers_language_and_the_notice_in_the_customers(
    bot: BotHarness, language: str
) -> None:
    ann = await a_customer(bot, other(language), balance=150)
    bot.set_app_language(CASHIER, language)

    await bot.send(CASHIER, "/redeem 07400 123456")
    in_language(bot.last_text(CASHIER), language)
    await bot.press(CASHIER, "Free coffee")
    preview = bot.last_text(CASHIER)
    in_language(preview, language)
    assert "150 → 50" in preview

    await bot.press(CASHIER, CONFIRM[language])

    done = bot.last_text(CASHIER)
    in_language(done, language)
    assert bot.alerts()[-1] == REDEEMED[language]
    code = re.findall(r"<code>([^<]+)</code>", bot.said_to(CASHIER)[-1].text or "")[-1]
    assert code in done
    notice = bot.last_text(CUSTOMER)
    in_language(notice, other(language))
    assert code in notice and "Free coffee" in notice
    assert (await bot.store.get_customer(ann["id"]))["balance"] == 50
    assert await bot.store.ledger_sum(ann["id"]) == 50
    assert not bot.bad_requests()


@pytest.mark.parametrize("language", SHIPPED)
async def test_money_off_in_the_cashiers_language_and_the_notice_in_the_customers(
    bot: BotHarness, language: str
) -> None:
    ann = await a_customer(bot, other(language), balance=1234)
    bot.set_app_language(CASHIER, language)

    await bot.send(CASHIER, "/redeem 07400123456")
    await bot.press(CASHIER, "Money off")
    translated(bot.last_text(CASHIER), language)
    await bot.send(CASHIER, "23.40")
    in_language(bot.last_text(CASHIER), language)
    offers = labels(bot, CASHIER)
    assert len(offers) == 4 and all("GBP" in label for label in offers)
    await bot.press(CASHIER, offers[-1])  # the smallest: 5.00 off
    in_language(bot.last_text(CASHIER), language)

    await bot.press(CASHIER, CONFIRM[language])

    in_language(bot.last_text(CASHIER), language)
    notice = bot.last_text(CUSTOMER)
    in_language(notice, other(language))
    assert "734" in notice
    assert (await bot.store.get_customer(ann["id"]))["balance"] == 734
    assert await bot.store.ledger_sum(ann["id"]) == 734
    assert not bot.bad_requests()


@pytest.mark.parametrize("language", SHIPPED)
async def test_the_buttons_under_a_scanned_card_in_the_cashiers_language(
    bot: BotHarness, language: str
) -> None:
    ann = await a_customer(bot, other(language), balance=150)
    bot.set_app_language(CASHIER, language)
    token = sign(ann["id"], await card_secret(bot.services.engine), now=bot.services.clock())

    await bot.send(CASHIER, f"/start {token}")

    card = bot.last_text(CASHIER)
    in_language(card, language)
    assert "Ann Lee" in card
    assert labels(bot, CASHIER) == [
        f"➕ {EARN[language]}",
        f"🎁 {REDEEM[language]}",
        f"🔄 {STATUS[language]}",
    ]

    await bot.press(CASHIER, EARN[language])
    in_language(bot.last_text(CASHIER), language)
    await bot.send(CASHIER, "12.50")
    await bot.press(CASHIER, CONFIRM[language])
    in_language(bot.last_text(CASHIER), language)
    in_language(bot.last_text(CUSTOMER), other(language))

    await bot.press(CASHIER, AGAIN[language])
    in_language(bot.last_text(CASHIER), language)
    await bot.send(CASHIER, "8")
    await bot.press(CASHIER, CONFIRM[language])
    assert (await bot.store.get_customer(ann["id"]))["balance"] == 170

    await bot.press(CASHIER, STATUS[language])
    card = bot.last_text(CASHIER)
    in_language(card, language)
    assert "170" in card

    await bot.press(CASHIER, REDEEM[language])
    in_language(bot.last_text(CASHIER), language)
    await bot.press(CASHIER, "Free coffee")
    await bot.press(CASHIER, CONFIRM[language])
    in_language(bot.last_text(CASHIER), language)
    assert (await bot.store.get_customer(ann["id"]))["balance"] == 70
    assert await bot.store.ledger_sum(ann["id"]) == 70
    assert not bot.bad_requests()


@pytest.mark.parametrize("language", SHIPPED)
async def test_a_refunds_questions_and_preview_in_the_cashiers_language(
    bot: BotHarness, language: str
) -> None:
    ann = await a_customer(bot, other(language))
    bot.set_app_language(CASHIER, language)
    await bot.send(CASHIER, "/earn 07400123456 40")
    await bot.press(CASHIER, CONFIRM[language])
    ref = (await bot.store.recent_entries(ann["id"], 1))[0]["id"]

    await bot.send(CASHIER, "/refund 07400 123456")
    translated(bot.last_text(CASHIER), language)
    await bot.press(CASHIER, f"#{ref}")
    translated(bot.last_text(CASHIER), language)
    assert ALL[language] in bot.last_text(CASHIER)  # the word for "all" it offers
    # "all" in the cashier's own language (Russian typed without its ё)
    await bot.send(CASHIER, ALL[language].replace("ё", "е"))
    in_language(bot.last_text(CASHIER), language)
    assert "40 → 0" in bot.last_text(CASHIER)
    await bot.press(CASHIER, CONFIRM[language])
    assert (await bot.store.get_customer(ann["id"]))["balance"] == 0
    assert await bot.store.ledger_sum(ann["id"]) == 0


# The customer's side of the card: what /card and an opened code say, in their own words.
CARD_WORDS = {"en": "loyalty card", "es": "tarjeta de fidelidad", "ru": "карта лояльности"}


@pytest.mark.parametrize("language", SHIPPED)
async def test_a_customers_qr_card_and_a_code_they_open_in_their_language(
    bot: BotHarness, language: str
) -> None:
    await a_customer(bot, language)

    await bot.send(CUSTOMER, "/card")
    caption = bot.last_text(CUSTOMER)
    assert CARD_WORDS[language] in caption and "/card" in caption
    translated(caption, language)
    assert [c.method for c in bot.said_to(CUSTOMER)][-1] == "sendPhoto"

    await bot.send(CUSTOMER, "/start c_12345678")  # anyone's printed card: the one fixed reply
    reply = bot.last_text(CUSTOMER)
    assert CARD_WORDS[language] in reply and "/card" in reply
    translated(reply, language)

    bot.set_app_language(STRANGER, language)
    await bot.send(STRANGER, "/card")
    assert "/start" in bot.last_text(STRANGER)
    translated(bot.last_text(STRANGER), language)
    assert not bot.bad_requests()


# An idle flow ends in a job, not an update: it still speaks the cashier's language.
IDLE = {"en": "idle for 5 minutes", "es": "5 minutos sin actividad", "ru": "5 минут ничего"}
EXPIRED = {"en": "has expired", "es": "ha caducado", "ru": "истёк"}


@pytest.mark.parametrize("language", SHIPPED)
async def test_an_idle_flow_ends_in_the_cashiers_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, language: str
) -> None:
    monkeypatch.setattr(flows, "IDLE_TIMEOUT", 0.3)
    async with BotHarness(make_config(tmp_path)) as bot:
        ann = await a_customer(bot, other(language))
        bot.set_app_language(CASHIER, language)
        await bot.send(CASHIER, "/earn 07400123456 30")

        def probe() -> str | None:
            return next((t for t in bot.texts_to(CASHIER) if IDLE[language] in t), None)

        async with asyncio.timeout(5):
            notice = await bot.emulator.until(probe)

        translated(notice, language)
        await bot.press(CASHIER, CONFIRM[language])
        assert EXPIRED[language] in bot.alerts()[-1] and "/earn" in bot.alerts()[-1]
        assert (await bot.store.get_customer(ann["id"]))["balance"] == 0


async def test_the_notice_follows_the_customers_app_language_when_they_never_chose(
    bot: BotHarness,
) -> None:
    """A customer whose phone is in Spanish, who never sent /language, hears of the points a
    cashier in English records in Spanish, once the bot has seen their app's language."""
    now = bot.services.clock()
    result = await bot.store.register(
        {"name": "Ann Lee", "phone": PHONE, "email": None}, actor_id=CASHIER, now=now
    )
    await bot.store.link_telegram(PHONE, CUSTOMER)
    bot.set_app_language(CUSTOMER, "es-419")
    await bot.send(CUSTOMER, "/status")
    in_language(bot.last_text(CUSTOMER), "es")

    await bot.send(CASHIER, "/earn")
    await bot.send(CASHIER, "07400 123456")
    await bot.send(CASHIER, "25.50")
    await bot.press(CASHIER, CONFIRM["en"])

    in_language(bot.last_text(CASHIER), "en")
    notice = bot.last_text(CUSTOMER)
    in_language(notice, "es")
    assert "25" in notice
    assert (await bot.store.get_customer(result["customer"]["id"]))["balance"] == 25
