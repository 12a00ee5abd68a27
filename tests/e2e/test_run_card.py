"""The QR card through the real `loyalty-bot run` against the fake Bot API: the code a
customer's /card sends opens their card for a cashier, who earns in one tap; an expired or
forged code is refused; another customer who opens it learns nothing; /history pages."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import time
from decimal import Decimal
from pathlib import Path

import pytest

from bot.offline import SentCall, keyboard_rows
from bot.qr import card_png
from core.card_tokens import TOKEN_TTL, deep_link, sign
from core.config import DEFAULT_PROGRAM
from core.db.engine import open_engine
from core.db.migrate import upgrade
from core.db.store import Store
from tests.support.chat import Chat
from tests.support.fake_bot_api import FakeBotApi
from tests.support.process import DATABASE_FILE, BotProcess, write_config

pytestmark = pytest.mark.e2e

CASHIER, ANN, BOB = 2002, 3003, 3004
ANN_PHONE, BOB_PHONE = "+447400123456", "+447400654321"
BOT_NAME = "loyalty_test_bot"  # what the fake Bot API's getMe answers
PURCHASES = 12  # more than one page of /history (10 a page)
FOR_STAFF_ONLY = "That code is a loyalty card, for the staff at the till to scan."


def shop(directory: Path) -> int:
    """Ann with PURCHASES purchases of 1.00, 2.00, ... and Bob, both linked; Ann's id."""

    async def build() -> int:
        engine = open_engine(f"sqlite+aiosqlite:///{directory / DATABASE_FILE}")
        await upgrade(engine)
        store = Store(engine, DEFAULT_PROGRAM)
        try:
            now = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
            ann = (
                await store.register(
                    {"name": "Ann Lee", "phone": ANN_PHONE, "email": None},
                    actor_id=CASHIER,
                    now=now,
                )
            )["customer"]
            await store.register(
                {"name": "Bob Roe", "phone": BOB_PHONE, "email": None}, actor_id=CASHIER, now=now
            )
            for i in range(1, PURCHASES + 1):
                await store.earn(ann["id"], Decimal(i), actor_id=CASHIER, now=now)
            await store.link_telegram(ANN_PHONE, ANN)
            await store.link_telegram(BOB_PHONE, BOB)
            return ann["id"]
        finally:
            store.close()
            await engine.dispose()

    return asyncio.run(build())


def card_secret(directory: Path) -> bytes:
    with sqlite3.connect(f"file:{directory / DATABASE_FILE}?mode=ro", uri=True) as db:
        ((value,),) = db.execute(
            "SELECT value FROM settings WHERE key = 'card_token_secret'"
        ).fetchall()
    return bytes.fromhex(str(value).strip('"'))


def token_in(photo: bytes, customer_id: int, secret: bytes, around: float) -> str:
    """The token whose link the QR code `photo` shows, signed within a few seconds of `around`
    (the bot's own clock): no QR decoder is installed, so each candidate is drawn and compared."""
    for second in range(int(around) - 5, int(around) + 30):
        now = dt.datetime.fromtimestamp(second, dt.UTC)
        token = sign(customer_id, secret, now=now)
        if card_png(deep_link(BOT_NAME, token)) == photo:
            return token
    raise AssertionError("the photo is not the QR code of a signed link to the card")


def edited(fake: FakeBotApi, chat_id: int, after: int) -> SentCall:
    return fake.wait_for(
        lambda c: c.method == "editMessageText" and c.chat_id == chat_id, after=after
    )


def test_a_scanned_card_opens_for_staff_only_and_history_pages(tmp_path: Path) -> None:
    ann_id = shop(tmp_path)
    with FakeBotApi() as fake:
        config = write_config(tmp_path, base_url=fake.base_url, cashiers=[CASHIER])
        with BotProcess(config):
            cashier, ann, bob = Chat(fake, CASHIER), Chat(fake, ANN), Chat(fake, BOB)

            # Ann shows her card: a QR code of a signed link, as a photo.
            mark, asked = len(fake.calls), time.time()
            fake.push_message(ANN, "/card")
            photo = fake.wait_for(
                lambda c: c.method == "sendPhoto" and c.chat_id == ANN, after=mark
            )
            token = token_in(photo.files["photo"], ann_id, card_secret(tmp_path), asked)

            # The cashier's camera opens it: Ann's card, and a purchase in one tap.
            card = cashier.send(f"/start {token}")
            assert "Ann Lee · card" in card and "Balance: 78 points" in card
            assert "How much did they spend" in cashier.press("Earn")
            assert "10.00 GBP → 10 points" in cashier.send("10")
            assert "+10 points" in cashier.press("Confirm")
            assert "How much did they spend" in cashier.press("Same customer again")
            cashier.send("/cancel")

            # Bob opens Ann's code: the same fixed reply as for any code.
            assert (
                bob.send(f"/start {token}")
                == FOR_STAFF_ONLY + " To show your own card, send /card."
            )

            # Expired (signed by the shop, but its five minutes are long up) and forged codes.
            secret = card_secret(tmp_path)
            old = sign(ann_id, secret, now=dt.datetime.now(dt.UTC) - TOKEN_TTL * 3)
            assert "expired" in cashier.send(f"/start {old}")
            forged = sign(ann_id, b"a guess at the secret", now=dt.datetime.now(dt.UTC))
            assert "not a valid card code" in cashier.send(f"/start {forged}")

            # Ann's history: 13 entries, newest first, 10 a page.
            first = ann.send("/history")
            assert "Purchase (10.00 GBP) · +10" in first.splitlines()[2]
            mark = len(fake.calls)
            fake.push_callback(ANN, *ann.button("Next"))
            page = edited(fake, ANN, mark).visible_text or ""
            assert [line.split(" · ")[1] for line in page.splitlines()[2:]] == [
                "Purchase (3.00 GBP)",
                "Purchase (2.00 GBP)",
                "Purchase (1.00 GBP)",
            ]
            assert [
                b["text"] for row in keyboard_rows(edited(fake, ANN, mark).params) for b in row
            ] == ["◀ Prev"]
            # Bob replays Ann's page button: a popup, and none of her entries.
            mark = len(fake.calls)
            fake.push_callback(BOB, *ann.button("Prev"))
            fake.wait_for(lambda c: c.method == "answerCallbackQuery", after=mark)
            assert bob.messages(after=mark) == []
            assert fake.bad_requests == []
