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

Corrections (void, refund, adjust; issue "Mistakes happen") follow the same pattern: the rules
in core/corrections.py, the transaction in Ledger._correct. Every change also appends its audit
record (core/db/audit.py) in its own transaction; `record_audit` is for the bot's other actions.

How it runs (issue "Scale": lookup, earn, redeem under 2 ms). Each operation is one plain
function over one connection (core/db/ledger.py for the changes, core/db/reads.py), and its
statements are built once, with bound parameters, in core/db/statements.py: building them per
call cost more CPU than SQLite spent running them. A UnitOfWork (core/db/unit_of_work.py) runs
each function whole: on a SQLite file in one hand-off to a worker thread, writers taking turns;
elsewhere through the async engine.
`Store.engine` stays the async engine, for the reports, staff and migrations.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Concatenate, Literal, ParamSpec, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from core import corrections, rules
from core import referrals as core_referrals
from core.cards import new_card_number
from core.errors import AlreadyLinked, AlreadyReversed, DuplicateCustomer, UnknownCustomer
from core.lookup import parse_reference
from core.tiers import Standing
from core.types import (
    AuditAction,
    AuditRecord,
    BonusResult,
    CorrectableEntry,
    CorrectionQuote,
    CorrectionResult,
    Customer,
    EarnResult,
    LedgerEntry,
    NewCustomer,
    Program,
    RedeemResult,
    RegisterResult,
)

from . import audit, privacy, reads, referrals
from . import tiers as tier_store
from .constraints import (
    UNIQUE_CARD_NUMBER,
    UNIQUE_PHONE,
    UNIQUE_TELEGRAM_USER,
    UNIQUE_VOID,
    violated,
)
from .ledger import Ledger, Tell
from .results import correction_replayed, earn_replayed, redeem_replayed
from .statements import (
    BY_CARD,
    BY_PHONE,
    BY_REGISTRATION,
    BY_TELEGRAM,
    LINK,
    SET_BIRTHDAY,
    UNLINK,
)
from .unit_of_work import UnitOfWork

MAX_ATTEMPTS = 20  # compare-and-swap retries; contention on one card is a handful of cashiers

P = ParamSpec("P")
R = TypeVar("R")


class ConcurrentUpdate(RuntimeError):
    """Gave up after MAX_ATTEMPTS lost races on one customer (never seen outside stress tests)."""


def _link(conn: Connection, phone: str, user_id: int) -> Customer:
    customer = reads.customer_by(conn, BY_PHONE, phone)
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
    linked = reads.existing_customer(conn, customer["id"])
    # A referral link this account opened before ties to the card now (core/referrals.py).
    referrals.attach(conn, linked, user_id)
    return linked


def _record(
    conn: Connection,
    *,
    action: AuditAction,
    actor_id: int | None,
    customer_id: int | None,
    entry_id: int | None,
    details: Mapping[str, object],
    now: dt.datetime,
) -> int:
    return audit.audit(
        conn,
        actor_id=actor_id,
        action=action,
        customer_id=customer_id,
        entry_id=entry_id,
        details=details,
        now=now,
    )


def _set_birthday(
    conn: Connection,
    customer_id: int,
    birthday: dt.date | None,
    actor_id: int | None,
    now: dt.datetime,
) -> None:
    reads.existing_customer(conn, customer_id)
    conn.execute(SET_BIRTHDAY, {"customer_id": customer_id, "birthday": birthday})
    audit.audit(
        conn,
        actor_id=actor_id,
        action="birthday",
        customer_id=customer_id,
        entry_id=None,
        details={"set": birthday is not None},
        now=now,
    )


class Store(Ledger):
    """Customers and their ledger. The program's rules are fixed per run.

    `engine` is the async engine everything else uses; on a SQLite file the Store's UnitOfWork
    also opens a synchronous twin for its own operations, closed by close().
    """

    def __init__(self, engine: AsyncEngine, program: Program) -> None:
        super().__init__(program)
        self.engine = engine
        self._unit = UnitOfWork(engine)

    @property
    def unit(self) -> UnitOfWork:
        """Runs other functions over the same database the same way (bot/delivery.py's outbox)."""
        return self._unit

    def close(self) -> None:
        """Closes the twin's connections (the async engine is its owner's to dispose of)."""
        self._unit.close()

    # --- finding customers -------------------------------------------------------------------

    async def find_customer(self, reference: str) -> Customer:
        """The customer a cashier means by a card or phone number (InvalidReference/Unknown)."""
        kind, value = parse_reference(reference, self.program.default_region)
        customer = await self._unit.read(
            reads.customer_by, BY_CARD if kind == "card" else BY_PHONE, value
        )
        if customer is None:
            raise UnknownCustomer(reference.strip())
        return customer

    async def get_customer(self, customer_id: int) -> Customer:
        return await self._unit.read(reads.existing_customer, customer_id)

    async def purchases(self, customer_id: int) -> int:
        """How many of the card's purchases stand: a first-purchase campaign's question."""
        return await self._unit.read(reads.purchases, customer_id)

    async def customer_by_phone(self, phone: str) -> Customer | None:
        return await self._unit.read(reads.customer_by, BY_PHONE, phone)

    async def customer_by_telegram(self, user_id: int) -> Customer | None:
        return await self._unit.read(reads.customer_by, BY_TELEGRAM, user_id)

    # --- registering -------------------------------------------------------------------------

    async def register(
        self,
        new: NewCustomer,
        *,
        actor_id: int | None,
        now: dt.datetime,
        key: str | None = None,
        tell: Tell[RegisterResult] | None = None,
    ) -> RegisterResult:
        """Creates the customer with a fresh card number, plus the signup bonus entry if any,
        queueing what `tell` says in the same transaction."""
        for _ in range(MAX_ATTEMPTS):
            card_number = new_card_number()  # a fresh one each attempt
            try:
                return await self._unit.write(
                    self._register_once, new, card_number, actor_id, now, key, tell
                )
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

    # --- earning and redeeming ---------------------------------------------------------------

    async def earn(
        self,
        customer_id: int,
        amount: Decimal,
        *,
        actor_id: int | None,
        now: dt.datetime,
        key: str | None = None,
        tell: Tell[EarnResult] | None = None,
    ) -> EarnResult:
        """Records a purchase: points per the customer's tier, balance and tier updated, and
        what `tell` says queued in the same transaction."""
        return await self._until_applied(
            self._earn_once, earn_replayed, key, customer_id, amount, actor_id, now, key, tell
        )

    async def redeem(
        self,
        customer_id: int,
        reward_id: str,
        *,
        actor_id: int | None,
        now: dt.datetime,
        key: str | None = None,
        tell: Tell[RedeemResult] | None = None,
    ) -> RedeemResult:
        """Spends points on a reward (InsufficientPoints if the balance is short), queueing
        what `tell` says in the same transaction."""
        reward = rules.find_reward(reward_id, self.program)
        return await self._until_applied(
            self._redeem_once, redeem_replayed, key, customer_id, reward, actor_id, now, key, tell
        )

    async def redeem_money_off(
        self,
        customer_id: int,
        reward_id: str,
        bill: Decimal,
        discount: Decimal,
        *,
        actor_id: int | None,
        now: dt.datetime,
        key: str | None = None,
        tell: Tell[RedeemResult] | None = None,
    ) -> RedeemResult:
        """Takes `discount` off `bill` with a money-off reward (core/money_off.py): spends its
        points, refused as the preview would be (the balance is read again here)."""
        reward = rules.find_reward(reward_id, self.program)
        return await self._until_applied(
            self._redeem_once,
            redeem_replayed,
            key,
            customer_id,
            reward,
            actor_id,
            now,
            key,
            tell,
            (bill, discount),
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
                replay = await self._unit.read(reads.entry_by_key, key)
                if replay is None:
                    raise
                return replayed(replay)
            if result is not None:
                return result
        raise ConcurrentUpdate(f"customer {customer_id} kept changing")

    # --- correcting mistakes (core/corrections.py) --------------------------------------------

    async def preview_void(
        self, entry_id: int, *, reason: str | None = None
    ) -> tuple[LedgerEntry, CorrectionQuote]:
        """The entry and what voiding it would do now; writes nothing (the bot's preview).
        Refused as `void` would be."""
        return await self._unit.read(self._void_quote, entry_id, reason)

    async def preview_refund(
        self, entry_id: int, amount: Decimal
    ) -> tuple[LedgerEntry, CorrectionQuote]:
        """The purchase and what refunding `amount` of it would do now; writes nothing.
        Refused as `refund` would be."""
        return await self._unit.read(self._refund_quote, entry_id, amount)

    async def refundable(self, entry_id: int) -> Decimal:
        """What is left of the purchase to refund; refused as `refund` would refuse it."""
        return await self._unit.read(self._refundable, entry_id)

    async def void(
        self,
        entry_id: int,
        *,
        actor_id: int | None,
        now: dt.datetime,
        key: str | None,
        reason: str | None = None,
        tell: Tell[CorrectionResult] | None = None,
    ) -> CorrectionResult:
        """Reverses a whole entry: takes back what is left of a purchase (less its refunds), a
        signup bonus or an adjustment, or gives back a redemption's points (its code is then no
        longer valid). Points already spent are recorded as owed (docs/decisions.md).

        Refused, changing nothing: UnknownEntry, NotReversible (a void or refund),
        AlreadyReversed (voided before, or refunded in full; also when two voids race).
        """
        return await self._until_corrected(
            self._void_once, key, entry_id, entry_id, reason, actor_id, now, key, tell
        )

    async def refund(
        self,
        entry_id: int,
        amount: Decimal,
        *,
        actor_id: int | None,
        now: dt.datetime,
        key: str | None,
        tell: Tell[CorrectionResult] | None = None,
    ) -> CorrectionResult:
        """Gives back `amount` of a purchase: takes back the points that part earned, by the
        rule stored on the purchase's entry; the purchase stays a visit, its amount is lowered.

        Refused, changing nothing: UnknownEntry, NotAPurchase, AlreadyReversed (voided, or
        refunded in full), RefundTooLarge (with what is left), InvalidAmount.
        """
        return await self._until_corrected(
            self._refund_once, key, entry_id, entry_id, amount, actor_id, now, key, tell
        )

    async def adjust(
        self,
        customer_id: int,
        points: int,
        reason: str,
        *,
        actor_id: int | None,
        now: dt.datetime,
        key: str | None,
        tell: Tell[CorrectionResult] | None = None,
    ) -> CorrectionResult:
        """Adds (points > 0) or takes away (points < 0) points by hand, saying why.

        Refused, changing nothing: UnknownCustomer, ReasonRequired, InvalidAmount (zero, or
        beyond core.corrections.MAX_ADJUSTMENT).
        """
        return await self._until_corrected(
            self._adjust_once, key, None, customer_id, points, reason, actor_id, now, key, tell
        )

    async def _until_corrected(
        self,
        once: Callable[Concatenate[Connection, P], CorrectionResult | None],
        key: str | None,
        entry_id: int | None,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> CorrectionResult:
        """_until_applied for corrections. A refused write means the same confirmation won a
        race (return what it recorded) or another void of the entry did (AlreadyReversed)."""
        for _ in range(MAX_ATTEMPTS):
            try:
                result = await self._unit.write(once, *args, **kwargs)
            except IntegrityError as exc:
                replay = await self._unit.read(reads.entry_by_key, key)
                if replay is not None:
                    return correction_replayed(replay)
                if entry_id is not None and violated(exc) == UNIQUE_VOID:
                    earlier = await self._unit.read(reads.corrections_of, entry_id)
                    void = next(e["id"] for e in earlier if e["kind"] == "void")
                    raise AlreadyReversed(entry_id, void) from None
                raise
            if result is not None:
                return result
        raise ConcurrentUpdate(f"the card of {entry_id or 'this adjustment'} kept changing")

    async def entry(self, entry_id: int) -> LedgerEntry:
        """The ledger entry with this id (UnknownEntry if there is none)."""
        return await self._unit.read(reads.entry, entry_id)

    async def correctable_entries(
        self, customer_id: int, limit: int = 10
    ) -> list[CorrectableEntry]:
        """The card's newest purchases and redemptions that can still be voided or refunded,
        newest first, with what is left of each: the bot's buttons."""
        found = await self._unit.read(reads.correctable, customer_id, limit)
        listed: list[CorrectableEntry] = []
        for entry, earlier in found:
            left = corrections.remaining(entry, earlier)
            kind = entry["kind"]
            assert kind in ("earn", "redeem")
            code = entry["details"].get("code")
            listed.append(
                {
                    "entry_id": entry["id"],
                    "kind": kind,
                    "created_at": entry["created_at"],
                    "actor_id": entry["actor_id"],
                    "points": corrections.gross(entry),
                    "amount": entry["amount"],
                    "reward_id": entry["reward_id"],
                    "code": None if code is None else str(code),
                    "refunded": left["refunded"],
                    "refundable": left["amount"],
                    "void_points": -left["points"],
                }
            )
        return listed

    # --- birthdays and bonuses (core/birthdays.py, bot/birthdays.py) ---------------------------

    async def birthday(self, customer_id: int) -> dt.date | None:
        return await self._unit.read(reads.birthday, customer_id)

    async def birthdays(self) -> list[tuple[int, dt.date]]:
        """Every card with a birthday given, as (customer id, birthday)."""
        return await self._unit.read(reads.birthdays)

    async def set_birthday(
        self, customer_id: int, birthday: dt.date | None, *, actor_id: int | None, now: dt.datetime
    ) -> None:
        """Sets (or, with None, forgets) the card's birthday, and audits who did (not the date)."""
        await self._unit.write(_set_birthday, customer_id, birthday, actor_id, now)

    async def bonus(
        self,
        customer_id: int,
        points: int,
        *,
        reason: str,
        key: str,
        now: dt.datetime,
        details: Mapping[str, object] | None = None,
        tell: Tell[BonusResult] | None = None,
    ) -> BonusResult:
        """Gives the card a `bonus` entry once per key (a birthday's: birthday:<id>:<year>)."""
        for _ in range(MAX_ATTEMPTS):
            try:
                result = await self._unit.write(
                    self._bonus_once,
                    customer_id,
                    points,
                    reason,
                    dict(details or {}),
                    now,
                    key,
                    tell,
                )
            except IntegrityError:
                # The same key raced us (two jobs at once): theirs stands, replayed.
                replay = await self._unit.read(reads.entry_by_key, key)
                if replay is None:
                    raise
                continue
            if result is not None:
                return result
        raise ConcurrentUpdate(f"the card #{customer_id} kept changing")

    # --- referrals (core/referrals.py, core/db/referrals.py) -----------------------------------

    async def referral_code(self, customer_id: int) -> str:
        """The customer's referral code, drawn at first use."""
        for _ in range(MAX_ATTEMPTS):
            try:
                return await self._unit.write(referrals.code_for, customer_id)
            except IntegrityError:
                continue  # two random codes collided: draw another
        raise ConcurrentUpdate("could not find a free referral code")

    async def referral_click(self, code: str, user_id: int, now: dt.datetime) -> referrals.Click:
        """Remembers who opened whose link; what came of it."""
        try:
            return await self._unit.write(referrals.click, code, user_id, now)
        except IntegrityError:
            return "already"  # the same account's two clicks at once: the first one stands

    async def reward_referral(
        self, customer_id: int, *, now: dt.datetime, tell: Tell[BonusResult] | None = None
    ) -> list[BonusResult]:
        """At the invited card's purchase: [referral] bonus to it and to its referrer (within
        the monthly limit), each once by its key; nothing if the card has no referral waiting.
        A failure part-way is finished by the card's next purchase: the keys make it once."""
        bonus = self.program.referral_bonus
        waiting = await self._unit.read(referrals.unrewarded, customer_id) if bonus else None
        if waiting is None:
            return []
        referral_id, referrer_id = waiting
        given = [
            await self.bonus(
                customer_id,
                bonus,
                reason="referral",
                key=f"referral:{referral_id}:invited",
                now=now,
                details={"referral_id": referral_id, "side": "invited"},
                tell=tell,
            )
        ]
        since = core_referrals.month_start(now, zoneinfo.ZoneInfo(self.program.timezone))
        so_far = await self._unit.read(referrals.rewarded_since, referrer_id, since)
        if core_referrals.referrer_rewarded(so_far, self.program.referral_monthly_limit):
            given.append(
                await self.bonus(
                    referrer_id,
                    bonus,
                    reason="referral",
                    key=f"referral:{referral_id}:referrer",
                    now=now,
                    details={"referral_id": referral_id, "side": "referrer"},
                    tell=tell,
                )
            )
        await self._unit.write(referrals.mark_rewarded, referral_id, now)
        return [g for g in given if not g["replayed"]]

    # --- the audit trail (core/db/audit.py) ----------------------------------------------------

    async def record_audit(
        self,
        action: AuditAction,
        *,
        actor_id: int | None,
        now: dt.datetime,
        details: Mapping[str, object] | None = None,
        customer_id: int | None = None,
        entry_id: int | None = None,
    ) -> int:
        """Records an action outside the ledger (staff added or removed, an invite made or used,
        contacts exported, the config loaded at start with its hash); returns the record's id.
        `details` must be JSON-serialisable and hold no contact details or secrets."""
        return await self._unit.write(
            _record,
            action=action,
            actor_id=actor_id,
            customer_id=customer_id,
            entry_id=entry_id,
            details=details or {},
            now=now,
        )

    async def audit_log(
        self,
        customer_id: int | None = None,
        actor_id: int | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        limit: int = 100,
    ) -> list[AuditRecord]:
        """Audit records matching every filter given ([since, until)), newest first."""
        return await self._unit.read(
            audit.audit_log,
            customer_id=customer_id,
            actor_id=actor_id,
            since=since,
            until=until,
            limit=limit,
        )

    # --- reading the ledger ------------------------------------------------------------------

    async def entry_by_key(self, key: str) -> LedgerEntry | None:
        """The entry a confirmation recorded, if it was recorded ("already done")."""
        return await self._unit.read(reads.entry_by_key, key)

    async def is_registered(self, key: str) -> bool:
        """Whether a registration confirmation with this key created a customer."""
        return await self._unit.read(reads.customer_by, BY_REGISTRATION, key) is not None

    async def recent_entries(self, customer_id: int, limit: int = 5) -> list[LedgerEntry]:
        """The customer's newest entries first (uses the (customer_id, id) index)."""
        return await self._unit.read(reads.recent_entries, customer_id, limit)

    async def ledger_sum(self, customer_id: int) -> int:
        """Sum of the customer's entries: always equal to their balance."""
        return await self._unit.read(reads.ledger_sum, customer_id)

    # --- the tier policy (core/tiers.py; the statements in core/db/tiers.py) --------------------

    async def standing(self, customer: Customer, now: dt.datetime) -> Standing:
        """The customer's tier standing at `now` (/status shows its progress)."""
        return await self._unit.read(tier_store.standing, customer, self.program, now)

    async def pin_tier(
        self,
        customer_id: int,
        tier: str | None,
        *,
        reason: str,
        actor_id: int | None,
        now: dt.datetime,
    ) -> tuple[Customer, Customer]:
        """Pins `tier` on the card (None: unpins, the policy decides again), audited with the
        reason; returns the customer before and after."""
        for _ in range(MAX_ATTEMPTS):
            done = await self._unit.write(
                tier_store.pin, customer_id, tier, reason, self.program, actor_id, now
            )
            if done is not None:
                return done
        raise ConcurrentUpdate(f"customer {customer_id} kept changing")

    async def drop_aged_tiers(self, now: dt.datetime) -> int:
        """Moves every customer whose qualifying points aged out since the last run to the tier
        the policy now gives (the daily job, bot/tiers_job.py); how many moved. Runs once per
        shop day: a second run the same day finds nothing to do."""
        today, due = await self._unit.read(tier_store.due, self.program, now)
        moved = 0
        for customer_id in due:  # one short transaction each, so cashiers are never held up
            moved += await self._unit.write(tier_store.refresh, customer_id, self.program, now)
        await self._unit.write(tier_store.mark_done, today)
        return moved

    # --- linking a Telegram account ----------------------------------------------------------

    async def link_telegram(self, phone: str, user_id: int) -> Customer:
        """Links the card with this phone to a Telegram account (the customer's own contact)."""
        linked = await self._unit.write(_link, phone, user_id)
        if linked["telegram_user_id"] != user_id:
            raise AlreadyLinked(linked["card_number"])
        return linked

    # --- the customer's data (core/db/privacy.py: /notifications, /mydata, /forget, /edit) ---

    async def set_notifications(
        self, customer_id: int, on: bool, *, actor_id: int, now: dt.datetime
    ) -> bool:
        """Turns the customer's notices on or off; returns whether that changed anything."""
        return await self._unit.write(
            privacy.set_notify, customer_id, on, actor_id=actor_id, now=now
        )

    async def notifications_on(self, customer_id: int) -> bool:
        return await self._unit.read(privacy.notify_of, customer_id)

    async def my_data(self, user_id: int) -> privacy.MyData | None:
        """The card linked to this Telegram account with its whole ledger, its audit records
        (oldest first) and the notification setting; None when no card is linked."""
        return await self._unit.read(privacy.my_data, user_id)

    async def forget(
        self,
        customer_id: int,
        *,
        owner: int | None,
        actor_id: int,
        by: Literal["customer", "admin"],
        now: dt.datetime,
    ) -> Customer:
        """Erases the customer's personal data, keeping the card, its balance and its ledger
        (docs/decisions.md). `owner`: the account asking for its own card (re-checked here)."""
        return await self._unit.write(
            privacy.forget, customer_id, owner=owner, actor_id=actor_id, by=by, now=now
        )

    async def edit_customer(
        self, customer_id: int, changes: dict[str, object], *, actor_id: int, now: dt.datetime
    ) -> Customer:
        """Changes validated contact details (DuplicateCustomer if the phone is another card's)."""
        try:
            return await self._unit.write(
                privacy.edit, customer_id, changes, actor_id=actor_id, now=now
            )
        except IntegrityError as exc:
            if violated(exc) != UNIQUE_PHONE:
                raise
            existing = await self.customer_by_phone(str(changes.get("phone")))
            raise DuplicateCustomer(existing["card_number"] if existing else "?") from None
