"""core.db.staff role checks: served from memory, yet every change made through the store counts
at the very next check (the bot checks a role on every update, button presses included)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import staff as staff_module
from core.db.staff import StaffStore

CASHIER, OTHER = 2002, 3003


async def test_someone_added_as_cashier_is_a_cashier_at_the_next_check(
    engine: AsyncEngine, now: dt.datetime
) -> None:
    roles = StaffStore(engine)
    assert await roles.role_of(CASHIER) is None  # read and kept in memory

    await roles.add(CASHIER, "cashier", by=None, now=now)

    assert await roles.role_of(CASHIER) == "cashier"


async def test_a_removed_cashier_loses_the_role_at_the_next_check(
    engine: AsyncEngine, now: dt.datetime
) -> None:
    roles = StaffStore(engine)
    await roles.add(CASHIER, "cashier", by=None, now=now)
    assert await roles.role_of(CASHIER) == "cashier"

    await roles.remove(CASHIER)

    assert await roles.role_of(CASHIER) is None


async def test_someone_joining_with_an_invite_is_staff_at_the_next_check(
    engine: AsyncEngine, now: dt.datetime
) -> None:
    roles = StaffStore(engine)
    code = await roles.create_invite("cashier", by=OTHER, now=now)
    assert await roles.role_of(CASHIER) is None

    assert await roles.use_invite(code, CASHIER, now=now, name="Sam") == "cashier"

    assert await roles.role_of(CASHIER) == "cashier"


class ReadThenPause:
    """Wraps the engine so that a read, once it has run, waits for `resume`: the reader is
    holding the old answer while a change is committed."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.has_read, self.resume = asyncio.Event(), asyncio.Event()

    def begin(self) -> Any:
        return self.engine.begin()

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[ReadThenPause]:
        yield self  # standing in for the connection too: only execute() is used

    async def execute(self, statement: Any) -> Any:
        async with self.engine.connect() as conn:
            result = await conn.execute(statement)
            rows = result.all()
        self.has_read.set()
        await self.resume.wait()
        return SimpleNamespace(all=lambda: rows)


async def test_a_role_read_before_a_change_and_finished_after_it_is_not_kept(
    engine: AsyncEngine, now: dt.datetime
) -> None:
    roles = StaffStore(engine)
    paused = ReadThenPause(engine)
    roles.engine = paused  # type: ignore[assignment]
    racing = asyncio.create_task(roles.role_of(CASHIER))
    await paused.has_read.wait()  # it read "not staff"...

    roles.engine = engine
    await roles.add(CASHIER, "admin", by=None, now=now)  # ...then this commits...
    paused.resume.set()
    assert await racing is None  # ...and it answers what it read, once

    assert await roles.role_of(CASHIER) == "admin"


async def test_a_change_made_elsewhere_counts_once_the_roles_in_memory_are_too_old(
    engine: AsyncEngine, now: dt.datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot, elsewhere = StaffStore(engine), StaffStore(engine)  # e.g. two processes
    await bot.add(CASHIER, "cashier", by=None, now=now)
    assert await bot.role_of(CASHIER) == "cashier"

    await elsewhere.remove(CASHIER)
    assert await bot.role_of(CASHIER) == "cashier"  # for up to ROLES_MAX_AGE seconds
    monkeypatch.setattr(staff_module, "ROLES_MAX_AGE", 0.0)

    assert await bot.role_of(CASHIER) is None
