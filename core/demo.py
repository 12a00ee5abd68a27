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

from core import rules
from core.config import Config
from core.db.engine import open_engine
from core.db.migrate import upgrade
from core.db.staff import StaffStore
from core.db.store import Store
from core.db.tables import customers
from core.errors import InsufficientPoints
from core.types import Program

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


# The console's pretend people (bot/cli/console.py) are among them, so a console session on the
# demo data sees itself in the staff report, and its customer has a linked card.
STAFF = (
    DemoStaff(700001, "Alex (owner)", "admin"),
    DemoStaff(700002, "Casey", "cashier"),
    DemoStaff(700010, "Priya", "cashier"),
    DemoStaff(700011, "Tom", "cashier"),
)
LINKED_CUSTOMER_TELEGRAM_ID = 700003
CONSOLE_NUMBER = 123456  # the linked customer's phone: +44 7400 123456
OPENS, CLOSES = 8, 19  # the shop's hours (local time): every demo purchase falls inside them


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
        tz = config.reports.tzinfo
        people = _people(rng, 50)
        targets = _target_tiers(rng, len(people), config.program)
        events: list[tuple[dt.datetime, int, Decimal]] = []
        ids: list[int] = []
        for n, ((name, phone), target) in enumerate(zip(people, targets, strict=True)):
            # Regulars (the higher tiers) have been coming since the start of the six months.
            days = 150 if target == 0 else 40
            joined = _shop_time(rng, start, start + dt.timedelta(days=days), tz)
            result = await store.register(
                {"name": name, "phone": phone, "email": _email(name, n)},
                actor_id=rng.choice(cashier_ids),
                now=joined,
            )
            customer_id = result["customer"]["id"]
            ids.append(customer_id)
            for amount in _purchases(rng, target, config.program):
                when = _shop_time(rng, joined, end, tz)
                events.append((when, customer_id, amount))
        redemptions = 0
        for when, customer_id, amount in sorted(events):
            actor = rng.choice(cashier_ids)
            earned = await store.earn(customer_id, amount, actor_id=actor, now=when)
            balance = earned["balance_after"]
            affordable = [r for r in config.program.rewards if r.cost <= balance]
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


def _shop_time(
    rng: random.Random, first: dt.datetime, last: dt.datetime, tz: dt.tzinfo
) -> dt.datetime:
    """A moment from first to last, on a day and at an hour the shop is open (local time)."""
    day = first.astimezone(tz).date() + dt.timedelta(
        days=rng.randint(0, max(0, (last - first).days))
    )
    minute = rng.randrange(OPENS * 60, CLOSES * 60)
    local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=tz)
    return min(max(local.astimezone(dt.UTC), first), last)


def _target_tiers(rng: random.Random, count: int, program: Program) -> list[int]:
    """The tier (an index into program.tiers) each customer's purchases should reach.

    Chosen, not left to chance, so every tier has members whatever the thresholds in the config:
    most customers stay in the first tier, about one in seven reaches each middle tier and a few
    regulars the top one. The console's customer (the first) is in the second tier, so their
    /status shows a tier above the first and the way to the next one.
    """
    top = len(program.tiers) - 1
    targets = [0] * count
    if top <= 0 or program.points_per_unit <= 0:
        return targets
    targets[0] = 1
    others = rng.sample(range(1, count), k=min(count - 1, 3 + 7 * (top - 1)))
    for i, n in enumerate(others):
        targets[n] = top if i < 3 else 1 + (i - 3) % (top - 1)  # k == 3 when top == 1
    return targets


def _purchases(rng: random.Random, target: int, program: Program) -> list[Decimal]:
    """Purchase amounts whose points take a customer into tier `target` and not beyond.

    Simulates the points exactly as the engine will award them (core/rules.py: the multiplier of
    the tier reached so far; redemptions never lower lifetime points), so the plan holds.
    """
    tiers = program.tiers
    low = tiers[target].min_points
    high = tiers[target + 1].min_points if target + 1 < len(tiers) else None
    if target == 0:
        goal = None  # occasional shoppers: a few visits, many only one or two
        visits = min(max(1, int(rng.paretovariate(1.2) * 3)), 25)
    else:
        span = (high - low) if high is not None else low
        goal = low + int(span * rng.uniform(0.05, 0.6))
        visits = 150
    # A typical basket is around 20; regulars buy more, so a tier takes some 45 visits at most.
    needed = Decimal(goal or 0) / program.points_per_unit
    scale = max(Decimal(1), needed / (Decimal(20) * 45))
    lifetime = program.signup_bonus
    amounts: list[Decimal] = []
    while len(amounts) < visits and (goal is None or lifetime < goal):
        basket = Decimal(str(round(rng.lognormvariate(3.0, 0.7), 1))) * scale
        amount = min(max(basket, Decimal("1.50")), Decimal(400), program.max_purchase)
        amount = amount.quantize(Decimal("0.01"))
        multiplier = rules.tier_for(lifetime, tiers).multiplier
        points = rules.points_for(amount, program.points_per_unit, multiplier)
        if high is not None and lifetime + points >= high:
            break  # this one would lift them a tier too far: they stop here
        lifetime += points
        amounts.append(amount)
    return amounts or [Decimal("1.50")]


def _people(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """Plausible names and unique UK mobile numbers (07400 xxxxxx, a valid mobile range)."""
    names = [f"{FIRST[0]} {LAST[0]}"]  # the console customer's own card
    while len(names) < count:
        name = f"{rng.choice(FIRST[1:])} {rng.choice(LAST)}"
        if name not in names:
            names.append(name)
    # The console customer has the number in /help's examples and the README's "Try:", so
    # `/earn 07400 123456 25.50` on the demo finds a card, and `/as customer` sees the points.
    others = [n for n in rng.sample(range(100000, 999999), count) if n != CONSOLE_NUMBER]
    numbers = [CONSOLE_NUMBER, *others[: count - 1]]
    return [(name, f"+447400{num:06d}") for name, num in zip(names, numbers, strict=True)]


def _email(name: str, n: int) -> str | None:
    if n % 3 == 2:  # about a third gave no e-mail, as at a real till
        return None
    local = name.lower().replace(" ", ".").replace("'", "").replace("ë", "e")
    return f"{local}@example.com"
