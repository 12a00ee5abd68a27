"""The admin's flows in every shipped language, through the real Application: /void, /adjust,
/staff and /tier answer the admin in the admin's language, and the notices they cause (a
correction, a tier up, a new role, a birthday bonus) reach the other person in theirs.

The customer speaks another language than the admin in each case, so a notice written in the
presser's language instead of the recipient's fails here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from bot import birthdays
from core.config import BirthdayConfig
from core.types import Customer
from tests.support.harness import ADMIN, CASHIER, CUSTOMER, STRANGER, BotHarness, make_config
from tests.support.languages import SHIPPED, leaked

pytestmark = pytest.mark.asyncio

PHONE = "+447400123456"
MONDAY = dt.datetime(2026, 3, 9, 9, 0, tzinfo=dt.UTC)  # the week of 9 to 15 March
# The other person's language: never the admin's.
OTHER = {lang: SHIPPED[(i + 1) % len(SHIPPED)] for i, lang in enumerate(SHIPPED)}

VOIDED = {"en": "Voided ref #", "es": "Anulado ref. #", "ru": "Аннулировано, ссылка #"}
CORRECTION = {
    "en": "A correction on your card: -100 points. Balance: 0 points.",
    "es": "Una corrección en tu tarjeta: -100 puntos. Saldo: 0 puntos.",
    "ru": "Исправление на вашей карте: -100 баллов. Баланс: 0 баллов.",
}
ADJUSTED = {"en": "Adjusted card", "es": "ajustada en", "ru": "скорректирована на"}
TIER_UP = {
    "en": "Tier up: now Silver!",
    "es": "Sube de nivel: ahora Silver!",
    "ru": "Новый уровень: Silver!",
}
ADMINS = {"en": "Admins", "es": "Administradores", "ru": "Администраторы"}
NOW_CASHIER = {"en": "is now cashier", "es": "ahora es cajero", "ru": "теперь кассир"}
YOU_ARE_CASHIER = {
    "en": "You're now cashier here.",
    "es": "Ahora eres cajero aquí.",
    "ru": "Теперь вы здесь кассир.",
}
PINNED = {
    "en": "is now Gold, pinned",
    "es": "ahora es Gold, fijado",
    "ru": "теперь Gold, закреплён",
}
BIRTHDAY = {
    "en": "🎂 Happy birthday! We've added 100 points to your card. Balance: 100 points.",
    "es": "🎂 ¡Feliz cumpleaños! Hemos sumado 100 puntos a tu tarjeta. Saldo: 100 puntos.",
    "ru": "🎂 С днём рождения! Мы начислили 100 баллов на вашу карту. Баланс: 100 баллов.",
}


def in_language(text: str, lang: str) -> None:
    """No English sentence inside a Spanish or Russian text."""
    if lang != "en":
        assert leaked(text) == [], text


async def speaks(bot: BotHarness, user_id: int, lang: str) -> None:
    """`user_id` chooses `lang` with /language (remembered: a notice to them uses it)."""
    await bot.send(user_id, f"/language {lang}")


async def ann(bot: BotHarness, spent: int, lang: str) -> Customer:
    """Ann Lee, linked to CUSTOMER, who speaks `lang`, with one purchase of `spent` GBP."""
    now = bot.services.clock()
    result = await bot.store.register(
        {"name": "Ann Lee", "phone": PHONE, "email": None}, actor_id=CASHIER, now=now
    )
    customer = result["customer"]
    if spent:
        await bot.store.earn(customer["id"], Decimal(spent), actor_id=CASHIER, now=now)
    await bot.store.link_telegram(PHONE, CUSTOMER)
    await speaks(bot, CUSTOMER, lang)
    return await bot.store.get_customer(customer["id"])


@pytest.mark.parametrize("lang", SHIPPED)
async def test_void_answers_the_admin_and_tells_the_customer_each_in_their_language(
    bot: BotHarness, lang: str
) -> None:
    bot.set_app_language(ADMIN, lang)
    customer = await ann(bot, 100, OTHER[lang])
    (purchase,) = await bot.store.recent_entries(customer["id"], 1)

    await bot.send(ADMIN, f"/void #{purchase['id']}")
    in_language(bot.last_text(ADMIN), lang)
    await bot.press(ADMIN, "✅")

    assert VOIDED[lang] in bot.last_text(ADMIN)
    in_language(bot.last_text(ADMIN), lang)
    assert CORRECTION[OTHER[lang]] in bot.last_text(CUSTOMER)
    in_language(bot.last_text(CUSTOMER), OTHER[lang])
    stored = await bot.store.get_customer(customer["id"])
    (void,) = await bot.store.recent_entries(customer["id"], 1)
    assert (stored["balance"], await bot.store.ledger_sum(customer["id"])) == (0, 0)
    assert (void["kind"], void["reverses_id"], void["actor_id"]) == ("void", purchase["id"], ADMIN)


@pytest.mark.parametrize("lang", SHIPPED)
async def test_adjust_and_its_tier_up_notice_in_each_readers_language(
    bot: BotHarness, lang: str
) -> None:
    bot.set_app_language(ADMIN, lang)
    customer = await ann(bot, 100, OTHER[lang])

    await bot.send(ADMIN, "/adjust 07400 123456 +500 late order")
    in_language(bot.last_text(ADMIN), lang)
    await bot.press(ADMIN, "✅")

    reply = bot.last_text(ADMIN)
    assert ADJUSTED[lang] in reply and "+500" in reply
    in_language(reply, lang)
    notice = bot.last_text(CUSTOMER)
    assert TIER_UP[OTHER[lang]] in notice and "late order" in notice
    in_language(notice, OTHER[lang])
    stored = await bot.store.get_customer(customer["id"])
    assert (stored["balance"], stored["tier"]) == (600, "Silver")
    (entry,) = await bot.store.recent_entries(customer["id"], 1)
    assert (entry["kind"], entry["points"], entry["note"]) == ("adjust", 500, "late order")


@pytest.mark.parametrize("lang", SHIPPED)
async def test_staff_list_and_add_with_the_new_member_told_in_their_language(
    bot: BotHarness, lang: str
) -> None:
    bot.set_app_language(ADMIN, lang)
    await speaks(bot, STRANGER, OTHER[lang])

    await bot.send(ADMIN, "/staff")
    assert ADMINS[lang] in bot.last_text(ADMIN)
    in_language(bot.last_text(ADMIN), lang)

    await bot.send(ADMIN, f"/staff add {STRANGER}")

    assert NOW_CASHIER[lang] in bot.last_text(ADMIN)
    in_language(bot.last_text(ADMIN), lang)
    assert bot.last_text(STRANGER).startswith(YOU_ARE_CASHIER[OTHER[lang]])
    in_language(bot.last_text(STRANGER), OTHER[lang])
    assert await bot.staff.role_of(STRANGER) == "cashier"


@pytest.mark.parametrize("lang", SHIPPED)
async def test_tier_pin_answers_in_the_admins_language(bot: BotHarness, lang: str) -> None:
    bot.set_app_language(ADMIN, lang)
    customer = await ann(bot, 100, OTHER[lang])

    await bot.send(ADMIN, "/tier")
    in_language(bot.last_text(ADMIN), lang)
    await bot.send(ADMIN, "/tier 07400 123456 gld founding member")

    assert PINNED[lang] in bot.last_text(ADMIN)
    in_language(bot.last_text(ADMIN), lang)
    stored = await bot.store.get_customer(customer["id"])
    assert (stored["tier"], stored.get("pinned_tier")) == ("Gold", "Gold")


@pytest.mark.parametrize("lang", SHIPPED)
async def test_the_birthday_bonus_notice_is_in_the_customers_language(
    tmp_path: Path, lang: str
) -> None:
    config = dataclasses.replace(make_config(tmp_path), birthday=BirthdayConfig(bonus=100))
    async with BotHarness(config) as bot:
        bot.services.clock = lambda: MONDAY
        customer = await ann(bot, 0, lang)
        await bot.store.set_birthday(customer["id"], dt.date(4, 3, 14), actor_id=ADMIN, now=MONDAY)

        assert await birthdays.credit_birthdays(bot.services, bot.app) == 1

        assert bot.last_text(CUSTOMER) == BIRTHDAY[lang]
        in_language(bot.last_text(CUSTOMER), lang)
        stored = await bot.store.get_customer(customer["id"])
        assert (stored["balance"], await bot.store.ledger_sum(customer["id"])) == (100, 100)


INVITE = {
    "en": "you each get 50 points",
    "es": "cada uno recibirá 50 puntos",
    "ru": "каждый из вас получит 50 баллов",
}
WELCOME = {
    "en": "your friend 50 points each",
    "es": "recibiréis 50 puntos cada uno",
    "ru": "получите по 50 баллов",
}


@pytest.mark.parametrize("lang", SHIPPED)
async def test_invite_and_the_welcome_each_in_their_readers_language(
    tmp_path: Path, lang: str
) -> None:
    config = make_config(tmp_path, referral_bonus=50)
    async with BotHarness(config) as bot:
        ann = await bot.store.register(
            {"name": "Ann Lee", "phone": PHONE, "email": None},
            actor_id=CASHIER,
            now=bot.services.clock(),
        )
        await bot.share_contact(CUSTOMER, PHONE)
        await speaks(bot, CUSTOMER, lang)
        await bot.send(CUSTOMER, "/invite")
        invite = bot.last_text(CUSTOMER)
        assert INVITE[lang] in invite
        in_language(invite, lang)
        payload = invite.split("start=")[1].split()[0]

        bot.set_app_language(STRANGER, OTHER[lang])
        await bot.send(STRANGER, f"/start {payload}")
        assert WELCOME[OTHER[lang]] in bot.last_text(STRANGER)
        in_language(bot.last_text(STRANGER), OTHER[lang])
        bob = await bot.store.register(
            {"name": "Bob Ray", "phone": "+447400222333", "email": None},
            actor_id=CASHIER,
            now=bot.services.clock(),
        )
        await bot.share_contact(STRANGER, "+447400222333")
        await speaks(bot, STRANGER, OTHER[lang])
        await bot.send(CASHIER, "/earn 07400222333 10")
        await bot.press(CASHIER, "✅")
        for customer, points in ((ann["customer"], 50), (bob["customer"], 60)):
            stored = await bot.store.get_customer(customer["id"])
            assert stored["balance"] == points == await bot.store.ledger_sum(customer["id"])
