"""The reader's language: their Telegram app's when the bot speaks it, their /language choice
over that, the shop's otherwise; menus per language; a forged language button changes nothing."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

from bot import format, i18n
from core.config import ShopConfig
from tests.support.harness import ADMIN, CASHIER, BotHarness, make_config

CUSTOMER = 4242


async def test_a_customer_whose_app_is_in_spanish_gets_help_in_spanish(bot: BotHarness) -> None:
    bot.set_app_language(CUSTOMER, "es-419")

    await bot.send(CUSTOMER, "/help")

    assert bot.last_text(CUSTOMER).startswith("Tu tarjeta de fidelidad")
    assert "/language – el idioma en que te escribo" in bot.last_text(CUSTOMER)


async def test_an_app_language_the_bot_does_not_speak_gets_the_shop_language(
    bot: BotHarness,
) -> None:
    bot.set_app_language(CUSTOMER, "fr")

    await bot.send(CUSTOMER, "/help")

    assert bot.last_text(CUSTOMER).startswith("Your loyalty card")


async def test_a_shop_in_russian_answers_strangers_in_russian(tmp_path: Path) -> None:
    config = dataclasses.replace(make_config(tmp_path), shop=ShopConfig(language="ru"))
    async with BotHarness(config) as bot:
        bot.set_app_language(CUSTOMER, "de")
        await bot.send(CUSTOMER, "/help")

        assert bot.last_text(CUSTOMER).startswith("Ваша карта лояльности")


async def test_a_chosen_language_wins_over_the_app_and_survives_a_restart(
    tmp_path: Path,
) -> None:
    config = make_config(tmp_path)
    async with BotHarness(config) as bot:
        await bot.send(CASHIER, "/language")
        assert bot.last_text(CASHIER) == "Which language should I write to you in?"
        await bot.press(CASHIER, "Русский")

        assert bot.last_text(CASHIER).startswith("✅ Теперь я пишу вам по-русски.")
        await bot.send(CASHIER, "/help")
        assert bot.last_text(CASHIER).startswith("На кассе")
        # The cashier's own menu is redrawn in Russian.
        menus = [c for c in bot.emulator.calls if c.method == "setMyCommands" and c.ok]
        mine = [c for c in menus if c.params.get("scope", {}).get("chat_id") == CASHIER]
        assert {"command": "earn", "description": "Записать покупку"} in mine[-1].params["commands"]

    async with BotHarness(config) as restarted:
        await restarted.send(CASHIER, "/help")
        assert restarted.last_text(CASHIER).startswith("На кассе")


async def test_language_by_name_or_code_and_a_kind_no_for_others(bot: BotHarness) -> None:
    await bot.send(CUSTOMER, "/language Spanish")
    assert bot.last_text(CUSTOMER).startswith("✅ A partir de ahora te escribiré en español.")

    await bot.send(CUSTOMER, "/language klingon")
    assert bot.last_text(CUSTOMER).startswith("Todavía no hablo ese idioma.")

    await bot.send(CUSTOMER, "/language en")
    assert bot.last_text(CUSTOMER).startswith("✅ From now on I'll write to you in English.")


async def test_a_forged_language_button_changes_nothing(bot: BotHarness) -> None:
    await bot.press_data(ADMIN, "language:xx")

    answers = [c for c in bot.emulator.calls if c.method == "answerCallbackQuery"]
    assert answers[-1].params["text"].startswith("That button is no longer active")
    assert await bot.staff.get_setting("language:xx") is None
    await bot.send(ADMIN, "/help")
    assert bot.last_text(ADMIN).startswith("At the till")


async def test_points_are_counted_in_the_readers_language(bot: BotHarness) -> None:
    with i18n.speaking("ru"):
        assert format.points(1250) == "1\xa0250 баллов"
        assert format.money(Decimal("1250.5"), "GBP") == "1\xa0250,50 GBP"
    with i18n.speaking("en"):
        assert format.points(1) == "1 point"
        assert format.points(1250) == "1,250 points"


async def test_customers_get_a_menu_in_each_language_the_bot_speaks(bot: BotHarness) -> None:
    menus = {
        c.params.get("language_code"): c.params["commands"]
        for c in bot.emulator.calls
        if c.method == "setMyCommands" and c.params["scope"]["type"] == "all_private_chats"
    }

    assert set(menus) == {None, "en", "es", "ru"}
    assert {"command": "status", "description": "Mis puntos, nivel y premios"} in menus["es"]
    assert {"command": "status", "description": "My points, tier and rewards"} in menus[None]
