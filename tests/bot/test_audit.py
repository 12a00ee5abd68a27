"""/audit through the real Application: what an admin sees for each filter, and the CSV.

The story, at fixed times in July 2030 (London is UTC+1 then, so 10:00 UTC shows as 11:00):

    1 Jul 10:00  cashier 2002 registers Ann          2 Jul 10:00  cashier 2002 registers Bob
    3 Jul 10:00  Ann buys 25.50 (cashier 2002)        4 Jul 10:00  the admin adjusts Ann +50
    2 Aug 10:00  Bob buys 10.00 (cashier 2002)

How the records the bot writes outside the ledger read here too (what they hold:
test_audit_records.py).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from bot.offline import SentCall, keyboard_rows
from core.cards import format_card
from core.config import StaffConfig
from core.reports.audit import CSV_COLUMNS
from tests.support.harness import (
    ADMIN,
    CASHIER,
    CUSTOMER,
    STRANGER,
    BotHarness,
    make_config,
)

pytestmark = pytest.mark.asyncio

ANN_PHONE, BOB_PHONE = "+447400123456", "+447400654321"
NEWCOMER = 5005


def at(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2030, month, day, hour, tzinfo=dt.UTC)


class Clock:
    """The bot's clock, moved by the test."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with BotHarness(make_config(tmp_path)) as harness:
        harness.services.clock = Clock(at(8, 5, 12))
        yield harness


@dataclasses.dataclass
class Story:
    bot: BotHarness
    ann: dict[str, object]
    bob: dict[str, object]

    @property
    def ann_card(self) -> str:
        return format_card(str(self.ann["card_number"]))

    @property
    def bob_card(self) -> str:
        return format_card(str(self.bob["card_number"]))


@pytest.fixture
async def story(bot: BotHarness) -> Story:
    store = bot.store

    async def register(name: str, phone: str, when: dt.datetime) -> dict[str, object]:
        result = await store.register(
            {"name": name, "phone": phone, "email": f"{name.lower()}@example.org"},
            actor_id=CASHIER,
            now=when,
        )
        return dict(result["customer"])

    ann = await register("Ann", ANN_PHONE, at(7, 1))
    bob = await register("Bob", BOB_PHONE, at(7, 2))
    await store.earn(int(str(ann["id"])), Decimal("25.50"), actor_id=CASHIER, now=at(7, 3))
    clock = bot.services.clock
    assert isinstance(clock, Clock)
    clock.now = at(7, 4)
    await bot.send(ADMIN, "/adjust 07400123456 +50 goodwill for the late order")
    await bot.press(ADMIN, "Confirm")
    await store.earn(int(str(bob["id"])), Decimal("10.00"), actor_id=CASHIER, now=at(8, 2))
    clock.now = at(8, 5, 12)
    return Story(bot, ann, bob)


def sent(calls: list[SentCall]) -> list[SentCall]:
    return [c for c in calls if c.method in ("sendMessage", "sendDocument")]


def shown(calls: list[SentCall]) -> list[str]:
    """The lines of what the calls sent, as the admin reads them."""
    return "\n".join(c.visible_text or "" for c in sent(calls)).split("\n")


def document(call: SentCall) -> tuple[str, str, list[dict[str, str]]]:
    assert call.method == "sendDocument"
    name = call.result["document"]["file_name"]
    content = call.files["document"].decode("utf-8-sig")
    return name, content, list(csv.DictReader(io.StringIO(content)))


def without_start_up(lines: list[str]) -> list[str]:
    return [line for line in lines if "Config loaded" not in line]


# --- /audit -------------------------------------------------------------------------------------


async def test_audit_shows_the_newest_records_one_line_each_in_the_shops_time(
    story: Story,
) -> None:
    bot = story.bot
    adjust = (await bot.store.recent_entries(int(str(story.ann["id"])), 1))[0]["id"]

    calls = await bot.send(ADMIN, "/audit")

    lines = shown(calls)
    assert lines[0] == "🧾 Audit trail · the newest 20 records · newest first"
    assert without_start_up(lines[1:]) == [
        f"2030-08-02 11:00 · 2002 · Purchase · card {story.bob_card} · #3 · +10 points for "
        "10.00 GBP",
        f"2030-07-04 11:00 · 1001 · Adjustment · card {story.ann_card} · #{adjust} · +50 points:"
        " goodwill for the late order",
        f"2030-07-03 11:00 · 2002 · Purchase · card {story.ann_card} · #1 · +25 points for "
        "25.50 GBP",
        f"2030-07-02 11:00 · 2002 · Registered · card {story.bob_card}",
        f"2030-07-01 11:00 · 2002 · Registered · card {story.ann_card}",
    ]
    start_up = next(line for line in lines if "Config loaded" in line)
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d · system · Config loaded · sha256 [0-9a-f]{64}, "
        r"built-in defaults",
        start_up,
    )
    (message,) = sent(calls)
    assert [b["text"] for row in keyboard_rows(message.params) for b in row] == ["📄 CSV"]
    visible = message.visible_text or ""
    assert "7400" not in visible and "@" not in visible
    assert not bot.bad_requests()


async def test_audit_of_a_card_shows_only_that_customers_records(story: Story) -> None:
    calls = await story.bot.send(ADMIN, f"/audit {story.ann_card}")

    lines = shown(calls)
    assert lines[0] == f"🧾 Audit trail · card {story.ann_card} · newest first"
    assert [line.split(" · ")[2] for line in lines[1:]] == ["Adjustment", "Purchase", "Registered"]
    assert all(story.ann_card in line for line in lines[1:])
    calls = await story.bot.send(ADMIN, "/audit 07400 654321")  # by phone
    assert [line.split(" · ")[2] for line in shown(calls)[1:]] == ["Purchase", "Registered"]


async def test_audit_of_a_staff_member_shows_what_they_did(story: Story) -> None:
    bot = story.bot

    calls = await bot.send(ADMIN, "/audit staff 2002")

    lines = shown(calls)
    assert lines[0] == "🧾 Audit trail · by 2002 · newest first"
    assert [line.split(" · ")[1:3] for line in lines[1:]] == [
        ["2002", "Purchase"],
        ["2002", "Purchase"],
        ["2002", "Registered"],
        ["2002", "Registered"],
    ]
    calls = await bot.send(ADMIN, "/audit staff 1001")
    assert [line.split(" · ")[2] for line in shown(calls)[1:]] == ["Adjustment"]


async def test_a_staff_member_with_a_name_is_named(bot: BotHarness) -> None:
    await bot.send(ADMIN, "/staff invite")
    code = re.search(r"start=(\S+)", bot.last_text(ADMIN))
    assert code is not None
    await bot.send(NEWCOMER, f"/start {code[1]}", first_name="Alex")

    calls = await bot.send(ADMIN, f"/audit staff {NEWCOMER}")

    lines = shown(calls)
    assert lines[0] == f"🧾 Audit trail · by Alex ({NEWCOMER}) · newest first"
    assert lines[1].endswith(f" · Alex ({NEWCOMER}) · Invite used · joined as cashier")


async def test_audit_of_a_period_shows_only_its_records(story: Story) -> None:
    calls = await story.bot.send(ADMIN, "/audit 2030-07")

    lines = shown(calls)
    assert lines[0] == "🧾 Audit trail · July 2030 · newest first"
    assert [line[:10] for line in lines[1:]] == [
        "2030-07-04",
        "2030-07-03",
        "2030-07-02",
        "2030-07-01",
    ]
    calls = await story.bot.send(ADMIN, "/audit 7d")
    assert without_start_up(shown(calls)[1:]) == [
        f"2030-08-02 11:00 · 2002 · Purchase · card {story.bob_card} · #3 · +10 points for "
        "10.00 GBP"
    ]


@pytest.mark.parametrize(
    ("typed", "first_line"),
    [
        ("/audit 2030-13", "2030-13 is not a month"),
        ("/audit 07400 999999", "I can't find a customer with “07400 999999”."),
        ("/audit 4821 3378", "a digit is probably mistyped"),
        ("/audit staff abc", "Send /audit, /audit 4821 3379"),
        ("/audit staff", "Send /audit, /audit 4821 3379"),
    ],
)
async def test_a_filter_that_cant_be_read_gets_one_reply_with_the_forms(
    bot: BotHarness, typed: str, first_line: str
) -> None:
    calls = await bot.send(ADMIN, typed)

    (message,) = sent(calls)
    assert first_line in (message.visible_text or "").split("\n")[0]
    assert (message.visible_text or "").split("\n")[-1].startswith("Send /audit")
    assert not bot.bad_requests()


@pytest.mark.parametrize("user_id", [CASHIER, CUSTOMER])
async def test_anyone_but_an_admin_is_refused(story: Story, user_id: int) -> None:
    for command in ("/audit", "/audit staff 2002", "/audit csv"):
        calls = await story.bot.send(user_id, command)
        (message,) = sent(calls)
        assert message.visible_text == "Only an admin (owner or manager) can do that."


async def test_many_records_are_split_to_telegrams_limit_with_the_button_under_the_last(
    bot: BotHarness,
) -> None:
    result = await bot.store.register(
        {"name": "Ann", "phone": ANN_PHONE, "email": None}, actor_id=CASHIER, now=at(7, 1)
    )
    for minute in range(240):
        await bot.store.earn(
            result["customer"]["id"],
            Decimal("1.00"),
            actor_id=CASHIER,
            now=at(7, 1) + dt.timedelta(minutes=minute + 1),
        )

    calls = await bot.send(ADMIN, "/audit 07400123456")

    messages = sent(calls)
    assert len(messages) > 1
    assert all(len(m.params["text"]) <= 4096 for m in messages)
    assert [bool(keyboard_rows(m.params)) for m in messages] == [False] * (len(messages) - 1) + [
        True
    ]
    lines = shown(calls)
    assert sum("Purchase" in line for line in lines) == 200
    assert lines[-1] == "Only the newest 200 are shown here; 📄 CSV has up to 100,000."
    (csv_call,) = sent(await bot.press(ADMIN, "CSV"))
    assert len(document(csv_call)[2]) == 241  # every purchase and the registration
    assert not bot.bad_requests()


# --- the CSV -----------------------------------------------------------------------------------


async def test_the_csv_button_sends_the_same_records_as_a_file_without_contacts(
    story: Story,
) -> None:
    await story.bot.send(ADMIN, f"/audit {story.ann_card}")

    (call,) = sent(await story.bot.press(ADMIN, "CSV"))

    name, content, rows = document(call)
    assert name == f"loyalty-audit-card-{story.ann['card_number']}.csv"
    assert call.visible_text == f"🧾 Audit trail · card {story.ann_card}"
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [(r["time"], r["actor_id"], r["action"], r["card"]) for r in rows] == [
        ("2030-07-04 11:00:00", "1001", "adjust", story.ann_card),
        ("2030-07-03 11:00:00", "2002", "earn", story.ann_card),
        ("2030-07-01 11:00:00", "2002", "register", story.ann_card),
    ]
    # A spreadsheet would take "+50…" for a formula: the apostrophe keeps it text.
    assert rows[0]["details"] == "'+50 points: goodwill for the late order"
    assert "7400" not in content and "@" not in content and "Ann" not in content
    assert not story.bot.bad_requests()


JULY = ["adjust", "earn", "register", "register"]


@pytest.mark.parametrize(
    ("typed", "file_name", "actions"),
    [
        ("/audit csv", "loyalty-audit.csv", ["earn", "adjust", "earn", "register", "register"]),
        ("/audit csv 2030-07", "loyalty-audit-2030-07.csv", JULY),
        ("/audit csv staff 1001", "loyalty-audit-staff-1001.csv", ["adjust"]),
        ("/audit CSV 07400 654321", None, ["earn", "register"]),
    ],
)
async def test_audit_csv_sends_the_file_for_any_filter(
    story: Story, typed: str, file_name: str | None, actions: list[str]
) -> None:
    (call,) = sent(await story.bot.send(ADMIN, typed))

    name, _, rows = document(call)
    assert name == (file_name or f"loyalty-audit-card-{story.bob['card_number']}.csv")
    assert [r["action"] for r in rows if r["action"] != "config_load"] == actions


async def test_forged_csv_buttons_send_nothing(story: Story) -> None:
    bot = story.bot
    for data in ("aud:csv:c999999", "aud:csv:p2030-99"):
        calls = await bot.press_data(ADMIN, data)
        assert not sent(calls)
        assert bot.alerts()[-1] == "That audit button is not valid. Send /audit to start again."
    calls = await bot.press_data(CASHIER, "aud:csv:n")
    assert not sent(calls)
    assert bot.alerts()[-1] == "Only an admin (owner or manager) can do that."
    assert len(f"aud:csv:p{'2030-07-01..2030-07-31'}".encode()) <= 64


# --- records outside the ledger, as lines (what is recorded: test_audit_records.py) ---------


async def test_staff_changes_read_as_lines_with_ids_and_roles(bot: BotHarness) -> None:
    await bot.send(ADMIN, f"/staff add {NEWCOMER} admin")
    await bot.send(ADMIN, f"/staff remove {NEWCOMER}")
    await bot.send(ADMIN, "/staff invite")

    lines = without_start_up(shown(await bot.send(ADMIN, "/audit staff 1001"))[1:])

    assert [line.split(" · ", 2)[2] for line in lines] == [
        "Invite made · a one-time link for a new cashier",
        f"Staff removed · {NEWCOMER}, was admin",
        f"Staff added · {NEWCOMER} as admin",
    ]


async def test_the_first_admin_reads_as_claimed(tmp_path: Path) -> None:
    config = dataclasses.replace(make_config(tmp_path), staff=StaffConfig())
    async with BotHarness(config) as bot:
        code = bot.announcements[0].rsplit(" ", 1)[-1]
        await bot.send(STRANGER, f"/claim {code}")

        lines = shown(await bot.send(STRANGER, "/audit"))

    assert lines[1].endswith(
        f" · {STRANGER} · Staff added · {STRANGER} as admin (the first admin, by /claim)"
    )


async def test_a_contacts_export_reads_as_its_period_and_rows(story: Story) -> None:
    bot = story.bot
    await bot.send(ADMIN, "/report 2030-07")
    await bot.press(ADMIN, "CSV")
    await bot.press(ADMIN, "Customers + contacts")

    lines = shown(await bot.send(ADMIN, "/audit staff 1001"))

    assert lines[1] == "2030-08-05 13:00 · 1001 · Contacts exported · period 2030-07, 2 rows"
