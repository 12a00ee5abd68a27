"""The simulated side of bench/throughput.py: Telegram (a fake Bot API) and the people using it.

Everyone here lives in the benchmark's process, on one asyncio loop; the bot under test is
another process that polls the fake over HTTP exactly as it polls api.telegram.org. What the
bot sends reaches the loop through `Inbox`, which routes each call to the chat it was addressed
to and stamps the moment the fake received it, so the driver's own scheduling never counts
against the bot's latency.

    cashier:  "/earn <card> <amount>" -> preview with Confirm -> press it -> "✅ +N points"
    echo:     "hello N" -> "hello N"                      (the baseline bot's equivalent)
    probe:    "/status" from a customer -> their card      (latency while the shop is busy)
"""

from __future__ import annotations

import asyncio
import math
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.offline import SentCall, keyboard_rows
from tests.support.fake_bot_api import FakeBotApi

REPLY_TIMEOUT = 30.0  # seconds; far beyond any healthy reply, so only a stuck bot trips it
_CONFIRM = re.compile(r"^earn:ok:([0-9a-f]{16})$")


class Inbox:
    """Counts the bot's calls and hands each one to whoever waits in the chat it went to."""

    def __init__(self, fake: FakeBotApi, loop: asyncio.AbstractEventLoop) -> None:
        self.calls = 0  # every call but getUpdates, refused ones included
        self.refused: list[SentCall] = []
        self.methods: Counter[str] = Counter()
        self._loop = loop
        self._chats: dict[int, asyncio.Queue[tuple[float, SentCall]]] = {}
        self._pressed: dict[str, int] = {}  # callback query id -> who pressed the button
        fake.emulator.add_listener(self._heard)

    def watch(self, chat_id: int) -> None:
        """Starts keeping the calls addressed to `chat_id` (before that person's first move)."""
        self._chats.setdefault(chat_id, asyncio.Queue())

    def _heard(self, call: SentCall) -> None:
        # On a server thread, inside the emulator's lock: count, stamp, pass to the loop.
        if call.method == "getUpdates":
            return
        self.calls += 1
        self.methods[call.method] += 1
        if not call.ok:
            self.refused.append(call)
            return
        chat = call.chat_id
        if call.method == "answerCallbackQuery":  # a button's popup: to whoever pressed it
            chat = self._pressed.pop(str(call.params.get("callback_query_id")), None)
        queue = self._chats.get(chat) if isinstance(chat, int) else None
        if queue is not None:
            self._loop.call_soon_threadsafe(queue.put_nowait, (time.perf_counter(), call))

    def press(self, fake: FakeBotApi, who: int, data: str, message_id: int) -> None:
        """`who` presses a button; the popup it gets back will reach their queue too.

        (Its id is known only once pushed: an answer faster than this line goes unrouted,
        which only means a failing cashier is noticed at REPLY_TIMEOUT instead of at once.)
        """
        update = fake.push_callback(who, data, message_id)
        self._pressed[update["callback_query"]["id"]] = who

    async def next_message(self, chat_id: int) -> tuple[float, SentCall]:
        """The next message to `chat_id` (or popup alert) and when the fake got it.

        Edits and silent button answers are skipped; an alert is returned, so a cashier told
        "something went wrong" fails at once rather than waiting for a message never sent.
        """
        queue = self._chats[chat_id]
        async with asyncio.timeout(REPLY_TIMEOUT):
            while True:
                at, call = await queue.get()
                if call.method == "sendMessage" or call.params.get("show_alert"):
                    return at, call


class Unexpected(AssertionError):
    """The bot said something other than what this step of the conversation calls for."""

    def __init__(self, who: int, wanted: str, call: SentCall) -> None:
        super().__init__(f"user {who} expected {wanted}, got {call.method}: {call.text!r}")


@dataclass
class Earn:
    """One earn a cashier confirmed, as the ledger should record it."""

    key: str
    cashier: int
    card: str
    amount_minor: int
    confirmed_at: float  # when the fake received the "✅" reply


@dataclass
class Tally:
    earns: list[Earn] = field(default_factory=list)
    echoes: list[float] = field(default_factory=list)  # when each echo reached the fake
    status: list[tuple[float, float]] = field(default_factory=list)  # (sent at, seconds)


def in_window(times: list[float], start: float, end: float) -> int:
    return sum(start <= t < end for t in times)


class Pacer:
    """Lets the cashiers start `rate` earns a second between them, or as many as they can.

    Flat out, each cashier starts the next earn the moment the last one is confirmed: the most
    the bot can do. Paced, a shared clock hands out start times `1/rate` apart, so the shop
    offers a steady load (say Telegram's ceiling) and the bot's latency under it can be read.
    """

    def __init__(self, rate: float | None = None) -> None:
        self.interval = 1 / rate if rate else 0.0
        self._next = time.perf_counter()

    async def turn(self) -> None:
        if not self.interval:
            return
        now = time.perf_counter()
        start = max(now, self._next)  # no saving up: a late cashier doesn't cause a burst
        self._next = start + self.interval
        await asyncio.sleep(start - now)


async def cashier(
    fake: FakeBotApi,
    inbox: Inbox,
    who: int,
    cards: list[str],
    tally: Tally,
    stop: asyncio.Event,
    pacer: Pacer,
) -> None:
    """Records purchases with the one-line /earn, one after another, until `stop`."""
    rng = random.Random(who)
    inbox.watch(who)
    while True:
        await pacer.turn()
        if stop.is_set():
            return
        card = rng.choice(cards)
        minor = rng.randint(100, 20_000)  # 1.00 to 200.00
        fake.push_message(who, f"/earn {card} {minor // 100}.{minor % 100:02d}")
        _, preview = await inbox.next_message(who)
        key, data = _confirm_button(preview)
        if key is None:
            raise Unexpected(who, "a preview with Confirm", preview)
        inbox.press(fake, who, data, preview.result["message_id"])
        at, done = await inbox.next_message(who)
        if not (done.text or "").startswith("✅"):
            raise Unexpected(who, "the ✅ confirmation", done)
        tally.earns.append(Earn(key, who, card, minor, at))


def _confirm_button(call: SentCall) -> tuple[str | None, str]:
    for row in keyboard_rows(call.params):
        for button in row:
            data = str(button.get("callback_data", ""))
            if match := _CONFIRM.match(data):
                return match.group(1), data
    return None, ""


async def echo_user(
    fake: FakeBotApi, inbox: Inbox, who: int, tally: Tally, stop: asyncio.Event
) -> None:
    """Sends a message and waits for it to come back, until `stop`."""
    inbox.watch(who)
    n = 0
    while not stop.is_set():
        n += 1
        text = f"hello {n}"
        fake.push_message(who, text)
        at, reply = await inbox.next_message(who)
        if reply.text != text:
            raise Unexpected(who, repr(text), reply)
        tally.echoes.append(at)


async def status_probe(
    fake: FakeBotApi,
    inbox: Inbox,
    who: int,
    tally: Tally,
    stop: asyncio.Event,
    *,
    pause: float = 0.2,
    looks_right: Callable[[str], bool] = lambda text: "Balance" in text,
) -> None:
    """A customer checking their card every `pause` seconds while the cashiers work."""
    inbox.watch(who)
    while not stop.is_set():
        sent = time.perf_counter()
        fake.push_message(who, "/status")
        at, card = await inbox.next_message(who)
        if not looks_right(card.text or ""):
            raise Unexpected(who, "their card", card)
        tally.status.append((sent, at - sent))
        await asyncio.sleep(pause)


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (share 0.95 for p95), or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(len(ordered) * share)) - 1]
