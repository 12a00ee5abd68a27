"""Databases for the storage tests: a real shop, and the same shop broken in real ways.

Each fault is made for real where it can be: random bytes, a truncated copy, a page overwritten
with garbage, a schema stamped by a "newer" loyalty-bot, another program's database, a folder
that is a file, a folder this user can't write (chmod, or chattr +i for root, who ignores
chmod), a full disk (SQLite's max_page_count: the same SQLITE_FULL a full disk gives).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import os
import random
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import core.db.engine as engine_module
from core.config import load_config
from core.db.engine import open_engine
from core.db.migrate import upgrade
from core.demo import build_demo

TOKEN = "4839574812:AAE2e-Secret_token_never_in_any_logX"
PAGE = 4096


def build_shop(folder: Path) -> Path:
    """The demo shop (50 customers, some 700 ledger entries) as a plain loyalty.db."""
    path = folder / "loyalty.db"
    config = load_config(None, environ={})
    asyncio.run(build_demo(f"sqlite+aiosqlite:///{path}", config))
    return path


def build_at(path: Path, revision: str) -> Path:
    """An empty database migrated up to `revision` only."""

    async def go() -> None:
        engine = open_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine, revision)
        await engine.dispose()

    asyncio.run(go())
    return path


def write_config(folder: Path, database: Path) -> Path:
    config = folder / "config.toml"
    config.write_text(
        f'[telegram]\ntoken = "{TOKEN}"\nbase_url = "http://127.0.0.1:9/bot"\n\n'
        f'[database]\nurl = "sqlite+aiosqlite:///{database}"\n',
        encoding="utf-8",
    )
    return config


def digest(path: Path) -> str | None:
    """The file's bytes, hashed; None if there is no file."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


# --- faults ------------------------------------------------------------------------------------


def random_bytes(path: Path) -> None:
    path.write_bytes(random.Random(11).randbytes(8 * PAGE))


def truncated(path: Path, shop: Path) -> None:
    shutil.copyfile(shop, path)
    os.truncate(path, (shop.stat().st_size // 2) // PAGE * PAGE)


def garbled_page(path: Path, shop: Path, page: int = 60) -> None:
    shutil.copyfile(shop, path)
    with path.open("r+b") as file:
        file.seek((page - 1) * PAGE)
        file.write(random.Random(7).randbytes(PAGE))


def stamped(path: Path, shop: Path, revision: str = "0042") -> None:
    """The shop as a newer loyalty-bot would leave it: at a revision this one doesn't know."""
    shutil.copyfile(shop, path)
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE alembic_version SET version_num = ?", (revision,))


def foreign(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("INSERT INTO recipes (name) VALUES ('scones')")


@contextlib.contextmanager
def unwritable(path: Path) -> Iterator[None]:
    """A folder that refuses new files, or a file that refuses writes: chmod for a user,
    chattr +i for root (whom chmod can't stop)."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode & 0o777
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip("running as root without chattr +i: no way to make a path unwritable")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def fill_the_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every SQLite connection the bot opens from now on can't grow its file: SQLITE_FULL."""
    original: Callable[..., Callable[[Any, Any], None]] = engine_module._sqlite_pragmas

    def pragmas(*, durable: bool) -> Callable[[Any, Any], None]:
        inner = original(durable=durable)

        def set_pragmas(dbapi_connection: Any, record: Any) -> None:
            inner(dbapi_connection, record)
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA page_count")
            pages = cursor.fetchone()[0]
            cursor.execute(f"PRAGMA max_page_count={max(pages, 1)}")
            cursor.close()

        return set_pragmas

    monkeypatch.setattr(engine_module, "_sqlite_pragmas", pragmas)


@dataclasses.dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stderr.strip().splitlines()
