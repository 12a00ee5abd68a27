"""The `bot_state` table: what the bot was in the middle of, per person (bot/persistence.py).

Values are bytes the bot hands over (python-telegram-bot's conversation states and user_data,
pickled by the bot); this module only keeps them. Each write replaces one row in its own
transaction.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Delete, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from .tables import bot_state


async def load(engine: AsyncEngine, kind: str) -> dict[str, bytes]:
    """Every row of `kind`: key -> value."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(bot_state.c.key, bot_state.c.value).where(bot_state.c.kind == kind)
        )
        return {key: bytes(value) for key, value in rows}


async def save(engine: AsyncEngine, kind: str, key: str, value: bytes, now: dt.datetime) -> None:
    """Replaces the row (`kind`, `key`)."""
    async with engine.begin() as conn:
        await conn.execute(_where(kind, key))
        await conn.execute(
            insert(bot_state).values(kind=kind, key=key, value=value, updated_at=now)
        )


async def forget(engine: AsyncEngine, kind: str, key: str) -> bool:
    """Deletes the row (`kind`, `key`); whether there was one."""
    async with engine.begin() as conn:
        return (await conn.execute(_where(kind, key))).rowcount > 0


def _where(kind: str, key: str) -> Delete:
    return delete(bot_state).where(bot_state.c.kind == kind, bot_state.c.key == key)
