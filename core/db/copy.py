"""`loyalty-bot db copy --to URL`: a shop's whole database into another one (SQLite to
PostgreSQL, the move issue "Beyond one box" asks for), in batches, resumable, verified.

- The target is brought to the newest schema by the same migrations, and must be empty or
  hold an earlier, interrupted copy of this same source (its rows a prefix of the source's).
- Tables go in foreign-key order (customers before the ledger that names them), each in
  primary-key order, BATCH rows a transaction; a run stopped anywhere starts again after the
  last row the target holds, so nothing is copied twice and nothing is skipped.
- Ids are copied as they are (a void names the entry it reverses by id), then PostgreSQL's
  id sequences are moved past them, so the next customer or entry gets a new id.
- At the end: every table has as many rows as the source, and every card's balance is the sum
  of its ledger in the target. Only then is the copy reported done.

The source must not change meanwhile: the bot is stopped (its lock is checked by the CLI).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Table, func, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .migrate import current_revision, head_revision, upgrade
from .tables import customers, ledger, metadata

BATCH: Final = 5_000

# Progress: (table, rows copied so far, rows in the source).
Progress = Callable[[str, int, int], None]


class CopyRefused(RuntimeError):
    """The copy cannot start or cannot be trusted; the message says why and what to do."""


@dataclass(frozen=True)
class Copied:
    tables: dict[str, int]  # rows in each table, source == target
    customers: int
    entries: int


async def copy_database(
    source: AsyncEngine,
    target: AsyncEngine,
    *,
    progress: Progress | None = None,
    batch: int = BATCH,
    stop_after: int | None = None,
) -> Copied:
    """Copies every table of `source` into `target` and verifies the result.

    `stop_after`: stop (raising CopyInterrupted) after that many batches, so tests can show a
    resumed copy ends as one run would.
    """
    if await current_revision(source) != head_revision():
        raise CopyRefused(
            "the source database is not at the newest schema: run `loyalty-bot db upgrade` first"
        )
    await upgrade(target)
    batches = 0
    for table in _tables():
        async with source.connect() as src:
            total = (await src.execute(select(func.count()).select_from(table))).scalar_one()
        done = await _count(target, table)
        await _check_prefix(source, target, table, done)
        while done < total:
            async with source.connect() as src:
                rows = await _next_rows(src, target, table, batch)
            if not rows:
                break
            async with target.begin() as dst:
                await dst.execute(table.insert(), rows)
            done += len(rows)
            if progress is not None:
                progress(table.name, done, total)
            batches += 1
            if stop_after is not None and batches >= stop_after:
                raise CopyInterrupted(f"stopped after {batches} batches")
    await move_sequences(target)
    return await _verify(source, target)


class CopyInterrupted(RuntimeError):
    """Raised by `stop_after` (tests): the copy stopped part-way, as a crash would."""


def _tables() -> list[Table]:
    """Every table of the schema, parents before children (Alembic's own is not in it)."""
    return metadata.sorted_tables


async def _count(engine: AsyncEngine, table: Table) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


def _key(table: Table) -> list[Any]:
    return list(table.primary_key.columns)


async def _last_key(engine: AsyncEngine, table: Table) -> tuple[Any, ...] | None:
    key = _key(table)
    async with engine.connect() as conn:
        row = (await conn.execute(select(*key).order_by(*(c.desc() for c in key)).limit(1))).first()
    return None if row is None else tuple(row)


async def _next_rows(
    src: AsyncConnection, target: AsyncEngine, table: Table, batch: int
) -> list[dict[str, Any]]:
    key = _key(table)
    query = select(table).order_by(*key).limit(batch)
    last = await _last_key(target, table)
    if last is not None:
        query = query.where(tuple_(*key) > tuple_(*last))
    return [dict(row._mapping) for row in await src.execute(query)]


async def _check_prefix(source: AsyncEngine, target: AsyncEngine, table: Table, done: int) -> None:
    """The target's rows of `table` must be the source's first `done` (an interrupted copy of
    this source), not another shop's data."""
    last = await _last_key(target, table)
    if done == 0 or last is None:
        return
    at_or_before = tuple_(*_key(table)) <= tuple_(*last)
    same = tuple_(*_key(table)) == tuple_(*last)
    async with source.connect() as src:
        upto = await src.execute(select(func.count()).select_from(table).where(at_or_before))
        found = await src.execute(select(func.count()).select_from(table).where(same))
        counts = (upto.scalar_one(), found.scalar_one())
    if counts != (done, 1):
        raise CopyRefused(
            f"the target already holds other data in {table.name}: copy into an empty database"
        )


async def move_sequences(target: AsyncEngine) -> None:
    """PostgreSQL: the next id of each table with an integer id comes after the copied ones."""
    if target.dialect.name != "postgresql":
        return  # SQLite's next id is always after the largest
    async with target.begin() as conn:
        for table in _tables():
            key = _key(table)
            if len(key) != 1 or not key[0].autoincrement or key[0].type.python_type is not int:
                continue
            name = table.name
            await conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', '{key[0].name}'),"
                    f" COALESCE((SELECT max({key[0].name}) FROM {name}), 0) + 1, false)"
                )
            )


async def _verify(source: AsyncEngine, target: AsyncEngine) -> Copied:
    counts: dict[str, int] = {}
    for table in _tables():
        theirs, ours = await _count(source, table), await _count(target, table)
        if theirs != ours:
            raise CopyRefused(f"{table.name}: {ours} rows copied of {theirs}: run the copy again")
        counts[table.name] = ours
    sums = (
        select(ledger.c.customer_id, func.sum(ledger.c.points).label("points"))
        .group_by(ledger.c.customer_id)
        .subquery()
    )
    wrong = (
        select(func.count())
        .select_from(customers.outerjoin(sums, sums.c.customer_id == customers.c.id))
        .where(customers.c.balance != func.coalesce(sums.c.points, 0))
    )
    async with target.connect() as conn:
        unbalanced = int((await conn.execute(wrong)).scalar_one())
    if unbalanced:
        raise CopyRefused(f"{unbalanced} cards' balances differ from their ledger in the target")
    return Copied(tables=counts, customers=counts["customers"], entries=counts["ledger"])
