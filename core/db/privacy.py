"""A customer's data under their control: notifications, the /mydata read, /forget, admin edits.

Each function is the body of one unit of work on one connection (core/db/unit_of_work.py); the
Store's async methods (core/db/store.py, "privacy") run them. The rules (which columns are
personal, what they become, how texts are scrubbed) are core/privacy.py.

Forgetting changes no number: the customer row keeps its card, balance and totals, and the
ledger keeps every entry with its points, so `balance == sum(ledger)` and every report add up
as before. What goes: the personal columns, and the customer's personal values wherever a text
may hold them (audit details, the free text of their ledger entries, outbox texts), plus any
notice still owed to their chat.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from sqlalchemy import Connection, bindparam, select, update

from core import privacy
from core.errors import AlreadyForgotten, UnknownCustomer
from core.search import search_key
from core.types import AuditRecord, Customer, LedgerEntry

from . import reads
from .audit import audit, audit_log
from .statements import BY_TELEGRAM, entry_record, utc
from .tables import audit as audit_table
from .tables import customers, ledger, outbox

c = customers.c

_STATE = select(c.notify, c.forgotten_at).where(c.id == bindparam("customer_id"))
_SET_NOTIFY = (
    update(customers).where(c.id == bindparam("customer_id")).values(notify=bindparam("on"))
)
_LEDGER_OF = select(ledger).where(ledger.c.customer_id == bindparam("customer_id"))


def placeholder_phone(customer_id: int) -> str:
    """What a forgotten customer's `phone` column holds: unique (the column is), never a phone
    number (those start with "+"), so no look-up by phone finds the card again; read back as
    None (core/db/statements.py customer_record)."""
    return f"#{customer_id}"


def _state(conn: Connection, customer_id: int) -> tuple[bool, dt.datetime | None]:
    row = conn.execute(_STATE, {"customer_id": customer_id}).first()
    if row is None:
        raise UnknownCustomer(f"#{customer_id}")
    return bool(row.notify), None if row.forgotten_at is None else utc(row.forgotten_at)


def set_notify(
    conn: Connection, customer_id: int, on: bool, *, actor_id: int, now: dt.datetime
) -> bool:
    """Turns the customer's notices on or off (audited); returns whether it changed."""
    before, _ = _state(conn, customer_id)
    if before == on:
        return False
    conn.execute(_SET_NOTIFY, {"customer_id": customer_id, "on": on})
    audit(
        conn,
        actor_id=actor_id,
        action="notifications",
        customer_id=customer_id,
        details={"on": on},
        now=now,
    )
    return True


def notify_of(conn: Connection, customer_id: int) -> bool:
    return _state(conn, customer_id)[0]


MyData = tuple[Customer, bool, list[LedgerEntry], list[AuditRecord]]


def my_data(conn: Connection, user_id: int) -> MyData | None:
    """Everything held about the customer linked to this Telegram account (None: no card)."""
    customer = reads.customer_by(conn, BY_TELEGRAM, user_id)
    if customer is None:
        return None
    notify, _ = _state(conn, customer["id"])
    rows = conn.execute(_LEDGER_OF.order_by(ledger.c.id), {"customer_id": customer["id"]})
    entries = [entry_record(r) for r in rows]
    records = audit_log(conn, customer_id=customer["id"], limit=100_000)
    return customer, notify, entries, list(reversed(records))


def forget(
    conn: Connection,
    customer_id: int,
    *,
    owner: int | None,
    actor_id: int,
    by: Literal["customer", "admin"],
    now: dt.datetime,
) -> Customer:
    """Erases the customer's personal data in one transaction (see the module docstring).

    `owner`: the Telegram account that asked for its own card; refused (UnknownCustomer) if the
    card is no longer linked to it. AlreadyForgotten if it was forgotten before.
    """
    customer = reads.existing_customer(conn, customer_id)
    if owner is not None and customer["telegram_user_id"] != owner:
        raise UnknownCustomer(customer["card_number"])
    if _state(conn, customer_id)[1] is not None:
        raise AlreadyForgotten(customer["card_number"])
    values = privacy.personal_values(customer)
    erased = {**privacy.PERSONAL_COLUMNS}
    if erased.get("phone", "") is None:
        erased["phone"] = placeholder_phone(customer_id)  # NOT NULL, unique: see above
    conn.execute(
        update(customers)
        .where(c.id == customer_id)
        .values(**erased, notify=False, forgotten_at=utc(now), version=c.version + 1)
    )
    _scrub_audit(conn, customer_id, values)
    _scrub_ledger(conn, customer_id, values)
    _scrub_outbox(conn, customer["telegram_user_id"], values, now)
    audit(
        conn,
        actor_id=actor_id,
        action="forget",
        customer_id=customer_id,
        details={"by": by, "erased": list(privacy.PERSONAL_COLUMNS)},
        now=now,
    )
    return reads.existing_customer(conn, customer_id)


def _scrub_audit(conn: Connection, customer_id: int, values: list[str]) -> None:
    a = audit_table.c
    rows = conn.execute(select(a.id, a.details).where(a.customer_id == customer_id)).all()
    for row in rows:
        details = privacy.scrub_json(row.details, values)
        if details != row.details:
            conn.execute(update(audit_table).where(a.id == row.id).values(details=details))


def _scrub_ledger(conn: Connection, customer_id: int, values: list[str]) -> None:
    """Free text only (a cashier's note or reason); no number, kind or time changes."""
    rows = conn.execute(_LEDGER_OF, {"customer_id": customer_id}).all()
    for row in rows:
        note = None if row.note is None else privacy.scrub(row.note, values)
        details = privacy.scrub_json(row.details, values)
        if note != row.note or details != row.details:
            conn.execute(
                update(ledger).where(ledger.c.id == row.id).values(note=note, details=details)
            )


def _scrub_outbox(
    conn: Connection, chat_id: int | None, values: list[str], now: dt.datetime
) -> None:
    """Texts naming them (a cashier's receipt, sent or owed) lose the values; notices still
    owed to their own chat are not sent at all. Sent texts are pruned after a week anyway."""
    o = outbox.c
    rows = conn.execute(select(o.id, o.chat_id, o.text, o.done_at)).all()
    for row in rows:
        changes: dict[str, Any] = {}
        text = privacy.scrub(row.text, values)
        if text != row.text:
            changes["text"] = text
        if chat_id is not None and row.chat_id == chat_id and row.done_at is None:
            changes.update(done_at=utc(now), outcome="undeliverable", last_error="forgotten")
        if changes:
            conn.execute(update(outbox).where(o.id == row.id).values(**changes))


def edit(
    conn: Connection,
    customer_id: int,
    changes: dict[str, object],
    *,
    actor_id: int,
    now: dt.datetime,
) -> Customer:
    """Changes the customer's contact details (already validated); audited with the fields
    changed, never their values. A phone on another card trips the unique index (the Store
    turns it into DuplicateCustomer)."""
    customer = reads.existing_customer(conn, customer_id)
    if _state(conn, customer_id)[1] is not None:
        raise AlreadyForgotten(customer["card_number"])
    changed = {k: v for k, v in changes.items() if customer.get(k) != v}
    if changed:
        # /find searches the folded name and e-mail: kept in step with them (core/search.py).
        name = str(changed.get("name", customer["name"]))
        email = changed.get("email", customer.get("email"))
        key = search_key(name, None if email is None else str(email))
        conn.execute(
            update(customers)
            .where(c.id == customer_id)
            .values(**changed, search_key=key, version=c.version + 1)
        )
        audit(
            conn,
            actor_id=actor_id,
            action="customer_edit",
            customer_id=customer_id,
            details={"fields": sorted(changed)},
            now=now,
        )
    return reads.existing_customer(conn, customer_id)
