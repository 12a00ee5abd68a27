"""Demo data: a realistic, reproducible sample shop (`loyalty-bot demo`, `console --demo`).

About 50 customers with plausible names and UK mobile numbers, six months of purchases spread
across the tiers, some redemptions and a few staff. A fixed seed makes it the same every time
(relative to the day it is built, so "the last 30 days" always has data).

It goes through the real Store API, not bulk inserts: the demo then shows exactly what the engine
would have recorded, invariants included (balance == sum of the ledger). bench/ has the bulk
generator for millions of rows.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.engine import make_url

from core.config import Config
from core.db.engine import open_engine
from core.db.migrate import upgrade
from core.db.staff import StaffStore
from core.db.store import Store
from core.db.tables import customers
from core.errors import InsufficientPoints

SEED = 20261123
DEMO_FILE = "loyalty-demo.db"

FIRST = (
    "Chris Olivia Amelia Isla Ava Mia Ivy Lily Freya Noah Oliver George Arthur Leo Harry Oscar "
    "Muhammad Jack Charlie Priya Aisha Zoë Siobhan Mateusz Ioana Kwame Chen Ana Rhys Niamh "
    "Tomasz Fatima Yusuf Grace Ellie Ruby Sophie Liam Ethan Kofi Sakura Mei Hamza Ibrahim Lucia "
    "Owen Evie Daniel Hannah"
).split()
LAST = (
    "Taylor Smith Jones Williams Brown Davies Evans Wilson Thomas Johnson Roberts Patel Khan "
    "O'Brien Walker Wright Robinson Thompson White Hughes Edwards Green Hall Wood Harris Lewis "
    "Martin Jackson Clarke Clark Turner Hill Scott Cooper Morris Ward Nowak Kowalski Nguyen Ali "
    "Okafor Murphy Kelly Campbell Stewart MacDonald Singh Ahmed Begum"
).split()


@dataclass(frozen=True)
class DemoStaff:
    user_id: int
    name: str
    role: str


# The console's pretend people (bot/console.py) are among them, so a console session on the
# demo data sees itself in the staff report, and its customer has a linked card.
STAFF = (
    DemoStaff(700001, "Alex (owner)", "admin"),
    DemoStaff(700002, "Casey", "cashier"),
    DemoStaff(700010, "Priya", "cashier"),
    DemoStaff(700011, "Tom", "cashier"),
)
LINKED_CUSTOMER_TELEGRAM_ID = 700003


def demo_database_url(config: Config) -> str:
    """The demo's own SQLite file, beside the config file (or in the current folder)."""
    folder = config.path.parent if config.path is not None else Path.cwd()
    return f"sqlite+aiosqlite:///{(folder / DEMO_FILE).resolve()}"


def demo_path(url: str) -> Path:
    database = make_url(url).database
    assert database, "the demo needs a SQLite file"
    return Path(database)


async def build_demo(url: str, config: Config, *, today: dt.date | None = None) -> dict[str, int]:
    """(Re)creates the demo database at `url`; returns counts of what it holds."""
    path = demo_path(url)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)  # noqa: ASYNC240 - before any I/O starts
    rng = random.Random(SEED)
    end = dt.datetime.combine(today or dt.date.today(), dt.time(18, 0), tzinfo=dt.UTC)
    start = end - dt.timedelta(days=182)
    engine = open_engine(url, durable=False)  # a demo can be rebuilt: skip fsync per write
    try:
        await upgrade(engine)
        store = Store(engine, config.program)
        staff = StaffStore(engine)
        for member in STAFF:
            await staff.add(member.user_id, member.role, by=None, now=start, name=member.name)  # type: ignore[arg-type]
        cashier_ids = [m.user_id for m in STAFF]
        people = _people(rng, 50)
        events: list[tuple[dt.datetime, int, Decimal]] = []
        ids: list[int] = []
        for n, (name, phone) in enumerate(people):
            joined = start + dt.timedelta(minutes=rng.randrange(0, 150 * 24 * 60))
            result = await store.register(
                {"name": name, "phone": phone, "email": _email(name, n)},
                actor_id=rng.choice(cashier_ids),
                now=joined,
            )
            customer_id = result["customer"]["id"]
            ids.append(customer_id)
            # Visits per customer are skewed: a few regulars, many occasional shoppers.
            visits = max(1, int(rng.paretovariate(1.2) * 3))
            visits = min(visits, 60)
            for _ in range(visits):
                when = joined + (end - joined) * rng.random()
                amount = Decimal(str(round(rng.lognormvariate(3.0, 0.7), 1))).quantize(
                    Decimal("0.01")
                )
                amount = min(max(amount, Decimal("1.50")), Decimal("400.00"))
                events.append((when, customer_id, amount))
        redemptions = 0
        for when, customer_id, amount in sorted(events):
            actor = rng.choice(cashier_ids)
            await store.earn(customer_id, amount, actor_id=actor, now=when)
            customer = await store.get_customer(customer_id)
            affordable = [r for r in config.program.rewards if r.cost <= customer["balance"]]
            if affordable and rng.random() < 0.35:
                reward = rng.choice(affordable)
                try:
                    await store.redeem(
                        customer_id,
                        reward.id,
                        actor_id=actor,
                        now=when + dt.timedelta(minutes=2),
                    )
                    redemptions += 1
                except InsufficientPoints:  # pragma: no cover - affordability checked above
                    pass
        async with engine.begin() as conn:
            await conn.execute(
                update(customers)
                .where(customers.c.id == ids[0])
                .values(telegram_user_id=LINKED_CUSTOMER_TELEGRAM_ID)
            )
        return {"customers": len(ids), "purchases": len(events), "redemptions": redemptions}
    finally:
        await engine.dispose()


def _people(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """Plausible names and unique UK mobile numbers (07400 xxxxxx, a valid mobile range)."""
    names = [f"{FIRST[0]} {LAST[0]}"]  # the console customer's own card
    while len(names) < count:
        name = f"{rng.choice(FIRST[1:])} {rng.choice(LAST)}"
        if name not in names:
            names.append(name)
    numbers = rng.sample(range(100000, 999999), count)
    return [(name, f"+447400{num:06d}") for name, num in zip(names, numbers, strict=True)]


def _email(name: str, n: int) -> str | None:
    if n % 3 == 2:  # about a third gave no e-mail, as at a real till
        return None
    local = name.lower().replace(" ", ".").replace("'", "").replace("ë", "e")
    return f"{local}@example.com"
