"""Alembic environment: runs migrations on the connection core.db.migrate hands over.

Migrations live inside the package (not in a top-level alembic.ini folder) so an installed
loyalty-bot can upgrade its own database: `loyalty-bot db upgrade`, and `run` on start.
"""

from __future__ import annotations

from alembic import context

from core.db.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when someone runs the alembic CLI directly
    raise SystemExit("run migrations with `loyalty-bot db upgrade`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite can't ALTER most things; batch mode copies the table
)
with context.begin_transaction():
    context.run_migrations()
