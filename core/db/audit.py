"""The audit trail (table `audit`): who did what, when, to whom; append-only.

Every change of points appends its record in its own transaction (`audit`, called by
core/db/ledger.py for register, earn, redeem, void, refund and adjust), so a record exists if and
only if the change does. Actions outside the ledger (staff added or removed, an invite made or
used, contacts exported, the config loaded at start) are recorded by the bot through
Store.record_audit. Records are never updated or deleted.

`details` holds what the action was about, never contact details or secrets: an invite's code
or a token has no place here, an export says which period and how many rows, not what was in it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select

from core.types import AuditAction, AuditRecord

from .statements import utc
from .tables import audit as audit_table

_INSERT = audit_table.insert().returning(audit_table.c.id)


def audit(
    conn: Connection,
    *,
    actor_id: int | None,
    action: AuditAction,
    customer_id: int | None = None,
    entry_id: int | None = None,
    details: Mapping[str, object],
    now: dt.datetime,
) -> int:
    """Appends one audit record on `conn` (inside the caller's transaction); returns its id."""
    values = {
        "at": utc(now),
        "actor_id": actor_id,
        "action": action,
        "customer_id": customer_id,
        "entry_id": entry_id,
        "details": dict(details),
    }
    return int(conn.execute(_INSERT, values).scalar_one())


def audit_log(
    conn: Connection,
    *,
    customer_id: int | None = None,
    actor_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 100,
) -> list[AuditRecord]:
    """Records matching every filter given, newest first: about one customer, by one actor,
    at or after `since`, before `until` (through ix_audit_customer_id_at, ix_audit_actor_id_at
    or ix_audit_at)."""
    a = audit_table.c
    query: Any = select(audit_table)
    if customer_id is not None:
        query = query.where(a.customer_id == customer_id)
    if actor_id is not None:
        query = query.where(a.actor_id == actor_id)
    if since is not None:
        query = query.where(a.at >= utc(since))
    if until is not None:
        query = query.where(a.at < utc(until))
    query = query.order_by(a.at.desc(), a.id.desc()).limit(limit)
    return [
        {
            "id": r.id,
            "at": utc(r.at),
            "actor_id": r.actor_id,
            "action": r.action,
            "customer_id": r.customer_id,
            "entry_id": r.entry_id,
            "details": dict(r.details),
        }
        for r in conn.execute(query)
    ]
