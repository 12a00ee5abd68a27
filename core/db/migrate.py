"""Creating and upgrading the schema with Alembic (`loyalty-bot db upgrade`; `run` does it too)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")


def _alembic_config(connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Brings the database schema up to `revision` (the newest by default)."""

    def _run(connection: Connection) -> None:
        if connection.dialect.name == "sqlite":
            # Python's sqlite3 opens a transaction only before INSERT/UPDATE/DELETE, so an ALTER
            # TABLE would run outside one, and a failure or crash half way through a migration
            # would leave its first steps behind (the next start then fails on "duplicate
            # column"). Begun explicitly, the whole upgrade commits or rolls back as one:
            # SQLite's DDL is transactional. PostgreSQL's DDL already is.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        command.upgrade(_alembic_config(connection), revision)

    async with engine.begin() as conn:
        await conn.run_sync(_run)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The schema revision the database is at (None for an empty database)."""

    def _current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(_current)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def known_revisions() -> list[str]:
    """Every schema revision this version of loyalty-bot has a migration for, oldest first.

    A database at a revision not in this list was upgraded by a newer loyalty-bot.
    """
    script = ScriptDirectory.from_config(_alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]
