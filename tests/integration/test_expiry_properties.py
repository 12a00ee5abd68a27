"""Expiry against the real Store over random histories (hypothesis): purchases, redemptions and
voids spread over months, then the expiry written at a random later moment, twice.

Whatever happened: the points expired are exactly what core.expiry.due said was left of the
lots whose last day had passed (never points already spent); the expire entries took only from
those lots; the books balance (balance == sum(ledger), lots hold the balance, every debit took
its points from lots: tests/integration/books.py); and a second run writes nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from core import expiry
from core.config import DEFAULT_PROGRAM
from core.db import lots
from core.db.engine import open_engine
from core.db.store import Store
from core.db.tables import ledger, lot_uses, metadata
from core.errors import LoyaltyError

from .books import CASHIER, assert_books_balance, new_customer

START = dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC)
LONDON = ZoneInfo("Europe/London")

# (kind, amount or reward, which earlier entry, days after START)
steps = st.lists(
    st.tuples(
        st.sampled_from(["earn", "earn", "redeem", "void"]),
        st.integers(20, 300),
        st.integers(0, 30),
        st.integers(0, 120),
    ),
    min_size=1,
    max_size=12,
)
policies = st.sampled_from(
    [
        expiry.ExpiryPolicy(policy="after_days", days=30),
        expiry.ExpiryPolicy(policy="end_of_year", years=0),
        expiry.ExpiryPolicy(policy="inactivity", days=45),
    ]
)


async def play_and_expire(
    history: list[tuple[str, int, int, int]], policy: expiry.ExpiryPolicy, later: int
) -> None:
    engine = open_engine("sqlite+aiosqlite:///:memory:")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        store = Store(engine, DEFAULT_PROGRAM)
        customer_id = (await store.register(new_customer(), actor_id=CASHIER, now=START))[
            "customer"
        ]["id"]
        entries: list[int] = []
        for kind, value, which, days in sorted(history, key=lambda s: s[3]):
            when = START + dt.timedelta(days=days)
            try:
                if kind == "earn":
                    done = await store.earn(customer_id, Decimal(value), actor_id=CASHIER, now=when)
                    entries.append(done["entry_id"])
                elif kind == "redeem":
                    reward = "coffee" if value < 200 else "cake"
                    done_r = await store.redeem(customer_id, reward, actor_id=CASHIER, now=when)
                    entries.append(done_r["entry_id"])
                elif entries:
                    target = entries[which % len(entries)]
                    await store.void(target, actor_id=CASHIER, now=when, key=f"v{target}")
            except LoyaltyError:
                pass  # refused (short of points, voided already): nothing changed
        now = START + dt.timedelta(days=later)
        held = await store.unit.read(lots.open_lots, customer_id)
        card = await store.unit.read(lots.card, customer_id)
        bought = None if card.last_purchase_at is None else card.last_purchase_at
        bought = None if bought is None else bought.replace(tzinfo=dt.UTC)
        expected = expiry.due(policy, held, now, tz=LONDON, last_purchase_at=bought)
        expired_lots = {
            lot["id"]
            for lot in held
            if expiry.is_expired(
                expiry.last_day(policy, lot["earned_at"], tz=LONDON, last_purchase_at=bought)
                or dt.date.max - dt.timedelta(days=1),
                now,
                LONDON,
            )
        }

        first = await store.unit.write(
            lots.expire_once, customer_id, policy, tz=LONDON, since=None, now=now
        )
        second = await store.unit.write(
            lots.expire_once, customer_id, policy, tz=LONDON, since=None, now=now
        )

        assert first == expected
        assert second == []
        async with engine.connect() as conn:
            used = (
                await conn.execute(
                    select(lot_uses.c.lot_id)
                    .join(ledger, ledger.c.id == lot_uses.c.entry_id)
                    .where(ledger.c.kind == "expire")
                )
            ).all()
        assert {row.lot_id for row in used} <= expired_lots
        await assert_books_balance(store, customer_id)
        store.close()
    finally:
        await engine.dispose()


@settings(max_examples=40, deadline=None)
@given(steps, policies, st.integers(0, 500))
def test_expiry_takes_only_what_is_left_of_expired_lots_and_the_books_still_balance(
    history: list[tuple[str, int, int, int]], policy: expiry.ExpiryPolicy, later: int
) -> None:
    asyncio.run(play_and_expire(history, policy, later))
