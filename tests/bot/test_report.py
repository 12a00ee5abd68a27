"""/report through the real Application: what an admin sees, and that nobody else sees anything.

The story, in UTC, with the report asked for on 5 Nov 2026 at noon (the default program: Bronze
x1, coffee 100 points worth 2.50, so a point is assumed worth 0.025):

    20 Oct 10:00  Ann registers        22 Oct 10:00  Bob registers
    21 Oct 10:00  Ann buys 150.00      23 Oct 10:00  Bob buys 60.00
    25 Oct 10:00  Ann redeems coffee (cashier 2002)
     1 Nov 10:00  Ann buys 40.00

Last 30 days: 3 purchases by 2 customers, 250 points issued, 100 redeemed, 150 outstanding.
October: Ann earned 150, redeemed 100 (balance today 90); Bob earned 60.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from bot.handlers import report
from bot.offline import SentCall, keyboard_rows
from core.cards import format_card
from tests.support.harness import (
    ADMIN,
    CASHIER,
    CUSTOMER,
    STRANGER,
    BotHarness,
    make_config,
)

pytestmark = pytest.mark.asyncio

NOW = dt.datetime(2026, 11, 5, 12, 0, tzinfo=dt.UTC)
ANN_PHONE, BOB_PHONE = "+447400123456", "+447400654321"
SENT = ("sendMessage", "editMessageText", "sendPhoto", "sendDocument", "editMessageReplyMarkup")


def at(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=dt.UTC)


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with BotHarness(make_config(tmp_path)) as harness:
        harness.services.clock = lambda: NOW
        yield harness


@pytest.fixture
async def story(bot: BotHarness) -> BotHarness:
    store = bot.store

    async def register(name: str, phone: str, when: dt.datetime) -> int:
        result = await store.register(
            {"name": name, "phone": phone, "email": f"{name.lower()}@example.org"},
            actor_id=CASHIER,
            now=when,
        )
        return result["customer"]["id"]

    ann = await register("Ann", ANN_PHONE, at(10, 20))
    await store.earn(ann, Decimal("150.00"), actor_id=CASHIER, now=at(10, 21))
    bob = await register("Bob", BOB_PHONE, at(10, 22))
    await store.earn(bob, Decimal("60.00"), actor_id=CASHIER, now=at(10, 23))
    await store.redeem(ann, "coffee", actor_id=CASHIER, now=at(10, 25))
    await store.earn(ann, Decimal("40.00"), actor_id=CASHIER, now=at(11, 1))
    return bot


def sent(calls: list[SentCall]) -> list[SentCall]:
    """What reached the chat: messages, edits, photos, documents (not popups)."""
    return [c for c in calls if c.method in SENT]


def labels(call: SentCall) -> list[str]:
    return [str(b["text"]) for row in keyboard_rows(call.params) for b in row]


def document(call: SentCall) -> tuple[str, list[dict[str, str]]]:
    """The file name a document was sent as, and its rows as a spreadsheet would read them."""
    assert call.method == "sendDocument"
    name = call.result["document"]["file_name"]
    return name, list(csv.DictReader(io.StringIO(call.files["document"].decode("utf-8-sig"))))


# --- who may ask --------------------------------------------------------------------------------


async def test_an_admin_sees_the_summary_of_the_last_30_days_with_exact_figures(
    story: BotHarness,
) -> None:
    calls = await story.send(ADMIN, "/report")

    (message,) = sent(calls)
    text = story.last_text(ADMIN)
    assert text.startswith("Summary · last 30 days")
    for line in (
        "Total: 2 (2 new)",
        "Purchases: 3 by 2 customers",
        "Average purchase: £83.33",
        "Issued: 250",
        "Redeemed: 100",
        "Outstanding: 150",
        "≈ £3.75 at £0.025 a point",
        "(assumed: the cheapest reward's value per point)",
        "Earn-to-burn: 2.50 : 1",
        "Bronze: 2",
    ):
        assert line in text.splitlines()
    assert {"✓ Summary", "Customers", "Rewards", "Staff", "📈 Charts", "📄 CSV"} <= set(
        labels(message)
    )
    assert not story.bad_requests()


@pytest.mark.parametrize("user_id", [CASHIER, CUSTOMER, STRANGER])
async def test_anyone_but_an_admin_is_refused_in_one_line(story: BotHarness, user_id: int) -> None:
    calls = await story.send(user_id, "/report 2026-10")

    (message,) = sent(calls)
    assert story.last_text(user_id) == "Only an admin (owner or manager) can do that."
    assert not keyboard_rows(message.params)


@pytest.mark.parametrize(
    "data", ["rep:customers:30d", "rep:csv-contacts:all", "rep:charts:2026-10", "rep:csv:7d"]
)
async def test_a_forged_report_button_from_a_cashier_is_refused_and_sends_nothing(
    story: BotHarness, data: str
) -> None:
    calls = await story.press_data(CASHIER, data)

    assert not sent(calls)
    assert story.alerts() == ["Only an admin (owner or manager) can do that."]
    assert not story.said_to(ADMIN)


@pytest.mark.parametrize("data", ["rep:summary:2026-99", "rep:summary:zzz", "rep:staff:0d"])
async def test_a_button_with_a_forged_period_gets_one_line_and_changes_nothing(
    story: BotHarness, data: str
) -> None:
    calls = await story.press_data(ADMIN, data)

    assert not sent(calls)
    assert story.alerts() == [report.BAD_BUTTON]


async def test_report_button_data_outside_the_pattern_is_no_longer_active(
    story: BotHarness,
) -> None:
    calls = await story.press_data(ADMIN, "rep:everything:30d")

    assert not sent(calls)
    assert story.alerts() == ["That button is no longer active. Send /help to start again."]


# --- periods --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "heading"),
    [
        ("7d", "Summary · last 7 days"),
        ("2026-10", "Summary · October 2026"),
        ("2026-10-21..2026-10-23", "Summary · 21 Oct – 23 Oct 2026"),
        ("all", "Summary · all time"),
    ],
)
async def test_report_takes_the_period_after_the_command(
    story: BotHarness, typed: str, heading: str
) -> None:
    await story.send(ADMIN, f"/report {typed}")

    assert story.last_text(ADMIN).startswith(heading)
    assert not story.bad_requests()


async def test_a_day_range_counts_only_its_days(story: BotHarness) -> None:
    await story.send(ADMIN, "/report 2026-10-21..2026-10-23")

    lines = story.last_text(ADMIN).splitlines()
    assert "Purchases: 2 by 2 customers" in lines  # Ann's 150 and Bob's 60, not Ann's 40
    assert "Issued: 210" in lines


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("2026-13", "2026-13 is not a month: use YYYY-MM, like 2026-10."),
        ("last week", "Can't read 'last week' as a period"),
        ("2026-10-31..2026-10-01", "2026-10-01 is before 2026-10-31"),
    ],
)
async def test_a_bad_period_gets_one_line_with_examples(
    story: BotHarness, typed: str, why: str
) -> None:
    calls = await story.send(ADMIN, f"/report {typed}")

    assert len(sent(calls)) == 1
    text = story.last_text(ADMIN)
    assert text.startswith(why)
    assert "30d, 7d, 2026-10, 2026-10-01..2026-10-31 or all" in text
    assert "\n" not in text
    assert not story.bad_requests()


async def test_a_month_without_entries_says_there_is_no_data(story: BotHarness) -> None:
    await story.send(ADMIN, "/report 2026-06")

    assert story.last_text(ADMIN).splitlines()[1] == "No data for this period."


async def test_period_and_section_buttons_switch_the_report_in_place(story: BotHarness) -> None:
    (shown,) = sent(await story.send(ADMIN, "/report"))
    message_id = shown.result["message_id"]

    (edit,) = sent(await story.press(ADMIN, "October 2026"))
    assert edit.method == "editMessageText"
    assert edit.params["message_id"] == message_id
    assert story.last_text(ADMIN).startswith("Summary · October 2026")
    assert "Issued: 210" in story.last_text(ADMIN).splitlines()

    (edit,) = sent(await story.press(ADMIN, "Customers"))
    assert edit.params["message_id"] == message_id
    ann, bob = [await story.store.find_customer(p) for p in (ANN_PHONE, BOB_PHONE)]
    assert story.last_text(ADMIN).splitlines() == [
        "Top customers · October 2026",
        "by points earned in the period",
        "",
        f"1. Ann · {format_card(ann['card_number'])}",
        "earned 150 · redeemed 100 · balance 90",
        "Bronze · 1 purchase · last visit 1 Nov 2026",
        "",
        f"2. Bob · {format_card(bob['card_number'])}",
        "earned 60 · redeemed 0 · balance 60",
        "Bronze · 1 purchase · last visit 23 Oct 2026",
    ]
    assert {"✓ Customers", "✓ October 2026"} <= set(labels(edit))
    message = story.emulator.message(ADMIN, message_id)
    assert message is not None and message["text"].startswith("Top customers · October 2026")
    assert not story.bad_requests()


async def test_the_rewards_section_is_the_redemption_history_with_the_cashier(
    story: BotHarness,
) -> None:
    await story.send(ADMIN, "/report 2026-10")
    await story.press(ADMIN, "Rewards")

    lines = story.last_text(ADMIN).splitlines()
    assert "Free coffee: 1 by 1 customer · 100 points" in lines
    assert "25 Oct 10:00 · Free coffee" in lines  # London time: GMT again since 01:00 UTC
    assert any(line.startswith("Ann (") and line.endswith(f"by id {CASHIER}") for line in lines)


async def test_pressing_the_section_already_on_screen_says_it_is_up_to_date(
    story: BotHarness,
) -> None:
    await story.send(ADMIN, "/report")

    calls = await story.press(ADMIN, "✓ Summary")

    assert not sent(calls)
    assert story.alerts()[-1] == report.UP_TO_DATE
    assert not story.bad_requests()


# --- long reports and pages ---------------------------------------------------------------------


async def test_a_customers_report_too_long_for_one_message_comes_as_several(
    bot: BotHarness,
) -> None:
    # Names of 100 characters that HTML escaping makes five times longer: 10 of them overflow.
    for n in range(10):
        result = await bot.store.register(
            {"name": "A" + "&" * 99, "phone": f"+4474001000{n:02d}", "email": None},
            actor_id=CASHIER,
            now=at(10, 1),
        )
        await bot.store.earn(
            result["customer"]["id"], Decimal(10 + n), actor_id=CASHIER, now=at(10, 2)
        )
    await bot.send(ADMIN, "/report 2026-10")

    calls = sent(await bot.press(ADMIN, "Customers"))

    assert [c.method for c in calls] == ["sendMessage"] * len(calls)
    assert len(calls) >= 2
    assert all(len(c.text or "") <= 4096 for c in calls)
    assert [bool(keyboard_rows(c.params)) for c in calls] == [False] * (len(calls) - 1) + [True]
    texts = "\n".join(bot.texts_to(ADMIN)[-len(calls) :])
    assert [f"{rank}. A&&&" in texts for rank in range(1, 11)] == [True] * 10
    assert not bot.bad_requests()


async def test_customers_come_in_pages_of_ten(bot: BotHarness) -> None:
    for n in range(12):
        result = await bot.store.register(
            {"name": f"Customer {n + 1}", "phone": f"+4474001000{n:02d}", "email": None},
            actor_id=CASHIER,
            now=at(10, 1),
        )
        # Customer 1 earns most, so ranks follow the names.
        await bot.store.earn(
            result["customer"]["id"], Decimal(100 - n), actor_id=CASHIER, now=at(10, 2)
        )
    await bot.send(ADMIN, "/report 2026-10")
    await bot.press(ADMIN, "Customers")
    assert "10. Customer 10 · " in bot.last_text(ADMIN)
    assert "11. " not in bot.last_text(ADMIN)

    await bot.press(ADMIN, "Next 10")

    text = bot.last_text(ADMIN)
    assert "11. Customer 11 · " in text and "12. Customer 12 · " in text
    assert "10. Customer 10" not in text
    await bot.press(ADMIN, "Previous")
    assert "1. Customer 1 · " in bot.last_text(ADMIN)
    assert not bot.bad_requests()


# --- charts and exports -----------------------------------------------------------------------


async def test_charts_come_as_three_png_photos_captioned_with_the_period(
    story: BotHarness,
) -> None:
    await story.send(ADMIN, "/report 2026-10")

    calls = sent(await story.press(ADMIN, "Charts"))

    assert [c.method for c in calls] == ["sendPhoto"] * 3
    assert all(c.files["photo"].startswith(b"\x89PNG\r\n\x1a\n") for c in calls)
    assert [c.visible_text for c in calls] == [
        "📈 Points issued vs redeemed per week · October 2026",
        "👥 Active members per week · October 2026",
        "🏅 Members by tier (today) · October 2026",
    ]
    assert not story.bad_requests()


async def test_the_customers_export_has_totals_and_no_contacts(story: BotHarness) -> None:
    await story.send(ADMIN, "/report 2026-10")
    await story.press(ADMIN, "CSV")

    (call,) = sent(await story.press(ADMIN, "Customers with totals"))

    name, rows = document(call)
    assert name == "loyalty-customers-2026-10.csv"
    assert [(r["name"], r["earned_in_period"], r["balance"]) for r in rows] == [
        ("Ann", "150", "90"),
        ("Bob", "60", "60"),
    ]
    content = call.files["document"].decode("utf-8-sig")
    assert "phone" not in rows[0] and "email" not in rows[0]
    assert "7400" not in content and "@example.org" not in content
    assert not story.bad_requests()


async def test_contacts_are_only_in_the_export_asked_for_by_name(story: BotHarness) -> None:
    await story.send(ADMIN, "/report 2026-10")
    await story.press(ADMIN, "CSV")

    (call,) = sent(await story.press(ADMIN, "Customers + contacts"))

    name, rows = document(call)
    assert name == "loyalty-customers-contacts-2026-10.csv"
    assert [(r["name"], r["phone"], r["email"]) for r in rows] == [
        ("Ann", f"'{ANN_PHONE}", "ann@example.org"),  # the apostrophe: no formula in a sheet
        ("Bob", f"'{BOB_PHONE}", "bob@example.org"),
    ]
    assert "personal data" in (call.visible_text or "")


async def test_the_ledger_and_redemption_exports_cover_the_period(story: BotHarness) -> None:
    await story.send(ADMIN, "/report 2026-10-21..2026-10-31")
    await story.press(ADMIN, "CSV")

    (ledger_call,) = sent(await story.press(ADMIN, "Ledger"))
    (redemptions_call,) = sent(await story.press(ADMIN, "Redemption history"))

    name, rows = document(ledger_call)
    assert name == "loyalty-ledger-2026-10-21_to_2026-10-31.csv"
    assert [(r["customer"], r["kind"], r["points"]) for r in rows] == [
        ("Ann", "earn", "150"),
        ("Bob", "earn", "60"),
        ("Ann", "redeem", "-100"),
    ]
    name, rows = document(redemptions_call)
    assert name == "loyalty-redemptions-2026-10-21_to_2026-10-31.csv"
    assert [(r["customer"], r["reward"], r["cashier_id"]) for r in rows] == [
        ("Ann", "Free coffee", str(CASHIER))
    ]
    assert all("7400" not in c.files["document"].decode() for c in (ledger_call, redemptions_call))
    assert not story.bad_requests()


async def test_every_report_button_fits_telegrams_64_byte_limit(story: BotHarness) -> None:
    await story.send(ADMIN, "/report 2026-10-01..2026-10-31")
    await story.press(ADMIN, "CSV")

    data = [
        str(b["callback_data"])
        for call in story.said_to(ADMIN)
        for row in keyboard_rows(call.params)
        for b in row
    ]
    assert data and all(len(d.encode()) <= 64 for d in data)
    assert "rep:csv-redemptions:2026-10-01..2026-10-31" in data
    assert not story.bad_requests()
