"""Figures per week, for the charts: points issued and redeemed, active members.

Weeks are local calendar weeks (Monday to Sunday in the shop's time zone), cut to the period:
the first and last bars may cover fewer than seven days. Either way the period's entries are
read once:
- on SQLite, which has no time zones, the bucket boundaries are computed here in Python (a
  handful of instants, DST-correct) and handed to one SQL CASE, up to 106 branches per entry;
- on PostgreSQL each entry's week is `date_trunc('week', created_at AT TIME ZONE <zone>)`, the
  local Monday by the server's own time-zone rules: one expression per entry however long the
  period, and it groups by a date. The Mondays are mapped to the same bars here; a test checks
  both engines give the same weeks for entries on either side of every edge and a clock change.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any, TypedDict

from sqlalchemy import Date, case, cast, distinct, func, literal, select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.statements import utc
from core.db.tables import ledger

from .periods import Period
from .queries import ACTIVE_KINDS, in_period

__all__ = ["MAX_WEEKS", "Week", "weekly"]

MAX_WEEKS = 106  # about two years of bars; longer periods show their latest two years


class Week(TypedDict):
    start: dt.date  # local date of the first day counted (a Monday, except a cut first week)
    days: int  # days of the period inside this week (7, or fewer at either end)
    issued: int
    redeemed: int
    active: int  # distinct customers with a purchase or redemption that week


async def weekly(engine: AsyncEngine, period: Period, *, now: dt.datetime) -> list[Week]:
    """One Week per local week of the period that has begun by `now` (empty: no entries)."""
    async with engine.connect() as conn:
        first = (
            await conn.execute(select(func.min(ledger.c.created_at)).where(in_period(period)))
        ).scalar_one()
        if first is None:
            return []
        # "all" begins in 1970: start the bars at the week of the first entry instead. Future
        # weeks of a period that has not ended yet are left out rather than drawn as zeros.
        start = max(period.start, _monday(utc(first), period))
        end = min(period.end, now.astimezone(dt.UTC))
        if start >= end:
            return []
        bounds = _week_bounds(start, end, period)[-(MAX_WEEKS + 1) :]
        if conn.dialect.name == "postgresql":
            rows = (await conn.execute(_per_week(bounds, _local_monday(period)))).all()
            # Each bar's week by its local Monday (the first bar may start mid-week).
            bar = {
                _monday(lo, period).astimezone(period.tz).date(): i
                for i, lo in enumerate(bounds[:-1])
            }
            found = {bar[r.bucket]: r for r in rows}
        else:
            rows = (await conn.execute(_per_week(bounds, _bar_of(bounds)))).all()
            found = {r.bucket: r for r in rows}
    weeks: list[Week] = []
    for i, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        row = found.get(i)
        weeks.append(
            {
                "start": lo.astimezone(period.tz).date(),
                "days": round((hi - lo) / dt.timedelta(days=1)),
                "issued": int(row.issued) if row else 0,
                "redeemed": int(row.redeemed) if row else 0,
                "active": int(row.active) if row else 0,
            }
        )
    return weeks


def _monday(moment: dt.datetime, period: Period) -> dt.datetime:
    """Local midnight starting the week (Monday) that `moment` falls in, in UTC."""
    day = moment.astimezone(period.tz).date()
    monday = day - dt.timedelta(days=day.weekday())
    return dt.datetime.combine(monday, dt.time(0), tzinfo=period.tz).astimezone(dt.UTC)


def _week_bounds(start: dt.datetime, end: dt.datetime, period: Period) -> list[dt.datetime]:
    """start, each local Monday midnight strictly between, end: the edges of the bars."""
    monday = _monday(start, period).astimezone(period.tz).date()
    bounds = [start]
    while True:
        monday += dt.timedelta(days=7)
        edge = dt.datetime.combine(monday, dt.time(0), tzinfo=period.tz).astimezone(dt.UTC)
        if edge >= end:
            break
        bounds.append(edge)
    bounds.append(end)
    return bounds


def _bar_of(bounds: list[dt.datetime]) -> Any:
    """The bar an entry falls in, by its time against the edges (SQLite: any engine)."""
    at = ledger.c.created_at
    inner_edges = bounds[1:-1]
    if not inner_edges:
        return literal(0)
    return case(*((at < edge, i) for i, edge in enumerate(inner_edges)), else_=len(inner_edges))


def _local_monday(period: Period) -> Any:
    """PostgreSQL: the local date of the Monday starting the entry's week in the shop's zone."""
    local = func.timezone(period.tz.key, ledger.c.created_at)  # AT TIME ZONE: local wall time
    return cast(func.date_trunc("week", local), Date)


def _per_week(bounds: list[dt.datetime], week: Any) -> Any:
    at = ledger.c.created_at
    bucket = week.label("bucket")
    points, kind = ledger.c.points, ledger.c.kind
    inner = (
        select(bucket, ledger.c.customer_id, kind, points)
        .where(at >= bounds[0], at < bounds[-1])
        .subquery()
    )
    return select(
        inner.c.bucket,
        # Credits, as the summary counts them (a void giving a redemption back is not issued).
        func.sum(
            case(((inner.c.kind != "void") & (inner.c.points > 0), inner.c.points), else_=0)
        ).label("issued"),
        func.sum(case((inner.c.kind == "redeem", -inner.c.points), else_=0)).label("redeemed"),
        func.count(distinct(case((inner.c.kind.in_(ACTIVE_KINDS), inner.c.customer_id)))).label(
            "active"
        ),
    ).group_by(inner.c.bucket)
