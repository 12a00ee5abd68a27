"""Measurements beyond the Store's hot paths: one hook each, None where the feature isn't built.

Each hook gets the open benchmark database (a `Context`) and returns a `Probe` (what to time and
how often), or None when the feature it measures does not exist yet: micro.py then prints "not
yet" in its row. To add a measurement, write its hook, add it to HOOKS and a row to report.ROWS.

    HOOK                 MEASURES                                  CALLS
    status_rendered      staff /status for one customer            bot.cards.card_text
    report_summary_30d   /report summary, the last 30 days         core.reports.queries.summary
    report_summary_all   /report summary, all time                 core.reports.queries.summary
    csv_export           customers CSV, all time, with contacts    core.reports.csv_export
    csv_export_memory    peak RSS growth during that export        core.reports.csv_export
    simulate_365d        what-if over 365 days: actual, replayed   core.reports.simulation
                         and a proposed program (2x points, bonus)
    simulate_read_365d   baseline: reading that period's entries   core.reports.simulation
                         alone, in the same run (no fold)
    startup_to_ready     `loyalty-bot run` start to first poll     bench.startup.measure_startup
    bot_peak_rss         peak RSS of that process (VmHWM)          bench.startup.measure_startup
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import gc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cards import card_text
from bot.services import Services
from core.cards import format_card
from core.config import DEFAULT_PROGRAM, Config, ReportsConfig, TelegramConfig
from core.db.staff import StaffStore
from core.db.store import Store
from core.reports.csv_export import customers_csv, write_csv
from core.reports.periods import parse_period
from core.reports.queries import summary
from core.reports.simulation import open_read_only, simulate_period
from core.reports.simulation import read_period as read_simulated_period
from core.types import Customer, Program


@dataclass(frozen=True)
class Context:
    engine: AsyncEngine
    store: Store
    program: Program
    customers: list[Customer]  # random, distinct: `ops` to time plus some to warm up with
    ops: int  # timed calls for per-customer measurements
    now: dt.datetime  # the end of the generated history ("today" for period reports)
    size: int
    scratch: Path  # a folder for files a measurement writes (bench/results/)
    database: Path  # the SQLite file, for measurements that start the bot on it
    database_url: str  # what the bot opens: that file, or its PostgreSQL copy
    memo: dict[str, list[dict[str, float]]] = field(default_factory=dict)  # shared by hooks
    tz: ZoneInfo = field(default_factory=lambda: ReportsConfig().tzinfo)  # the default shop's


@dataclass(frozen=True)
class Probe:
    run: Callable[[int], Awaitable[object]]  # called with 0, 1, 2 ...: the i-th repetition
    repeat: int  # how many timed runs (fewer for the slow, whole-database ones)
    warmup: int = 0  # untimed runs first, called with repeat, repeat + 1, ...
    unit: str = "ms"  # "ms" or "s" for timings
    # Stop repeating once this many seconds have gone by (whole-database work at 1M customers
    # can take long on a busy machine; one sample is better than a benchmark nobody waits for).
    budget_s: float | None = None
    # True when run() returns the sample itself (a float in `unit`, e.g. "MB") instead of being
    # timed: peak memory is read, not clocked.
    reports_value: bool = False


Hook = Callable[[Context], Probe | None]
STARTUP_RUNS = 3


def status_rendered(ctx: Context) -> Probe | None:
    """Staff's /status for one customer: the lookup by card, recent entries, the card's HTML.

    Everything the bot does for /status except the network round trip to Telegram.
    """
    config = Config(
        telegram=TelegramConfig(token=""),  # never used: nothing is sent
        database_url=str(ctx.engine.url),
        program=ctx.program,
    )
    svc = Services(config, ctx.engine, ctx.store, StaffStore(ctx.engine))
    people = ctx.customers

    async def run(i: int) -> object:
        customer = await ctx.store.find_customer(
            format_card(people[i % len(people)]["card_number"])
        )
        return await card_text(svc, customer, for_staff=True)

    return Probe(run=run, repeat=ctx.ops, warmup=len(people) - ctx.ops)


def report_summary_30d(ctx: Context) -> Probe | None:
    """The /report summary over the 30 days before ctx.now (the end of the generated history)."""
    return _report(ctx, days=30)


def report_summary_all(ctx: Context) -> Probe | None:
    """The /report summary over all time (the whole ledger)."""
    return _report(ctx, days=None)


def _report(ctx: Context, *, days: int | None) -> Probe | None:
    period = parse_period("all" if days is None else f"{days}d", now=ctx.now, tz=ctx.tz)

    async def run(_: int) -> object:
        return await summary(ctx.engine, period, ctx.program, now=ctx.now)

    return Probe(run=run, repeat=5 if days else 3, unit="s", budget_s=30)


def csv_export(ctx: Context) -> Probe | None:
    """The customers CSV, all time, with contacts (the largest), streamed to a file; seconds."""
    period = parse_period("all", now=ctx.now, tz=ctx.tz)
    out = ctx.scratch / "customers-export.csv"

    async def run(_: int) -> object:
        try:
            with out.open("wb") as f:
                chunks = customers_csv(ctx.engine, period, include_contacts=True)
                return await write_csv(chunks, f)
        finally:
            out.unlink(missing_ok=True)

    return Probe(run=run, repeat=1, unit="s")


def csv_export_memory(ctx: Context) -> Probe | None:
    """How far the export lifts this process's peak RSS above where it started; MB.

    "Memory flat" means this stays about the same from 10k to 1M customers. The kernel's peak
    (VmHWM) is reset first through /proc/self/clear_refs, so earlier work doesn't count.
    """
    if not _STATUS.exists() or not _CLEAR_REFS.exists():
        return None  # not Linux: no per-process peak to reset
    export = csv_export(ctx)
    assert export is not None

    async def run(i: int) -> object:
        before = _reset_peak_rss()
        await export.run(i)
        return _memory_mb("VmHWM") - before

    return Probe(run=run, repeat=1, unit="MB", reports_value=True)


_STATUS, _CLEAR_REFS = Path("/proc/self/status"), Path("/proc/self/clear_refs")


def _reset_peak_rss() -> float:
    """Sets the kernel's peak RSS (VmHWM) back to the current RSS; returns that, in MB."""
    gc.collect()
    _CLEAR_REFS.write_text("5")  # "5": reset the peak RSS to the current RSS
    return _memory_mb("VmRSS")


def _memory_mb(field: str) -> float:
    for line in _STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB -> MB
    raise RuntimeError(f"no {field} in {_STATUS}")


# The what-if's proposed program: twice the points and a signup bonus, the same tiers.
_PROPOSED = dataclasses.replace(DEFAULT_PROGRAM, points_per_unit=Decimal(2), signup_bonus=50)


def simulate_365d(ctx: Context) -> Probe | None:
    """`loyalty-bot simulate --period 365d` without the printing: the read-only stream of the
    period's entries folded through the actual column and two replays; seconds."""
    period = parse_period("365d", now=ctx.now, tz=ctx.tz)

    async def run(_: int) -> object:
        return await asyncio.to_thread(
            simulate_period, ctx.database, period, current=ctx.program, proposed=_PROPOSED
        )

    return Probe(run=run, repeat=3, unit="s", budget_s=120)


def simulate_read_365d(ctx: Context) -> Probe | None:
    """The baseline for simulate_365d in the same run: the same reads (cards at the start, the
    period's entries) with nothing folded. The ratio is the fold's cost; the rest is SQLite."""
    period = parse_period("365d", now=ctx.now, tz=ctx.tz)

    rewards = [r.id for r in ctx.program.rewards]

    def read() -> int:
        with contextlib.closing(open_read_only(ctx.database)) as conn:
            cards, entries = read_simulated_period(conn, period, rewards)
            return len(cards.balance) + len(entries.customer)

    async def run(_: int) -> object:
        return await asyncio.to_thread(read)

    return Probe(run=run, repeat=3, unit="s", budget_s=60)


def startup_to_ready(ctx: Context) -> Probe | None:
    """Seconds from spawning `loyalty-bot run` on this database to its first getUpdates.

    bench/startup.py (the throughput benchmark's) spawns the bot against a fake Bot API; each
    run also answers a staff /status and confirms an /earn. Runs are kept for bot_peak_rss.
    """

    async def run(_: int) -> object:
        measured = await asyncio.to_thread(_startup, ctx.database, ctx.database_url)
        ctx.memo.setdefault("startup", []).append(measured)
        return measured["startup_s"]

    return Probe(run=run, repeat=STARTUP_RUNS, unit="s", reports_value=True, budget_s=60)


def bot_peak_rss(ctx: Context) -> Probe | None:
    """Peak RSS (VmHWM) of `loyalty-bot run` after start-up, a /status and an /earn; MB.

    The highest of the start-up runs above (one more run if there were none).
    """

    async def run(_: int) -> object:
        runs = ctx.memo.get("startup") or [
            await asyncio.to_thread(_startup, ctx.database, ctx.database_url)
        ]
        return max(r["peak_rss_mb"] for r in runs)

    return Probe(run=run, repeat=1, unit="MB", reports_value=True)


def _startup(database: Path, url: str) -> dict[str, float]:
    # Imported here: it pulls in the bot and the tests' fake Bot API, which only these need.
    from bench.startup import measure_startup

    return measure_startup(database, url=url)


# Printed in this order; the names are the JSON keys in bench/results/.
HOOKS: dict[str, Hook] = {
    "status_rendered": status_rendered,
    "report_summary_30d": report_summary_30d,
    "report_summary_all": report_summary_all,
    "csv_export": csv_export,
    "csv_export_memory": csv_export_memory,
    "simulate_365d": simulate_365d,
    "simulate_read_365d": simulate_read_365d,
    "startup_to_ready": startup_to_ready,
    "bot_peak_rss": bot_peak_rss,
}
