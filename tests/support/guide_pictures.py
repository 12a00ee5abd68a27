"""Makes the guide's pictures of a scan and of a history page from the real bot, offline:

    .venv/bin/python -m tests.support.guide_pictures docs/images

`scan.png`: a cashier scans a customer's QR card (Telegram sends `/start <token>`), gets the
card with its buttons, taps Earn, types the amount and confirms. `history.png`: a customer's
/history, the newest page, with a purchase refunded and a reward. Both are drawn from what the
Application really sent (tests/support/chat_picture.py), so they change when the words do;
tests/bot/test_guide_pictures.py makes them once per run to keep this script working.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.offline import SentCall
from core.card_tokens import sign
from core.db.secret import card_secret
from tests.support.chat_picture import Bubble, bot_bubble, render
from tests.support.harness import CASHIER, CUSTOMER, BotHarness, make_config

PHONE = "+447400123456"
START = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)


@dataclass
class Chat:
    """One person's chat as they see it: their messages, and the bot's (edits applied)."""

    bot: BotHarness
    chat_id: int
    bubbles: list[Bubble] = field(default_factory=list)
    by_message_id: dict[int, int] = field(default_factory=dict)  # message id -> bubble index

    def _take(self, calls: list[SentCall]) -> None:
        for call in calls:
            if not call.ok or str(call.chat_id) != str(self.chat_id):
                continue
            if call.method == "editMessageText":
                bubble = bot_bubble(str(call.params["text"]), call.params.get("reply_markup"))
                index = self.by_message_id.get(int(call.params["message_id"]))
                if index is not None:
                    self.bubbles[index] = bubble
                    continue
                self.bubbles.append(bubble)
            elif call.method == "editMessageReplyMarkup":
                index = self.by_message_id.get(int(call.params["message_id"]))
                if index is not None:
                    old = self.bubbles[index]
                    markup = call.params.get("reply_markup")
                    new = bot_bubble("x", markup)
                    self.bubbles[index] = Bubble(old.text, old.bold, buttons=new.buttons)
            elif call.method == "sendMessage":
                self.bubbles.append(
                    bot_bubble(str(call.params["text"]), call.params.get("reply_markup"))
                )
                self._remember(call)

    def _remember(self, call: SentCall) -> None:
        result: Any = call.result
        if isinstance(result, dict) and "message_id" in result:
            self.by_message_id[int(result["message_id"])] = len(self.bubbles) - 1

    async def says(self, text: str, shown: str | None = None) -> None:
        self.bubbles.append(Bubble(text=shown if shown is not None else text, from_user=True))
        self._take(await self.bot.send(self.chat_id, text))

    async def presses(self, label: str) -> None:
        self._take(await self.bot.press(self.chat_id, label))


async def scan(bot: BotHarness) -> Chat:
    registered = await bot.store.register(
        {"name": "Ann Lee", "phone": PHONE, "email": None}, actor_id=CASHIER, now=START
    )
    customer_id = int(registered["customer"]["id"])
    await bot.store.earn(customer_id, Decimal("48.20"), actor_id=CASHIER, now=bot.services.clock())
    token = sign(customer_id, await card_secret(bot.services.engine), now=bot.services.clock())
    chat = Chat(bot, CASHIER)
    await chat.says(f"/start {token}", shown="/start")  # what the camera's link sends
    await chat.presses("Earn")
    await chat.says("12.50")
    await chat.presses("Confirm")
    return chat


async def history(bot: BotHarness) -> Chat:
    registered = await bot.store.register(
        {"name": "Ann Lee", "phone": PHONE, "email": None}, actor_id=CASHIER, now=START
    )
    customer_id = int(registered["customer"]["id"])
    amounts = ("18.40", "7.25", "32.00", "12.90", "54.10", "9.99", "21.00", "6.50", "15.75")
    for day, amount in enumerate((*amounts, "8.30", "27.60", "11.20")):
        await bot.store.earn(
            customer_id, Decimal(amount), actor_id=CASHIER, now=START + dt.timedelta(days=day * 2)
        )
    await bot.store.link_telegram(PHONE, CUSTOMER)
    chat = Chat(bot, CUSTOMER)
    await _staff_corrections(bot, customer_id)
    await chat.says("/history")
    return chat


async def _staff_corrections(bot: BotHarness, customer_id: int) -> None:
    """A reward and a refund, as a cashier records them at the till."""
    cashier = Chat(bot, CASHIER)
    await cashier.says(f"/redeem {PHONE} coffee")
    await cashier.presses("Confirm")
    entries = await bot.store.recent_entries(customer_id, limit=20)
    purchase = next(e for e in entries if e["kind"] == "earn" and e["amount"] == Decimal("54.10"))
    await cashier.says(f"/refund #{purchase['id']}")
    await cashier.says("all")
    await cashier.presses("Confirm")


async def make(out: Path) -> list[Path]:
    """Writes scan.png and history.png into `out` (which exists); returns their paths."""
    written = []
    for name, scene in (("scan.png", scan), ("history.png", history)):
        with tempfile.TemporaryDirectory() as tmp:
            async with BotHarness(make_config(Path(tmp))) as bot:
                chat = await scene(bot)
        path = out / name
        path.write_bytes(render(chat.bubbles))
        written.append(path)
    return written


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images")
    folder.mkdir(parents=True, exist_ok=True)
    for written in asyncio.run(make(folder)):
        print(written)
