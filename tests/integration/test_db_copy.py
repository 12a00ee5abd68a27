"""`loyalty-bot db copy`: a shop's SQLite database into PostgreSQL (issue "Beyond one box"),
in batches, resumable, verified; and the PostgreSQL copy then serves as the shop's database.
Runs when LOYALTY_BOT_TEST_POSTGRES names a server (tests/conftest.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.config import load_config
from core.db.copy import CopyInterrupted, CopyRefused, copy_database
from core.db.engine import open_engine
from core.db.migrate import upgrade
from core.db.store import Store
from core.db.tables import customers, ledger
from core.demo import build_demo

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


async def _shop(path: Path) -> AsyncEngine:
    """The demo shop, plus a void and a refund (entries that name other entries)."""
    url = f"sqlite+aiosqlite:///{path}"
    config = load_config(None, environ={})
    await build_demo(url, config)
    engine = open_engine(url)
    store = Store(engine, config.program)
    try:
        async with engine.connect() as conn:
            buyer = (await conn.execute(select(customers.c.id).limit(1))).scalar_one()
        first = await store.earn(buyer, Decimal(40), actor_id=1, now=NOW)
        second = await store.earn(buyer, Decimal(20), actor_id=1, now=NOW)
        await store.void(first["entry_id"], actor_id=1, now=NOW, key="copy-void")
        await store.refund(second["entry_id"], Decimal(5), actor_id=1, now=NOW, key="copy-refund")
    finally:
        store.close()
    return engine


async def _rows(engine: AsyncEngine) -> list[tuple[Any, ...]]:
    async with engine.connect() as conn:
        result = await conn.execute(
            select(
                ledger.c.id,
                ledger.c.customer_id,
                ledger.c.kind,
                ledger.c.points,
                ledger.c.reverses_id,
                ledger.c.idempotency_key,
            ).order_by(ledger.c.id)
        )
        return [tuple(row) for row in result]


async def test_a_copy_stopped_part_way_resumes_and_ends_as_one_run(
    tmp_path: Path, empty_postgres: str
) -> None:
    source = await _shop(tmp_path / "loyalty.db")
    target = open_engine(empty_postgres)
    seen: list[tuple[str, int, int]] = []
    try:
        with pytest.raises(CopyInterrupted):  # as if the machine died after three batches
            await copy_database(source, target, batch=100, stop_after=3)
        copied = await copy_database(source, target, batch=100, progress=lambda *p: seen.append(p))
        assert copied.customers == 50 and copied.entries == len(await _rows(source))
        assert await _rows(target) == await _rows(source)  # the same ids, voids naming them
        assert seen[-1][1] == seen[-1][2]  # the last table's progress reached its total
        # PostgreSQL's ids go on after the copied ones: the shop can serve from the copy.
        config = load_config(None, environ={})
        store = Store(target, config.program)
        try:
            new = await store.register(
                {"name": "After Copy", "phone": "+447400999001", "email": None},
                actor_id=1,
                now=NOW,
            )
            earned = await store.earn(new["customer"]["id"], Decimal(10), actor_id=1, now=NOW)
        finally:
            store.close()
        assert new["customer"]["id"] == 51
        last_copied = max(row[0] for row in await _rows(source))
        assert earned["entry_id"] == last_copied + 1
    finally:
        await source.dispose()
        await target.dispose()


async def test_a_copy_into_another_shops_database_is_refused(
    tmp_path: Path, empty_postgres: str
) -> None:
    other = await _shop(tmp_path / "other.db")  # 50 customers, already moved to PostgreSQL
    target = open_engine(empty_postgres)
    small = open_engine(f"sqlite+aiosqlite:///{tmp_path / 'small.db'}")
    try:
        await copy_database(other, target)
        await upgrade(small)
        store = Store(small, load_config(None, environ={}).program)
        try:
            await store.register(
                {"name": "Only One", "phone": "+447400999002", "email": None},
                actor_id=1,
                now=NOW,
            )
        finally:
            store.close()
        with pytest.raises(CopyRefused, match="already holds other data in customers"):
            await copy_database(small, target)
        async with target.connect() as conn:  # the other shop's data untouched
            assert (await conn.execute(select(func.count()).select_from(customers))).scalar() == 50
    finally:
        await other.dispose()
        await small.dispose()
        await target.dispose()
