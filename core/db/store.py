"""Customers and the ledger: every operation that changes points (the imperative shell).

Each change follows one pattern, so points are never lost or counted twice:
1. If the idempotency key is already recorded, return the original result; change nothing.
2. Read the customer, let the pure rules (core/rules.py) compute the quote.
3. In one transaction: compare-and-swap the customer row (UPDATE ... WHERE version = :seen)
   and append the ledger entry carrying the key. If another writer got there first the UPDATE
   matches no row and we start again from 2 with fresh numbers; if the same key raced us, the
   unique index refuses our entry, the transaction rolls back, and we return theirs.
No balance is ever read, changed in Python and written back unguarded; a CHECK constraint keeps
balance >= 0 as a last line of defence.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core import rules
from core.cards import new_card_number
from core.errors import AlreadyLinked, DuplicateCustomer, UnknownCustomer
from core.lookup import parse_reference
from core.types import (
    Customer,
    EarnQuote,
    EarnResult,
    EntryKind,
    LedgerEntry,
    NewCustomer,
    Program,
    RedeemQuote,
    RedeemResult,
    RegisterResult,
)

from .tables import customers, ledger

MAX_ATTEMPTS = 20  # compare-and-swap retries; contention on one card is a handful of cashiers
_DECIMAL_FIELDS = ("amount", "points_per_unit", "multiplier")


class ConcurrentUpdate(RuntimeError):
    """Gave up after MAX_ATTEMPTS lost races on one customer (never seen outside stress tests)."""


def utc(value: dt.datetime) -> dt.datetime:
    """The same instant in UTC; a naive value is taken to be UTC already.

    Everything is stored in UTC and SQLite keeps only the wall-clock digits (it drops the zone),
    so `now` is converted on the way in (12:00+01:00 is stored as 11:00) and the zone is put back
    on the way out.
    """
    return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _customer(row: Row[Any]) -> Customer:
    m = row._mapping
    return {
        "id": m["id"],
        "card_number": m["card_number"],
        "name": m["name"],
        "phone": m["phone"],
        "email": m["email"],
        "created_at": utc(m["created_at"]),
        "balance": m["balance"],
        "lifetime_earned": m["lifetime_earned"],
        "lifetime_redeemed": m["lifetime_redeemed"],
        "tier": m["tier"],
        "telegram_user_id": m["telegram_user_id"],
        "version": m["version"],
    }


def _entry(row: Row[Any]) -> LedgerEntry:
    m = row._mapping
    minor = m["amount_minor"]
    return {
        "id": m["id"],
        "customer_id": m["customer_id"],
        "kind": m["kind"],
        "points": m["points"],
        "amount": None if minor is None else Decimal(minor).scaleb(-2),  # 2550 -> 25.50
        "reward_id": m["reward_id"],
        "actor_id": m["actor_id"],
        "created_at": utc(m["created_at"]),
        "idempotency_key": m["idempotency_key"],
        "note": m["note"],
        "balance_after": m["balance_after"],
        "details": dict(m["details"]),
    }


def _to_json(quote: EarnQuote | RedeemQuote) -> dict[str, object]:
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in quote.items()}


def _from_json(details: dict[str, object]) -> dict[str, Any]:
    return {k: Decimal(str(v)) if k in _DECIMAL_FIELDS else v for k, v in details.items()}


class Store:
    """Customers and their ledger, over one async engine. The program's rules are fixed per run."""

    def __init__(self, engine: AsyncEngine, program: Program) -> None:
        self.engine = engine
        self.program = program
        # SQLite lets one writer in at a time and makes the others retry with growing sleeps,
        # in no order: with dozens of cashiers confirming at once, an unlucky writer waited
        # past busy_timeout and failed with "database is locked" (bench/throughput.py). So
        # writers take turns here, first come first served, before opening a transaction.
        # Other databases lock rows, not the whole file, and need no queue.
        self._write_turn: contextlib.AbstractAsyncContextManager[object] = (
            asyncio.Lock() if engine.dialect.name == "sqlite" else contextlib.nullcontext()
        )

    # --- finding customers -------------------------------------------------------------------

    async def find_customer(self, reference: str) -> Customer:
        """The customer a cashier means by a card or phone number (InvalidReference/Unknown)."""
        kind, value = parse_reference(reference, self.program.default_region)
        column = customers.c.card_number if kind == "card" else customers.c.phone
        customer = await self._one(column == value)
        if customer is None:
            raise UnknownCustomer(reference.strip())
        return customer

    async def get_customer(self, customer_id: int) -> Customer:
        customer = await self._one(customers.c.id == customer_id)
        if customer is None:
            raise UnknownCustomer(f"#{customer_id}")
        return customer

    async def customer_by_phone(self, phone: str) -> Customer | None:
        return await self._one(customers.c.phone == phone)

    async def customer_by_telegram(self, user_id: int) -> Customer | None:
        return await self._one(customers.c.telegram_user_id == user_id)

    async def _one(self, where: Any) -> Customer | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(customers).where(where))).first()
        return None if row is None else _customer(row)

    # --- registering -------------------------------------------------------------------------

    async def register(
        self, new: NewCustomer, *, actor_id: int | None, now: dt.datetime, key: str | None = None
    ) -> RegisterResult:
        """Creates the customer with a fresh card number, plus the signup bonus entry if any."""
        replay = await self._registered_with(key)
        if replay is not None:
            return replay
        existing = await self.customer_by_phone(new["phone"])
        if existing is not None:
            # A racing copy of this same confirmation may have just created it: that's a replay.
            replay = await self._registered_with(key)
            if replay is not None:
                return replay
            raise DuplicateCustomer(existing["card_number"])
        bonus = self.program.signup_bonus
        tier = rules.tier_for(bonus, self.program.tiers).name
        for _ in range(MAX_ATTEMPTS):
            try:
                async with self._write_turn, self.engine.begin() as conn:
                    customer_id = await self._insert_customer(conn, new, tier, bonus, now, key)
                    if bonus:
                        await self._append(
                            conn,
                            customer_id=customer_id,
                            kind="signup_bonus",
                            points=bonus,
                            balance_after=bonus,
                            actor_id=actor_id,
                            now=now,
                            key=None,
                            details={"signup_bonus": bonus},
                        )
            except IntegrityError as exc:
                message = str(exc.orig)
                # A racing copy of the same confirmation may trip the phone index before the
                # key's: whichever fired, if our key is now recorded, return what it recorded.
                replay = await self._registered_with(key)
                if replay is not None:
                    return replay
                if "phone" in message:
                    existing = await self.customer_by_phone(new["phone"])
                    raise DuplicateCustomer(existing["card_number"] if existing else "?") from None
                if "card_number" in message:
                    continue  # two random card numbers collided: draw another
                raise
            customer = await self.get_customer(customer_id)
            return {"customer": customer, "signup_bonus": bonus, "replayed": False}
        raise ConcurrentUpdate("could not find a free card number")

    async def _registered_with(self, key: str | None) -> RegisterResult | None:
        """The registration an idempotency key already made, as a replayed result."""
        if key is None:
            return None
        done = await self._one(customers.c.registration_key == key)
        if done is None:
            return None
        return {"customer": done, "signup_bonus": self.program.signup_bonus, "replayed": True}

    async def _insert_customer(
        self,
        conn: AsyncConnection,
        new: NewCustomer,
        tier: str,
        bonus: int,
        now: dt.datetime,
        key: str | None,
    ) -> int:
        result = await conn.execute(
            customers.insert()
            .values(
                card_number=new_card_number(),
                name=new["name"],
                phone=new["phone"],
                email=new["email"],
                created_at=utc(now),
                balance=bonus,
                lifetime_earned=bonus,
                lifetime_redeemed=0,
                tier=tier,
                version=0,
                registration_key=key,
            )
            .returning(customers.c.id)
        )
        return int(result.scalar_one())

    # --- earning and redeeming ---------------------------------------------------------------

    async def earn(
        self,
        customer_id: int,
        amount: Decimal,
        *,
        actor_id: int | None,
        now: dt.datetime,
        key: str | None = None,
    ) -> EarnResult:
        """Records a purchase: points per the customer's tier, balance and tier updated."""
        for _ in range(MAX_ATTEMPTS):
            replay = await self._replay(key)
            if replay is not None:
                return self._earn_result(replay, replayed=True)
            customer = await self.get_customer(customer_id)
            quote = rules.quote_earn(customer, amount, self.program)
            entry_id = await self._apply(
                customer,
                kind="earn",
                points=quote["points"],
                quote=quote,
                tier=quote["tier_after"],
                amount=quote["amount"],
                actor_id=actor_id,
                now=now,
                key=key,
            )
            if entry_id is not None:
                # What was just written, without reading it back: a round trip fewer per earn.
                return {
                    **quote,
                    "card_number": customer["card_number"],
                    "entry_id": entry_id,
                    "customer_id": customer["id"],
                    "replayed": False,
                }
        raise ConcurrentUpdate(f"customer {customer_id} kept changing")

    async def redeem(
        self,
        customer_id: int,
        reward_id: str,
        *,
        actor_id: int | None,
        now: dt.datetime,
        key: str | None = None,
    ) -> RedeemResult:
        """Spends points on a reward (InsufficientPoints if the balance is short)."""
        reward = rules.find_reward(reward_id, self.program)
        for _ in range(MAX_ATTEMPTS):
            replay = await self._replay(key)
            if replay is not None:
                return self._redeem_result(replay, replayed=True)
            customer = await self.get_customer(customer_id)
            quote = rules.quote_redeem(customer, reward, self.program)
            code = rules.new_redemption_code()
            entry_id = await self._apply(
                customer,
                kind="redeem",
                points=-quote["points"],
                quote=quote,
                reward_id=reward.id,
                code=code,
                actor_id=actor_id,
                now=now,
                key=key,
            )
            if entry_id is not None:
                # What was just written, without reading it back: a round trip fewer per redeem.
                return {
                    **quote,
                    "card_number": customer["card_number"],
                    "code": code,
                    "entry_id": entry_id,
                    "customer_id": customer["id"],
                    "replayed": False,
                }
        raise ConcurrentUpdate(f"customer {customer_id} kept changing")

    async def _apply(
        self,
        customer: Customer,
        *,
        kind: EntryKind,
        points: int,
        quote: EarnQuote | RedeemQuote,
        now: dt.datetime,
        key: str | None,
        actor_id: int | None,
        tier: str | None = None,
        amount: Decimal | None = None,
        reward_id: str | None = None,
        code: str | None = None,
    ) -> int | None:
        """Compare-and-swap the balance and append the entry; None when another writer won."""
        values: dict[str, Any] = {
            "balance": customers.c.balance + points,
            "version": customers.c.version + 1,
        }
        if points > 0:
            values["lifetime_earned"] = customers.c.lifetime_earned + points
        else:
            values["lifetime_redeemed"] = customers.c.lifetime_redeemed - points
        if tier is not None:
            values["tier"] = tier
        if kind in ("earn", "redeem"):
            # A visit; kept as the latest even if entries arrive out of order. Reports use it.
            seen = customers.c.last_visit_at
            values["last_visit_at"] = case(
                (seen.is_(None) | (seen < utc(now)), utc(now)), else_=seen
            )
        try:
            async with self._write_turn, self.engine.begin() as conn:
                swapped = await conn.execute(
                    update(customers)
                    .where(customers.c.id == customer["id"])
                    .where(customers.c.version == customer["version"])
                    .values(**values)
                )
                if swapped.rowcount != 1:
                    return None  # somebody else changed this card since we read it: recompute
                details = _to_json(quote)
                details["card_number"] = customer["card_number"]
                if code is not None:
                    details["code"] = code
                return await self._append(
                    conn,
                    customer_id=customer["id"],
                    kind=kind,
                    points=points,
                    balance_after=customer["balance"] + points,
                    actor_id=actor_id,
                    now=now,
                    key=key,
                    details=details,
                    reward_id=reward_id,
                    code=code,
                    amount_minor=None if amount is None else int(amount * 100),
                    # Set only when the tier changes, so reports count tier-ups without JSON.
                    new_tier=tier if tier is not None and tier != customer["tier"] else None,
                )
        except IntegrityError:
            if key is not None and await self._replay(key) is not None:
                return None  # the same confirmation raced us and won: the loop replays it
            raise

    async def _append(
        self,
        conn: AsyncConnection,
        *,
        customer_id: int,
        kind: EntryKind,
        points: int,
        balance_after: int,
        actor_id: int | None,
        now: dt.datetime,
        key: str | None,
        details: dict[str, object],
        reward_id: str | None = None,
        code: str | None = None,
        amount_minor: int | None = None,
        note: str | None = None,
        new_tier: str | None = None,
    ) -> int:
        result = await conn.execute(
            ledger.insert()
            .values(
                customer_id=customer_id,
                kind=kind,
                points=points,
                amount_minor=amount_minor,
                reward_id=reward_id,
                code=code,
                actor_id=actor_id,
                created_at=utc(now),
                idempotency_key=key,
                note=note,
                balance_after=balance_after,
                details=details,
                new_tier=new_tier,
            )
            .returning(ledger.c.id)
        )
        return int(result.scalar_one())

    def _earn_result(self, entry: LedgerEntry, *, replayed: bool) -> EarnResult:
        d = _from_json(entry["details"])
        return {
            **d,  # type: ignore[typeddict-item]
            "entry_id": entry["id"],
            "customer_id": entry["customer_id"],
            "card_number": d.get("card_number", ""),
            "replayed": replayed,
        }

    def _redeem_result(self, entry: LedgerEntry, *, replayed: bool) -> RedeemResult:
        d = _from_json(entry["details"])
        return {
            **d,  # type: ignore[typeddict-item]
            "entry_id": entry["id"],
            "customer_id": entry["customer_id"],
            "card_number": d.get("card_number", ""),
            "code": str(d.get("code", "")),
            "replayed": replayed,
        }

    # --- reading the ledger ------------------------------------------------------------------

    async def entry_by_key(self, key: str) -> LedgerEntry | None:
        """The entry a confirmation recorded, if it was recorded ("already done")."""
        return await self._replay(key)

    async def is_recorded(self, kind: str, key: str) -> bool:
        """Whether a confirmation with this key was recorded ("reg" keys create customers)."""
        if kind == "reg":
            return await self._one(customers.c.registration_key == key) is not None
        return await self._replay(key) is not None

    async def _replay(self, key: str | None) -> LedgerEntry | None:
        if key is None:
            return None
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(select(ledger).where(ledger.c.idempotency_key == key))
            ).first()
        return None if row is None else _entry(row)

    async def recent_entries(self, customer_id: int, limit: int = 5) -> list[LedgerEntry]:
        """The customer's newest entries first (uses the (customer_id, id) index)."""
        query = (
            select(ledger)
            .where(ledger.c.customer_id == customer_id)
            .order_by(ledger.c.id.desc())
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_entry(r) for r in rows]

    async def ledger_sum(self, customer_id: int) -> int:
        """Sum of the customer's entries: always equal to their balance."""
        query = select(func.coalesce(func.sum(ledger.c.points), 0)).where(
            ledger.c.customer_id == customer_id
        )
        async with self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    # --- linking a Telegram account ----------------------------------------------------------

    async def link_telegram(self, phone: str, user_id: int) -> Customer:
        """Links the card with this phone to a Telegram account (the customer's own contact)."""
        customer = await self.customer_by_phone(phone)
        if customer is None:
            raise UnknownCustomer(phone)
        if customer["telegram_user_id"] == user_id:
            return customer
        if customer["telegram_user_id"] is not None:
            raise AlreadyLinked(customer["card_number"])
        try:
            async with self._write_turn, self.engine.begin() as conn:
                # One account, one card: unlink this account from any card it had before.
                await conn.execute(
                    update(customers)
                    .where(customers.c.telegram_user_id == user_id)
                    .values(telegram_user_id=None)
                )
                await conn.execute(
                    update(customers)
                    .where(customers.c.id == customer["id"])
                    .where(customers.c.telegram_user_id.is_(None))
                    .values(telegram_user_id=user_id)
                )
        except IntegrityError:
            raise AlreadyLinked(customer["card_number"]) from None
        linked = await self.get_customer(customer["id"])
        if linked["telegram_user_id"] != user_id:
            raise AlreadyLinked(customer["card_number"])
        return linked
