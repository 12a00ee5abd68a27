"""A small ledger with known content, for asserting every report figure exactly.

The story, in UTC, around October 2026 in Europe/London ([2026-09-30 23:00, 2026-11-01 00:00)
in UTC, because London is on BST until 25 October). Signup bonus 50; coffee 100, cake 250;
Silver from 500 lifetime points at x1.25. Cashier 101 has no name; 102 is "Sam <till 2>".

     when (UTC)           who  what                         points  by
  1  2026-07-01 10:00     Dan  registers                       +50  101
  2  2026-09-01 10:00     Dan  buys 60.00                      +60  101
  3  2026-09-10 10:00     Ann  registers                       +50  101
  4  2026-09-20 12:00     Ann  buys 100.00                    +100  101
  5  2026-09-25 10:00     Eve  registers                       +50  101
  6  2026-09-26 10:00     Eve  buys 50.00                      +50  101
  -- October starts ---------------------------------------------------------------
  7  2026-09-30 23:00:00  Ann  buys 400.00 -> Silver          +400  101  (exactly at the start)
  8  2026-10-05 11:00     Bob  registers                       +50  102
  9  2026-10-05 11:05     Bob  buys 25.50                      +25  102
 10  2026-10-10 09:00     Ann  redeems cake                   -250  102
 11  2026-10-15 12:00     Eve  redeems coffee                 -100  101
 12  2026-10-16 12:00     Eve  buys 30.00                      +30  101
 13  2026-10-20 15:00     Ann  buys 80.00 (x1.25)             +100  102
 14  2026-10-21 10:00     Ann  redeems coffee                 -100  101
 15  2026-10-31 23:59:59  Cat  registers                       +50  101  (the last second)
  -- October ends -----------------------------------------------------------------
 16  2026-11-01 00:00:00  Bob  buys 10.00                      +10  101  (exactly at the end)

Balances today: Dan 110, Ann 300, Eve 30, Bob 85, Cat 50. Eve's name is a formula.

`correct` adds corrections on top, through the real Store (issue "Mistakes happen"):

 17  2026-10-02 09:00     Dan  refund 30.00 of entry 2         -30  101
 18  2026-10-25 12:00     Bob  adjustment "double scan"         -5  102
 19  2026-11-02 10:00     Eve  void of entry 12 (30.00)        -30  102  (an October purchase)
 20  2026-11-03 10:00     Ann  void of entry 14 (a coffee)    +100  102  (an October redemption)

Balances then: Dan 80, Ann 400, Eve 0, Bob 80, Cat 50.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Literal, TypeVar

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from core.config import DEFAULT_PROGRAM
from core.db.engine import open_engine
from core.db.migrate import upgrade
from core.db.staff import StaffStore
from core.db.store import Store
from core.types import Program

PROGRAM: Final = dataclasses.replace(DEFAULT_PROGRAM, signup_bonus=50)
NOW: Final = dt.datetime(2026, 11, 5, 12, 0, tzinfo=dt.UTC)  # when the report is asked for
EVE_NAME: Final = "=cmd|' /C calc'!A0"
CASHIER: Final = 101
SAM: Final = 102
SAM_NAME: Final = "Sam <till 2>"
PHONES: Final = {
    "Dan": "+447400100001",
    "Ann": "+447400100002",
    "Eve": "+447400100003",
    "Bob": "+447400100004",
    "Cat": "+447400100005",
}


def at(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, second, tzinfo=dt.UTC)


async def build(engine: AsyncEngine, program: Program = PROGRAM) -> dict[str, int]:
    """Writes the story above through the real Store; returns customer ids by first name."""
    store = Store(engine, program)
    await StaffStore(engine).add(SAM, "cashier", by=None, now=at(1, 1, 0), name=SAM_NAME)
    ids: dict[str, int] = {}

    async def register(name: str, when: dt.datetime, by: int) -> None:
        full = EVE_NAME if name == "Eve" else name
        email = f"{name.lower()}@example.org" if name != "Cat" else None
        result = await store.register(
            {"name": full, "phone": PHONES[name], "email": email}, actor_id=by, now=when
        )
        ids[name] = result["customer"]["id"]

    async def buy(name: str, amount: str, when: dt.datetime, by: int) -> None:
        await store.earn(ids[name], Decimal(amount), actor_id=by, now=when)

    async def redeem(name: str, reward: str, when: dt.datetime, by: int) -> None:
        await store.redeem(ids[name], reward, actor_id=by, now=when)

    await register("Dan", at(7, 1, 10), CASHIER)
    await buy("Dan", "60.00", at(9, 1, 10), CASHIER)
    await register("Ann", at(9, 10, 10), CASHIER)
    await buy("Ann", "100.00", at(9, 20, 12), CASHIER)
    await register("Eve", at(9, 25, 10), CASHIER)
    await buy("Eve", "50.00", at(9, 26, 10), CASHIER)
    await buy("Ann", "400.00", at(9, 30, 23), CASHIER)
    await register("Bob", at(10, 5, 11), SAM)
    await buy("Bob", "25.50", at(10, 5, 11, 5), SAM)
    await redeem("Ann", "cake", at(10, 10, 9), SAM)
    await redeem("Eve", "coffee", at(10, 15, 12), CASHIER)
    await buy("Eve", "30.00", at(10, 16, 12), CASHIER)
    await buy("Ann", "80.00", at(10, 20, 15), SAM)
    await redeem("Ann", "coffee", at(10, 21, 10), CASHIER)
    await register("Cat", at(10, 31, 23, 59, 59), CASHIER)
    await buy("Bob", "10.00", at(11, 1, 0), CASHIER)
    return ids


async def correct(engine: AsyncEngine, program: Program = PROGRAM) -> dict[str, int]:
    """Writes the corrections above after `build`; returns their entry ids by number (17..)."""
    store = Store(engine, program)

    async def entry_of(name: str, kind: str, when: dt.datetime) -> int:
        customer = await store.find_customer(PHONES[name])
        for entry in await store.recent_entries(customer["id"], limit=50):
            if entry["kind"] == kind and entry["created_at"] == when:
                return entry["id"]
        raise LookupError(name)  # pragma: no cover - the story has each of them

    dan_bought = await entry_of("Dan", "earn", at(9, 1, 10))
    eve_bought = await entry_of("Eve", "earn", at(10, 16, 12))
    ann_coffee = await entry_of("Ann", "redeem", at(10, 21, 10))
    bob = await store.find_customer(PHONES["Bob"])
    made = [
        await store.refund(
            dan_bought, Decimal(30), actor_id=CASHIER, now=at(10, 2, 9), key="fix-17"
        ),
        await store.adjust(
            bob["id"], -5, "double scan", actor_id=SAM, now=at(10, 25, 12), key="fix-18"
        ),
        await store.void(eve_bought, actor_id=SAM, now=at(11, 2, 10), key="fix-19"),
        await store.void(ann_coffee, actor_id=SAM, now=at(11, 3, 10), key="fix-20"),
    ]
    return {str(17 + n): result["entry_id"] for n, result in enumerate(made)}


def build_file(path: Path) -> dict[str, int]:
    """A migrated SQLite file at `path` holding the story, plus a config.toml beside it.

    Built once per test module (reports only read, so tests can share it), on its own event loop.
    """

    async def make() -> dict[str, int]:
        engine = open_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade(engine)
            return await build(engine)
        finally:
            await engine.dispose()

    ids = asyncio.run(make())
    path.with_name("config.toml").write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{path}"\n'
        "[program]\nsignup_bonus = 50\n"
        '[reports]\ntimezone = "Europe/London"\n',
        encoding="utf-8",
    )
    return ids


# --- the story on either engine ----------------------------------------------------------------

# The engines a report test module runs its story on: the parameter of its module-scoped
# `stories` fixture (PostgreSQL is skipped without LOYALTY_BOT_TEST_POSTGRES: tests/conftest.py).
ENGINES: Final = ("sqlite", "postgresql")
StoryName = Literal["story", "corrected"]
_T = TypeVar("_T")


@dataclasses.dataclass(frozen=True)
class Story:
    """A database holding the story (and, for "corrected", its corrections)."""

    url: str
    ids: dict[str, int]  # customer ids by first name
    config: Path  # a config.toml naming the database, for the CLI tests

    @property
    def engine_name(self) -> str:
        return make_url(self.url).get_backend_name()


def story_databases(
    request: pytest.FixtureRequest, folder: Path, *names: StoryName
) -> Iterator[dict[str, Story]]:
    """The named story databases on request.param's engine, built once for a module (reports
    only read, so its tests can share them); a PostgreSQL one is a database of its own beside
    the worker's, dropped when the module is done."""
    made: list[str] = []
    stories: dict[str, Story] = {}
    for name in names:
        if request.param == "postgresql":
            worker = str(request.getfixturevalue("postgres_db"))  # skips without a server
            database = f"{make_url(worker).database}_{name}"
            url = make_url(worker).set(database=database).render_as_string(hide_password=False)
            _in_a_thread(_recreate(worker, database))
            made.append(url)
        else:
            url = f"sqlite+aiosqlite:///{folder / f'{name}.db'}"
        ids = _in_a_thread(_fill(url, corrected=name == "corrected"))
        config = folder / f"{name}.toml"
        config.write_text(
            f'[database]\nurl = "{url}"\n'
            "[program]\nsignup_bonus = 50\n"
            '[reports]\ntimezone = "Europe/London"\n',
            encoding="utf-8",
        )
        stories[name] = Story(url, ids, config)
    yield stories
    for url in made:
        found = make_url(url)
        admin = found.set(database="postgres").render_as_string(hide_password=False)
        _in_a_thread(_drop(admin, str(found.database)))


def _in_a_thread(work: Coroutine[Any, Any, _T]) -> _T:
    # A loop of its own: a module's first test may already be inside pytest-asyncio's.
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, work).result()


async def _recreate(server: str, database: str) -> None:
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{database}"'))
    finally:
        await admin.dispose()


async def _drop(server: str, database: str) -> None:
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def _fill(url: str, *, corrected: bool) -> dict[str, int]:
    engine = open_engine(url)
    try:
        await upgrade(engine)
        ids = await build(engine)
        if corrected:
            await correct(engine)
        return ids
    finally:
        await engine.dispose()
