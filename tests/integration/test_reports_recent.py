"""Distinct customers of a period from each customer's latest visits (core/reports/recent.py)
agree exactly with grouping the period's entries, whatever the period and the ledger, voids and
refunds included (a voided purchase or redemption no longer counts, in either path).

On both engines: the story on SQLite and on PostgreSQL (tests/support/report_ledger.py), and
the property on a SQLite database in memory and on the worker's PostgreSQL database. The
query-plan test is SQLite's."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.db.engine import open_engine
from core.db.store import Store
from core.db.tables import customers, ledger, metadata
from core.errors import InsufficientPoints, LoyaltyError
from core.reports import queries, recent
from core.reports.periods import Period
from core.types import NewCustomer, Reward
from tests.support.postgres import emptied
from tests.support.report_ledger import ENGINES, NOW, PROGRAM, Story, at, story_databases

UTC = ZoneInfo("UTC")
COFFEE = PROGRAM.rewards[0]


def between(start: dt.datetime, end: dt.datetime) -> Period:
    return Period(start, end, "custom", "custom", UTC)


async def grouped(conn: AsyncConnection, period: Period, reward: Reward | None) -> dict[str, int]:
    """The same four figures the slow, sure way: the period's entries grouped per customer."""
    row = (await conn.execute(queries._period_people(period, reward))).one()
    return {name: int(value or 0) for name, value in row._mapping.items()}


@pytest.fixture(scope="module", params=ENGINES)
def stories(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Story]]:
    """The story, and the story with its corrections (report_ledger.correct: voids in November
    of an October purchase and an October redemption, a refund and an adjustment in October),
    on SQLite or on PostgreSQL."""
    yield from story_databases(request, tmp_path_factory.mktemp("story"), "story", "corrected")


@pytest.fixture(params=["story", "corrected"])
async def engine(
    request: pytest.FixtureRequest, stories: dict[str, Story]
) -> AsyncIterator[AsyncEngine]:
    """The story's database, and the same with its corrections: every test runs on both."""
    engine = open_engine(stories[request.param].url)
    yield engine
    await engine.dispose()


@pytest.mark.parametrize("days", [1, 7, 30, 61])
async def test_every_window_of_the_story_counts_the_same_people_both_ways(
    engine: AsyncEngine, days: int
) -> None:
    # Windows ending every day from August to after the report: most end before some
    # customers' later visits, which must then be counted from their entries. And the windows
    # that end, or start, at the very moment of each entry, where `< end` or `>= start` alone
    # decides whether that visit is in: the days step past most of those moments.
    span = dt.timedelta(days=days)
    async with engine.connect() as conn:
        stored = (await conn.execute(select(ledger.c.created_at))).scalars()
        moments = {when.replace(tzinfo=dt.UTC) for when in stored}  # UTC, read back naive
        ends = set(moments) | {moment + span for moment in moments}
        end, days_ended = at(8, 1, 0), 0
        while end <= NOW + dt.timedelta(days=2):
            ends.add(end)
            end += dt.timedelta(days=1)
            days_ended += 1
        for end in sorted(ends):
            period = between(end - span, end)
            for reward in (COFFEE, None):
                assert await recent.people(conn, period, reward) == await grouped(
                    conn, period, reward
                ), period
    assert days_ended == 99 and len(moments) >= 16  # every day, and the story's every entry


async def test_october_by_latest_visits_gives_the_storys_figures(
    engine: AsyncEngine, request: pytest.FixtureRequest
) -> None:
    # Bob's purchase at the very end of October (1 November 00:00) is after it: his October
    # purchase counts, and only once.
    october = between(at(9, 30, 23), at(11, 1, 0))
    corrected = "corrected" in request.node.callspec.id
    async with engine.connect() as conn:
        assert await recent.people(conn, october, COFFEE) == {
            # Ann, Bob, Eve; with corrections, Eve's only October purchase was voided.
            "purchasers": 2 if corrected else 3,
            "repeat_customers": 1,  # Ann
            "redeemers": 2,  # Ann, Eve (Ann's cake stands when her coffee is voided)
            "redeemers_affording": 1,  # Ann (300, or 400), not Eve (30, or 0)
        }


@pytest.mark.parametrize(
    "period",
    [between(at(9, 30, 23), at(11, 1, 0)), between(NOW - dt.timedelta(days=30), NOW)],
    ids=["october", "last-30-days"],
)
async def test_the_summary_is_the_same_whichever_way_it_counts(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, period: Period
) -> None:
    summaries = []
    for limit in (recent.MAX_VISITED_SINCE, -1):  # latest visits, then grouping the entries
        monkeypatch.setattr(recent, "MAX_VISITED_SINCE", limit)
        async with engine.connect() as conn:
            assert await recent.worth_it(conn, period) is (limit >= 0)
        summaries.append(await queries.summary(engine, period, PROGRAM, now=NOW))
    assert summaries[0] == summaries[1]
    assert summaries[0]["purchasers"] > 0 and summaries[0]["redeemers"] > 0


async def test_a_recent_period_counts_people_from_indexes_only(engine: AsyncEngine) -> None:
    # With corrections too: whether a late visitor's entry was voided is one step into the
    # unique index of voids, not a scan.
    # The point of it all: no pass over the period's entries, no sort (1M customers: 0.8 s).
    period = between(NOW - dt.timedelta(days=30), NOW)
    affords = customers.c.balance >= COFFEE.cost
    plan = await plan_of(engine, recent._visited_since(period, affords))
    assert "SEARCH customers USING INDEX ix_customers_last_visit_at" in plan
    assert "SEARCH ledger USING INDEX ix_ledger_customer_id_id (customer_id=?)" in plan
    assert "SCAN" not in plan and "TEMP B-TREE" not in plan
    async with engine.connect() as conn:
        assert await recent.worth_it(conn, period)


async def plan_of(engine: AsyncEngine, statement: Any) -> str:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query plan: PostgreSQL chooses by its statistics")
    sql = str(statement.compile(engine.sync_engine, compile_kwargs={"literal_binds": True}))
    async with engine.connect() as conn:
        rows = await conn.execute(text("EXPLAIN QUERY PLAN " + sql))
        return "\n".join(str(r[-1]) for r in rows)


# --- any ledger ------------------------------------------------------------------------------

START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
hours = st.integers(min_value=0, max_value=24 * 10)  # within ten days of START
visits = st.lists(
    st.tuples(st.integers(0, 3), st.sampled_from(["earn", "redeem", "void", "refund"]), hours),
    min_size=1,
    max_size=25,
)
windows = st.lists(st.tuples(hours, hours), min_size=1, max_size=6)


async def check_any_ledger(
    entries: list[tuple[int, str, int]], periods: list[tuple[int, int]], postgres: str | None
) -> None:
    if postgres is None:
        engine = open_engine("sqlite+aiosqlite:///:memory:")
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
    else:
        engine = await emptied(postgres)
    try:
        store = Store(engine, PROGRAM)
        ids = []
        for n in range(4):
            new: NewCustomer = {"name": f"C{n}", "phone": f"+4474001000{n:02d}", "email": None}
            registered = await store.register(new, actor_id=1, now=START)
            ids.append(registered["customer"]["id"])
        # Entries in any order of time: tills' clocks, and entries recorded late. A void or
        # refund is of one of the customer's purchases or redemptions, chosen by the hour.
        for n, (who, kind, hour) in enumerate(entries):
            when = START + dt.timedelta(hours=hour)
            if kind == "earn":
                await store.earn(ids[who], Decimal(60), actor_id=1, now=when)
            elif kind == "redeem":
                with contextlib.suppress(InsufficientPoints):  # not enough points yet
                    await store.redeem(ids[who], COFFEE.id, actor_id=1, now=when)
            else:
                open_ = await store.correctable_entries(ids[who], limit=50)
                if kind == "refund":
                    open_ = [e for e in open_ if e["kind"] == "earn"]
                if not open_:
                    continue
                chosen = open_[hour % len(open_)]["entry_id"]
                with contextlib.suppress(LoyaltyError):
                    if kind == "void":
                        await store.void(chosen, actor_id=1, now=when, key=f"v{n}")
                    else:
                        await store.refund(chosen, Decimal(25), actor_id=1, now=when, key=f"r{n}")
        async with engine.connect() as conn:
            for a, b in periods:
                start, end = sorted((a, b))
                period = between(
                    START + dt.timedelta(hours=start), START + dt.timedelta(hours=end + 1)
                )
                for reward in (COFFEE, None):
                    fast = await recent.people(conn, period, reward)
                    assert fast == await grouped(conn, period, reward), (period, entries)
    finally:
        await engine.dispose()


@settings(max_examples=40, deadline=None)
@given(entries=visits, periods=windows)
def test_any_ledger_and_any_period_count_the_same_people_both_ways(
    entries: list[tuple[int, str, int]], periods: list[tuple[int, int]]
) -> None:
    asyncio.run(check_any_ledger(entries, periods, None))


@settings(max_examples=15, deadline=None)
@given(entries=visits, periods=windows)
def test_any_ledger_and_any_period_count_the_same_people_both_ways_on_postgresql(
    postgres_db: str, entries: list[tuple[int, str, int]], periods: list[tuple[int, int]]
) -> None:
    asyncio.run(check_any_ledger(entries, periods, postgres_db))
