"""Fixing mistakes through the real `loyalty-bot run` against the fake Bot API: Undo, /refund
and /void, with what the cashier and the customer read and what the SQLite file then holds."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from tests.support.chat import Chat
from tests.support.fake_bot_api import FakeBotApi
from tests.support.process import DATABASE_FILE, BotProcess, write_config

pytestmark = pytest.mark.e2e

ADMIN, CASHIER, CUSTOMER = 1001, 2002, 3003
PHONE, PHONE_TYPED = "+447911123456", "07911 123456"


def rows(directory: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(f"file:{directory / DATABASE_FILE}?mode=ro", uri=True) as db:
        return db.execute(sql).fetchall()


def test_a_cashier_undoes_refunds_and_an_admin_voids_through_the_real_process(
    tmp_path: Path,
) -> None:
    with FakeBotApi() as fake:
        config = write_config(tmp_path, base_url=fake.base_url, admins=[ADMIN], cashiers=[CASHIER])
        with BotProcess(config):
            cashier, admin, customer = Chat(fake, CASHIER), Chat(fake, ADMIN), Chat(fake, CUSTOMER)
            cashier.send("/register")
            cashier.send("Ann Lee")
            cashier.send(PHONE_TYPED)
            cashier.press("Skip")
            cashier.press("Confirm")
            assert "Linked" in customer.share_own_contact(PHONE)

            # A wrong amount, undone at once by the cashier who typed it.
            cashier.send(f"/earn {PHONE_TYPED} 500")
            assert "+500 points" in cashier.press("Confirm")
            assert "Takes back 500 points" in cashier.press("Undo")
            assert "Voided" in cashier.press("Confirm")

            # The right one, then half of it returned.
            cashier.send(f"/earn {PHONE_TYPED} 50")
            receipt = cashier.press("Confirm")
            ref = re.search(r"Ref #(\d+)", receipt)
            assert ref is not None
            assert "Up to 50.00 GBP" in cashier.send(f"/refund #{ref[1]}")
            assert "Takes back 25 points" in cashier.send("25")
            assert "Refunded 25.00" in cashier.press("Confirm")

            # What is left of it, voided by the admin from the receipt's ref.
            assert "Takes back 25 points" in admin.send(f"/void #{ref[1]}")
            assert "New balance: 0 points" in admin.press("Confirm")
            assert fake.bad_requests == []

    kinds = [k for (k,) in rows(tmp_path, "SELECT kind FROM ledger ORDER BY id")]
    assert kinds == ["earn", "void", "earn", "refund", "void"]
    ((balance, total),) = rows(
        tmp_path,
        "SELECT c.balance, (SELECT SUM(points) FROM ledger l WHERE l.customer_id = c.id) "
        "FROM customers c",
    )
    assert balance == total == 0
    audited = [a for (a,) in rows(tmp_path, "SELECT action FROM audit ORDER BY id")]
    assert audited[-5:] == ["earn", "void", "earn", "refund", "void"]
