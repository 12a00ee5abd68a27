"""/report and /digest in every shipped language: the admin reads the Summary, a section, the
chart captions and their digest in the language they chose, with the same figures.

The story (as in test_report.py), the report asked for on 5 Nov 2026 at noon UTC:
    21 Oct  Ann buys 150.00     23 Oct  Bob buys 60.00     25 Oct  Ann redeems coffee (100)
     1 Nov  Ann buys 40.00
Last 30 days: 3 purchases by 2 customers, 250 points issued, 100 redeemed, 150 outstanding.
The weekly digest of Thursday 5 Nov covers 29 Oct - 4 Nov: Ann's purchase of 40.00 alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from bot.handlers import digest
from bot.offline import SentCall, keyboard_rows
from tests.support.harness import ADMIN, CASHIER, BotHarness, make_config
from tests.support.languages import SHIPPED, leaked

pytestmark = pytest.mark.asyncio

NOW = dt.datetime(2026, 11, 5, 12, 0, tzinfo=dt.UTC)

# What each language says, by what the test looks for.
SAYS: dict[str, dict[str, str]] = {
    "en": {
        "summary": "Summary · ",
        "purchases": "Purchases: 3 by 2 customers",
        "issued": "Issued: 250",
        "redeemed": "Redeemed: 100",
        "outstanding": "Outstanding: 150",
        "tier": "Bronze: 2",
        "staff button": "Staff",
        "staff": "Staff · ",
        "entries": "4 entries · 3 purchases",
        "points issued": "250 points issued",
        "redemptions": "1 redemption (100 points)",
        "charts button": "Charts",
        "points chart": "📈 Points issued vs redeemed per week · ",
        "tier chart": "🏅 Members by tier (today) · ",
        "digest on": "✅ Digest on: I'll send a short summary on Mondays at",
        "digest": "📬 Your weekly digest (/digest off to stop)",
        "digest purchases": "Purchases: 1 by 1 customer",
        "digest issued": "Issued: 40",
    },
    "es": {
        "summary": "Resumen · ",
        "purchases": "Compras: 3 de 2 clientes",
        "issued": "Emitidos: 250",
        "redeemed": "Canjeados: 100",
        "outstanding": "Pendientes: 150",
        "tier": "Bronze: 2",
        "staff button": "Personal",
        "staff": "Personal · ",
        "entries": "4 movimientos · 3 compras",
        "points issued": "250 puntos emitidos",
        "redemptions": "1 canje (100 puntos)",
        "charts button": "Gráficos",
        "points chart": "📈 Puntos emitidos y canjeados por semana · ",
        "tier chart": "🏅 Miembros por nivel (hoy) · ",
        "digest on": "✅ Resumen activado: te enviaré un breve resumen los lunes a las",
        "digest": "📬 Tu resumen semanal (/digest off para pararlo)",
        "digest purchases": "Compras: 1 de 1 cliente",
        "digest issued": "Emitidos: 40",
    },
    "ru": {
        "summary": "Сводка · ",
        "purchases": "Покупки: 3, клиентов: 2",
        "issued": "Начислено: 250",
        "redeemed": "Списано: 100",
        "outstanding": "На счетах: 150",
        "tier": "Bronze: 2",
        "staff button": "Сотрудники",
        "staff": "Сотрудники · ",
        "entries": "4 записи · 3 покупки",
        "points issued": "начислено 250 баллов",
        "redemptions": "1 обмен (100 баллов)",
        "charts button": "Графики",
        "points chart": "📈 Начисленные и списанные баллы по неделям · ",
        "tier chart": "🏅 Участники по уровням (сегодня) · ",
        "digest on": "✅ Сводка включена: буду присылать краткую сводку по понедельникам в",
        "digest": "📬 Ваша еженедельная сводка (/digest off, чтобы отключить)",
        "digest purchases": "Покупки: 1, клиентов: 1",
        "digest issued": "Начислено: 40",
    },
}
# The buttons under a Summary, in each language.
BUTTONS = {
    "en": {"✓ Summary", "Customers", "Rewards", "Staff", "📈 Charts", "📄 CSV", "7 days"},
    "es": {"✓ Resumen", "Clientes", "Premios", "Personal", "📈 Gráficos", "📄 CSV", "7 días"},
    "ru": {"✓ Сводка", "Клиенты", "Награды", "Сотрудники", "📈 Графики", "📄 CSV", "7 дней"},
}


def at(month: int, day: int) -> dt.datetime:
    return dt.datetime(2026, month, day, 10, tzinfo=dt.UTC)


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with BotHarness(make_config(tmp_path)) as harness:
        harness.services.clock = lambda: NOW
        store = harness.store

        async def register(name: str, phone: str, when: dt.datetime) -> int:
            result = await store.register(
                {"name": name, "phone": phone, "email": None}, actor_id=CASHIER, now=when
            )
            return result["customer"]["id"]

        ann = await register("Ann", "+447400123456", at(10, 20))
        await store.earn(ann, Decimal("150.00"), actor_id=CASHIER, now=at(10, 21))
        bob = await register("Bob", "+447400654321", at(10, 22))
        await store.earn(bob, Decimal("60.00"), actor_id=CASHIER, now=at(10, 23))
        await store.redeem(ann, "coffee", actor_id=CASHIER, now=at(10, 25))
        await store.earn(ann, Decimal("40.00"), actor_id=CASHIER, now=at(11, 1))
        yield harness


async def speak(bot: BotHarness, language: str) -> None:
    """The admin chooses `language` with /language (remembered: digests use it too)."""
    await bot.send(ADMIN, f"/language {language}")


def labels(call: SentCall) -> set[str]:
    return {str(b["text"]) for row in keyboard_rows(call.params) for b in row}


def assert_in_language(text: str, language: str) -> None:
    if language != "en":
        assert leaked(text) == [], text


@pytest.mark.parametrize("language", SHIPPED)
async def test_the_summary_and_a_section_in_the_admins_language(
    bot: BotHarness, language: str
) -> None:
    says = SAYS[language]
    await speak(bot, language)

    calls = await bot.send(ADMIN, "/report")

    summary = bot.last_text(ADMIN)
    assert summary.startswith(says["summary"])
    lines = summary.splitlines()
    for key in ("purchases", "issued", "redeemed", "outstanding", "tier"):
        assert says[key] in lines, (key, summary)
    assert_in_language(summary, language)
    (message,) = [c for c in calls if c.method == "sendMessage"]
    assert BUTTONS[language] <= labels(message)

    await bot.press(ADMIN, says["staff button"])

    staff = bot.last_text(ADMIN)
    assert staff.startswith(says["staff"])
    for key in ("entries", "points issued", "redemptions"):
        assert says[key] in staff.splitlines(), (key, staff)
    assert_in_language(staff, language)
    assert not bot.bad_requests()


@pytest.mark.parametrize("language", SHIPPED)
async def test_chart_captions_in_the_admins_language(bot: BotHarness, language: str) -> None:
    says = SAYS[language]
    await speak(bot, language)
    await bot.send(ADMIN, "/report 2026-10")

    calls = await bot.press(ADMIN, says["charts button"])

    photos = [c for c in calls if c.method == "sendPhoto"]
    assert len(photos) == 3
    assert all(c.files["photo"].startswith(b"\x89PNG\r\n\x1a\n") for c in photos)
    captions = [str(c.visible_text) for c in photos]
    assert captions[0].startswith(says["points chart"])
    assert captions[2].startswith(says["tier chart"])
    for caption in captions:
        assert_in_language(caption, language)


@pytest.mark.parametrize("language", SHIPPED)
async def test_the_digest_in_the_admins_language(bot: BotHarness, language: str) -> None:
    says = SAYS[language]
    await speak(bot, language)

    await bot.send(ADMIN, "/digest weekly")

    assert bot.last_text(ADMIN).startswith(says["digest on"])
    assert_in_language(bot.last_text(ADMIN), language)
    assert await bot.staff.get_setting(digest.setting_key(ADMIN)) == "weekly"
    assert bot.app.job_queue is not None
    (job,) = bot.app.job_queue.get_jobs_by_name(digest.job_name(ADMIN))

    await job.run(bot.app)  # as the JobQueue would on Monday morning: no update, no sender

    text = bot.last_text(ADMIN)
    lines = text.splitlines()
    assert lines[0] == says["digest"]
    assert says["digest purchases"] in lines
    assert says["digest issued"] in lines
    assert_in_language(text, language)
