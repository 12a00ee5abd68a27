"""The engine's hot paths at each database size, timed the way the bot calls them.

For each size (a cached database from bench/generate.py) this opens the database exactly as the
bot does (core.db.engine.open_engine: WAL, synchronous=FULL) and times, one call after another
on one event loop, like a bot handling one update at a time:
- lookup by card and by phone: Store.find_customer on what a cashier types ("4821 3376",
  "+44 7400 123456"), random customers;
- earn and redeem: Store.earn / Store.redeem on random customers with a fresh idempotency key
  each (as the bot's Confirm button carries), each one a durable commit;
- the same earn with synchronous=NORMAL, and the raw cost of one fsync on this disk, to show
  what durability costs (the bot never runs with NORMAL);
- the hooks in bench/hooks.py: /status, /report, CSV export, start-up and the bot's memory.
Each is warmed up first, then reported as median and p99 over `ops` calls. Writes go into the
cached database through the Store, so it stays consistent (it grows by ~1k entries per run).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import os
import random
import secrets
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.generate import Generated
from bench.hooks import HOOKS, Context, Probe
from bench.population import STAFF
from core.cards import format_card
from core.config import DEFAULT_PROGRAM
from core.contact import format_phone
from core.db.engine import open_engine
from core.db.store import Store
from core.types import Customer

log = logging.getLogger(__name__)

WARMUP = 30
CASHIER = STAFF[1]


@dataclass(frozen=True)
class Stats:
    """One measurement at one size: median and p99 (nearest rank) of its samples.

    `cpu` is the median CPU time of the whole process per call (all threads: aiosqlite's worker
    too), in the same unit. On a quiet machine wall time is CPU time plus waiting for the disk;
    on a busy one wall time also includes waiting for a core, and `cpu` is the steadier figure.
    """

    median: float
    p99: float
    n: int
    unit: str = "ms"
    cpu: float | None = None

    @classmethod
    def of(cls, samples: list[float], unit: str = "ms", cpu: list[float] | None = None) -> Stats:
        ordered = sorted(samples)
        rank = max(math.ceil(0.99 * len(ordered)) - 1, 0)
        cpu_median = statistics.median(cpu) if cpu else None
        return cls(statistics.median(ordered), ordered[rank], len(ordered), unit, cpu_median)


Result = Stats | str | None  # str: why the measurement failed; None: not measurable yet


# Measurements that read the SQLite file itself (`loyalty-bot simulate` streams it read-only),
# or exist to price SQLite's own durability setting: shown as such in a PostgreSQL column.
SQLITE_ONLY = {
    "simulate_365d": "SQLite only (simulate reads the file)",
    "simulate_read_365d": "SQLite only",
}


async def measure(
    made: Generated, *, ops: int, seed: int, url: str | None = None
) -> dict[str, Result]:
    """Every measurement for one generated database; None for hooks not implemented yet.

    `url`: measure a copy of it elsewhere (bench/postgres.py) instead of the SQLite file; the
    same customers are sampled (same seed), so the two columns compare like with like.
    """
    rng = random.Random(seed)
    results: dict[str, Result] = {}
    url = url or f"sqlite+aiosqlite:///{made.path}"
    sqlite = url.startswith("sqlite")
    engine = open_engine(url)
    try:
        store = Store(engine, DEFAULT_PROGRAM)
        sample = await _random_customers(store, ops + WARMUP, made.customers, rng)
        results["lookup_card"] = await _timed(
            ops, lambda i: store.find_customer(format_card(sample[i]["card_number"]))
        )
        results["lookup_phone"] = await _timed(
            ops, lambda i: store.find_customer(_as_typed(sample[i]["phone"] or ""))
        )
        results["earn"] = await _timed(ops, lambda i: _earn(store, sample[i], rng))
        rich = await _random_customers(store, ops + WARMUP, made.customers, rng, can_redeem=True)
        results["redeem"] = await _timed(ops, lambda i: _redeem(store, rich[i]))
        if sqlite:  # FULL: what the numbers above were measured with
            await _require_synchronous(engine, "2")
        database = Path(made.path)
        ctx = Context(
            engine, store, DEFAULT_PROGRAM, sample, ops, made.end, made.customers,
            database.parent, database, url,
        )  # fmt: skip
        for name, hook in HOOKS.items():
            if not sqlite and name in SQLITE_ONLY:
                results[name] = SQLITE_ONLY[name]
                continue
            probe = hook(ctx)
            try:
                results[name] = None if probe is None else await _probe(probe)
            except Exception as exc:  # recorded and shown in the table; the other rows still run
                log.exception("measuring %s failed", name)
                results[name] = f"failed: {type(exc).__name__}: {exc}"
    finally:
        await engine.dispose()
    if sqlite:
        results["earn_synchronous_normal"] = await _earn_relaxed(made, ops, rng)
    results["fsync"] = _fsync_cost(Path(made.path).parent, ops)
    return results


async def _timed(ops: int, call: Callable[[int], Awaitable[object]]) -> Stats:
    """Calls call(ops) ... call(ops + WARMUP - 1) untimed, then times call(0) ... call(ops - 1)."""
    return await _probe(Probe(run=call, repeat=ops, warmup=WARMUP))


async def _probe(probe: Probe) -> Stats:
    """Warms up, then runs the probe `repeat` times (or until its budget is spent)."""
    scale = {"ms": 1000.0, "s": 1.0}.get(probe.unit, 1.0)
    for i in range(probe.repeat, probe.repeat + probe.warmup):
        await probe.run(i)
    samples: list[float] = []
    cpu: list[float] = []
    deadline = None if probe.budget_s is None else time.perf_counter() + probe.budget_s
    for i in range(probe.repeat):
        if samples and deadline is not None and time.perf_counter() > deadline:
            break
        started, cpu_started = time.perf_counter(), time.process_time()
        value = await probe.run(i)
        elapsed = (time.perf_counter() - started) * scale
        cpu.append((time.process_time() - cpu_started) * scale)
        if probe.reports_value:
            assert isinstance(value, int | float), f"{value!r} is not a measurement"
            samples.append(float(value))
        else:
            samples.append(elapsed)
    return Stats.of(samples, probe.unit, None if probe.reports_value else cpu)


def _as_typed(e164: str) -> str:
    """'+447400123456' -> '+44 7400 123456': a phone number as a cashier would type it."""
    return format_phone(e164)


async def _earn(store: Store, customer: Customer, rng: random.Random) -> object:
    amount = Decimal(rng.randint(100, 8000)) / 100  # £1.00 - £80.00
    return await store.earn(
        customer["id"],
        amount,
        actor_id=CASHIER,
        now=dt.datetime.now(dt.UTC),
        key=secrets.token_hex(8),  # as bot/confirm.py makes them
    )


async def _redeem(store: Store, customer: Customer) -> object:
    return await store.redeem(
        customer["id"],
        "coffee",
        actor_id=CASHIER,
        now=dt.datetime.now(dt.UTC),
        key=secrets.token_hex(8),
    )


async def _random_customers(
    store: Store, count: int, size: int, rng: random.Random, *, can_redeem: bool = False
) -> list[Customer]:
    """`count` distinct random customers (only those who can afford a coffee, if asked)."""
    cost = min(r.cost for r in store.program.rewards) if can_redeem else 0
    found: dict[int, Customer] = {}
    for _ in range(count * 50):
        if len(found) == count:
            return list(found.values())
        c = await store.get_customer(rng.randint(1, size))
        if c["balance"] >= cost:
            found[c["id"]] = c
    raise RuntimeError(f"fewer than {count} customers can afford a reward: generate more")


async def _earn_relaxed(made: Generated, ops: int, rng: random.Random) -> Stats:
    """Earn with synchronous=NORMAL (not durable across a power cut): durability's price."""
    engine = open_engine(f"sqlite+aiosqlite:///{made.path}")

    @event.listens_for(engine.sync_engine, "connect")
    def _normal(dbapi_connection: Any, _record: Any) -> None:  # runs after open_engine's
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    try:
        store = Store(engine, DEFAULT_PROGRAM)
        await _require_synchronous(engine, "1")
        sample = await _random_customers(store, ops + WARMUP, made.customers, rng)
        return await _timed(ops, lambda i: _earn(store, sample[i], rng))
    finally:
        await engine.dispose()


async def _require_synchronous(engine: AsyncEngine, level: str) -> None:
    async with engine.connect() as conn:
        actual = str((await conn.execute(text("PRAGMA synchronous"))).scalar_one())
    if actual != level:
        raise RuntimeError(f"expected PRAGMA synchronous={level}, the connection has {actual}")


def _fsync_cost(folder: Path, ops: int) -> Stats:
    """One 4 KiB write + fsync on the disk holding the database: the floor of a durable commit."""
    probe = folder / "fsync-probe.tmp"
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    samples = []
    try:
        for _ in range(ops):
            os.write(fd, b"\0" * 4096)
            started = time.perf_counter()
            os.fsync(fd)
            samples.append((time.perf_counter() - started) * 1000)
    finally:
        os.close(fd)
        probe.unlink()
    return Stats.of(samples)


def run(made: Generated, *, ops: int, seed: int, url: str | None = None) -> dict[str, Result]:
    return asyncio.run(measure(made, ops=ops, seed=seed, url=url))
