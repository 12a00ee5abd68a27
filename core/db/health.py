"""Is a database file whole and do its books balance? (`loyalty-bot db check`, backup, restore)

Two kinds of check, both read-only:
- SQLite's own: `PRAGMA integrity_check` reads every page and index (`quick_check` skips the
  index-against-table comparison and is faster): a damaged page, a truncated file, an index
  that disagrees with its table;
- the ledger's invariants (docs/database.md, "How balance == sum(ledger) is kept"): every
  balance equals the sum of its card's ledger entries, lifetime earned and redeemed equal the
  ledger's credits and debits, no balance is negative, every entry's balance_after is the
  running sum, no entry belongs to a card that does not exist; and the outbox's rows are
  consistent (a message is done exactly when it has an outcome).

Used by `loyalty-bot db check`, and on every backup before it is called verified and on every
file before it is restored. On PostgreSQL (`check_url`) the ledger's invariants are the same
SQL, read in one REPEATABLE READ snapshot; the pages are PostgreSQL's own business (its
checksums, amcheck), so that check is replaced by one that every constraint is validated.
Backups and restores of PostgreSQL are its own too (docs/operations.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, make_url

from .faults import SQLITE_CORRUPT, SQLITE_NOTADB, open_read_only

EXAMPLES: Final = 3  # cards quoted per failed check

# Runs one statement and returns its rows: a sqlite3 connection's or SQLAlchemy's, so the same
# checks read a SQLite file and a PostgreSQL database.
Read = Callable[[str], Sequence[Sequence[Any]]]


@dataclass(frozen=True)
class Finding:
    name: str
    ok: bool
    detail: str


@dataclass
class Health:
    path: Path | str  # the file, or a PostgreSQL database's URL without its password
    revision: str | None = None
    customers: int = 0
    entries: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings)

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if not f.ok]

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.findings.append(Finding(name, ok, detail))

    def report(self) -> str:
        """The short report `loyalty-bot db check` prints."""
        lines = [
            f"checked {self.path} (schema revision {self.revision or 'none'}, "
            f"{self.customers} customers, {self.entries} ledger entries)"
        ]
        lines += [f"  {'ok  ' if f.ok else 'FAIL'}  {f.name}: {f.detail}" for f in self.findings]
        if self.ok:
            lines.append("healthy")
        else:
            count = len(self.problems)
            lines.append(
                f"NOT healthy: {count} problem{'s' if count > 1 else ''} "
                "(docs/operations.md says what to do)"
            )
        return "\n".join(lines)

    def first_problem(self) -> str:
        problem = self.problems[0] if self.problems else None
        return "" if problem is None else f"{problem.name}: {problem.detail}"


def check(path: Path, *, thorough: bool = True) -> Health:
    """Checks the SQLite file at `path` without changing it. Raises StorageFault if it is missing.

    thorough=False uses quick_check instead of integrity_check (minutes less on a large file).
    """
    from .migrate import known_revisions

    health = Health(path)
    with contextlib.closing(open_read_only(path)) as db:
        try:
            _pages(db, health, thorough=thorough)
        except sqlite3.DatabaseError as error:
            if not _damaged(error):
                raise
            health.add("pages", False, "not a SQLite database, or damaged: restore a backup")
            return health
        # On: a failed integrity check may be one bad index or a CHECK constraint broken by a
        # hand edit, and the books say which cards are affected.
        try:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            _ledger_checks(_reader(db), health, tables, known_revisions())
        except sqlite3.DatabaseError as error:
            if not _damaged(error):
                raise
            health.add("books", False, "damaged pages stop them being read: restore a backup")
    return health


def check_url(url: str) -> Health:
    """Checks the PostgreSQL database at `url` without changing it: the same invariants as
    `check`, in one read-only snapshot, and that no constraint was added NOT VALID."""
    from .engine import open_engine
    from .migrate import known_revisions

    health = Health(make_url(url).render_as_string(hide_password=True))

    def read_all(conn: Connection) -> None:
        def read(sql: str) -> Sequence[Sequence[Any]]:
            return [tuple(row) for row in conn.exec_driver_sql(sql).all()]

        tables = {r[0] for r in read(_PG_TABLES)}
        unvalidated = [str(r[0]) for r in read(_PG_UNVALIDATED)]
        if unvalidated:
            health.add(
                "constraints",
                False,
                f"not validated: {', '.join(unvalidated[:EXAMPLES])}: ALTER TABLE ... VALIDATE "
                "CONSTRAINT, or restore",
            )
        else:
            health.add("constraints", True, "every constraint and foreign key is validated")
        _ledger_checks(read, health, tables, known_revisions())

    async def go() -> None:
        engine = open_engine(url)
        try:
            async with engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="REPEATABLE READ")
                async with conn.begin():
                    await conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                    await conn.run_sync(read_all)
        finally:
            await engine.dispose()

    asyncio.run(go())
    return health


_PG_TABLES: Final = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
_PG_UNVALIDATED: Final = """
SELECT conrelid::regclass || '.' || conname FROM pg_constraint
WHERE NOT convalidated AND connamespace = current_schema()::regnamespace ORDER BY 1
"""


def _reader(db: sqlite3.Connection) -> Read:
    return lambda sql: db.execute(sql).fetchall()


def _one(read: Read, sql: str) -> Any:
    return read(sql)[0][0]


def _ledger_checks(read: Read, health: Health, tables: set[str], known: list[str]) -> None:
    """Everything after the pages: the schema's revision, then the books, lots and outbox."""
    if not _schema(read, health, tables, known):
        return
    _books(read, health)
    if "lots" in tables:
        _lots(read, health)
    if "outbox" in tables:
        _outbox(read, health)


def _damaged(error: sqlite3.DatabaseError) -> bool:
    return getattr(error, "sqlite_errorcode", 0) & 0xFF in (SQLITE_CORRUPT, SQLITE_NOTADB)


def _pages(db: sqlite3.Connection, health: Health, *, thorough: bool) -> None:
    pragma = "integrity_check" if thorough else "quick_check"
    rows = [str(r[0]) for r in db.execute(f"PRAGMA {pragma}")]
    if rows == ["ok"]:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        health.add("pages", True, f"{pragma} read {pages} pages and found nothing wrong")
    else:
        more = f" (and {len(rows) - EXAMPLES} more)" if len(rows) > EXAMPLES else ""
        health.add("pages", False, f"{pragma}: {'; '.join(rows[:EXAMPLES])}{more}")


def _schema(read: Read, health: Health, tables: set[str], known: list[str]) -> bool:
    """Checks the schema revision; False when the books can't be read with this schema."""
    if "alembic_version" not in tables:
        health.add("schema", False, "no loyalty-bot schema revision: not a loyalty-bot database")
        return False
    rows = read("SELECT version_num FROM alembic_version")
    health.revision = rows[0][0] if rows else None
    head = known[-1] if known else None
    if health.revision not in known:
        health.add(
            "schema",
            False,
            f"revision {health.revision} is unknown to this loyalty-bot (it knows up to {head}):"
            " check it with the newer version that upgraded it",
        )
        return False
    if health.revision != head:
        health.add(
            "schema",
            True,
            f"revision {health.revision}; `loyalty-bot db upgrade` brings it to {head}",
        )
    else:
        health.add("schema", True, f"revision {head}, the newest this loyalty-bot knows")
    missing = {"customers", "ledger"} - tables
    if missing:
        health.add("schema", False, f"tables missing: {', '.join(sorted(missing))}")
        return False
    return True


# Per card: its balance and lifetime totals, and what its ledger entries add up to. The
# lifetime sums are core.rules.lifetime_change in SQL: a void or a refund moves back the total
# of what it reverses (taking back an earn lowers lifetime_earned; giving back a redemption
# lowers lifetime_redeemed), every other entry adds its credit or its debit. (CASE, not
# SQLite's two-argument MIN and MAX, so that PostgreSQL reads it too.)
_SUMS: Final = """
WITH sums AS (
    SELECT customer_id,
           SUM(points) AS total,
           SUM(CASE WHEN kind IN ('void', 'refund')
                    THEN CASE WHEN points < 0 THEN points ELSE 0 END
                    ELSE CASE WHEN points > 0 THEN points ELSE 0 END END) AS earned,
           SUM(CASE WHEN kind IN ('void', 'refund')
                    THEN CASE WHEN points > 0 THEN -points ELSE 0 END
                    ELSE CASE WHEN points < 0 THEN -points ELSE 0 END END) AS redeemed
    FROM ledger GROUP BY customer_id
)
SELECT c.card_number, c.balance, COALESCE(s.total, 0),
       c.lifetime_earned, COALESCE(s.earned, 0), c.lifetime_redeemed, COALESCE(s.redeemed, 0)
FROM customers c LEFT JOIN sums s ON s.customer_id = c.id
WHERE c.balance != COALESCE(s.total, 0)
   OR c.lifetime_earned != COALESCE(s.earned, 0)
   OR c.lifetime_redeemed != COALESCE(s.redeemed, 0)
   OR c.balance < 0
ORDER BY c.id
"""
# Entries whose balance_after is not the running sum of their card's entries up to them.
_RUNNING: Final = """
SELECT COUNT(*) FROM (
    SELECT balance_after,
           SUM(points) OVER (PARTITION BY customer_id ORDER BY id) AS running
    FROM ledger
) AS entries WHERE balance_after != running
"""
_ORPHANS: Final = """
SELECT COUNT(*) FROM ledger l LEFT JOIN customers c ON c.id = l.customer_id WHERE c.id IS NULL
"""


def _books(read: Read, health: Health) -> None:
    health.customers = int(_one(read, "SELECT COUNT(*) FROM customers"))
    health.entries = int(_one(read, "SELECT COUNT(*) FROM ledger"))
    rows = read(_SUMS)
    off_balance = [(r[0], r[1], r[2]) for r in rows if r[1] != r[2]]
    off_lifetime = [r for r in rows if r[3] != r[4] or r[5] != r[6]]
    negative = [(r[0], r[1]) for r in rows if r[1] < 0]

    if off_balance:
        shown = ", ".join(f"card {c}: {b} vs {s}" for c, b, s in off_balance[:EXAMPLES])
        health.add(
            "balances",
            False,
            f"{_cards(len(off_balance))} differ from the sum of their ledger entries ({shown})",
        )
    else:
        health.add("balances", True, "every balance is the sum of its card's ledger entries")
    if off_lifetime:
        shown = ", ".join(
            f"card {r[0]}: earned {r[3]} vs {r[4]}, redeemed {r[5]} vs {r[6]}"
            for r in off_lifetime[:EXAMPLES]
        )
        health.add(
            "lifetime totals",
            False,
            f"{_cards(len(off_lifetime))} disagree with the ledger ({shown})",
        )
    else:
        health.add(
            "lifetime totals",
            True,
            "lifetime earned and redeemed are the ledger's credits and debits",
        )
    if negative:
        shown = ", ".join(f"card {c}: {b}" for c, b in negative[:EXAMPLES])
        health.add("negative balances", False, f"{_cards(len(negative))} below zero ({shown})")
    else:
        health.add("negative balances", True, "none")

    running = _one(read, _RUNNING)
    if running:
        health.add(
            "running balances",
            False,
            f"{running} ledger entries' balance_after is not the running sum of their card",
        )
    else:
        health.add("running balances", True, "every entry's balance_after is the running sum")
    orphans = _one(read, _ORPHANS)
    if orphans:
        health.add("ledger owners", False, f"{orphans} ledger entries belong to no customer")
    else:
        health.add("ledger owners", True, "every ledger entry belongs to a customer")


# Cards whose lots (core/expiry.py) don't hold exactly their balance.
LOTS_OFF: Final = """
WITH held AS (SELECT customer_id, SUM(remaining) AS total FROM lots GROUP BY customer_id)
SELECT c.card_number, c.balance, COALESCE(h.total, 0)
FROM customers c LEFT JOIN held h ON h.customer_id = c.id
WHERE c.balance != COALESCE(h.total, 0)
ORDER BY c.id
"""
# Debit entries whose recorded lot uses don't add up to what they took.
USES_OFF: Final = """
SELECT COUNT(*) FROM ledger l
LEFT JOIN (SELECT entry_id, SUM(points) AS taken FROM lot_uses GROUP BY entry_id) u
       ON u.entry_id = l.id
WHERE l.points < 0 AND COALESCE(u.taken, 0) != -l.points
"""


def _lots(read: Read, health: Health) -> None:
    """The lots expiry works on (migration 0008) must hold each card's balance exactly, and
    every debit must say which lots it took its points from."""
    off = read(LOTS_OFF)
    if off:
        shown = ", ".join(f"card {c}: balance {b} vs lots {h}" for c, b, h in off[:EXAMPLES])
        health.add("lots", False, f"{_cards(len(off))} hold a balance their lots don't ({shown})")
    else:
        health.add("lots", True, "every card's lots hold exactly its balance")
    unmatched = _one(read, USES_OFF)
    if unmatched:
        health.add("lot uses", False, f"{unmatched} debit entries don't say which lots they took")
    else:
        health.add("lot uses", True, "every debit took its points from recorded lots")


def _outbox(read: Read, health: Health) -> None:
    owed = _one(read, "SELECT COUNT(*) FROM outbox WHERE done_at IS NULL")
    bad = _one(
        read,
        "SELECT COUNT(*) FROM outbox WHERE (done_at IS NULL) != (outcome IS NULL) OR attempts < 0",
    )
    if bad:
        health.add(
            "outbox",
            False,
            f"{bad} messages are marked done without an outcome, or the other way round",
        )
    else:
        health.add(
            "outbox", True, f"{owed} message{'' if owed == 1 else 's'} owed, all rows consistent"
        )


def _cards(count: int) -> str:
    return f"{count} card{'' if count == 1 else 's'}"
