"""/audit and the command menus in every shipped language, through the real Application.

/audit: an admin whose Telegram app is in English, Spanish or Russian reads the trail, a period
of it and its CSV in that language (the records themselves stay as stored). Menus: what the
offline bot was asked to set (setMyCommands), per scope (customers, each staff member's chat)
and per language_code, so a cashier whose app is in Spanish has a Spanish menu without
choosing, and one who chose Russian has it whatever their app's language.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot import menus
from bot.i18n import speaking
from bot.offline import SentCall
from core.cards import format_card
from core.reports.audit import CSV_COLUMNS
from core.types import Role
from tests.support.harness import ADMIN, CASHIER, BotHarness, make_config
from tests.support.languages import SHIPPED, TRANSLATED, leaked

ANN_PHONE = "+447400123456"

# What an admin reads, per language: the heading, a purchase, its points, July 2030 by name.
HEADING = {"en": "Audit trail", "es": "Registro de actividad", "ru": "Журнал действий"}
PURCHASE = {"en": "Purchase", "es": "Compra", "ru": "Покупка"}
POINTS = {
    "en": "+25 points for 25.50 GBP",
    "es": "+25 puntos por 25.50 GBP",
    "ru": "+25 баллов за 25.50 GBP",
}
CARD = {"en": "card", "es": "tarjeta", "ru": "карта"}
JULY = {"en": "July 2030", "es": "julio 2030", "ru": "июль 2030"}
BY = {"en": "by 2002", "es": "por 2002", "ru": "сотрудник 2002"}


def at(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2030, month, day, hour, tzinfo=dt.UTC)


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with BotHarness(make_config(tmp_path)) as harness:
        harness.services.clock = lambda: at(8, 5, 12)
        yield harness


async def ann_buys(bot: BotHarness) -> str:
    """Cashier 2002 registers Ann on 1 July and she buys for 25.50 on 3 July: her card."""
    result = await bot.store.register(
        {"name": "Ann", "phone": ANN_PHONE, "email": "ann@example.org"},
        actor_id=CASHIER,
        now=at(7, 1),
    )
    ann = result["customer"]
    await bot.store.earn(ann["id"], Decimal("25.50"), actor_id=CASHIER, now=at(7, 3))
    return format_card(ann["card_number"])


def texts(calls: list[SentCall]) -> str:
    return "\n".join(c.visible_text or "" for c in calls if c.method == "sendMessage")


# --- /audit -------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", SHIPPED)
async def test_audit_reads_in_the_admins_language(bot: BotHarness, lang: str) -> None:
    card = await ann_buys(bot)
    bot.set_app_language(ADMIN, lang)
    stored = await bot.store.audit_log()

    newest = texts(await bot.send(ADMIN, "/audit"))
    of_july = texts(await bot.send(ADMIN, "/audit 2030-07"))
    of_the_card = texts(await bot.send(ADMIN, f"/audit {card}"))
    by_the_cashier = texts(await bot.send(ADMIN, "/audit staff 2002"))

    for reply in (newest, of_july, of_the_card, by_the_cashier):
        assert HEADING[lang] in reply
        assert f"{PURCHASE[lang]} · {CARD[lang]} {card} · #1 · {POINTS[lang]}" in reply
        if lang in TRANSLATED:
            assert leaked(reply) == []
    assert f" · {JULY[lang]} · " in of_july.split("\n")[0]
    assert f" · {BY[lang]} · " in by_the_cashier.split("\n")[0]
    # Reading the trail records nothing; the records keep their English keys.
    assert await bot.store.audit_log() == stored
    assert {"register", "earn"} <= {r["action"] for r in stored}


@pytest.mark.parametrize("lang", SHIPPED)
async def test_the_audit_csv_is_worded_in_the_admins_language_under_english_columns(
    bot: BotHarness, lang: str
) -> None:
    await ann_buys(bot)
    bot.set_app_language(ADMIN, lang)
    await bot.send(ADMIN, "/audit")

    calls = await bot.press(ADMIN, "📄 CSV")

    (answer,) = [c for c in calls if c.method == "answerCallbackQuery"]
    (sent,) = [c for c in calls if c.method == "sendDocument"]
    assert sent.params["caption"].startswith(f"🧾 {HEADING[lang]} · ")
    rows = list(csv.reader(io.StringIO(sent.files["document"].decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_COLUMNS  # for scripts: the same in every language
    earn = next(row for row in rows[1:] if row[4] == "earn")
    assert earn[7] == "'" + POINTS[lang]  # formula-safe: a leading "+" gets an apostrophe
    if lang in TRANSLATED:
        assert leaked(answer.params["text"] + "\n" + sent.params["caption"]) == []


@pytest.mark.parametrize("lang", TRANSLATED)
async def test_a_forged_audit_button_and_a_bad_filter_are_explained_in_the_admins_language(
    bot: BotHarness, lang: str
) -> None:
    bot.set_app_language(ADMIN, lang)

    await bot.press_data(ADMIN, "aud:csv:p2026-13")
    usage = texts(await bot.send(ADMIN, "/audit staff nobody"))

    assert bot.alerts() and leaked(bot.alerts()[-1]) == []
    assert "/audit staff 123456789" in usage and leaked(usage) == []


# --- the command menus --------------------------------------------------------------------------


def menus_set(bot: BotHarness) -> dict[tuple[Any, str | None], dict[str, str]]:
    """(chat id or scope type, language_code) -> the commands and descriptions last set there;
    a deleteMyCommands removes the entry."""
    given: dict[tuple[Any, str | None], dict[str, str]] = {}
    for call in bot.emulator.calls:
        scope: Any = call.params.get("scope")
        if not call.ok or not isinstance(scope, dict):
            continue
        key = (scope.get("chat_id", scope["type"]), call.params.get("language_code"))
        if call.method == "setMyCommands":
            given[key] = {c["command"]: c["description"] for c in call.params["commands"]}
        elif call.method == "deleteMyCommands":
            given.pop(key, None)
    return given


def described(role: Role, lang: str) -> dict[str, str]:
    with speaking(lang):
        return {c.command: c.description for c in menus.menu(role, lang)}


ENGLISH_DESCRIPTIONS = {
    description for commands in menus.MENUS.values() for _command, description in commands
}


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_menu_description_is_translated(lang: str) -> None:
    for role in menus.MENUS:
        assert not set(described(role, lang).values()) & ENGLISH_DESCRIPTIONS, role


async def test_menus_are_set_per_scope_and_per_language_code(bot: BotHarness) -> None:
    given = menus_set(bot)

    for lang in SHIPPED:
        assert given[("all_private_chats", lang)] == described("customer", lang)
        assert given[(CASHIER, lang)] == described("cashier", lang)
        assert given[(ADMIN, lang)] == described("admin", lang)
    # Without a language_code: the shop's language (English here).
    assert given[("all_private_chats", None)] == described("customer", "en")
    assert given[(CASHIER, None)] == described("cashier", "en")
    assert given[(ADMIN, None)] == described("admin", "en")
    assert "audit" in given[(ADMIN, "ru")] and "audit" not in given[(CASHIER, "ru")]
    assert given[(ADMIN, "es")]["audit"] != given[(ADMIN, "en")]["audit"]


async def test_a_cashier_who_chose_russian_has_every_menu_variant_in_russian(
    bot: BotHarness,
) -> None:
    bot.set_app_language(CASHIER, "es")

    await bot.send(CASHIER, "/language ru")

    given = menus_set(bot)
    for code in (None, *SHIPPED):
        assert given[(CASHIER, code)] == described("cashier", "ru"), code


async def test_a_customer_who_chose_a_language_and_a_former_cashier_get_their_menus(
    bot: BotHarness,
) -> None:
    customer, former = 4242, 5005
    await bot.send(customer, "/language es")
    await bot.send(ADMIN, f"/staff add {former}")
    assert (former, "ru") in menus_set(bot)
    await bot.send(ADMIN, f"/staff remove {former}")

    given = menus_set(bot)
    for code in (None, *SHIPPED):
        assert given[(customer, code)] == described("customer", "es"), code
        # No choice: their chat's menus are gone, the customers' menus apply.
        assert (former, code) not in given, code
