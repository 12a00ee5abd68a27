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
from collections.abc import Sequence
from contextlib import closing
from itertools import chain
from pathlib import Path
from typing import Final
from urllib.parse import quote

import numpy as np

from core.expiry import ExpiryPolicy
from core.simulate import (
    KIND_CODES,
    BoolArray,
    Cards,
    Entries,
    IntArray,
    Simulation,
    simulate_columns,
)
from core.types import Program

from .periods import Period

__all__ = ["BATCH_ROWS", "open_read_only", "read_period", "simulate_period"]

BATCH_ROWS: Final = 50_000
# The covering index of the ledger's time ranges (core/db/tables.py). Named for the GROUP BY
# of the cards at the start: left to itself SQLite walks ix_ledger_customer_id_id and reads
# every row of the table, 20 times slower.
_BY_TIME: Final = "ix_ledger_created_at_kind_customer_id_points_amount_minor"
# core.rules.lifetime_change in SQL: credits raise lifetime points; a void or a refund takes
# back what it reverses.
_CREDIT: Final = "CASE WHEN kind IN ('void', 'refund') THEN min(points, 0) ELSE max(points, 0) END"
# An entry's time in whole seconds (core.simulate's Entries.at): unixepoch() where SQLite has
# it (3.38), a tenth of a second per million rows; strftime('%s') costs seven times that.
_SECONDS: Final = (
    "unixepoch(created_at)"
    if sqlite3.sqlite_version_info >= (3, 38)
    else "CAST(strftime('%s', created_at) AS INTEGER)"
)
# Kinds as core.simulate codes them, computed by SQLite so that every row is six integers.
_KIND: Final = (
    "CASE kind "
    + " ".join(f"WHEN '{kind}' THEN {code}" for kind, code in KIND_CODES.items())
    + " END"
)


def open_read_only(path: Path) -> sqlite3.Connection:
    """A connection to the SQLite file `path` that can only read it: SQLite refuses writes."""
    return sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)


def simulate_period(
    path: Path,
    period: Period,
    *,
    current: Program,
    proposed: Program,
    expiry: tuple[ExpiryPolicy, ExpiryPolicy] = (ExpiryPolicy(), ExpiryPolicy()),
) -> Simulation:
    """The period as recorded, and replayed under `current` and under `proposed`, in that
    order (`Simulation.replays == (current, proposed)`), each with its [expiry] policy."""
    rewards = tuple(dict.fromkeys(r.id for p in (current, proposed) for r in p.rewards))
    with closing(open_read_only(path)) as conn:
        cards, entries = read_period(conn, period, rewards)
    return simulate_columns(
        cards,
        entries,
        current=current,
        programs=(current, proposed),
        expiry=expiry,
        period=(period.start, period.end),
    )


def read_period(
    conn: sqlite3.Connection, period: Period, reward_ids: Sequence[str]
) -> tuple[Cards, Entries]:
    """Every member by the period's end with their card at its start, and the period's
    entries in time order; a redemption of a reward not in `reward_ids` is coded -1."""
    ids, cards = _cards(conn, period)
    return cards, _entries(conn, period, ids, tuple(reward_ids))


def _stamp(when: dt.datetime) -> str:
    """A time as SQLAlchemy stores it in SQLite (UTC, text), for comparing with created_at."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _cards(conn: sqlite3.Connection, period: Period) -> tuple[IntArray, Cards]:
    """The members' ids (sorted: a card's index is its place here) and their cards."""
    start, end = _stamp(period.start), _stamp(period.end)
    members = _columns(
        conn.execute(
            "SELECT id, created_at >= ? FROM customers WHERE created_at < ? ORDER BY id",
            (start, end),
        ),
        2,
    )
    ids = members[:, 0]
    before = _columns(
        conn.execute(
            f"SELECT customer_id, sum(points), sum({_CREDIT}), sum(kind = 'earn') FROM ledger "
            f"INDEXED BY {_BY_TIME} WHERE created_at < ? GROUP BY customer_id",
            (start,),
        ),
        4,
    )
    balance = np.zeros(len(ids), dtype=np.int64)
    lifetime = np.zeros(len(ids), dtype=np.int64)
    purchases = np.zeros(len(ids), dtype=np.int64)
    at, known = _index(ids, before[:, 0])
    balance[at[known]] = before[known, 1]
    lifetime[at[known]] = before[known, 2]
    purchases[at[known]] = before[known, 3]
    return ids, Cards(balance, lifetime, members[:, 1].astype(bool), purchases)


def _entries(
    conn: sqlite3.Connection,
    period: Period,
    ids: IntArray,
    reward_ids: tuple[str, ...],
) -> Entries:
    """The period's entries in time order, as columns. The reward is the one column the
    covering index lacks: read through a CASE, so SQLite fetches the row only for
    redemptions, never for the purchases."""
    reward = "CASE WHEN kind = 'redeem' THEN CASE reward_id {} ELSE -1 END ELSE -1 END".format(
        " ".join(f"WHEN ? THEN {n}" for n in range(len(reward_ids))) or "WHEN NULL THEN -1"
    )
    rows = _columns(
        conn.execute(
            f"SELECT customer_id, {_KIND}, points, coalesce(amount_minor, 0), {reward}, "
            f"{_SECONDS} "
            "FROM ledger WHERE created_at >= ? AND created_at < ? ORDER BY created_at",
            (*reward_ids, _stamp(period.start), _stamp(period.end)),
        ),
        6,
    )
    at, known = _index(ids, rows[:, 0])
    rows = rows[known]
    rows[:, 0] = at[known]
    return Entries.of_table(rows, reward_ids)


def _columns(cursor: sqlite3.Cursor, width: int) -> IntArray:
    """All rows of integers as one int64 array, a batch at a time (no Python object per
    value survives a batch)."""
    parts = []
    while rows := cursor.fetchmany(BATCH_ROWS):
        flat = np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=len(rows) * width)
        parts.append(flat.reshape(-1, width))
    return np.concatenate(parts) if parts else np.zeros((0, width), dtype=np.int64)


def _index(ids: IntArray, wanted: IntArray) -> tuple[IntArray, BoolArray]:
    """(where each wanted id sits in the sorted `ids`, whether it is there at all)."""
    at = np.searchsorted(ids, wanted).astype(np.int64)
    known = at < len(ids)
    known[known] = ids[at[known]] == wanted[known]
    return at, known
