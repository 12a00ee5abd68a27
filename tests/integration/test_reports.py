"""Report figures over a ledger with known content (tests/support/report_ledger.py tells it).

Every figure is asserted exactly, for October 2026 in London, for the month before (which must
not see the entry stamped exactly at October's start) and for an empty month. On both engines:
the story is built on SQLite and on PostgreSQL (tests/support/report_ledger.py), and every test
that reads it runs on each; the query-plan tests are SQLite's, and the upgrades from old schemas
start from old SQLite files.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Row, Select, case, func, select
from sqlalchemy import text as text_sql
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import ClauseElement

from bot.cli import report as report_cli
from bot.offline import parse_html
from core.db.engine import open_engine
from core.db.migrate import upgrade
from core.db.statements import utc
from core.db.tables import customers, ledger
from core.reports import all_time, queries, reversals, sections, series, text
from core.reports.periods import ALL_TIME_START, Period, parse_period
from tests.support.report_ledger import (
    ENGINES,
    EVE_NAME,
    NOW,
    PROGRAM,
    SAM,
    SAM_NAME,
    Story,
    at,
    story_databases,
)

LONDON = ZoneInfo("Europe/London")


def month(key: str) -> Period:
    return parse_period(key, now=NOW, tz=LONDON)


@pytest.fixture(scope="module", params=ENGINES)
def stories(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Story]]:
    """The story, and the story with its corrections, on SQLite or on PostgreSQL."""
    yield from story_databases(request, tmp_path_factory.mktemp("story"), "story", "corrected")


@pytest.fixture
async def engine(stories: dict[str, Story]) -> AsyncIterator[AsyncEngine]:
    """The story's database (shared by the module's tests, which only read it)."""
    engine = open_engine(stories["story"].url)
    yield engine
    await engine.dispose()


@pytest.fixture
def ids(stories: dict[str, Story]) -> dict[str, int]:
    return stories["story"].ids


@pytest.fixture
def engine_path(stories: dict[str, Story]) -> Path:
    """The config file pointing at the story's database."""
    return stories["story"].config


# --- Summary ---------------------------------------------------------------------------------


async def test_october_summary_gives_every_figure_exactly(
    engine: AsyncEngine, ids: dict[str, int]
) -> None:
    october = month("2026-10")
    s = await queries.summary(engine, october, PROGRAM, now=NOW, point_value=Decimal("0.01"))
    assert {k: v for k, v in s.items() if k != "period"} == {
        "has_data": True,
        "entries": 9,
        "members": 5,
        "new_members": 2,  # Bob, and Cat in the last second of the month
        "active_as_of": NOW,  # activity is counted back from the report's time
        "active_30d": 3,  # Ann, Bob, Eve
        "active_90d": 4,  # and Dan, who last bought on 1 September
        "purchases": 4,
        "purchasers": 3,
        "repeat_customers": 1,  # Ann
        "one_off_customers": 2,  # Bob, Eve
        "sales": Decimal("535.50"),
        "average_purchase": Decimal("133.88"),  # 535.50 / 4 = 133.875, half up
        "purchases_per_customer": Decimal("1.33"),
        "voided_purchases": 0,
        "points_issued": 655,  # 400 + 50 + 25 + 30 + 100 + 50
        "points_reversed": 0,
        "points_net": 655,
        "points_redeemed": 450,  # 250 + 100 + 100
        "points_returned": 0,
        "points_expired": 0,
        "points_outstanding": 565,
        "point_value": Decimal("0.01"),
        "outstanding_value": Decimal("5.65"),
        "earn_to_burn": Decimal("1.46"),  # 655 / 450
        "redemptions": 3,
        "voided_redemptions": 0,
        "redeemers": 2,  # Ann, Eve
        "can_afford_now": 2,  # Dan 110 and Ann 300 afford a 100-point coffee
        "redemption_base": 3,  # Ann, Eve, Dan
        "redemption_rate": Decimal("0.667"),
        "tiers": [
            {"tier": "Bronze", "members": 4, "tier_ups": 0},
            {"tier": "Silver", "members": 1, "tier_ups": 1},  # Ann, at 00:00 on 1 October
            {"tier": "Gold", "members": 0, "tier_ups": 0},
        ],
        "tier_ups": 1,
    }


async def test_the_outstanding_value_rounds_half_up_like_every_other_amount(
    engine: AsyncEngine,
) -> None:
    # 565 points at 0.001 is 0.565: half up gives 0.57 (Decimal's default would give 0.56).
    october = month("2026-10")
    s = await queries.summary(engine, october, PROGRAM, now=NOW, point_value=Decimal("0.001"))
    assert (s["points_outstanding"], s["outstanding_value"]) == (565, Decimal("0.57"))


async def test_september_does_not_see_the_entry_stamped_exactly_at_octobers_start(
    engine: AsyncEngine, ids: dict[str, int]
) -> None:
    s = await queries.summary(engine, month("2026-09"), PROGRAM, now=NOW)
    assert (s["entries"], s["points_issued"], s["purchases"]) == (5, 310, 3)
    assert (s["members"], s["new_members"]) == (3, 2)
    assert s["tier_ups"] == 0
    assert s["points_outstanding"] == 360
    assert (s["active_as_of"], s["active_30d"], s["active_90d"]) == (NOW, 3, 4)  # always to now


async def test_november_gets_the_entry_stamped_exactly_at_octobers_end(
    engine: AsyncEngine, ids: dict[str, int]
) -> None:
    s = await queries.summary(engine, month("2026-11"), PROGRAM, now=NOW)
    assert (s["entries"], s["purchases"], s["points_issued"], s["sales"]) == (
        1,
        1,
        10,
        Decimal("10.00"),
    )
    assert s["points_outstanding"] == 575


async def test_an_empty_period_has_no_data_and_no_made_up_ratios(
    engine: AsyncEngine, ids: dict[str, int]
) -> None:
    s = await queries.summary(engine, month("2026-06"), PROGRAM, now=NOW)
    assert s["has_data"] is False
    assert (s["entries"], s["members"], s["points_issued"], s["points_outstanding"]) == (0, 0, 0, 0)
    assert s["average_purchase"] is None
    assert s["purchases_per_customer"] is None
    assert s["earn_to_burn"] is None
    messages = text.summary_text(s, PROGRAM)
    assert messages == ["<b>Summary · June 2026</b>\nNo data for this period.\nMembers: 0 in total"]


async def test_the_default_period_is_the_30_days_up_to_now(
    engine: AsyncEngine, ids: dict[str, int]
) -> None:
    s = await queries.summary(engine, parse_period(None, now=NOW, tz=LONDON), PROGRAM, now=NOW)
    assert s["entries"] == 7  # from Ann's cake on 10 October to Bob's purchase on 1 November
    assert s["active_as_of"] == NOW


@pytest.mark.parametrize("key", ["2026-06", "2026-09", "2026-10", "2026-11", "30d", "all"])
async def test_outstanding_points_equal_the_ledger_summed_up_to_the_periods_end(
    engine: AsyncEngine, ids: dict[str, int], key: str
) -> None:
    period = month(key)
    s = await queries.summary(engine, period, PROGRAM, now=NOW)
    async with engine.connect() as conn:
        total = (
            await conn.execute(
                select(func.coalesce(func.sum(ledger.c.points), 0)).where(
                    ledger.c.created_at < period.end
                )
            )
        ).scalar_one()
    assert s["points_outstanding"] == total


@pytest.mark.parametrize(("days_later", "expected"), [(0, (3, 4)), (20, (1, 4)), (70, (0, 3))])
async def test_active_members_agree_with_the_ledger_itself(
    engine: AsyncEngine, ids: dict[str, int], days_later: int, expected: tuple[int, int]
) -> None:
    # The summary counts from customers.last_visit_at (an index); the ledger is the truth.
    # 70 days on, Eve's visit is exactly 90 days old: still counted (the window includes it).
    report_time = NOW + dt.timedelta(days=days_later)
    async with engine.connect() as conn:
        latest = await conn.execute(
            select(func.max(ledger.c.created_at))
            .where(ledger.c.kind.in_(["earn", "redeem"]))
            .group_by(ledger.c.customer_id)
        )
        visits = [utc(v) for v in latest.scalars()]
    from_ledger = tuple(
        sum(1 for v in visits if v >= report_time - dt.timedelta(days=days)) for days in (30, 90)
    )
    s = await queries.summary(engine, month("2026-10"), PROGRAM, now=report_time)
    assert (s["active_30d"], s["active_90d"]) == from_ledger == expected


async def upgraded_from(
    tmp_path: Path, revision: str, inserts: Sequence[str], query: Select[Any]
) -> list[Row[Any]]:
    """`inserts` written at schema `revision` (as a shop's database was), then upgraded to the
    newest: the rows `query` reads afterwards."""
    engine = open_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await upgrade(engine, revision)
        async with engine.begin() as conn:
            for sql in inserts:
                await conn.execute(text_sql(sql))
        await upgrade(engine)
        async with engine.connect() as conn:
            return list((await conn.execute(query)).all())
    finally:
        await engine.dispose()


async def test_a_database_upgraded_from_before_reports_knows_each_last_visit(
    tmp_path: Path,
) -> None:
    # Entries written at schema 0002 (no last_visit_at yet): the upgrade fills it from the ledger.
    rows = await upgraded_from(
        tmp_path,
        "0002",
        [
            "INSERT INTO customers (id, card_number, name, phone, created_at, balance,"
            " lifetime_earned, lifetime_redeemed, tier, version) VALUES"
            " (1, '12345674', 'Old', '+447400100009', '2026-01-01 00:00:00.000000',"
            " 30, 40, 10, 'Bronze', 3),"
            " (2, '23456781', 'New', '+447400100008', '2026-01-01 00:00:00.000000',"
            " 0, 0, 0, 'Bronze', 0)",
            "INSERT INTO ledger (customer_id, kind, points, created_at, balance_after, details)"
            " VALUES (1, 'earn', 20, '2026-01-02 10:00:00.000000', 20, '{}'),"
            " (1, 'redeem', -10, '2026-02-03 10:00:00.000000', 10, '{}'),"
            " (1, 'adjust', 20, '2026-03-04 10:00:00.000000', 30, '{}')",
        ],
        select(customers.c.id, customers.c.last_visit_at),
    )
    # The adjustment in March is not a visit; customer 2 never came.
    assert {r.id: r.last_visit_at for r in rows} == {
        1: dt.datetime(2026, 2, 3, 10, 0),
        2: None,
    }


async def test_without_rewards_there_is_no_redemption_rate(
    engine: AsyncEngine, ids: dict[str, int]
) -> None:
    no_rewards = dataclasses.replace(PROGRAM, rewards=())
    s = await queries.summary(engine, month("2026-10"), no_rewards, now=NOW)
    assert s["can_afford_now"] == 0
    assert s["redemption_rate"] == Decimal("1.000")  # both redeemers, of the two who redeemed
    assert queries.assumed_point_value(no_rewards) is None


# --- Customers, Rewards, Staff ---------------------------------------------------------------


async def test_top_customers_are_ranked_by_points_earned_in_the_period(
    engine: AsyncEngine, ids: dict[str, int]
) -> None:
    rows = await sections.top_customers(engine, month("2026-10"))
    assert [
        (r["name"], r["earned"], r["redeemed"], r["balance"], r["purchases"]) for r in rows
    ] == [
        ("Ann", 500, 350, 300, 2),
        ("Bob", 75, 0, 85, 1),
        ("Cat", 50, 0, 50, 0),
        (EVE_NAME, 30, 100, 30, 1),
    ]
    assert [r["tier"] for r in rows] == ["Silver", "Bronze", "Bronze", "Bronze"]
    assert [r["last_visit"] for r in rows] == [at(10, 21, 10), at(11, 1, 0), None, at(10, 16, 12)]


async def test_top_customers_can_be_paged(engine: AsyncEngine, ids: dict[str, int]) -> None:
    page = await sections.top_customers(engine, month("2026-10"), limit=2, offset=2)
    assert [r["id"] for r in page] == [ids["Cat"], ids["Eve"]]


async def test_rewards_are_counted_per_reward_most_popular_first(
    engine: AsyncEngine, ids: dict[str, int]
) -> None:
    counts = await sections.reward_counts(engine, month("2026-10"), PROGRAM)
    assert counts == [
        {
            "reward_id": "coffee",
            "name": "Free coffee",
            "redemptions": 2,
            "customers": 2,
            "points": 200,
        },
        {
            "reward_id": "cake",
            "name": "Slice of cake",
            "redemptions": 1,
            "customers": 1,
            "points": 250,
        },
    ]


async def test_redemption_history_says_who_what_when_and_which_cashier(
    engine: AsyncEngine, ids: dict[str, int]
) -> None:
    history = await sections.redemption_history(engine, month("2026-10"), PROGRAM)
    assert [
        (r["customer"], r["reward"], r["when"], r["cashier_id"], r["cashier"]) for r in history
    ] == [
        ("Ann", "Free coffee", at(10, 21, 10), 101, None),
        (EVE_NAME, "Free coffee", at(10, 15, 12), 101, None),
        ("Ann", "Slice of cake", at(10, 10, 9), SAM, SAM_NAME),
    ]
    assert all(r["code"] for r in history)


async def test_staff_activity_adds_up_to_the_summary(
    engine: AsyncEngine, ids: dict[str, int]
) -> None:
    rows = await sections.staff_activity(engine, month("2026-10"))
    assert rows == [
        {
            "actor_id": 101,
            "name": None,
            "transactions": 5,
            "purchases": 2,
            "points_issued": 480,
            "redemptions": 2,
            "points_redeemed": 200,
            "voids": 0,
            "refunds": 0,
            "adjustments": 0,
            "points_reversed": 0,
            "points_returned": 0,
            "first": at(9, 30, 23),
            "last": at(10, 31, 23, 59, 59),
        },
        {
            "actor_id": SAM,
            "name": SAM_NAME,
            "transactions": 4,
            "purchases": 2,
            "points_issued": 175,
            "redemptions": 1,
            "points_redeemed": 250,
            "voids": 0,
            "refunds": 0,
            "adjustments": 0,
            "points_reversed": 0,
            "points_returned": 0,
            "first": at(10, 5, 11),
            "last": at(10, 20, 15),
        },
    ]


async def test_weekly_figures_follow_local_weeks_and_add_up_to_the_period(
    engine: AsyncEngine, ids: dict[str, int]
) -> None:
    weeks = await series.weekly(engine, month("2026-10"), now=NOW)
    assert [(w["start"], w["days"], w["issued"], w["redeemed"], w["active"]) for w in weeks] == [
        (dt.date(2026, 10, 1), 4, 400, 0, 1),
        (dt.date(2026, 10, 5), 7, 75, 250, 2),
        (dt.date(2026, 10, 12), 7, 30, 100, 1),
        (dt.date(2026, 10, 19), 7, 100, 100, 1),
        (dt.date(2026, 10, 26), 6, 50, 0, 0),  # Cat only registered: not a visit
    ]


async def test_weekly_figures_for_an_empty_period_are_an_empty_list(
    engine: AsyncEngine, ids: dict[str, int]
) -> None:
    assert await series.weekly(engine, month("2026-06"), now=NOW) == []


# --- as text ---------------------------------------------------------------------------------


async def test_the_october_summary_reads_on_a_phone(
    engine: AsyncEngine, ids: dict[str, int]
) -> None:
    s = await queries.summary(
        engine, month("2026-10"), PROGRAM, now=NOW, point_value=Decimal("0.01")
    )
    [message] = text.summary_text(s, PROGRAM)
    visible = parse_html(message)  # Telegram would accept it
    for line in (
        "Summary · October 2026",
        "Total: 5 (2 new)",
        "Active, 30 days to 5 Nov: 3",
        "Active, 90 days to 5 Nov: 4",
        "Repeat customers: 1",
        "Average purchase: £133.88",
        "Issued: 655",
        "Redeemed: 450",
        "Outstanding: 565",
        "≈ £5.65 at £0.01 a point",
        "Earn-to-burn: 1.46 : 1",
        "Redemption rate: 66.7%",
        "Silver: 1 (+1 moved up)",
    ):
        assert line in visible.splitlines()
    assert max(len(line) for line in visible.splitlines()) <= 48  # no sideways scrolling


async def test_names_are_escaped_in_html_and_left_alone_in_plain_text(
    engine: AsyncEngine, ids: dict[str, int]
) -> None:
    october = month("2026-10")
    counts = await sections.reward_counts(engine, october, PROGRAM)
    history = await sections.redemption_history(engine, october, PROGRAM)
    [html_message] = text.rewards_text(counts, history, october)
    assert "by Sam &lt;till 2&gt;" in html_message
    assert "Sam <till 2>" in parse_html(html_message)
    [plain] = text.rewards_text(counts, history, october, html=False)
    assert "by Sam <till 2>" in plain
    assert "<b>" not in plain


async def test_sections_without_entries_say_so(engine: AsyncEngine, ids: dict[str, int]) -> None:
    june = month("2026-06")
    assert text.customers_text(await sections.top_customers(engine, june), june) == [
        "<b>Top customers · June 2026</b>\nNo data for this period."
    ]
    assert text.staff_text(await sections.staff_activity(engine, june), june, html=False) == [
        "STAFF · JUNE 2026\nNo data for this period."
    ]


def test_long_reports_are_split_between_entries_within_telegrams_limit() -> None:
    june = month("2026-06")
    rows: list[sections.CustomerRow] = [
        {
            "id": i,
            "card_number": f"{i:08d}",
            "name": f"Customer & {i} " + "x" * 80,
            "tier": "Bronze",
            "balance": i,
            "earned": 1000 - i,
            "redeemed": 0,
            "purchases": 1,
            "last_visit": at(10, 1, 12),
        }
        for i in range(200)
    ]
    messages = text.customers_text(rows, june)
    assert len(messages) > 1
    assert all(len(m) <= text.MESSAGE_LIMIT for m in messages)
    visible = "\n".join(parse_html(m) for m in messages)
    for i in (0, 199):
        assert visible.count(f"Customer & {i} ") == 1
    assert all(parse_html(m).splitlines()[0][0].isdigit() for m in messages[1:])  # whole entries


def test_the_cli_prints_the_text_report(
    engine_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = argparse.Namespace(
        config=engine_path, period="2026-10", format="text", section="all", out=None, now=NOW
    )
    assert report_cli.run(args) == 0
    printed = capsys.readouterr().out
    assert "SUMMARY · OCTOBER 2026" in printed
    assert "Redemption rate: 66.7%" in printed
    assert "1. Ann · " in printed  # names as typed, not in capitals
    assert "Sam <till 2> (id 102)" in printed


def test_the_cli_explains_a_bad_period_in_one_line(
    engine_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = argparse.Namespace(config=engine_path, period="2026-13", format="text", now=NOW)
    assert report_cli.run(args) == 2
    assert (
        capsys.readouterr().err
        == "loyalty-bot report: 2026-13 is not a month: use YYYY-MM, like 2026-10\n"
    )


# --- all time, from the customers' running totals (issue "Scale") -----------------------------

# Periods that start before the first entry, ending: now; exactly at Bob's 1 November purchase
# (the tail holds one entry, which made Bob a repeat customer); between Ann's redemptions; on
# the second Ann went Silver; and before anything happened (everything is tail).
HISTORY_ENDS = [NOW, at(11, 1, 0), at(10, 15, 12), at(9, 30, 23), at(6, 1, 0)]


def since_the_start(end: dt.datetime) -> Period:
    return Period(ALL_TIME_START, end, "all", "all time", LONDON)


async def scanned_summary(
    engine: AsyncEngine, period: Period, monkeypatch: pytest.MonkeyPatch
) -> queries.Summary:
    """The summary as a pass over the period's entries gives it: the truth to compare with."""
    with monkeypatch.context() as patched:

        async def never(*_: object) -> bool:
            return False

        patched.setattr(queries, "starts_before_history", never)
        return await queries.summary(engine, period, PROGRAM, now=NOW)


@pytest.mark.parametrize("end", HISTORY_ENDS)
async def test_a_summary_since_the_start_from_running_totals_equals_a_scan_of_the_ledger(
    engine: AsyncEngine, end: dt.datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    period = since_the_start(end)
    fast = await queries.summary(engine, period, PROGRAM, now=NOW)
    assert fast == await scanned_summary(engine, period, monkeypatch)


async def test_the_all_time_summary_counts_every_figure_of_the_story(engine: AsyncEngine) -> None:
    s = await queries.summary(engine, month("all"), PROGRAM, now=NOW)
    assert (s["entries"], s["purchases"], s["purchasers"], s["repeat_customers"]) == (16, 8, 4, 3)
    assert s["sales"] == Decimal("755.50")
    assert (s["points_issued"], s["points_redeemed"], s["points_reversed"]) == (1025, 450, 0)
    assert (s["redemptions"], s["redeemers"], s["points_outstanding"]) == (3, 2, 575)


@pytest.fixture
async def corrected(stories: dict[str, Story]) -> AsyncIterator[AsyncEngine]:
    """The story plus its corrections (report_ledger.correct): a refund and an adjustment in
    October, and in November voids of an October purchase and an October redemption."""
    engine = open_engine(stories["corrected"].url)
    yield engine
    await engine.dispose()


# Around each correction, and the story's own ends.
CORRECTED_ENDS = [
    *HISTORY_ENDS,
    at(10, 2, 9),
    at(10, 2, 10),
    at(10, 16, 13),
    at(10, 25, 12),
    at(11, 2, 10),
    at(11, 2, 11),
    at(11, 3, 11),
]


@pytest.mark.parametrize("end", CORRECTED_ENDS)
async def test_with_corrections_a_summary_since_the_start_still_equals_a_scan_of_the_ledger(
    corrected: AsyncEngine, end: dt.datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    period = since_the_start(end)
    fast = await queries.summary(corrected, period, PROGRAM, now=NOW)
    assert fast == await scanned_summary(corrected, period, monkeypatch)


async def test_october_with_corrections_counts_what_stands_and_points_when_they_moved(
    corrected: AsyncEngine,
) -> None:
    s = await queries.summary(corrected, month("2026-10"), PROGRAM, now=NOW)
    # Eve's purchase of 16 October was voided in November: no longer an October purchase.
    assert (s["purchases"], s["voided_purchases"], s["purchasers"], s["repeat_customers"]) == (
        3,
        1,
        2,  # Ann, Bob
        1,
    )
    assert s["sales"] == Decimal("505.50")  # 535.50 less Eve's 30.00 (Dan's refund is of Sep)
    # Ann's coffee of 21 October was voided too: Ann's cake and Eve's coffee remain.
    assert (s["redemptions"], s["voided_redemptions"], s["redeemers"]) == (2, 1, 2)
    # Points as they moved in October: Dan's refund took 30, Bob's adjustment 5; the
    # November voids are November's.
    assert (s["points_issued"], s["points_reversed"], s["points_net"]) == (655, 35, 620)
    assert (s["points_redeemed"], s["points_returned"]) == (450, 0)
    november = await queries.summary(corrected, month("2026-11"), PROGRAM, now=NOW)
    assert (november["points_reversed"], november["points_returned"]) == (30, 100)
    assert november["voided_purchases"] == november["voided_redemptions"] == 0
    # Outstanding points are still the balances the ledger explains at each end.
    assert s["points_outstanding"] == 565 - 35
    assert november["points_outstanding"] == 565 - 35 + 10 - 30 + 100


@pytest.mark.parametrize("key", ["2026-10", "2026-11", "2026-09"])
async def test_with_corrections_the_staff_figures_add_up_to_the_summary(
    corrected: AsyncEngine, key: str
) -> None:
    period = month(key)
    s = await queries.summary(corrected, period, PROGRAM, now=NOW)
    rows = await sections.staff_activity(corrected, period)
    assert sum(r["points_issued"] for r in rows) == s["points_issued"]
    assert sum(r["points_reversed"] for r in rows) == s["points_reversed"]
    assert sum(r["points_redeemed"] for r in rows) == s["points_redeemed"]
    assert sum(r["points_returned"] for r in rows) == s["points_returned"]
    # Purchases as recorded: those voided since are still their cashier's work.
    assert sum(r["purchases"] for r in rows) == s["purchases"] + s["voided_purchases"]
    assert sum(r["transactions"] for r in rows) == s["entries"]


async def test_the_staff_section_shows_who_corrected_what(corrected: AsyncEngine) -> None:
    rows = await sections.staff_activity(corrected, month("2026-11"))
    sam = next(r for r in rows if r["actor_id"] == SAM)
    assert (sam["voids"], sam["refunds"], sam["points_reversed"], sam["points_returned"]) == (
        2,
        0,
        30,
        100,
    )
    lines = text.staff_text(rows, month("2026-11"), html=False)[0].splitlines()
    assert "2 voids (30 points taken back, 100 given back)" in lines
    october = await sections.staff_activity(corrected, month("2026-10"))
    assert "1 refund (30 points taken back)" in text.staff_text(october, month("2026-10"))[0]


async def test_the_summary_says_what_corrections_reversed(corrected: AsyncEngine) -> None:
    s = await queries.summary(corrected, month("2026-10"), PROGRAM, now=NOW)
    lines = text.summary_text(s, PROGRAM, html=False)[0].splitlines()
    assert "Purchases: 3 by 2 customers" in lines
    assert "(not counted: 1 voided purchase)" in lines
    assert lines[lines.index("Issued: 655") : lines.index("Issued: 655") + 3] == [
        "Issued: 655",
        "Reversed by corrections: 35",
        "Net issued: 620",
    ]
    assert "(not counted: 1 voided redemption)" in lines
    november = await queries.summary(corrected, month("2026-11"), PROGRAM, now=NOW)
    assert "Given back by voids: 100" in text.summary_text(november, PROGRAM, html=False)[0]


async def test_top_customers_and_rewards_count_what_stands(corrected: AsyncEngine) -> None:
    october = month("2026-10")
    rows = await sections.top_customers(corrected, october)
    assert [(r["name"], r["earned"], r["redeemed"], r["purchases"]) for r in rows] == [
        ("Ann", 500, 350, 2),  # the coffee voided in November: points given back then
        ("Bob", 75, 5, 1),  # the adjustment took 5
        ("Cat", 50, 0, 0),
        (EVE_NAME, 30, 100, 0),  # her purchase voided
        ("Dan", -30, 0, 0),  # the refund of a September purchase
    ]
    counts = await sections.reward_counts(corrected, october, PROGRAM)
    assert [(c["reward_id"], c["redemptions"]) for c in counts] == [("cake", 1), ("coffee", 1)]
    history = await sections.redemption_history(corrected, october, PROGRAM)
    assert [(h["customer"], h["reward_id"]) for h in history] == [
        (EVE_NAME, "coffee"),
        ("Ann", "cake"),
    ]


async def test_customers_carry_their_purchases_spending_and_redemptions(
    engine: AsyncEngine,
) -> None:
    # Kept by Store in the same transaction as each entry; the ledger is the truth.
    kind = ledger.c.kind
    from_ledger = (
        select(
            ledger.c.customer_id,
            func.sum(case((kind == "earn", 1), else_=0)),
            func.sum(case((kind == "earn", ledger.c.amount_minor), else_=0)),
            func.sum(case((kind == "redeem", 1), else_=0)),
        )
        .group_by(ledger.c.customer_id)
        .order_by(ledger.c.customer_id)
    )
    on_customers = select(
        customers.c.id, customers.c.purchases, customers.c.spent_minor, customers.c.redemptions
    ).order_by(customers.c.id)
    async with engine.connect() as conn:
        expected = [tuple(r) for r in await conn.execute(from_ledger)]
        counted = [tuple(r) for r in await conn.execute(on_customers)]
    assert counted == expected
    assert sum(r[1] for r in counted) == 8 and sum(r[2] for r in counted) == 75550


async def test_a_database_upgraded_from_before_the_counters_gets_them_from_the_ledger(
    tmp_path: Path,
) -> None:
    query = select(
        customers.c.id, customers.c.purchases, customers.c.spent_minor, customers.c.redemptions
    ).order_by(customers.c.id)
    inserts = [
        "INSERT INTO customers (id, card_number, name, phone, created_at, balance,"
        " lifetime_earned, lifetime_redeemed, tier, version) VALUES"
        " (1, '12345674', 'Old', '+447400100009', '2026-01-01 00:00:00.000000',"
        " 40, 50, 10, 'Bronze', 4),"
        " (2, '23456781', 'New', '+447400100008', '2026-01-01 00:00:00.000000',"
        " 0, 0, 0, 'Bronze', 0)",
        "INSERT INTO ledger (customer_id, kind, points, amount_minor, created_at,"
        " balance_after, details) VALUES"
        " (1, 'earn', 20, 2000, '2026-01-02 10:00:00.000000', 20, '{}'),"
        " (1, 'redeem', -10, NULL, '2026-02-03 10:00:00.000000', 10, '{}'),"
        " (1, 'earn', 10, 1050, '2026-02-04 10:00:00.000000', 20, '{}'),"
        " (1, 'adjust', 20, NULL, '2026-03-04 10:00:00.000000', 40, '{}')",
    ]
    rows = [tuple(r) for r in await upgraded_from(tmp_path, "0003", inserts, query)]
    assert rows == [(1, 2, 3050, 1), (2, 0, 0, 0)]  # the adjustment is neither


async def plan_of(engine: AsyncEngine, statement: ClauseElement) -> str:
    """SQLite's plan for the statement (bound values inlined, as the real ones would be).

    Skips on PostgreSQL: its planner chooses by its statistics, and on the story's few rows
    rightly reads whole tables."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query plan")
    sql = str(statement.compile(engine.sync_engine, compile_kwargs={"literal_binds": True}))
    async with engine.connect() as conn:
        rows = await conn.execute(text_sql("EXPLAIN QUERY PLAN " + sql))
        return "\n".join(str(r[-1]) for r in rows)


async def test_a_periods_flows_read_only_the_covering_index(engine: AsyncEngine) -> None:
    # Without it, 30 days at 1M customers read the wide entry rows: 3 s instead of 1.
    october = month("2026-10")
    for statement in (
        queries._period_sums(october),
        queries._period_people(october, PROGRAM.rewards[0]),
    ):
        plan = await plan_of(engine, statement)
        assert "COVERING INDEX ix_ledger_created_at_kind_customer_id_points_amount_minor" in plan
        assert "SCAN ledger" not in plan


async def test_what_corrections_take_off_a_period_is_read_from_the_corrections_alone(
    engine: AsyncEngine,
) -> None:
    # The few corrections first (their partial index), each reversed entry by its id: never a
    # walk through the period's entries looking for a correction of each.
    plan = await plan_of(engine, reversals.totals(reversals.made_in(month("2026-10"))))
    assert plan.splitlines() == [
        "SEARCH fix USING COVERING INDEX ix_ledger_reverses_id (reverses_id>?)",
        "SEARCH target USING INTEGER PRIMARY KEY (rowid=?)",
    ]


async def test_the_all_time_figures_never_scan_the_ledger(engine: AsyncEngine) -> None:
    affords = customers.c.balance >= 100
    plans = [
        await plan_of(engine, all_time._tail(NOW, affords)),
        await plan_of(engine, all_time._others(NOW)),
    ]
    assert "COVERING INDEX ix_ledger_created_at_kind_customer_id_points_amount_minor" in plans[0]
    assert "COVERING INDEX ix_ledger_other_kinds" in plans[1]
    assert not any("SCAN ledger" in plan for plan in plans)


async def test_a_database_upgraded_from_before_0005_gets_each_latest_visit_from_the_ledger(
    tmp_path: Path,
) -> None:
    c = customers.c
    query = select(c.id, c.last_purchase_at, c.prev_purchase_at, c.last_redemption_at).order_by(
        c.id
    )
    inserts = [
        "INSERT INTO customers (id, card_number, name, phone, created_at, balance,"
        " lifetime_earned, lifetime_redeemed, tier, version) VALUES"
        " (1, '12345674', 'Two at once', '+447400100009', '2026-01-01 00:00:00.000000',"
        " 40, 50, 10, 'Bronze', 4),"
        " (2, '23456781', 'Once', '+447400100008', '2026-01-01 00:00:00.000000',"
        " 5, 5, 0, 'Bronze', 1),"
        " (3, '34567815', 'Never', '+447400100007', '2026-01-01 00:00:00.000000',"
        " 0, 0, 0, 'Bronze', 0)",
        "INSERT INTO ledger (customer_id, kind, points, amount_minor, created_at,"
        " balance_after, details) VALUES"
        " (1, 'earn', 20, 2000, '2026-01-02 10:00:00.000000', 20, '{}'),"
        " (1, 'redeem', -10, NULL, '2026-02-03 10:00:00.000000', 10, '{}'),"
        # Two purchases stamped in the same microsecond: a latest and a previous one.
        " (1, 'earn', 10, 1050, '2026-02-04 10:00:00.000000', 20, '{}'),"
        " (1, 'earn', 10, 1050, '2026-02-04 10:00:00.000000', 30, '{}'),"
        " (1, 'adjust', 10, NULL, '2026-03-04 10:00:00.000000', 40, '{}'),"
        " (2, 'earn', 5, 500, '2026-01-05 10:00:00.000000', 5, '{}')",
    ]
    rows = [tuple(r) for r in await upgraded_from(tmp_path, "0004", inserts, query)]
    day = dt.datetime
    assert rows == [
        (1, day(2026, 2, 4, 10), day(2026, 2, 4, 10), day(2026, 2, 3, 10)),  # not the adjustment
        (2, day(2026, 1, 5, 10), None, None),
        (3, None, None, None),
    ]
