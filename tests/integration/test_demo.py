"""core/demo.py: the sample shop behind `loyalty-bot demo` and `console --demo`.

Built twice (into two folders, for the same day) through the real Store; the tests read the
resulting SQLite files directly, as a person opening the demo database would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import sqlite3
import zoneinfo
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config import DEFAULT_PROGRAM, Config, TelegramConfig
from core.demo import LINKED_CUSTOMER_TELEGRAM_ID, build_demo

TODAY = dt.date(2026, 11, 23)
SIX_MONTHS = dt.timedelta(days=183)


def build(folder: Path) -> tuple[Path, dict[str, int]]:
    path = folder / "loyalty-demo.db"
    url = f"sqlite+aiosqlite:///{path}"
    config = Config(TelegramConfig(token=""), url)  # the built-in program (config.example's)
    counts = asyncio.run(build_demo(url, config, today=TODAY))
    return path, counts


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    return build(tmp_path_factory.mktemp("demo"))


@pytest.fixture
def db(demo: tuple[Path, dict[str, int]]) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(demo[0])
    yield connection
    connection.close()


def people(db: sqlite3.Connection) -> list[tuple[str, str, int, int, str]]:
    query = "SELECT name, phone, balance, lifetime_earned, tier FROM customers ORDER BY phone"
    return list(db.execute(query))


def test_the_demo_is_the_same_every_time_it_is_built_for_the_same_day(
    db: sqlite3.Connection, tmp_path: Path
) -> None:
    again, _counts = build(tmp_path)
    other = sqlite3.connect(again)
    try:
        assert people(other) == people(db)
        purchases = "SELECT kind, points, amount_minor FROM ledger ORDER BY created_at, id"
        assert list(other.execute(purchases)) == list(db.execute(purchases))
    finally:
        other.close()


def test_about_fifty_customers_with_plausible_names_and_unique_uk_mobiles(
    db: sqlite3.Connection, demo: tuple[Path, dict[str, int]]
) -> None:
    customers = people(db)
    assert 40 <= len(customers) <= 60
    assert demo[1]["customers"] == len(customers)
    names = [name for name, *_ in customers]
    phones = [phone for _, phone, *_ in customers]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[^\W\d_][\w'ë]* [A-Z][\w']+", name) for name in names), names
    assert all(re.fullmatch(r"\+447\d{9}", phone) for phone in phones), phones


def test_purchases_spread_customers_across_every_tier(db: sqlite3.Connection) -> None:
    tiers = Counter(tier for *_, tier in people(db))
    assert set(tiers) == {t.name for t in DEFAULT_PROGRAM.tiers}
    first = DEFAULT_PROGRAM.tiers[0].name
    assert tiers[first] > len(people(db)) / 2  # most shoppers are occasional
    for *_, lifetime, tier in people(db):
        assert (
            tier
            == max(
                (t for t in DEFAULT_PROGRAM.tiers if lifetime >= t.min_points),
                key=lambda t: t.min_points,
            ).name
        )


def test_six_months_of_purchases_with_some_redemptions(
    db: sqlite3.Connection, demo: tuple[Path, dict[str, int]]
) -> None:
    kinds = dict(db.execute("SELECT kind, count(*) FROM ledger GROUP BY kind").fetchall())
    assert kinds["earn"] == demo[1]["purchases"] > 300
    assert 0 < kinds["redeem"] == demo[1]["redemptions"] < kinds["earn"]
    first, last = (
        dt.datetime.fromisoformat(v)
        for v in db.execute("SELECT min(created_at), max(created_at) FROM ledger").fetchone()
    )
    end = dt.datetime.combine(TODAY, dt.time(18, 0))
    assert end - SIX_MONTHS <= first < end - dt.timedelta(days=150)
    assert end - dt.timedelta(days=7) < last <= end  # "the last week" has data too


def test_every_purchase_is_in_the_shops_opening_hours(db: sqlite3.Connection) -> None:
    london = zoneinfo.ZoneInfo("Europe/London")  # the built-in [reports] timezone
    opens, closes = dt.time(8, 0), dt.time(19, 0)
    times = [
        dt.datetime.fromisoformat(at).replace(tzinfo=dt.UTC).astimezone(london).time()
        for (at,) in db.execute("SELECT created_at FROM ledger WHERE kind = 'earn'")
    ]
    assert [t for t in times if not opens <= t <= closes] == []


def test_every_balance_equals_the_sum_of_its_ledger(db: sqlite3.Connection) -> None:
    mismatched = db.execute(
        "SELECT c.name, c.balance, coalesce(sum(l.points), 0) FROM customers c"
        " LEFT JOIN ledger l ON l.customer_id = c.id GROUP BY c.id"
        " HAVING c.balance != coalesce(sum(l.points), 0)"
    ).fetchall()
    assert mismatched == []
    assert db.execute("SELECT count(*) FROM customers WHERE balance < 0").fetchone()[0] == 0


def test_staff_include_the_console_admin_and_cashier(db: sqlite3.Connection) -> None:
    staff = dict(db.execute("SELECT telegram_user_id, role FROM staff").fetchall())
    assert staff[700001] == "admin"
    assert staff[700002] == "cashier"
    assert list(staff.values()).count("cashier") >= 2


def test_the_console_customer_has_a_linked_card_above_the_first_tier(
    db: sqlite3.Connection,
) -> None:
    linked = db.execute(
        "SELECT name, phone, tier FROM customers WHERE telegram_user_id = ?",
        (LINKED_CUSTOMER_TELEGRAM_ID,),
    ).fetchall()
    assert len(linked) == 1
    name, phone, tier = linked[0]
    assert name.startswith("Chris ")
    assert phone == "+447400123456"  # the number in /help's and the README's examples
    assert tier != DEFAULT_PROGRAM.tiers[0].name
