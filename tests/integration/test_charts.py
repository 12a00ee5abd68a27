"""Charts of the story's ledger: valid PNGs, phone-sized, drawn off the event loop.

On both engines (tests/support/report_ledger.py: the story on SQLite and on PostgreSQL).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import struct
from collections.abc import AsyncIterator, Iterator
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.engine import open_engine
from core.reports import charts, queries, series
from core.reports.periods import Period, parse_period
from tests.support.report_ledger import ENGINES, NOW, PROGRAM, Story, story_databases

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LONDON = ZoneInfo("Europe/London")


def month(key: str) -> Period:
    return parse_period(key, now=NOW, tz=LONDON)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the PNG header (the IHDR chunk always comes first)."""
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def assert_phone_sized_png(data: bytes) -> None:
    width, height = png_size(data)
    assert 800 <= width <= 1280 and 500 <= height <= 1280  # Telegram shows up to 1280 wide
    assert width > height  # landscape: readable when the phone is turned
    assert 5_000 < len(data) < 1_000_000  # drawn, and well under Telegram's photo limit
    assert data.endswith(b"IEND\xaeB`\x82")  # complete, not cut off


@pytest.fixture(scope="module", params=ENGINES)
def story(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Story]:
    for stories in story_databases(request, tmp_path_factory.mktemp("story"), "story"):
        yield stories["story"]


@pytest.fixture
async def engine(story: Story) -> AsyncIterator[AsyncEngine]:
    engine = open_engine(story.url)
    yield engine
    await engine.dispose()


async def test_the_points_chart_is_a_phone_sized_png(engine: AsyncEngine) -> None:
    october = month("2026-10")
    weeks = await series.weekly(engine, october, now=NOW)
    assert_phone_sized_png(charts.points_chart(weeks, october))


async def test_the_active_members_chart_is_a_phone_sized_png(engine: AsyncEngine) -> None:
    october = month("2026-10")
    weeks = await series.weekly(engine, october, now=NOW)
    assert_phone_sized_png(charts.active_chart(weeks, october))


async def test_the_tier_chart_is_a_phone_sized_png(engine: AsyncEngine) -> None:
    october = month("2026-10")
    summary = await queries.summary(engine, october, PROGRAM, now=NOW)
    assert_phone_sized_png(charts.tier_chart(summary["tiers"], october))


async def test_an_empty_period_still_gives_a_picture_that_says_so(engine: AsyncEngine) -> None:
    june = month("2026-06")
    weeks = await series.weekly(engine, june, now=NOW)
    empty = charts.points_chart(weeks, june)
    assert_phone_sized_png(empty)
    october = month("2026-10")
    drawn = charts.points_chart(await series.weekly(engine, october, now=NOW), october)
    assert empty != drawn


async def test_a_chart_renders_in_a_thread_while_the_event_loop_keeps_answering(
    engine: AsyncEngine,
) -> None:
    everything = month("all")
    weeks = await series.weekly(engine, everything, now=NOW)
    assert weeks[0]["start"] == dt.date(2026, 6, 29)  # the Monday before the first entry
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    beating = asyncio.create_task(heartbeat())
    try:
        png = await asyncio.to_thread(charts.points_chart, weeks, everything)
    finally:
        beating.cancel()
    assert_phone_sized_png(png)
    assert ticks > 0  # the loop ran other work while the chart was drawn
