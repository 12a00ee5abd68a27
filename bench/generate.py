"""Builds a benchmark database fast: `python -m bench.generate --customers 100000 --out x.db`.

The schema comes from the real migrations (core.db.migrate.upgrade), then rows go in with the
stdlib sqlite3 module in big executemany transactions, not through the Store one by one: ten
million Store.earn calls would take hours. Only while generating, SQLite runs with
synchronous=OFF and journal_mode=OFF (a crash just means generating again), and the plain
indexes of ledger and customers are dropped and rebuilt afterwards from their own CREATE INDEX
text (sorting once is much faster than ten million scattered inserts). CHECK constraints are off
while loading too; bench/verify.py then checks them, and every other invariant of the engine,
over the whole file. The file is left in WAL mode, as the bot runs it.

Databases are cached under bench/results/ (git-ignored) by size, with a JSON note of how and when
each was made, so a rerun of the benchmark reuses them. A new migration makes them stale
automatically (the note records the schema revision); bump GENERATOR_VERSION when the generated
data changes shape, e.g. a new column the Store fills in.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import queue
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench import population
from bench.verify import verify
from core.config import DEFAULT_PROGRAM
from core.db.engine import open_engine
from core.db.migrate import head_revision, upgrade
from core.types import Program

log = logging.getLogger(__name__)

GENERATOR_VERSION = 9  # 2: ledger.new_tier (migration 0002); 3: customers.last_visit_at (0003)
# 4: customers.purchases, spent_minor, redemptions (0004); 5: latest purchases/redemption (0005)
# 6: ledger.reverses_id, customers.points_owed (0007): NULL and 0, the generator corrects nothing
# 7: customers.search_key (0012), the folded name and e-mail /find searches
# 8: lots and lot_uses (0008), derived from the ledger in SQL (_write_lots)
# 9: customers.birthday, referral_code (0009), pinned_tier/reason (0010), notify, forgotten_at
#    (0011): their defaults (tier_points is left empty: the benchmarks run the lifetime basis)
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_SEED = 20240601


@dataclass(frozen=True)
class Generated:
    """A benchmark database and how it was made (the JSON note kept beside it)."""

    path: str
    customers: int
    entries: int
    now: str  # ISO time the history ends at: the "today" of the generated data
    seed: int
    seconds: float  # time taken to generate
    schema: str | None = None  # the Alembic revision it was migrated to
    generator_version: int = GENERATOR_VERSION

    @property
    def end(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.now)


def cached(customers: int, *, results: Path = RESULTS, seed: int = DEFAULT_SEED) -> Generated:
    """The database for `customers` under `results`, generated first unless already there."""
    results.mkdir(parents=True, exist_ok=True)
    db = results / f"loyalty-{customers}.db"
    note = db.with_suffix(".json")
    if db.exists() and note.exists():
        made = Generated(**json.loads(note.read_text()))
        current = (GENERATOR_VERSION, seed, head_revision())
        if (made.generator_version, made.seed, made.schema) == current:
            log.info("reusing %s (%d entries)", db, made.entries)
            return made
    return generate(customers, db, seed=seed)


def generate(
    customers: int,
    out: Path,
    *,
    seed: int = DEFAULT_SEED,
    program: Program = DEFAULT_PROGRAM,
    now: dt.datetime | None = None,
) -> Generated:
    """Writes a fresh, migrated, verified database with `customers` customers to `out`."""
    started = time.perf_counter()
    end = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    partial = out.with_name(out.name + ".partial")
    for stale in (out, partial, *_sidecars(out), *_sidecars(partial)):
        stale.unlink(missing_ok=True)
    out.with_suffix(".json").unlink(missing_ok=True)
    asyncio.run(_migrate(partial))
    rng = np.random.default_rng(seed)
    plan = population.plan(customers, end, rng)
    log.info("plan: %d customers, %d entries", plan.customers, plan.entries)
    cards = [population.card_for(i) for i in range(customers)]
    ledger = population.Ledger(program, cards, rng)
    with _bulk_connection(partial) as conn:
        _fill(conn, plan, ledger, rng)
    problems = verify(partial, program)
    if problems:
        raise RuntimeError("generated data breaks the engine's invariants: " + "; ".join(problems))
    partial.rename(out)
    with contextlib.closing(sqlite3.connect(out)) as conn:
        schema = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    made = Generated(
        path=str(out),
        customers=customers,
        entries=plan.entries,
        now=end.isoformat(),
        seed=seed,
        seconds=round(time.perf_counter() - started, 1),
        schema=schema,
    )
    out.with_suffix(".json").write_text(json.dumps(asdict(made), indent=2) + "\n")
    log.info("generated %s in %.0f s", out, made.seconds)
    return made


def _sidecars(db: Path) -> tuple[Path, Path]:
    return db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")


async def _migrate(path: Path) -> None:
    engine = open_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@contextlib.contextmanager
def _bulk_connection(path: Path) -> Iterator[sqlite3.Connection]:
    """sqlite3 connection with durability off while loading; WAL mode restored on the way out."""
    # Shared with the ledger-writer thread, one user at a time (see _write_ledger).
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "cache_size=-524288",  # 512 MiB: keeps the unique indexes' pages in memory
            "temp_store=MEMORY",
            # The kind and balance CHECKs cost a third of the insert time here; bench/verify.py
            # checks the same rules over the whole database once the rows are in.
            "ignore_check_constraints=ON",
        ):
            conn.execute(f"PRAGMA {pragma}")
        yield conn
        conn.execute("PRAGMA ignore_check_constraints=OFF")
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()


def _fill(
    conn: sqlite3.Connection,
    plan: population.Plan,
    ledger: population.Ledger,
    rng: np.random.Generator,
) -> None:
    _require_known_columns(conn)
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master "
        "WHERE type = 'index' AND tbl_name IN ('ledger', 'customers', 'lots') AND sql IS NOT NULL"
    ).fetchall()
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    _write_ledger(conn, ledger.rows(plan))
    _write_lots(conn)
    conn.execute("BEGIN")
    conn.executemany(
        _insert_sql("customers", population.CUSTOMER_COLUMNS),
        population.customer_rows(plan, ledger, rng),
    )
    added = plan.now.isoformat(sep=" ", timespec="microseconds")[:26]
    conn.executemany(
        "INSERT INTO staff (telegram_user_id, role, name, added_by, added_at) VALUES (?,?,?,?,?)",
        [
            (uid, "admin" if i == 0 else "cashier", f"Staff {i + 1}", None, added)
            for i, uid in enumerate(population.STAFF)
        ],
    )
    conn.execute("COMMIT")
    for name, sql in indexes:
        log.info("rebuilding %s", name)
        conn.execute(sql)


# Expiry's lots (migration 0008, core/db/lots.py) for a generated ledger: only earns and
# redemptions, in time order, never overdrawn, so oldest-first consumption is plain arithmetic
# over running sums. Lot i holds the credits (C[i-1], C[i]] of its card, redemption j spends
# (D[j-1], D[j]]; a lot has left min(points, max(0, C[i] - D[last])) and gave each redemption
# the overlap of the two ranges. SQL window sums instead of a Python replay of ten million rows.
_LOTS_SQL = (
    """
    CREATE TEMP TABLE credit_ranges AS
    SELECT id AS entry_id, customer_id, points, created_at,
           SUM(points) OVER (PARTITION BY customer_id ORDER BY id) AS hi
    FROM ledger WHERE points > 0
    """,
    """
    CREATE TEMP TABLE debit_ranges AS
    SELECT id AS entry_id, customer_id,
           SUM(-points) OVER (PARTITION BY customer_id ORDER BY id) AS hi, -points AS points
    FROM ledger WHERE points < 0
    """,
    "CREATE INDEX temp.credit_ranges_hi ON credit_ranges (customer_id, hi)",
    """
    INSERT INTO lots (id, customer_id, entry_id, points, remaining, earned_at)
    SELECT c.entry_id, c.customer_id, c.entry_id, c.points,
           MIN(c.points, MAX(0, c.hi - COALESCE(s.spent, 0))), c.created_at
    FROM credit_ranges c
    LEFT JOIN (SELECT customer_id, MAX(hi) AS spent FROM debit_ranges GROUP BY customer_id) s
           ON s.customer_id = c.customer_id
    ORDER BY c.entry_id
    """,
    """
    INSERT INTO lot_uses (entry_id, lot_id, points)
    SELECT d.entry_id, c.entry_id, MIN(d.hi, c.hi) - MAX(d.hi - d.points, c.hi - c.points)
    FROM debit_ranges d
    JOIN credit_ranges c
      ON c.customer_id = d.customer_id AND c.hi > d.hi - d.points AND c.hi - c.points < d.hi
    """,
    "DROP TABLE credit_ranges",
    "DROP TABLE debit_ranges",
)


def _write_lots(conn: sqlite3.Connection) -> None:
    """The lots and their uses the Store would have written for this ledger (lot id = the
    crediting entry's id: unique, and in oldest-first order)."""
    conn.execute("BEGIN")
    for sql in _LOTS_SQL:
        conn.execute(sql)
    conn.execute("COMMIT")
    log.info("lots written")


def _require_known_columns(conn: sqlite3.Connection) -> None:
    """Refuses a schema with columns the generator would leave NULL: the data would be wrong."""
    for table, known in (
        ("ledger", population.LEDGER_COLUMNS),
        ("customers", population.CUSTOMER_COLUMNS),
    ):
        columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if unknown := sorted(columns - set(known)):
            raise RuntimeError(
                f"{table} has columns the generator doesn't fill: {', '.join(unknown)}. "
                "Teach bench/population.py what the Store writes there, bump GENERATOR_VERSION."
            )


def _write_ledger(conn: sqlite3.Connection, chunks: Iterator[list[tuple[Any, ...]]]) -> None:
    """Inserts on a second thread while this one makes the next chunk: sqlite3 lets go of the
    GIL inside SQLite, so building rows and writing them overlap on two cores."""
    sql = _insert_sql("ledger", population.LEDGER_COLUMNS)
    pending: queue.Queue[list[tuple[Any, ...]] | None] = queue.Queue(maxsize=2)
    failed: list[BaseException] = []

    def write() -> None:
        try:
            while (rows := pending.get()) is not None:
                conn.execute("BEGIN")
                conn.executemany(sql, rows)
                conn.execute("COMMIT")
                if rows[-1][0] // 1_000_000 != rows[0][0] // 1_000_000:
                    log.info("ledger: %d rows written", rows[-1][0])
        except BaseException as exc:  # handed to the main thread, which re-raises it
            failed.append(exc)
            while pending.get() is not None:  # drain, so the producer never blocks forever
                pass

    writer = threading.Thread(target=write, name="ledger-writer")
    writer.start()
    try:
        for rows in chunks:
            pending.put(rows)
            if failed:
                break
    finally:
        pending.put(None)
        writer.join()
    if failed:
        raise failed[0]


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__)
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--out", type=Path, help="default: bench/results/loyalty-N.db (cached)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if args.out is None:
        made = cached(args.customers, seed=args.seed)
    else:
        made = generate(args.customers, args.out, seed=args.seed)
    print(json.dumps(asdict(made), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
