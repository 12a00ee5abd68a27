"""A customer's main flows in every shipped language, through the real Application: a cashier
registers them, they link their card by sharing their phone, see /status and page /history, ask
for /mydata, /privacy, turn notifications off and /forget themselves. Each reply is in the
reader's language (a word of it, and no English sentence left in Spanish or Russian), and the
database holds what the flow recorded.

The card itself (bot/cards.py) is drawn by another module; where a reply ends with it, the
words before it are checked here and the card only for its points.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from bot.offline import keyboard_rows, parse_html
from core import privacy
from tests.support.harness import CASHIER, CUSTOMER, STRANGER, BotHarness
from tests.support.languages import SHIPPED, TRANSLATED, leaked

pytestmark = pytest.mark.asyncio

PHONE = "+447400123456"
START = dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.UTC)

# A word each reply must hold in the reader's language (lower case), by language.
WORDS: dict[str, dict[str, str]] = {
    "ask_name": {"en": "new customer", "es": "cliente nuevo", "ru": "новый клиент"},
    "ask_phone": {"en": "phone number", "es": "número de teléfono", "ru": "номер телефона"},
    "ask_email": {"en": "e-mail", "es": "omitir", "ru": "пропустить"},
    "summary": {"en": "register this customer", "es": "registrar a este", "ru": "зарегистрировать"},
    "registered": {"en": "card number", "es": "número de tarjeta", "ru": "номер карты"},
    "welcome": {"en": "welcome", "es": "bienvenido", "ru": "добро пожаловать"},
    "not_registered": {"en": "can't find", "es": "no encuentro", "ru": "не нахожу"},
    "linked": {"en": "linked", "es": "vinculada", "ru": "привязано"},
    "points": {"en": "points", "es": "puntos", "ru": "балл"},
    "not_linked": {"en": "isn't linked", "es": "no está vinculada", "ru": "не привязан"},
    "not_yours": {"en": "only see your own", "es": "solo puedes ver", "ru": "только свою"},
    "history": {"en": "history", "es": "historial", "ru": "история"},
    "purchase": {"en": "purchase", "es": "compra", "ru": "покупка"},
    "next": {"en": "next", "es": "siguiente", "ru": "дальше"},
    "prev": {"en": "prev", "es": "anterior", "ru": "назад"},
    "mydata": {"en": "what we hold", "es": "lo que guardamos", "ru": "что мы о вас храним"},
    "caption": {"en": "your data", "es": "tus datos", "ru": "ваши данные"},
    "privacy": {"en": "what we store", "es": "guardamos", "ru": "храним"},
    "notifications_off": {"en": "are off", "es": "desactivados", "ru": "выключены"},
    "forget_question": {"en": "cannot be undone", "es": "no se puede deshacer", "ru": "нельзя"},
    "kept": {"en": "nothing was erased", "es": "no se borró nada", "ru": "ничего не удалено"},
    "forgotten": {"en": "are erased", "es": "están borrados", "ru": "удалены"},
}


def in_language(text: str, what: str, language: str) -> None:
    """`text` holds the word of `what` in `language` and, if translated, no English sentence."""
    assert WORDS[what][language] in text.lower(), text
    if language in TRANSLATED:
        assert leaked(text) == [], text


def buttons(bot: BotHarness, chat_id: int) -> list[dict[str, Any]]:
    """The buttons under the newest message to `chat_id`."""
    return [b for row in keyboard_rows(bot.said_to(chat_id)[-1].params) for b in row]


async def press_data(bot: BotHarness, chat_id: int, prefix: str) -> None:
    """Presses the newest button whose data starts with `prefix`, on its own message (found
    by data, so a label in any language will do)."""
    for call in reversed(bot.said_to(chat_id)):
        for row in keyboard_rows(call.params):
            for button in row:
                data = str(button.get("callback_data", ""))
                if data.startswith(prefix):
                    result = call.result if isinstance(call.result, dict) else {}
                    await bot.press_data(chat_id, data, message_id=int(result.get("message_id", 1)))
                    return
    raise AssertionError(f"no button {prefix!r} in messages to {chat_id}")


async def linked_card(bot: BotHarness, purchases: int = 0) -> int:
    """Ann's card, linked to CUSTOMER, with `purchases` purchases of 1.00, 2.00, ..."""
    registered = await bot.store.register(
        {"name": "Ann Lee", "phone": PHONE, "email": "ann@example.org"},
        actor_id=CASHIER,
        now=START,
    )
    customer_id = int(registered["customer"]["id"])
    for i in range(1, purchases + 1):
        await bot.store.earn(
            customer_id, Decimal(i), actor_id=CASHIER, now=START + dt.timedelta(days=i)
        )
    await bot.store.link_telegram(PHONE, CUSTOMER)
    return customer_id


@pytest.mark.parametrize("language", SHIPPED)
async def test_a_cashier_registers_a_customer_in_their_language(
    bot: BotHarness, language: str
) -> None:
    bot.set_app_language(CASHIER, language)

    await bot.send(CASHIER, "/register")
    in_language(bot.last_text(CASHIER), "ask_name", language)
    await bot.send(CASHIER, "Ann Lee")
    in_language(bot.last_text(CASHIER), "ask_phone", language)
    await bot.send(CASHIER, "12345")  # not a phone number: asked again, in the same language
    in_language(bot.last_text(CASHIER).split("\n")[-1], "ask_phone", language)
    await bot.send(CASHIER, "07400 123456")
    in_language(bot.last_text(CASHIER), "ask_email", language)
    await press_data(bot, CASHIER, "reg:skip_email")
    in_language(bot.last_text(CASHIER), "summary", language)
    await press_data(bot, CASHIER, "reg:ok:")

    in_language(bot.last_text(CASHIER), "registered", language)
    customer = await bot.store.customer_by_phone(PHONE)
    assert customer is not None
    assert (customer["name"], customer["email"]) == ("Ann Lee", None)
    assert customer["card_number"] in bot.last_text(CASHIER).replace(" ", "")


@pytest.mark.parametrize("language", SHIPPED)
async def test_a_customer_links_their_card_by_sharing_their_phone(
    bot: BotHarness, language: str
) -> None:
    await bot.store.register(
        {"name": "Ann Lee", "phone": PHONE, "email": None}, actor_id=CASHIER, now=START
    )
    bot.set_app_language(CUSTOMER, language)

    await bot.send(CUSTOMER, "/start")
    in_language(bot.last_text(CUSTOMER), "welcome", language)
    await bot.share_contact(CUSTOMER, "+447400999999")  # a number with no card
    in_language(bot.last_text(CUSTOMER), "not_registered", language)
    assert await bot.store.customer_by_telegram(CUSTOMER) is None

    await bot.share_contact(CUSTOMER, PHONE)

    head, _, card = bot.last_text(CUSTOMER).partition("\n\n")
    in_language(head, "linked", language)
    assert WORDS["points"][language] in card.lower()  # the card: bot/cards.py
    linked = await bot.store.customer_by_telegram(CUSTOMER)
    assert linked is not None and linked["phone"] == PHONE


@pytest.mark.parametrize("language", SHIPPED)
async def test_status_is_the_customers_own_card_in_their_language(
    bot: BotHarness, language: str
) -> None:
    bot.set_app_language(CUSTOMER, language)
    await bot.send(CUSTOMER, "/status")
    in_language(bot.last_text(CUSTOMER), "not_linked", language)

    await linked_card(bot, purchases=2)
    await bot.send(CUSTOMER, "/status 4821 3379")
    in_language(bot.last_text(CUSTOMER), "not_yours", language)
    await bot.send(CUSTOMER, "/status")

    assert WORDS["points"][language] in bot.last_text(CUSTOMER).lower()  # the card: bot/cards.py
    own = await bot.store.customer_by_telegram(CUSTOMER)
    assert own is not None and own["balance"] == 3


@pytest.mark.parametrize("language", SHIPPED)
async def test_history_pages_in_the_customers_language(bot: BotHarness, language: str) -> None:
    await linked_card(bot, purchases=12)
    bot.set_app_language(CUSTOMER, language)

    await bot.send(CUSTOMER, "/history")
    first = bot.last_text(CUSTOMER)
    in_language(first, "history", language)
    in_language(first, "purchase", language)
    assert [b["text"].lower() for b in buttons(bot, CUSTOMER)] == [f"{WORDS['next'][language]} ▶"]
    await press_data(bot, CUSTOMER, "hist:")

    second = bot.texts_to(CUSTOMER)[-1]
    in_language(second, "history", language)
    assert second.count("\n") == 1 + 2  # the header's two lines, then the two oldest entries
    assert [b["text"].lower() for b in buttons(bot, CUSTOMER)] == [f"◀ {WORDS['prev'][language]}"]
    assert not bot.bad_requests()


@pytest.mark.parametrize("language", SHIPPED)
async def test_mydata_privacy_and_notifications_in_the_customers_language(
    bot: BotHarness, language: str
) -> None:
    customer_id = await linked_card(bot, purchases=1)
    bot.set_app_language(CUSTOMER, language)

    calls = await bot.send(CUSTOMER, "/mydata")
    (message,) = [parse_html(c.text or "") for c in calls if c.method == "sendMessage"]
    in_language(message, "mydata", language)
    in_language(message, "purchase", language)
    (document,) = [c for c in calls if c.method == "sendDocument"]
    in_language(str(document.params["caption"]), "caption", language)
    assert json.loads(document.files["document"])["contact"]["name"] == "Ann Lee"
    await bot.send(CUSTOMER, "/privacy")
    in_language(bot.last_text(CUSTOMER), "privacy", language)
    await bot.send(CUSTOMER, "/notifications off")

    in_language(bot.last_text(CUSTOMER), "notifications_off", language)
    assert await bot.store.notifications_on(customer_id) is False


@pytest.mark.parametrize("language", SHIPPED)
async def test_forget_asks_first_and_erases_in_the_customers_language(
    bot: BotHarness, language: str
) -> None:
    customer_id = await linked_card(bot, purchases=1)
    bot.set_app_language(CUSTOMER, language)

    await bot.send(CUSTOMER, "/forget")
    in_language(bot.last_text(CUSTOMER), "forget_question", language)
    await press_data(bot, CUSTOMER, "forget:no:")
    in_language(bot.last_text(CUSTOMER), "kept", language)
    assert (await bot.store.get_customer(customer_id))["name"] == "Ann Lee"

    await bot.send(CUSTOMER, "/forget")
    await press_data(bot, CUSTOMER, "forget:ok:")

    in_language(bot.last_text(CUSTOMER), "forgotten", language)
    forgotten = await bot.store.get_customer(customer_id)
    assert privacy.is_forgotten(forgotten) and forgotten["balance"] == 1
    assert await bot.store.customer_by_telegram(CUSTOMER) is None


async def test_a_stranger_writing_in_russian_gets_russian_hints(bot: BotHarness) -> None:
    bot.set_app_language(STRANGER, "ru")

    await bot.send(STRANGER, "/nosuchcommand")
    assert "Я не знаю команду" in bot.last_text(STRANGER)
    await bot.send(STRANGER, "/cancel")
    assert bot.last_text(STRANGER).startswith("Отменять нечего")
    await bot.send(STRANGER, "/mydata")
    assert bot.last_text(STRANGER).startswith("К этому аккаунту Telegram не привязана карта")
    assert leaked(bot.last_text(STRANGER)) == []
