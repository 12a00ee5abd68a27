"""Customers and the ledger: every operation that changes points (the imperative shell).

Each change follows one pattern, so points are never lost or counted twice:
1. If the idempotency key is already recorded, return the original result; change nothing.
2. Read the customer, let the pure rules (core/rules.py) compute the quote.
3. In one transaction: compare-and-swap the customer row (UPDATE ... WHERE version = :seen)
   and append the ledger entry carrying the key. If another writer got there first the UPDATE
   matches no row and we start again from 1 with fresh numbers; if the same key raced us, the
   unique index refuses our entry, the transaction rolls back, and we return theirs.
No balance is ever read, changed in Python and written back unguarded; a CHECK constraint keeps
balance >= 0 as a last line of defence.

How it runs (issue "Scale": lookup, earn, redeem under 2 ms). Each operation is one plain
function over one connection (`_earn_once`, ...), and its statements are built once, with bound
parameters, in core/db/statements.py: building them per call cost more CPU than SQLite spent
running them. A UnitOfWork (core/db/unit_of_work.py) runs each function whole: on a SQLite file
in one hand-off to a worker thread, writers taking turns; elsewhere through the async engine.
`Store.engine` stays the async engine, for the reports, staff and migrations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from sqlalchemy import Connection, Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

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
    Reward,
)

from .constraints import UNIQUE_CARD_NUMBER, UNIQUE_PHONE, UNIQUE_TELEGRAM_USER, violated
from .statements import (
    APPEND,
    BY_CARD,
    BY_ID,
    BY_PHONE,
    BY_REGISTRATION,
    BY_TELEGRAM,
    CUSTOMER_UNLESS_RECORDED,
    ENTRY_BY_KEY,
    INSERT_CUSTOMER,
    LEDGER_SUM,
    LINK,
    RECENT,
    SWAP,
    UNLINK,
    customer_record,
    entry_record,
    from_json,
    to_json,
    utc,
)
from .unit_of_work import UnitOfWork

MAX_ATTEMPTS = 20  # compare-and-swap retries; contention on one card is a handful of cashiers

P = ParamSpec("P")
R = TypeVar("R")


class ConcurrentUpdate(RuntimeError):
    """Gave up after MAX_ATTEMPTS lost races on one customer (never seen outside stress tests)."""


# --- units of work: each runs whole on one connection --------------------------------------------


def _one(conn: Connection, query: Select[Any], value: object) -> Customer | None:
    row = conn.execute(query, {"value": value}).first()
    return None if row is None else customer_record(row)


def _existing(conn: Connection, customer_id: int) -> Customer:
    customer = _one(conn, BY_ID, customer_id)
    if customer is None:
        raise UnknownCustomer(f"#{customer_id}")
    return customer


def _customer_unless_recorded(
    conn: Connection, customer_id: int, key: str | None
) -> Customer | None:
    """The customer about to change; None if `key` is already recorded or there is no such card."""
    row = conn.execute(CUSTOMER_UNLESS_RECORDED, {"customer_id": customer_id, "key": key}).first()
    return None if row is None or row._mapping["recorded_id"] is not None else customer_record(row)


def _replay_of(conn: Connection, customer_id: int, key: str | None) -> LedgerEntry:
    """What the key recorded, when _customer_unless_recorded found no customer to change."""
    replay = _entry_by_key(conn, key)
    if replay is None:
        raise UnknownCustomer(f"#{customer_id}")
    return replay


def _entry_by_key(conn: Connection, key: str | None) -> LedgerEntry | None:
    if key is None:
        return None
    row = conn.execute(ENTRY_BY_KEY, {"key": key}).first()
    return None if row is None else entry_record(row)


def _recent(conn: Connection, customer_id: int, limit: int) -> list[LedgerEntry]:
    rows = conn.execute(RECENT, {"customer_id": customer_id, "limit": limit}).all()
    return [entry_record(r) for r in rows]


def _ledger_sum(conn: Connection, customer_id: int) -> int:
    return int(conn.execute(LEDGER_SUM, {"customer_id": customer_id}).scalar_one())


def _link(conn: Connection, phone: str, user_id: int) -> Customer:
    customer = _one(conn, BY_PHONE, phone)
    if customer is None:
        raise UnknownCustomer(phone)
    if customer["telegram_user_id"] == user_id:
        return customer
    if customer["telegram_user_id"] is not None:
        raise AlreadyLinked(customer["card_number"])
    try:
        # One account, one card: unlink this account from any card it had before.
        conn.execute(UNLINK, {"user_id": user_id})
        conn.execute(LINK, {"customer_id": customer["id"], "user_id": user_id})
    except IntegrityError as exc:
        if violated(exc) != UNIQUE_TELEGRAM_USER:
            raise
        # A link racing ours gave this account another card between UNLINK and LINK.
        raise AlreadyLinked(customer["card_number"]) from None
    return _existing(conn, customer["id"])


def _written(customer: Customer, entry_id: int) -> dict[str, Any]:
    """What an earn's or a redemption's result adds to its quote, from what was just written
    (not read back: a round trip fewer per change)."""
    return {
        "card_number": customer["card_number"],
        "entry_id": entry_id,
        "customer_id": customer["id"],
        "replayed": False,
        "notify_user_id": customer["telegram_user_id"],
    }


def _replayed(entry: LedgerEntry) -> dict[str, Any]:
    """The result a recorded confirmation returned, rebuilt from its entry's details (the quote,
    the card and any code), marked replayed. Nobody is to be notified: they were told the first
    time."""
    details = from_json(entry["details"])
    return {
        **details,
        "entry_id": entry["id"],
        "customer_id": entry["customer_id"],
        "card_number": details.get("card_number", ""),
        "replayed": True,
        "notify_user_id": None,
    }


def _earn_replayed(entry: LedgerEntry) -> EarnResult:
    return cast(EarnResult, _replayed(entry))


def _redeem_replayed(entry: LedgerEntry) -> RedeemResult:
    return cast(RedeemResult, {"code": "", **_replayed(entry)})


class Store:
    """Customers and their ledger. The program's rules are fixed per run.

    `engine` is the async engine everything else uses; on a SQLite file the Store's UnitOfWork
    also opens a synchronous twin for its own operations, closed by close().
    """

    def __init__(self, engine: AsyncEngine, program: Program) -> None:
        self.engine = engine
        self.program = program
        self._unit = UnitOfWork(engine)

    def close(self) -> None:
        """Closes the twin's connections (the async engine is its owner's to dispose of)."""
        self._unit.close()

    # --- finding customers -------------------------------------------------------------------

    async def find_customer(self, reference: str) -> Customer:
        """The customer a cashier means by a card or phone number (InvalidReference/Unknown)."""
        kind, value = parse_reference(reference, self.program.default_region)
        customer = await self._unit.read(_one, BY_CARD if kind == "card" else BY_PHONE, value)
        if customer is None:
            raise UnknownCustomer(reference.strip())
        return customer

    async def get_customer(self, customer_id: int) -> Customer:
        return await self._unit.read(_existing, customer_id)

    async def customer_by_phone(self, phone: str) -> Customer | None:
        return await self._unit.read(_one, BY_PHONE, phone)

    async def customer_by_telegram(self, user_id: int) -> Customer | None:
        return await self._unit.read(_one, BY_TELEGRAM, user_id)

    # --- registering -------------------------------------------------------------------------

    async def register(
        self, new: NewCustomer, *, actor_id: int | None, now: dt.datetime, key: str | None = None
    ) -> RegisterResult:
        """Creates the customer with a fresh card number, plus the signup bonus entry if any."""
        for _ in range(MAX_ATTEMPTS):
            try:
                return await self._unit.write(self._register_once, new, actor_id, now, key)
            except IntegrityError as exc:
                # A racing copy of the same confirmation may trip the phone index before the
                # key's: whichever fired, if our key is now recorded, return what it recorded.
                replay = await self._unit.read(self._registered_with, key)
                if replay is not None:
                    return replay
                broken = violated(exc)
                if broken == UNIQUE_PHONE:
                    existing = await self.customer_by_phone(new["phone"])
                    raise DuplicateCustomer(existing["card_number"] if existing else "?") from None
                if broken == UNIQUE_CARD_NUMBER:
                    continue  # two random card numbers collided: draw another
                raise
        raise ConcurrentUpdate("could not find a free card number")

    def _register_once(
        self,
        conn: Connection,
        new: NewCustomer,
        actor_id: int | None,
        now: dt.datetime,
        key: str | None,
    ) -> RegisterResult:
        replay = self._registered_with(conn, key)
        if replay is not None:
            return replay
        existing = _one(conn, BY_PHONE, new["phone"])
        if existing is not None:
            # A racing copy of this same confirmation may have just created it: that's a replay.
            replay = self._registered_with(conn, key)
            if replay is not None:
                return replay
            raise DuplicateCustomer(existing["card_number"])
        bonus = self.program.signup_bonus
        values = {
            "card_number": new_card_number(),
            "name": new["name"],
            "phone": new["phone"],
            "email": new["email"],
            "created_at": utc(now),
            "balance": bonus,
            "lifetime_earned": bonus,
            "lifetime_redeemed": 0,
            "tier": rules.tier_for(bonus, self.program.tiers).name,
            "version": 0,
            "registration_key": key,
        }
        customer_id = int(conn.execute(INSERT_CUSTOMER, values).scalar_one())
        if bonus:
            self._append(
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
        return {"customer": _existing(conn, customer_id), "signup_bonus": bonus, "replayed": False}

    def _registered_with(self, conn: Connection, key: str | None) -> RegisterResult | None:
        """The registration an idempotency key already made, as a replayed result."""
        if key is None:
            return None
        done = _one(conn, BY_REGISTRATION, key)
        if done is None:
            return None
        return {"customer": done, "signup_bonus": self.program.signup_bonus, "replayed": True}

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
        return await self._until_applied(
            self._earn_once, _earn_replayed, key, customer_id, amount, actor_id, now, key
        )

    def _earn_once(
        self,
        conn: Connection,
        customer_id: int,
        amount: Decimal,
        actor_id: int | None,
        now: dt.datetime,
        key: str | None,
    ) -> EarnResult | None:
        customer = _customer_unless_recorded(conn, customer_id, key)
        if customer is None:
            return _earn_replayed(_replay_of(conn, customer_id, key))
        quote = rules.quote_earn(customer, amount, self.program)
        entry_id = self._apply(
            conn,
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
        if entry_id is None:
            return None
        return cast(EarnResult, {**quote, **_written(customer, entry_id)})

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
        return await self._until_applied(
            self._redeem_once, _redeem_replayed, key, customer_id, reward, actor_id, now, key
        )

    async def _until_applied(
        self,
        once: Callable[Concatenate[Connection, int, P], R | None],
        replayed: Callable[[LedgerEntry], R],
        key: str | None,
        customer_id: int,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        """Runs one change until its compare-and-swap wins (None from `once` means another
        writer changed the card first: read again and recompute). If the same confirmation
        raced us from elsewhere and won, the unique key refuses ours: return its entry."""
        for _ in range(MAX_ATTEMPTS):
            try:
                result = await self._unit.write(once, customer_id, *args, **kwargs)
            except IntegrityError:
                replay = await self._unit.read(_entry_by_key, key)
                if replay is None:
                    raise
                return replayed(replay)
            if result is not None:
                return result
        raise ConcurrentUpdate(f"customer {customer_id} kept changing")

    def _redeem_once(
        self,
        conn: Connection,
        customer_id: int,
        reward: Reward,
        actor_id: int | None,
        now: dt.datetime,
        key: str | None,
    ) -> RedeemResult | None:
        customer = _customer_unless_recorded(conn, customer_id, key)
        if customer is None:
            return _redeem_replayed(_replay_of(conn, customer_id, key))
        quote = rules.quote_redeem(customer, reward, self.program)
        code = rules.new_redemption_code()
        entry_id = self._apply(
            conn,
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
        if entry_id is None:
            return None
        return cast(RedeemResult, {**quote, "code": code, **_written(customer, entry_id)})

    def _apply(
        self,
        conn: Connection,
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
        amount_minor = None if amount is None else int(amount * 100)
        swapped = conn.execute(
            SWAP,
            {
                "customer_id": customer["id"],
                "seen": customer["version"],
                "points": points,
                "earned": max(points, 0),
                "redeemed": max(-points, 0),
                "new_tier": tier,  # None keeps the tier
                "now": utc(now),
                "purchase": int(kind == "earn"),
                "spent": (amount_minor or 0) if kind == "earn" else 0,
                "redemption": int(kind == "redeem"),
            },
        )
        if swapped.rowcount != 1:
            return None  # somebody else changed this card since we read it: recompute
        details = to_json(quote)
        details["card_number"] = customer["card_number"]
        if code is not None:
            details["code"] = code
        return self._append(
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
            amount_minor=amount_minor,
            # Set only when the tier changes, so reports count tier-ups without JSON.
            new_tier=tier if tier is not None and tier != customer["tier"] else None,
        )

    def _append(
        self,
        conn: Connection,
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
        values = {
            "customer_id": customer_id,
            "kind": kind,
            "points": points,
            "amount_minor": amount_minor,
            "reward_id": reward_id,
            "code": code,
            "actor_id": actor_id,
            "created_at": utc(now),
            "idempotency_key": key,
            "note": note,
            "balance_after": balance_after,
            "details": details,
            "new_tier": new_tier,
        }
        return int(conn.execute(APPEND, values).scalar_one())

    # --- reading the ledger ------------------------------------------------------------------

    async def entry_by_key(self, key: str) -> LedgerEntry | None:
        """The entry a confirmation recorded, if it was recorded ("already done")."""
        return await self._unit.read(_entry_by_key, key)

    async def is_registered(self, key: str) -> bool:
        """Whether a registration confirmation with this key created a customer."""
        return await self._unit.read(_one, BY_REGISTRATION, key) is not None

    async def is_recorded(self, kind: str, key: str) -> bool:
        """Whether a confirmation with this key was recorded ("reg" keys create customers).

        is_registered and entry_by_key say the same for each kind; this goes once the bot's
        confirm step asks them.
        """
        if kind == "reg":
            return await self.is_registered(key)
        return await self._unit.read(_entry_by_key, key) is not None

    async def recent_entries(self, customer_id: int, limit: int = 5) -> list[LedgerEntry]:
        """The customer's newest entries first (uses the (customer_id, id) index)."""
        return await self._unit.read(_recent, customer_id, limit)

    async def ledger_sum(self, customer_id: int) -> int:
        """Sum of the customer's entries: always equal to their balance."""
        return await self._unit.read(_ledger_sum, customer_id)

    # --- linking a Telegram account ----------------------------------------------------------

    async def link_telegram(self, phone: str, user_id: int) -> Customer:
        """Links the card with this phone to a Telegram account (the customer's own contact)."""
        linked = await self._unit.write(_link, phone, user_id)
        if linked["telegram_user_id"] != user_id:
            raise AlreadyLinked(linked["card_number"])
        return linked
