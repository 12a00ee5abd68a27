"""The charts' weeks on both engines (core/reports/series.py): PostgreSQL buckets each entry by
date_trunc('week', created_at AT TIME ZONE <zone>), SQLite by edges computed in Python; on the
same entries, either side of each week's edge and of a clock change, both give the weeks the
shop's calendar gives (computed here in Python, entry by entry)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from core.db.store import Store
from core.reports import series
from core.reports.periods import Period

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def local_monday(moment: dt.datetime, zone: ZoneInfo) -> dt.date:
    day = moment.astimezone(zone).date()
    return day - dt.timedelta(days=day.weekday())


def edges(zone: ZoneInfo) -> list[dt.datetime]:
    """A second before and at each local Monday midnight of October and November 2026 (London
    changes its clocks on Sunday 25 October), plus the period's own first and last seconds."""
    moments: list[dt.datetime] = []
    day = dt.date(2026, 10, 5)  # the first Monday of October
    while day < dt.date(2026, 12, 1):
        midnight = dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(UTC)
        moments += [midnight - dt.timedelta(seconds=1), midnight]
        day += dt.timedelta(days=7)
    first = dt.datetime(2026, 10, 1, tzinfo=zone).astimezone(UTC)
    last = dt.datetime(2026, 12, 1, tzinfo=zone).astimezone(UTC) - dt.timedelta(seconds=1)
    return [first, *moments, last]


@pytest.mark.parametrize("zone", ["Europe/London", "Asia/Kathmandu", "Australia/Lord_Howe"])
async def test_both_engines_put_each_entry_in_its_local_week(store: Store, zone: str) -> None:
    tz = ZoneInfo(zone)
    start = dt.datetime(2026, 10, 1, tzinfo=tz).astimezone(UTC)
    end = dt.datetime(2026, 12, 1, tzinfo=tz).astimezone(UTC)
    period = Period(start, end, "custom", "October and November", tz)
    expected: dict[dt.date, list[int]] = {}
    for n, moment in enumerate(edges(tz)):
        joined = await store.register(
            {"name": f"C{n}", "phone": f"+4474001{n:05d}", "email": None},
            actor_id=1,
            now=dt.datetime(2026, 9, 1, tzinfo=UTC),
        )
        points = 10 + n  # each entry its own amount, so a misplaced one shows
        await store.earn(joined["customer"]["id"], Decimal(points), actor_id=1, now=moment)
        week = max(local_monday(moment, tz), dt.date(2026, 10, 1))  # the first bar is cut
        expected.setdefault(week, []).append(points)

    weeks = await series.weekly(store.engine, period, now=NOW)

    assert {w["start"]: w["issued"] for w in weeks if w["issued"]} == {
        week: sum(points) for week, points in expected.items()
    }
    assert {w["start"]: w["active"] for w in weeks if w["active"]} == {
        week: len(points) for week, points in expected.items()
    }
    assert sum(w["days"] for w in weeks) == (dt.date(2026, 12, 1) - dt.date(2026, 10, 1)).days
