"""`loyalty-bot audit`: the trail on the server, as /audit shows it or as CSV; like `report`, it
never creates a database. Also: `loyalty-bot report --contacts` leaves an audit record."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest

from bot.cli import main
from core.cards import format_card
from core.config import DEFAULT_PROGRAM
from core.db.engine import open_engine
from core.db.migrate import upgrade
from core.db.staff import StaffStore
from core.db.store import Store

CASHIER, MANAGER = 2002, 7002
MARCH = dt.datetime(2026, 3, 14, 10, 30, tzinfo=dt.UTC)
APRIL = dt.datetime(2026, 4, 2, 9, 0, tzinfo=dt.UTC)  # London is on BST: 10:00


@pytest.fixture
def shop_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder with no config file, as the current folder: the defaults apply."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    return tmp_path


def populate(path: Path) -> dict[str, str]:
    """Ann (registered and buying in March), an adjustment and a staff change in April."""

    async def build() -> dict[str, str]:
        engine = open_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        store = Store(engine, DEFAULT_PROGRAM)
        try:
            await StaffStore(engine).add(MANAGER, "admin", by=None, now=MARCH, name="Mo")
            ann = (
                await store.register(
                    {"name": "Ann Lee", "phone": "+447400123456", "email": "ann@example.org"},
                    actor_id=CASHIER,
                    now=MARCH,
                )
            )["customer"]
            await store.earn(ann["id"], Decimal("25.50"), actor_id=CASHIER, now=MARCH)
            await store.adjust(ann["id"], 50, "goodwill", actor_id=MANAGER, now=APRIL, key=None)
            await store.record_audit(
                "staff_add",
                actor_id=MANAGER,
                now=APRIL,
                details={"user_id": CASHIER, "role": "cashier"},
            )
            return {"card": format_card(ann["card_number"])}
        finally:
            store.close()
            await engine.dispose()

    return asyncio.run(build())


def test_audit_without_a_database_says_where_it_looked_and_creates_nothing(
    shop_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (["audit"], ["audit", "--format", "csv", "--customer", "07400123456"]):
        assert main(argv) == 2

        err = capsys.readouterr().err
        assert err.count("\n") == 1  # one line
        assert f"no database at {shop_folder / 'loyalty.db'}" in err
        assert "loyalty-bot audit --demo" in err
    assert main(["audit", "--demo"]) == 2
    assert "no demo database" in capsys.readouterr().err
    assert list(shop_folder.iterdir()) == []


def test_audit_prints_the_newest_records_as_the_bot_shows_them(
    shop_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    card = populate(shop_folder / "loyalty.db")["card"]

    assert main(["audit"]) == 0

    assert capsys.readouterr().out == (
        "Audit trail · the newest 20 records · newest first\n"
        "2026-04-02 10:00 · Mo (7002) · Staff added · 2002 as cashier\n"
        f"2026-04-02 10:00 · Mo (7002) · Adjustment · card {card} · #2 · +50 points: goodwill\n"
        f"2026-03-14 10:30 · 2002 · Purchase · card {card} · #1 · +25 points for 25.50 GBP\n"
        f"2026-03-14 10:30 · 2002 · Registered · card {card}\n"
    )


@pytest.mark.parametrize(
    ("options", "heading", "actions"),
    [
        (["--customer", "07400 123456"], "card {card}", ["Adjustment", "Purchase", "Registered"]),
        (["--staff", "7002"], "by Mo (7002)", ["Staff added", "Adjustment"]),
        (["--period", "2026-03"], "March 2026", ["Purchase", "Registered"]),
        (
            ["--staff", "2002", "--period", "2026-04"],
            "by 2002 · April 2026",
            [],
        ),
        (["--customer", "{card}", "--limit", "1"], "card {card}", ["Adjustment"]),
    ],
)
def test_audit_filters_combine_and_say_what_they_show(
    shop_folder: Path,
    capsys: pytest.CaptureFixture[str],
    options: list[str],
    heading: str,
    actions: list[str],
) -> None:
    card = populate(shop_folder / "loyalty.db")["card"]

    assert main(["audit", *[o.format(card=card) for o in options]]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"Audit trail · {heading.format(card=card)} · newest first"
    if actions:
        assert [line.split(" · ")[2] for line in lines[1:] if " · " in line] == actions
    else:
        assert lines[1:] == ["No records."]
    if "--limit" in options:
        assert lines[-1] == "Only the newest 1 are shown: --limit or --format csv for more."


def test_audit_as_csv_to_a_file_holds_no_phone_numbers_or_emails(
    shop_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    card = populate(shop_folder / "loyalty.db")["card"]
    out = shop_folder / "audit.csv"

    assert main(["audit", "--format", "csv", "--out", str(out)]) == 0

    assert capsys.readouterr().err == f"wrote 4 audit records to {out}\n"
    content = out.read_bytes().decode("utf-8")
    assert content.startswith("\ufeffrecord,time,actor_id,actor,action,card,entry,details\r\n")
    rows = list(csv.DictReader(io.StringIO(content.removeprefix("\ufeff"))))
    assert [(r["action"], r["card"], r["actor"]) for r in rows] == [
        ("staff_add", "", "Mo (7002)"),
        ("adjust", card, "Mo (7002)"),
        ("earn", card, "2002"),
        ("register", card, "2002"),
    ]
    assert "7400" not in content and "@" not in content and "Ann" not in content


@pytest.mark.parametrize(
    ("options", "why"),
    [
        (["--customer", "07400 999999"], "no customer matches '07400 999999'"),
        (["--customer", "4821 3378"], "mistyped"),
        (["--period", "2026-13"], "2026-13 is not a month"),
    ],
)
def test_a_customer_or_period_that_cant_be_read_is_one_line_and_exit_2(
    shop_folder: Path, capsys: pytest.CaptureFixture[str], options: list[str], why: str
) -> None:
    populate(shop_folder / "loyalty.db")

    assert main(["audit", *options]) == 2

    err = capsys.readouterr().err
    assert err.startswith("loyalty-bot audit: ") and why in err and err.count("\n") == 1


def test_a_contacts_export_from_the_server_is_recorded_and_shown(
    shop_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    populate(shop_folder / "loyalty.db")
    assert main(["report", "--format", "csv", "--data", "customers", "--period", "all"]) == 0
    assert main(["audit", "--period", "all"]) == 0
    assert "Contacts exported" not in capsys.readouterr().out  # no contacts: no record

    out = shop_folder / "contacts.csv"
    argv = ["report", "--format", "csv", "--contacts", "--period", "all", "--out", str(out)]
    assert main(argv) == 0
    assert "+447400123456" in out.read_text(encoding="utf-8-sig")
    capsys.readouterr()

    assert main(["audit", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out.removeprefix("\ufeff"))))
    export = rows[0]
    assert (export["action"], export["actor"], export["actor_id"]) == (
        "contacts_export",
        "system",
        "",
    )
    assert export["details"].startswith("period all, on the server")
    assert "7400" not in export["details"]
