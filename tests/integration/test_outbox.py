"""The outbox: messages owed about committed changes are claimed by one sender at a time,
retried when due, and marked done (core/db/outbox.py, on a real migrated SQLite file)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

import pytest
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import outbox
from core.db.outbox import CLAIM_FOR
from core.db.store import Store
from core.types import NewCustomer, Outgoing

T = TypeVar("T")
NOW = dt.datetime(2026, 3, 14, 10, 30, tzinfo=dt.UTC)
CASHIER_CHAT, CUSTOMER_CHAT = 2002, 3003
RESULT: Outgoing = {"chat_id": CASHIER_CHAT, "text": "✅ <b>+25 points</b>"}
NOTICE: Outgoing = {"chat_id": CUSTOMER_CHAT, "text": "⭐ You earned 25 points"}
NEW: NewCustomer = {"name": "Ann Lee", "phone": "+447400123456", "email": None}


async def run(engine: AsyncEngine, work: Callable[[Connection], T]) -> T:
    async with engine.begin() as conn:
        return await conn.run_sync(work)


async def test_queued_messages_belong_to_their_writer_until_the_claim_runs_out(
    engine: AsyncEngine,
) -> None:
    queued = await run(engine, lambda c: outbox.enqueue(c, "k1", [RESULT, NOTICE], now=NOW))
    assert [(m["chat_id"], m["text"]) for m in queued] == [
        (CASHIER_CHAT, RESULT["text"]),
        (CUSTOMER_CHAT, NOTICE["text"]),
    ]

    assert await run(engine, lambda c: outbox.claim_due(c, now=NOW)) == []
    later = NOW + CLAIM_FOR
    claimed = await run(engine, lambda c: outbox.claim_due(c, now=later))
    assert [m["id"] for m in claimed] == [m["id"] for m in queued]
    assert await run(engine, lambda c: outbox.claim_due(c, now=later)) == []  # claimed again


async def test_a_sent_message_is_never_claimed_again(engine: AsyncEngine) -> None:
    (queued,) = await run(engine, lambda c: outbox.enqueue(c, "k1", [RESULT], now=NOW))
    await run(engine, lambda c: outbox.mark(c, queued["id"], now=NOW, outcome="sent"))

    much_later = NOW + dt.timedelta(days=1)
    assert await run(engine, lambda c: outbox.claim_due(c, now=much_later)) == []
    assert await run(engine, lambda c: outbox.claim_due(c, now=much_later, change_key="k1")) == []
    assert await run(engine, outbox.owed_count) == 0


async def test_a_failed_attempt_is_due_again_at_its_retry_time_and_counted(
    engine: AsyncEngine,
) -> None:
    (queued,) = await run(engine, lambda c: outbox.enqueue(c, "k1", [RESULT], now=NOW))
    retry_at = NOW + dt.timedelta(seconds=30)
    await run(
        engine,
        lambda c: outbox.mark(
            c, queued["id"], now=NOW, outcome=None, error="502 Bad Gateway", retry_at=retry_at
        ),
    )

    assert await run(engine, lambda c: outbox.claim_due(c, now=retry_at - dt.timedelta(1))) == []
    (again,) = await run(engine, lambda c: outbox.claim_due(c, now=retry_at))
    assert (again["id"], again["attempts"], again["text"]) == (queued["id"], 1, RESULT["text"])
    assert await run(engine, outbox.owed_count) == 1


async def test_a_replayed_confirmation_claims_what_its_change_still_owes(
    engine: AsyncEngine,
) -> None:
    await run(engine, lambda c: outbox.enqueue(c, "k1", [RESULT, NOTICE], now=NOW))
    await run(engine, lambda c: outbox.enqueue(c, "k2", [RESULT | {"text": "other"}], now=NOW))
    await run(engine, outbox.release_claims)  # the first sender died mid-send

    claimed = await run(engine, lambda c: outbox.claim_due(c, now=NOW, change_key="k1"))

    assert [m["chat_id"] for m in claimed] == [CASHIER_CHAT, CUSTOMER_CHAT]
    assert {m["change_key"] for m in claimed} == {"k1"}


async def test_one_message_per_chat_per_change(engine: AsyncEngine) -> None:
    await run(engine, lambda c: outbox.enqueue(c, "k1", [RESULT], now=NOW))

    with pytest.raises(IntegrityError):
        await run(engine, lambda c: outbox.enqueue(c, "k1", [RESULT], now=NOW))

    assert await run(engine, outbox.owed_count) == 1


async def test_two_senders_racing_for_due_messages_never_both_get_one(
    engine: AsyncEngine,
) -> None:
    await run(engine, lambda c: outbox.enqueue(c, None, [RESULT, NOTICE] * 3, now=NOW))
    await run(engine, outbox.release_claims)

    first = await run(engine, lambda c: outbox.claim_due(c, now=NOW, limit=4))
    second = await run(engine, lambda c: outbox.claim_due(c, now=NOW, limit=4))

    assert len(first) == 4 and len(second) == 2
    assert not {m["id"] for m in first} & {m["id"] for m in second}


async def test_given_up_and_old_sent_messages_are_pruned_but_owed_ones_are_kept(
    engine: AsyncEngine,
) -> None:
    sent, given_up, owed = await run(
        engine, lambda c: outbox.enqueue(c, None, [RESULT, NOTICE, RESULT], now=NOW)
    )
    await run(engine, lambda c: outbox.mark(c, sent["id"], now=NOW, outcome="sent"))
    await run(
        engine,
        lambda c: outbox.mark(
            c, given_up["id"], now=NOW, outcome="undeliverable", error="403 blocked"
        ),
    )

    pruned = await run(engine, lambda c: outbox.prune(c, before=NOW + dt.timedelta(seconds=1)))

    assert pruned == 2
    assert await run(engine, outbox.owed_count) == 1
    (left,) = await run(engine, lambda c: outbox.claim_due(c, now=NOW + CLAIM_FOR))
    assert left["id"] == owed["id"]


# --- the Store queues what a change owes in the change's own transaction -------------------------


def telling(result: object) -> list[Outgoing]:
    assert isinstance(result, dict)
    return [{"chat_id": CASHIER_CHAT, "text": f"entry {result.get('entry_id')}"}]


async def test_an_earn_queues_its_messages_with_it_and_a_replay_queues_none(
    store: Store, now: dt.datetime
) -> None:
    registered = await store.register(NEW, actor_id=CASHIER_CHAT, now=now)
    customer_id = registered["customer"]["id"]

    first = await store.earn(
        customer_id, Decimal(25), actor_id=CASHIER_CHAT, now=now, key="e1", tell=telling
    )
    again = await store.earn(
        customer_id, Decimal(25), actor_id=CASHIER_CHAT, now=now, key="e1", tell=telling
    )

    assert [m["text"] for m in first["queued"]] == [f"entry {first['entry_id']}"]
    assert again["replayed"] and again["queued"] == []
    assert await run(store.engine, outbox.owed_count) == 1


async def test_a_change_that_rolls_back_leaves_no_message_behind(
    store: Store, now: dt.datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    registered = await store.register(NEW, actor_id=CASHIER_CHAT, now=now)

    def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("the disk filled up mid-change")

    monkeypatch.setattr(Store, "_append", broken)
    with pytest.raises(RuntimeError):
        await store.earn(
            registered["customer"]["id"], Decimal(25), actor_id=1, now=now, key="e1", tell=telling
        )

    assert await run(store.engine, outbox.owed_count) == 0
    assert await store.ledger_sum(registered["customer"]["id"]) == 0


async def test_a_message_keeps_its_buttons_until_it_is_sent(engine: AsyncEngine) -> None:
    undo: Outgoing = {
        "chat_id": CASHIER_CHAT,
        "text": RESULT["text"],
        "buttons": [[{"text": "↩ Undo", "data": "undo:41"}]],
    }
    await run(engine, lambda c: outbox.enqueue(c, "k1", [undo, NOTICE], now=NOW))

    with_buttons, plain = await run(engine, lambda c: outbox.claim_due(c, now=NOW + CLAIM_FOR))

    assert with_buttons["buttons"] == [[{"text": "↩ Undo", "data": "undo:41"}]]
    assert plain["buttons"] is None
