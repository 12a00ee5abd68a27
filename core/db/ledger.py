"""The changes that move points, each the body of one transaction on one connection.

Registering a customer (with any signup bonus), earning and redeeming, correcting (void, refund,
adjust: core/corrections.py), and what they share: the compare-and-swap of the customer row and
the ledger entry appended with it (core/db/store.py tells the whole pattern), and the audit
record (core/db/audit.py) written with them. Each runs whole on the worker thread, on the
connection a UnitOfWork gives it (core/db/unit_of_work.py); a None return means its
compare-and-swap lost and nothing was written. Deciding what to do then, and when a unique key
refuses a write, is the Store's: it awaits these, and retries.

Each may queue the messages the change owes people (`tell`, core/db/outbox.py) in its own
transaction: a change is never committed without its messages, nor the messages without it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TypeVar, cast

from sqlalchemy import Connection

from core import corrections, money_off, rules, tiers
from core.errors import DuplicateCustomer
from core.search import search_key
from core.types import (
    BonusResult,
    CorrectionQuote,
    CorrectionResult,
    Customer,
    EarnQuote,
    EarnResult,
    EntryKind,
    LedgerEntry,
    NewCustomer,
    Outgoing,
    Owed,
    Program,
    RedeemQuote,
    RedeemResult,
    RegisterResult,
    Reward,
)

from . import lots, outbox, reads
from . import tiers as tier_store
from .audit import audit
from .reads import customer_by, customer_unless_recorded, existing_customer, replay_of
from .results import correction_replayed, earn_replayed, redeem_replayed, written
from .statements import (
    APPEND,
    BY_PHONE,
    BY_REGISTRATION,
    CORRECT,
    INSERT_CUSTOMER,
    REVISIT,
    SWAP,
    to_json,
    utc,
)

R = TypeVar("R", EarnResult, RedeemResult, RegisterResult, CorrectionResult, BonusResult)
# What a change owes people, from its result: run inside the change's transaction, so the
# messages are queued if and only if the change is committed (core/db/outbox.py).
Tell = Callable[[R], Sequence[Outgoing]]


def _queue(
    conn: Connection, key: str | None, tell: Tell[R] | None, result: R, now: dt.datetime
) -> list[Owed]:
    return [] if tell is None else outbox.enqueue(conn, key, tell(result), now=now)


class Ledger:
    """The Store's changes inside one transaction, under the program's rules.

    The Store is a Ledger plus the async operations that run these and retry them
    (core/db/store.py): the code that runs inside a transaction on the worker thread reads apart
    from the code that awaits it. Every entry goes through _append, which tests break on purpose
    to show that a half-written change rolls back whole.
    """

    def __init__(self, program: Program) -> None:
        self.program = program

    # --- the tier policy (core/tiers.py, core/db/tiers.py) -----------------------------------

    def _day(self, at: dt.datetime) -> dt.date:
        """The shop's date at `at`: the day qualifying points are kept under."""
        return tiers.shop_day(at, self.program.tier_policy.timezone)

    def _policy_tier(
        self,
        conn: Connection,
        customer: Customer,
        quote: CorrectionQuote,
        target: LedgerEntry | None,
        now: dt.datetime,
    ) -> CorrectionQuote:
        """The quote with the tier the policy (and any pin) gives after the correction: the
        corrections' rules know lifetime points only."""
        earned, _ = rules.lifetime_change(quote["kind"], quote["points"])
        if not earned:
            return quote  # only a change of lifetime points moves the tier
        standing = tier_store.standing(conn, customer, self.program, now)
        day = self._day(now if target is None else target["created_at"])
        after = tiers.held(tiers.credited(standing, earned, day), self.program)
        return {**quote, "tier_after": after.name}

    # --- registering -------------------------------------------------------------------------

    def _register_once(
        self,
        conn: Connection,
        new: NewCustomer,
        card_number: str,
        actor_id: int | None,
        now: dt.datetime,
        key: str | None,
        tell: Tell[RegisterResult] | None,
    ) -> RegisterResult:
        replay = self._registered_with(conn, key)
        if replay is not None:
            return replay
        existing = customer_by(conn, BY_PHONE, new["phone"])
        if existing is not None:
            # A racing copy of this same confirmation may have just created it: that's a replay.
            replay = self._registered_with(conn, key)
            if replay is not None:
                return replay
            raise DuplicateCustomer(existing["card_number"])
        bonus = self.program.signup_bonus
        values = {
            "card_number": card_number,
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
            "search_key": search_key(new["name"], new["email"]),  # /find (core/search.py)
            "birthday": new.get("birthday"),
        }
        customer_id = int(conn.execute(INSERT_CUSTOMER, values).scalar_one())
        bonus_entry = None
        if bonus:
            bonus_entry = self._append(
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
        tier_store.bump(conn, customer_id, self._day(now), bonus)
        audit(
            conn,
            actor_id=actor_id,
            action="register",
            customer_id=customer_id,
            entry_id=bonus_entry,
            details={"card_number": card_number, "signup_bonus": bonus},
            now=now,
        )
        result: RegisterResult = {
            "customer": existing_customer(conn, customer_id),
            "signup_bonus": bonus,
            "replayed": False,
            "queued": [],
        }
        result["queued"] = _queue(conn, key, tell, result, now)
        return result

    def _registered_with(self, conn: Connection, key: str | None) -> RegisterResult | None:
        """The registration an idempotency key already made, as a replayed result."""
        if key is None:
            return None
        done = customer_by(conn, BY_REGISTRATION, key)
        if done is None:
            return None
        return {
            "customer": done,
            "signup_bonus": self.program.signup_bonus,
            "replayed": True,
            "queued": [],
        }

    # --- earning and redeeming ---------------------------------------------------------------

    def _earn_once(
        self,
        conn: Connection,
        customer_id: int,
        amount: Decimal,
        actor_id: int | None,
        now: dt.datetime,
        key: str | None,
        tell: Tell[EarnResult] | None,
    ) -> EarnResult | None:
        customer = customer_unless_recorded(conn, customer_id, key)
        if customer is None:
            return earn_replayed(replay_of(conn, customer_id, key))
        standing = tier_store.standing(conn, customer, self.program, now)
        quote = rules.quote_earn(
            customer,
            amount,
            self.program,
            standing,
            at=now,
            purchases=self._purchases(conn, customer_id),
        )
        entry_id = self._apply(
            conn,
            customer,
            kind="earn",
            points=quote["points"] - quote.get("owed_paid", 0),  # what reaches the balance
            owed_paid=quote.get("owed_paid", 0),
            quote=quote,
            tier=quote["tier_after"],
            amount=quote["amount"],
            actor_id=actor_id,
            now=now,
            key=key,
        )
        if entry_id is None:
            return None
        details: dict[str, object] = {"amount": str(quote["amount"]), "points": quote["points"]}
        if "owed_paid" in quote:
            details["owed_paid"] = quote["owed_paid"]
        audit(
            conn,
            actor_id=actor_id,
            action="earn",
            customer_id=customer_id,
            entry_id=entry_id,
            details=details,
            now=now,
        )
        result = cast(EarnResult, {**quote, **written(customer, entry_id)})
        result["queued"] = _queue(conn, key, tell, result, now)
        return result

    def _purchases(self, conn: Connection, customer_id: int) -> int | None:
        """The card's standing purchases, for first-purchase campaigns; not read (None) when
        the program has none, to keep an earn at its few statements."""
        if not any(c.first_purchase_bonus for c in self.program.campaigns):
            return None
        return reads.purchases(conn, customer_id)

    def _redeem_once(
        self,
        conn: Connection,
        customer_id: int,
        reward: Reward,
        actor_id: int | None,
        now: dt.datetime,
        key: str | None,
        tell: Tell[RedeemResult] | None,
        money: tuple[Decimal, Decimal] | None = None,
    ) -> RedeemResult | None:
        """A redemption; `money` is (bill, discount) for a money-off reward (core/money_off.py),
        whose entry then records the bill and the discount in its details."""
        customer = customer_unless_recorded(conn, customer_id, key)
        if customer is None:
            return redeem_replayed(replay_of(conn, customer_id, key))
        if money is None:
            quote = rules.quote_redeem(customer, reward, self.program)
        else:
            quote = money_off.quote_money_off(customer, reward, *money, self.program)
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
        said: dict[str, object] = {"reward_id": reward.id, "points": quote["points"]}
        if "discount" in quote:
            said["discount"] = str(quote["discount"])
        audit(
            conn,
            actor_id=actor_id,
            action="redeem",
            customer_id=customer_id,
            entry_id=entry_id,
            details=said,
            now=now,
        )
        result = cast(RedeemResult, {**quote, "code": code, **written(customer, entry_id)})
        result["queued"] = _queue(conn, key, tell, result, now)
        return result

    # --- bonuses (a birthday's: bot/birthdays.py) ---------------------------------------------

    def _bonus_once(
        self,
        conn: Connection,
        customer_id: int,
        points: int,
        reason: str,
        details: dict[str, object],
        now: dt.datetime,
        key: str,
        tell: Tell[BonusResult] | None,
    ) -> BonusResult | None:
        """A `bonus` entry: points the program gives outside a purchase. Not a visit (CORRECT,
        not SWAP, moves the card), and like any credit it pays points owed first."""
        customer = customer_unless_recorded(conn, customer_id, key)
        if customer is None:
            done = replay_of(conn, customer_id, key)
            return {
                "entry_id": done["id"],
                "customer_id": customer_id,
                "gross": points,
                "points": done["points"],
                "balance_after": done["balance_after"],
                "reason": reason,
                "replayed": True,
                "notify_user_id": None,
                "queued": [],
            }
        owed = customer.get("points_owed", 0)
        settled = rules.settle(customer["balance"], owed, points)
        lifetime = customer["lifetime_earned"] + settled["points"]
        tier = rules.tier_for(lifetime, self.program.tiers).name
        swapped = conn.execute(
            CORRECT,
            {
                "customer_id": customer_id,
                "seen": customer["version"],
                "points": settled["points"],
                "owed_change": settled["owed_after"] - owed,
                "earned": settled["points"],
                "redeemed": 0,
                "new_tier": tier,
                "purchase": 0,
                "spent": 0,
                "redemption": 0,
            },
        )
        if swapped.rowcount != 1:
            return None  # somebody else changed this card since we read it: recompute
        promoted = corrections.is_promotion(customer["tier"], tier, self.program)
        entry_id = self._append(
            conn,
            customer_id=customer_id,
            kind="bonus",
            points=settled["points"],
            balance_after=settled["balance_after"],
            actor_id=None,
            now=now,
            key=key,
            details={
                **details,
                "reason": reason,
                "gross": points,
                "owed_paid": settled["owed_paid"],
            },
            new_tier=tier if promoted else None,
        )
        audit(
            conn,
            actor_id=None,
            action="bonus",
            customer_id=customer_id,
            entry_id=entry_id,
            details={"reason": reason, "gross": points, "points": settled["points"]},
            now=now,
        )
        result: BonusResult = {
            "entry_id": entry_id,
            "customer_id": customer_id,
            "gross": points,
            "points": settled["points"],
            "balance_after": settled["balance_after"],
            "reason": reason,
            "replayed": False,
            "notify_user_id": customer["telegram_user_id"],
            "queued": [],
        }
        result["queued"] = _queue(conn, key, tell, result, now)
        return result

    # --- correcting ---------------------------------------------------------------------------

    def _target(
        self, conn: Connection, entry_id: int
    ) -> tuple[LedgerEntry, Customer, list[LedgerEntry]]:
        """The entry a correction is about, its card, and the corrections already against it."""
        target = reads.entry(conn, entry_id)
        customer = existing_customer(conn, target["customer_id"])
        return target, customer, reads.corrections_of(conn, entry_id)

    def _void_quote(
        self, conn: Connection, entry_id: int, reason: str | None
    ) -> tuple[LedgerEntry, CorrectionQuote]:
        """What voiding the entry would do now, without writing (a preview)."""
        target, customer, earlier = self._target(conn, entry_id)
        quote = corrections.quote_void(customer, target, earlier, self.program, reason=reason)
        return target, self._policy_tier(conn, customer, quote, target, dt.datetime.now(dt.UTC))

    def _refund_quote(
        self, conn: Connection, entry_id: int, amount: Decimal
    ) -> tuple[LedgerEntry, CorrectionQuote]:
        """What refunding `amount` of the purchase would do now, without writing (a preview)."""
        target, customer, earlier = self._target(conn, entry_id)
        quote = corrections.quote_refund(customer, target, earlier, amount, self.program)
        return target, self._policy_tier(conn, customer, quote, target, dt.datetime.now(dt.UTC))

    def _refundable(self, conn: Connection, entry_id: int) -> Decimal:
        """What is left of the purchase to refund (refused as a refund would be)."""
        target, _customer, earlier = self._target(conn, entry_id)
        return corrections.refundable(target, earlier)

    def _void_once(
        self,
        conn: Connection,
        entry_id: int,
        reason: str | None,
        actor_id: int | None,
        now: dt.datetime,
        key: str | None,
        tell: Tell[CorrectionResult] | None,
    ) -> CorrectionResult | None:
        replay = reads.entry_by_key(conn, key)
        if replay is not None:
            return correction_replayed(replay)
        target, customer, earlier = self._target(conn, entry_id)
        quote = corrections.quote_void(customer, target, earlier, self.program, reason=reason)
        quote = self._policy_tier(conn, customer, quote, target, now)
        return self._correct(conn, customer, quote, target, actor_id, now, key, tell)

    def _refund_once(
        self,
        conn: Connection,
        entry_id: int,
        amount: Decimal,
        actor_id: int | None,
        now: dt.datetime,
        key: str | None,
        tell: Tell[CorrectionResult] | None,
    ) -> CorrectionResult | None:
        replay = reads.entry_by_key(conn, key)
        if replay is not None:
            return correction_replayed(replay)
        target, customer, earlier = self._target(conn, entry_id)
        quote = corrections.quote_refund(customer, target, earlier, amount, self.program)
        quote = self._policy_tier(conn, customer, quote, target, now)
        return self._correct(conn, customer, quote, target, actor_id, now, key, tell)

    def _adjust_once(
        self,
        conn: Connection,
        customer_id: int,
        points: int,
        reason: str,
        actor_id: int | None,
        now: dt.datetime,
        key: str | None,
        tell: Tell[CorrectionResult] | None,
    ) -> CorrectionResult | None:
        customer = customer_unless_recorded(conn, customer_id, key)
        if customer is None:
            return correction_replayed(replay_of(conn, customer_id, key))
        quote = corrections.quote_adjust(customer, points, reason, self.program)
        quote = self._policy_tier(conn, customer, quote, None, now)
        return self._correct(conn, customer, quote, None, actor_id, now, key, tell)

    def _correct(
        self,
        conn: Connection,
        customer: Customer,
        quote: CorrectionQuote,
        target: LedgerEntry | None,
        actor_id: int | None,
        now: dt.datetime,
        key: str | None,
        tell: Tell[CorrectionResult] | None,
    ) -> CorrectionResult | None:
        """Compare-and-swap the card, append the correction, put the customer's report columns
        right, audit it, queue what `tell` says; None when another writer changed the card."""
        kind = quote["kind"]
        earned, redeemed = rules.lifetime_change(kind, quote["points"])
        amount_minor = None if quote["amount"] is None else int(quote["amount"] * 100)
        reversed_kind = None if target is None else target["kind"]
        swapped = conn.execute(
            CORRECT,
            {
                "customer_id": customer["id"],
                "seen": customer["version"],
                "points": quote["points"],
                "owed_change": quote["points_owed_after"] - quote["points_owed_before"],
                "earned": earned,
                "redeemed": redeemed,
                "new_tier": quote["tier_after"],
                # A voided purchase is no longer a purchase, and a voided redemption no longer
                # a redemption; a refund keeps the visit but lowers what was spent.
                "purchase": -1 if kind == "void" and reversed_kind == "earn" else 0,
                "spent": -(amount_minor or 0) if reversed_kind == "earn" else 0,
                "redemption": -1 if kind == "void" and reversed_kind == "redeem" else 0,
            },
        )
        if swapped.rowcount != 1:
            return None  # somebody else changed this card since we read it: recompute
        # Qualifying points follow lifetime points, on the day of the credit a reversal undoes.
        day = self._day(now if target is None else target["created_at"])
        tier_store.bump(conn, customer["id"], day, earned)
        details = to_json(quote)
        details["card_number"] = customer["card_number"]
        promoted = corrections.is_promotion(quote["tier_before"], quote["tier_after"], self.program)
        entry_id = self._append(
            conn,
            customer_id=customer["id"],
            kind=kind,
            points=quote["points"],
            balance_after=quote["balance_after"],
            actor_id=actor_id,
            now=now,
            key=key,
            details=details,
            amount_minor=amount_minor,
            note=quote["reason"],
            # Tier-ups only: a void that takes a promotion back says so in its details.
            new_tier=quote["tier_after"] if promoted else None,
            reverses_id=quote["reverses_id"],
        )
        if kind == "void" and reversed_kind in ("earn", "redeem"):
            # The voided visit may have been the latest: ask the entries that still stand.
            conn.execute(REVISIT, {"customer_id": customer["id"]})
        audit(
            conn,
            actor_id=actor_id,
            action=kind,
            customer_id=customer["id"],
            entry_id=entry_id,
            details={
                "reverses_id": quote["reverses_id"],
                "gross": quote["gross"],
                "points": quote["points"],
                "owed_added": quote["owed_added"],
                "amount": None if quote["amount"] is None else str(quote["amount"]),
                "reason": quote["reason"],
            },
            now=now,
        )
        result = cast(CorrectionResult, {**quote, **written(customer, entry_id)})
        result["queued"] = _queue(conn, key, tell, result, now)
        return result

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
        owed_paid: int = 0,
    ) -> int | None:
        """Compare-and-swap the balance and append the entry; None when another writer won."""
        amount_minor = None if amount is None else int(amount * 100)
        earned, redeemed = rules.lifetime_change(kind, points)
        swapped = conn.execute(
            SWAP,
            {
                "customer_id": customer["id"],
                "seen": customer["version"],
                "points": points,
                "owed_paid": owed_paid,
                "earned": earned,
                "redeemed": redeemed,
                "new_tier": tier,  # None keeps the tier
                "now": utc(now),
                "purchase": int(kind == "earn"),
                "spent": (amount_minor or 0) if kind == "earn" else 0,
                "redemption": int(kind == "redeem"),
            },
        )
        if swapped.rowcount != 1:
            return None  # somebody else changed this card since we read it: recompute
        tier_store.bump(conn, customer["id"], self._day(now), earned)
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
            # Set only when the tier goes up, so reports count tier-ups without JSON (under a
            # windowed tier policy an earn can also find the tier already lower: not a tier-up).
            new_tier=tier
            if tier is not None and corrections.is_promotion(customer["tier"], tier, self.program)
            else None,
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
        reverses_id: int | None = None,
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
            "reverses_id": reverses_id,
        }
        entry_id = int(conn.execute(APPEND, values).scalar_one())
        # Expiry's lots (core/db/lots.py): a credit makes one, a debit takes from them, a void
        # or refund from the lot of the entry it reverses first.
        lots.follow(
            conn,
            customer_id=customer_id,
            entry_id=entry_id,
            points=points,
            own_entry=reverses_id,
            now=now,
        )
        return entry_id
