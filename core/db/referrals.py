"""Referrals' storage (core/referrals.py has the rules): plain functions over one connection,
run by the Store's units of work (core/db/store.py)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlalchemy import Connection, func, insert, select, update

from core import referrals
from core.types import Customer

from .statements import utc
from .tables import customers
from .tables import referrals as table

Click = Literal["recorded", "unknown", "own", "linked", "already"]


def code_for(conn: Connection, customer_id: int) -> str:
    """The customer's referral code, drawn on first use (a collision raises IntegrityError:
    the Store draws again)."""
    code = conn.execute(
        select(customers.c.referral_code).where(customers.c.id == customer_id)
    ).scalar()
    if code is not None:
        return str(code)
    code = referrals.new_code()
    conn.execute(update(customers).where(customers.c.id == customer_id).values(referral_code=code))
    return code


def click(conn: Connection, code: str, user_id: int, now: dt.datetime) -> Click:
    """Remembers that `user_id` opened the link with `code` (the first link they open wins)."""
    referrer = conn.execute(
        select(customers.c.id, customers.c.telegram_user_id).where(
            customers.c.referral_code == code
        )
    ).first()
    if referrer is None:
        return "unknown"
    if referrer.telegram_user_id == user_id:
        return "own"
    linked = conn.execute(
        select(customers.c.id).where(customers.c.telegram_user_id == user_id)
    ).first()
    if linked is not None:
        return "linked"  # already a customer: a referral is for somebody new
    seen = conn.execute(select(table.c.id).where(table.c.invited_user_id == user_id)).first()
    if seen is not None:
        return "already"
    conn.execute(
        insert(table).values(referrer_id=referrer.id, invited_user_id=user_id, clicked_at=utc(now))
    )
    return "recorded"


def attach(conn: Connection, customer: Customer, user_id: int) -> bool:
    """Ties the link `user_id` opened to the card they just linked, if the rules allow
    (core.referrals.refusal) and the card has no referral yet; whether it did."""
    pending = conn.execute(
        select(table.c.id, table.c.referrer_id, table.c.clicked_at).where(
            table.c.invited_user_id == user_id, table.c.invited_customer_id.is_(None)
        )
    ).first()
    if pending is None:
        return False
    taken = conn.execute(
        select(table.c.id).where(table.c.invited_customer_id == customer["id"])
    ).first()
    purchases = conn.execute(
        select(customers.c.purchases).where(customers.c.id == customer["id"])
    ).scalar_one()
    why_not = referrals.refusal(
        referrer_id=pending.referrer_id,
        customer_id=customer["id"],
        registered_at=customer["created_at"],
        clicked_at=utc(pending.clicked_at),  # SQLite keeps the digits, not the zone
        purchases=int(purchases),
    )
    if taken is not None or why_not is not None:
        return False
    conn.execute(
        update(table).where(table.c.id == pending.id).values(invited_customer_id=customer["id"])
    )
    return True


def unrewarded(conn: Connection, customer_id: int) -> tuple[int, int] | None:
    """(referral id, referrer id) of the card's referral not yet rewarded, or None."""
    row = conn.execute(
        select(table.c.id, table.c.referrer_id).where(
            table.c.invited_customer_id == customer_id, table.c.rewarded_at.is_(None)
        )
    ).first()
    return None if row is None else (int(row.id), int(row.referrer_id))


def rewarded_since(conn: Connection, referrer_id: int, since: dt.datetime) -> int:
    """How many of the referrer's referrals were rewarded since `since`."""
    return int(
        conn.execute(
            select(func.count()).where(
                table.c.referrer_id == referrer_id, table.c.rewarded_at >= utc(since)
            )
        ).scalar_one()
    )


def mark_rewarded(conn: Connection, referral_id: int, now: dt.datetime) -> None:
    conn.execute(
        update(table)
        .where(table.c.id == referral_id, table.c.rewarded_at.is_(None))
        .values(rewarded_at=utc(now))
    )
