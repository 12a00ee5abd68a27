"""Changing the ledger's kinds CHECK in a migration (0008 added `expire`, 0009 `bonus`).

The usual way on SQLite (batch mode: copy the ledger into a new table, drop the old one) no
longer works once voids and refunds exist: they point at other entries and audit records at
entries, so dropping the old table breaks their foreign keys, and SQLite counts that against the
commit even after the copy takes the old name. So on SQLite the CHECK is changed in the stored
CREATE TABLE text, SQLite's documented way (www.sqlite.org/lang_altertable.html, "other kinds
of table schema changes"): safe when the new CHECK only admits more (every stored row still
meets it), and minutes faster than a copy on ten million entries. Elsewhere: drop and add.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def _sqlite_kinds(old: str, new: str) -> None:
    """Changes the kinds CHECK in place on SQLite, in the stored CREATE TABLE text.

    The usual way (batch mode: copy the ledger into a new table, drop the old one) no longer
    works here: voids and refunds point at other entries and audit records at entries, so
    dropping the old table breaks their foreign keys, and SQLite counts that against the commit
    even after the copy takes the old name. Editing the schema text is SQLite's documented way
    to change a CHECK (www.sqlite.org/lang_altertable.html, "other kinds of table schema
    changes"): the new CHECK only admits more, so every stored row still meets it, and it is
    minutes faster on ten million entries than a copy.
    """
    conn = op.get_bind()
    version = conn.exec_driver_sql("PRAGMA schema_version").scalar_one()
    conn.exec_driver_sql("PRAGMA writable_schema = ON")
    changed = conn.execute(
        sa.text(
            "UPDATE sqlite_master SET sql = replace(sql, :old, :new)"
            " WHERE type = 'table' AND name = 'ledger' AND instr(sql, :old) > 0"
        ),
        {"old": old, "new": new},
    ).rowcount
    conn.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    conn.exec_driver_sql("PRAGMA writable_schema = OFF")
    if changed != 1:
        raise RuntimeError(f"the ledger's kinds CHECK is not {old!r}: check the schema first")


def change_ledger_kinds(old: str, new: str) -> None:
    """The kinds CHECK from `old` to `new` (SQL text of each), in the running migration."""
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_kinds(old, new)
        return
    op.drop_constraint(op.f("ck_ledger_kind_known"), "ledger", type_="check")
    op.create_check_constraint(op.f("ck_ledger_kind_known"), "ledger", new)
