"""Messages owed about committed changes: the outbox (table `outbox`, core/db/tables.py).

Why: whatever fails after a change is committed (the Bot API answering 502, a timeout, a crash),
the people it concerns must still hear about it, and exactly once per change and chat. So the
messages are rows written in the change's own transaction (`enqueue`), sent afterwards by
bot/delivery.py, and marked done (`mark`). Nothing here knows Telegram: a message is a chat id
and a text.

Who sends what: the confirmation that wrote a change sends its messages at once; they are
written already claimed for CLAIM_FOR, so no other sender takes them meanwhile. Anything left
owed (a failure, a crash) is claimed by the background worker when due (`claim_due`), with a
conditional UPDATE per row, so two senders never both send one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, or_, select, update

from core.types import Outgoing, Owed

from .statements import utc
from .tables import customers, outbox

# How long a sender owns a claimed message: longer than a send with its in-line retries takes.
CLAIM_FOR = dt.timedelta(seconds=60)
ERROR_LENGTH = 200  # outbox.last_error's column size

Outcome = Literal["sent", "undeliverable"]


_OWED = (
    outbox.c.id,
    outbox.c.change_key,
    outbox.c.chat_id,
    outbox.c.text,
    outbox.c.buttons,
    outbox.c.attempts,
    outbox.c.created_at,
)


def enqueue(
    conn: Connection,
    change_key: str | None,
    messages: Sequence[Outgoing],
    *,
    now: dt.datetime,
    due_at: dt.datetime | None = None,
) -> list[Owed]:
    """Queues `messages` about a change, claimed by the caller for CLAIM_FOR; returns them.

    Called inside the change's transaction: the messages exist if and only if the change does.
    `due_at` holds them back until then (an expiry reminder waits for a decent hour).
    """
    owed: list[Owed] = []
    at = utc(now)
    due = at if due_at is None else utc(due_at)
    for message in messages:
        if message.get("notice") and not wants_notices(conn, message["chat_id"]):
            continue  # the customer turned notifications off (/notifications)
        row_id = conn.execute(
            insert(outbox).returning(outbox.c.id),
            {
                "change_key": change_key,
                "chat_id": message["chat_id"],
                "text": message["text"],
                "buttons": message.get("buttons"),
                "created_at": at,
                "due_at": due,
                "attempts": 0,
                "claimed_until": None if due_at is not None else at + CLAIM_FOR,
            },
        ).scalar_one()
        owed.append(
            {
                "id": int(row_id),
                "change_key": change_key,
                "chat_id": message["chat_id"],
                "text": message["text"],
                "buttons": message.get("buttons"),
                "attempts": 0,
                "created_at": at,
            }
        )
    return owed


# The one place a customer's notification setting is honoured: every notice to a customer is
# queued through `enqueue` marked `notice`, so a new kind of notice (a reminder, a birthday
# bonus) respects /notifications by being queued the same way. Replies to staff carry no mark.
_WANTS_NOTICES = select(customers.c.notify).where(
    customers.c.telegram_user_id == bindparam("chat_id")
)


def wants_notices(conn: Connection, chat_id: int) -> bool:
    """Whether the customer linked to this chat gets notices (True if no card is linked)."""
    notify = conn.execute(_WANTS_NOTICES, {"chat_id": chat_id}).scalar_one_or_none()
    return notify is None or bool(notify)


def claim_due(
    conn: Connection, *, now: dt.datetime, change_key: str | None = None, limit: int = 50
) -> list[Owed]:
    """Claims owed messages for CLAIM_FOR: those due now, or all of one change's (a replayed
    confirmation finishing what the first one could not send). Oldest first."""
    at = utc(now)
    free = or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until <= at)
    wanted = and_(outbox.c.done_at.is_(None), free)
    if change_key is None:
        wanted = and_(wanted, outbox.c.due_at <= at)
    else:
        wanted = and_(wanted, outbox.c.change_key == change_key)
    rows = conn.execute(select(*_OWED).where(wanted).order_by(outbox.c.id).limit(limit)).all()
    claimed: list[Owed] = []
    for row in rows:
        # Conditional: another sender may have claimed it since the SELECT.
        taken = conn.execute(
            update(outbox)
            .where(outbox.c.id == row.id, outbox.c.done_at.is_(None), free)
            .values(claimed_until=at + CLAIM_FOR)
        )
        if taken.rowcount == 1:
            claimed.append(
                {
                    "id": row.id,
                    "change_key": row.change_key,
                    "chat_id": row.chat_id,
                    "text": row.text,
                    "buttons": row.buttons,
                    "attempts": row.attempts,
                    "created_at": utc(row.created_at),
                }
            )
    return claimed


def mark(
    conn: Connection,
    message_id: int,
    *,
    now: dt.datetime,
    outcome: Outcome | None,
    error: str | None = None,
    retry_at: dt.datetime | None = None,
    tries: int = 1,
) -> None:
    """Records `tries` attempts: sent, undeliverable (given up), or failed and due again at
    `retry_at` (outcome None); the claim is released either way."""
    values: dict[str, object] = {
        "attempts": outbox.c.attempts + tries,
        "claimed_until": None,
        "last_error": None if error is None else error[:ERROR_LENGTH],
    }
    if outcome is None:
        assert retry_at is not None, "a failed attempt needs the time of the next one"
        values["due_at"] = utc(retry_at)
    else:
        values["done_at"] = utc(now)
        values["outcome"] = outcome
    conn.execute(update(outbox).where(outbox.c.id == message_id).values(**values))


def release_claims(conn: Connection) -> int:
    """Frees every claim: at start-up, when this is the only running sender (one poller), a
    claim can only be left over from a process that died mid-send."""
    done = conn.execute(
        update(outbox)
        .where(outbox.c.done_at.is_(None), outbox.c.claimed_until.is_not(None))
        .values(claimed_until=None)
    )
    return int(done.rowcount)


def owed_count(conn: Connection) -> int:
    """How many messages are still to be sent."""
    count = select(func.count()).select_from(outbox).where(outbox.c.done_at.is_(None))
    return int(conn.execute(count).scalar_one())


def prune(conn: Connection, *, before: dt.datetime) -> int:
    """Deletes messages done before `before`: once sent, a message's text (names, balances) is
    not kept longer than needed."""
    done = conn.execute(
        delete(outbox).where(outbox.c.done_at.is_not(None), outbox.c.done_at < utc(before))
    )
    return int(done.rowcount)
