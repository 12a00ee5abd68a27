"""PostgreSQL for the tests (tests/conftest.py has the fixtures): a database emptied between
tests, faster than creating one per test (TRUNCATE of every table, numbering restarted)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.engine import open_engine


async def emptied(url: str) -> AsyncEngine:
    """An engine on the worker's database with every table emptied and numbering restarted."""
    engine = open_engine(url)
    async with engine.begin() as conn:
        tables = (
            await conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                    " AND tablename != 'alembic_version'"
                )
            )
        ).scalars()
        names = ", ".join(f'"{t}"' for t in tables)
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    return engine
