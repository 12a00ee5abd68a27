"""Reads for the till and the customer's pocket: /find's search and /history's pages.

Plain functions over a Connection, run by the Store's UnitOfWork (`store.unit.read`), like
core/db/reads.py.

/find matches the folded query (core/search.py) anywhere in customers.search_key. A substring
can't seek in a B-tree, so the query reads only the index on search_key (a covering scan: the
key and the row id, no customer rows), stops at the first `limit` matches, then fetches those
few rows by id. docs/decisions.md has the timings.

/history pages by entry id, not by offset: a purchase recorded while a customer pages does not
shift what "Next" shows, and each page is one range of the (customer_id, id) index.
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, select

from core.search import like_pattern
from core.types import Customer, LedgerEntry

from .statements import RECORD, customer_record, entry_record
from .tables import MAX_ID, REVERSES, customers, ledger

_MATCHING_IDS = (
    select(customers.c.id)
    .where(customers.c.search_key.like(bindparam("pattern"), escape="\\"))
    .limit(bindparam("limit"))
)
_BY_IDS = (
    select(*RECORD)
    .where(customers.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(customers.c.name, customers.c.id)
)
_OLDER = (
    select(ledger)
    .where(ledger.c.customer_id == bindparam("customer_id"), ledger.c.id < bindparam("before"))
    .order_by(ledger.c.id.desc())
    .limit(bindparam("limit"))
)
_NEWER = (
    select(ledger)
    .where(ledger.c.customer_id == bindparam("customer_id"), ledger.c.id > bindparam("after"))
    .order_by(ledger.c.id.asc())
    .limit(bindparam("limit"))
)
_CORRECTIONS = select(ledger).where(
    ledger.c.reverses_id.in_(bindparam("ids", expanding=True)), REVERSES
)
# Larger than any entry id: "older than this" is the newest page.
NEWEST = MAX_ID  # "older than this": the newest page (ids are 32-bit on PostgreSQL)


def search(conn: Connection, query: str, limit: int) -> list[Customer]:
    """Up to `limit` customers whose name or e-mail contains `query` (folded), by name."""
    ids = conn.execute(_MATCHING_IDS, {"pattern": like_pattern(query), "limit": limit}).scalars()
    found = list(ids)
    if not found:
        return []
    return [customer_record(r) for r in conn.execute(_BY_IDS, {"ids": found})]


def older(conn: Connection, customer_id: int, before: int, limit: int) -> list[LedgerEntry]:
    """Up to `limit` of the card's entries older than entry `before`, newest first."""
    rows = conn.execute(_OLDER, {"customer_id": customer_id, "before": before, "limit": limit})
    return [entry_record(r) for r in rows]


def newer(conn: Connection, customer_id: int, after: int, limit: int) -> list[LedgerEntry]:
    """The `limit` entries just newer than entry `after`, newest first (a "Prev" page)."""
    rows = conn.execute(_NEWER, {"customer_id": customer_id, "after": after, "limit": limit})
    return [entry_record(r) for r in rows][::-1]


def corrections_of(conn: Connection, entry_ids: list[int]) -> list[LedgerEntry]:
    """The voids and refunds of these entries, wherever they are in the history (so a page
    can mark a purchase "voided" though the void is on a newer page)."""
    if not entry_ids:
        return []
    return [entry_record(r) for r in conn.execute(_CORRECTIONS, {"ids": entry_ids})]


_CARDS = (
    select(customers.c.id, customers.c.card_number)
    .where(customers.c.id > bindparam("after"))
    .order_by(customers.c.id)
    .limit(bindparam("limit"))
)


def card_numbers(conn: Connection, after: int, limit: int) -> list[tuple[int, str]]:
    """(id, card number) of up to `limit` customers after id `after`, in id order: every card,
    a batch at a time (`loyalty-bot cards --all`)."""
    return [(r.id, r.card_number) for r in conn.execute(_CARDS, {"after": after, "limit": limit})]
