"""Reading a period's ledger for the what-if (`loyalty-bot simulate`), without writing a byte.

The database is opened read-only (SQLite's `mode=ro`): the simulator cannot change the shop's
records, not even by upgrading the schema (it reads only columns every revision has). Three
reads, all in SQL or streamed, none loading the ledger into memory:

1. members by the period's end, and whether each joined during it (the replay's signup bonus);
2. each card at the period's start: its balance and lifetime points summed from the entries
   before it, one GROUP BY over the covering index ix_ledger_created_at_kind_customer_id_...;
3. the period's entries in time order, a batch at a time from the same index. The redemption's
   reward is the one column the index lacks: read through a CASE, so SQLite fetches the row
   only for redemptions (a third of the entries), not for every purchase.

The fold itself is core/simulate.py, pure. Only SQLite is supported (the default database):
the stdlib driver is what makes streaming ten million rows take seconds, not minutes.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Final
from urllib.parse import quote

from core.simulate import Event, Simulation, Start, simulate
from core.types import EntryKind, Program

from .periods import Period

__all__ = ["BATCH_ROWS", "open_read_only", "read_period", "simulate_period"]

BATCH_ROWS: Final = 10_000
# The covering index of the ledger's time ranges (core/db/tables.py). Named for the GROUP BY
# of the cards at the start: left to itself SQLite walks ix_ledger_customer_id_id and reads
# every row of the table, 20 times slower.
_BY_TIME: Final = "ix_ledger_created_at_kind_customer_id_points_amount_minor"
# core.rules.lifetime_change in SQL: credits raise lifetime points; a void or a refund takes
# back what it reverses.
_CREDIT: Final = (
    "CASE WHEN kind IN ('void', 'refund') THEN min(points, 0) ELSE max(points, 0) END"
)
_KINDS: Final[dict[str, EntryKind]] = {
    k: k for k in ("signup_bonus", "earn", "redeem", "adjust", "void", "refund")
}


def open_read_only(path: Path) -> sqlite3.Connection:
    """A connection to the SQLite file `path` that can only read it: SQLite refuses writes."""
    return sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)


def simulate_period(
    path: Path, period: Period, *, current: Program, proposed: Program
) -> Simulation:
    """The period as recorded, and replayed under `current` and under `proposed`, in that
    order (`Simulation.replays == (current, proposed)`)."""
    with closing(open_read_only(path)) as conn:
        starts, events = read_period(conn, period)
        return simulate(starts, events, current=current, programs=(current, proposed))


def read_period(
    conn: sqlite3.Connection, period: Period
) -> tuple[dict[int, Start], Iterator[Event]]:
    """Every member by the period's end with their card at its start, and the period's entries
    in time order (a generator: read as it is consumed)."""
    return _starts(conn, period), _events(conn, period)


def _stamp(when: dt.datetime) -> str:
    """A time as SQLAlchemy stores it in SQLite (UTC, text), for comparing with created_at."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _starts(conn: sqlite3.Connection, period: Period) -> dict[int, Start]:
    """Every member by the period's end, with their card at its start."""
    start, end = _stamp(period.start), _stamp(period.end)
    members = conn.execute(
        "SELECT id, created_at >= ? FROM customers WHERE created_at < ?", (start, end)
    )
    starts = {cid: Start(joined=bool(new)) for cid, new in members}
    before = conn.execute(
        f"SELECT customer_id, sum(points), sum({_CREDIT}) FROM ledger INDEXED BY {_BY_TIME} "
        "WHERE created_at < ? GROUP BY customer_id",
        (start,),
    )
    for cid, balance, lifetime in before:
        if cid in starts:
            starts[cid] = Start(balance=balance, lifetime_earned=lifetime)
    return starts


def _events(conn: sqlite3.Connection, period: Period) -> Iterator[Event]:
    """The period's entries in time order, a batch at a time."""
    cursor = conn.execute(
        "SELECT created_at, customer_id, kind, points, amount_minor, "
        "CASE WHEN kind = 'redeem' THEN reward_id END "
        "FROM ledger WHERE created_at >= ? AND created_at < ? ORDER BY created_at",
        (_stamp(period.start), _stamp(period.end)),
    )
    parse, utc, kinds, make = dt.datetime.fromisoformat, dt.UTC, _KINDS, Event._make
    while rows := cursor.fetchmany(BATCH_ROWS):
        for when, cid, kind, points, minor, reward_id in rows:
            yield make((parse(when).replace(tzinfo=utc), cid, kinds[kind], points, minor, reward_id))
