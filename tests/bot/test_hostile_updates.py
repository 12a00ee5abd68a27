"""Whatever Telegram delivers, the bot answers once or stays silent: never a call Telegram
refuses, never an ERROR in the log.

Each case feeds raw updates, shaped as Telegram sends them, through the real Application
(bot.app.build_application over the offline Bot API, which refuses what Telegram refuses):
messages in groups, supergroups and channels, edits, media with no text, other people's
contacts, bots, forwards, commands for other bots, texts at the length limit or with nothing
readable in them, button presses with no message or no data, forged button data of every shape,
and a flood from one person. `run` asks Telegram only for messages and button presses
(bot/cli ALLOWED_UPDATES), but a self-hosted Bot API or a future change may deliver the rest.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bot.offline import TEXT_LIMIT, SentCall
from core.config import StaffConfig
from tests.support.harness import ADMIN, CASHIER, BotHarness, make_config

pytestmark = pytest.mark.asyncio

JSONDict = dict[str, Any]

# Each staff case gets a cashier of its own, so no case finds another's flow open.
CASHIERS = tuple(range(6001, 6300))
PHONE = "+447400123456"
OTHER_BOT = "otherbot"

GROUP = {"id": -4001, "type": "group", "title": "Shop staff"}
SUPERGROUP = {"id": -1001234567890, "type": "supergroup", "title": "Loyal customers"}
CHANNEL = {"id": -1009876543210, "type": "channel", "title": "Offers"}

# What a person may send as "text" that has nothing to read in it.
NOTHING_READABLE = {
    "spaces": "   ",
    "zero-width space": "\u200b",
    "rtl marks": "\u200f\u202e\u200f",
    "emoji": "🎉🎉🎉",
    "combining marks": "\u0301\u0301",
}
LONG = "x" * TEXT_LIMIT
LONG_WORDS = " ".join(["Zoë"] * (TEXT_LIMIT // 4))

FORGED_DATA = [
    "",
    " ",
    "x" * 64,
    "earn",
    "earn:",
    "earn:ok",
    "earn:ok:",
    "earn:ok:" + "z" * 56,
    "earn:no:0123456789abcdef",
    "earn:ok:0123456789abcdef:extra",
    "reg:ok:../../etc/passwd",
    "reg:skip_email",
    "redeem:pick:",
    "redeem:pick:" + "🎁" * 13,
    "redeem:pick:coffee:again",
    "rep:",
    "rep:summary:",
    "rep:summary:2026-99",
    "rep:csv-contacts:all",
    "rep:chart:30d",
    "null",
    "{}",
    "<b>bold</b>",
    "\u202eko:nrae",
    "earn:ok:' OR 1=1 --",
    # the one-tap buttons (bot/flows.py `go:`) and /history's pages
    "go:earn:",
    "go:earn:abc",
    "go:redeem:99999999999",
    "go:status:1:2",
    "go:void:1",
    "hist:1:o:",
    "hist:99999999999:n:0",
    "hist:1:x:1",
]


class Updates:
    """Raw updates as Telegram sends them, with fresh update and message ids."""

    def __init__(self) -> None:
        self._ids = itertools.count(10_000)

    def _next(self) -> int:
        return next(self._ids)

    @staticmethod
    def user(user_id: int, *, is_bot: bool = False) -> JSONDict:
        return {"id": user_id, "is_bot": is_bot, "first_name": f"U{user_id}"}

    @staticmethod
    def private(user_id: int) -> JSONDict:
        return {"id": user_id, "type": "private", "first_name": f"U{user_id}"}

    def message(
        self,
        user_id: int,
        text: str | None = None,
        *,
        chat: JSONDict | None = None,
        kind: str = "message",
        is_bot: bool = False,
        **extra: Any,
    ) -> JSONDict:
        update_id = self._next()
        message: JSONDict = {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": chat or self.private(user_id),
            **extra,
        }
        if kind != "channel_post" and kind != "edited_channel_post":
            message["from"] = self.user(user_id, is_bot=is_bot)
        else:
            message["sender_chat"] = message["chat"]
        if kind.startswith("edited"):
            message["edit_date"] = int(time.time())
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                command = text.split(maxsplit=1)[0]
                length = len(command.encode("utf-16-le")) // 2
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return {"update_id": update_id, kind: message}

    def other(self, **update: Any) -> JSONDict:
        """An update of another type (`inline_query=...`, `my_chat_member=...`)."""
        return {"update_id": self._next(), **update}

    def press(
        self,
        user_id: int,
        data: str | None,
        *,
        with_message: bool = True,
        chat: JSONDict | None = None,
        game: str | None = None,
    ) -> JSONDict:
        update_id = self._next()
        query: JSONDict = {
            "id": str(8_000_000_000 + update_id),
            "from": self.user(user_id),
            "chat_instance": "-123456789",
        }
        if data is not None:
            query["data"] = data
        if game is not None:
            query["game_short_name"] = game
        if with_message:
            query["message"] = {
                "message_id": 1,
                "date": int(time.time()),
                "chat": chat or self.private(user_id),
                "from": {"id": 999000, "is_bot": True, "first_name": "Loyalty Test Bot"},
                "text": "...",
            }
        else:
            query["inline_message_id"] = "AgAAAAAAAAAAAAAA"  # a message sent via inline mode
        return {"update_id": update_id, "callback_query": query}


FILE = {"file_id": "AgACAgQAAxkBAAIB", "file_unique_id": "AQADb7sxG"}

# name -> steps; a step is (who, what) where who is "customer", "cashier" or "stranger-bot"
Case = Callable[[Updates, int], list[JSONDict]]


def cases() -> dict[str, Case]:
    """Every hostile case: given the updates factory and the user id for it, its updates."""
    found: dict[str, Case] = {
        # other chats: never answered (the bot works in private chats only)
        "group command": lambda u, uid: [u.message(uid, "/earn 07400123456 25", chat=GROUP)],
        "group text": lambda u, uid: [u.message(uid, "hello bot", chat=GROUP)],
        "supergroup /start": lambda u, uid: [u.message(uid, "/start", chat=SUPERGROUP)],
        "supergroup /help@bot": lambda u, uid: [
            u.message(uid, "/help@loyalty_test_bot", chat=SUPERGROUP)
        ],
        "channel post": lambda u, uid: [
            u.message(uid, "/start", chat=CHANNEL, kind="channel_post")
        ],
        "edited channel post": lambda u, uid: [
            u.message(uid, "/status", chat=CHANNEL, kind="edited_channel_post")
        ],
        "button in a group": lambda u, uid: [u.press(uid, "earn:ok:0123456789abcdef", chat=GROUP)],
        "new member in a group": lambda u, uid: [
            u.message(uid, chat=GROUP, new_chat_members=[Updates.user(999000, is_bot=True)])
        ],
        # edits in a private chat
        "edited text": lambda u, uid: [u.message(uid, "hello again", kind="edited_message")],
        "edited command": lambda u, uid: [
            u.message(uid, "/earn 07400123456 30", kind="edited_message")
        ],
        # media and other messages with no text
        "sticker": lambda u, uid: [
            u.message(
                uid,
                sticker={
                    **FILE,
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                },
            )
        ],
        "photo": lambda u, uid: [u.message(uid, photo=[{**FILE, "width": 90, "height": 90}])],
        "photo captioned /earn": lambda u, uid: [
            u.message(
                uid,
                photo=[{**FILE, "width": 90, "height": 90}],
                caption="/earn 07400123456 25",
            )
        ],
        "voice": lambda u, uid: [u.message(uid, voice={**FILE, "duration": 3})],
        "location": lambda u, uid: [u.message(uid, location={"latitude": 51.5, "longitude": 0})],
        "dice": lambda u, uid: [u.message(uid, dice={"emoji": "🎲", "value": 4})],
        "someone else's contact": lambda u, uid: [
            u.message(
                uid,
                contact={"phone_number": PHONE, "first_name": "Ann", "user_id": uid + 1},
            )
        ],
        "address-book contact": lambda u, uid: [
            u.message(uid, contact={"phone_number": PHONE, "first_name": "Ann"})
        ],
        # who sent it, and how
        "a bot's message": lambda u, uid: [u.message(uid, "/start", is_bot=True)],
        "forwarded command": lambda u, uid: [
            u.message(
                uid,
                "/earn 07400123456 25",
                forward_origin={"type": "user", "date": 0, "sender_user": Updates.user(ADMIN)},
            )
        ],
        "forwarded from a channel": lambda u, uid: [
            u.message(
                uid,
                "50% off today",
                forward_origin={"type": "channel", "date": 0, "chat": CHANNEL, "message_id": 5},
            )
        ],
        "/start@otherbot": lambda u, uid: [u.message(uid, f"/start@{OTHER_BOT}")],
        "/earn@otherbot": lambda u, uid: [u.message(uid, f"/earn@{OTHER_BOT} 07400123456 25")],
        "/foo@otherbot": lambda u, uid: [u.message(uid, f"/foo@{OTHER_BOT}")],
        "/help@ours": lambda u, uid: [u.message(uid, "/help@loyalty_test_bot")],
        # texts at the limit, and texts with nothing readable
        "4096 chars": lambda u, uid: [u.message(uid, LONG)],
        "4096-char command": lambda u, uid: [u.message(uid, "/" + "a" * (TEXT_LIMIT - 1))],
        "/earn 4096": lambda u, uid: [u.message(uid, ("/earn " + LONG)[:TEXT_LIMIT])],
        "/status 4096": lambda u, uid: [u.message(uid, ("/status " + LONG_WORDS)[:TEXT_LIMIT])],
        "/redeem 4096": lambda u, uid: [u.message(uid, ("/redeem " + LONG)[:TEXT_LIMIT])],
        "/register then a 4096-char name": lambda u, uid: [
            u.message(uid, "/register"),
            u.message(uid, LONG_WORDS[:TEXT_LIMIT]),
        ],
        "/register, name, then a 4096-char phone": lambda u, uid: [
            u.message(uid, "/register"),
            u.message(uid, "Ann Lee"),
            u.message(uid, LONG),
        ],
        "/register, name, phone, then a 4096-char e-mail": lambda u, uid: [
            u.message(uid, "/register"),
            u.message(uid, "Ann Lee"),
            u.message(uid, "07400 654321"),
            u.message(uid, "a" * (TEXT_LIMIT - 12) + "@example.com"),
        ],
        "/earn then a 4096-char card": lambda u, uid: [
            u.message(uid, "/earn"),
            u.message(uid, LONG),
        ],
        "/earn card then a 4096-char amount": lambda u, uid: [
            u.message(uid, "/earn"),
            u.message(uid, "07400123456"),
            u.message(uid, "9" * TEXT_LIMIT),
        ],
        "/redeem then a 4096-char card": lambda u, uid: [
            u.message(uid, "/redeem"),
            u.message(uid, LONG),
        ],
        "/status then a 4096-char card": lambda u, uid: [
            u.message(uid, "/status"),
            u.message(uid, LONG),
        ],
        "/earn card 4096-digit amount": lambda u, uid: [
            u.message(uid, ("/earn 07400123456 " + "9" * TEXT_LIMIT)[:TEXT_LIMIT])
        ],
        "/earn card 4096-char amount": lambda u, uid: [
            u.message(uid, ("/earn 07400123456 " + LONG)[:TEXT_LIMIT])
        ],
        "/redeem card 4096-char reward": lambda u, uid: [
            u.message(uid, ("/redeem 07400123456 " + LONG_WORDS)[:TEXT_LIMIT])
        ],
        "/register 4096": lambda u, uid: [u.message(uid, ("/register " + LONG_WORDS)[:TEXT_LIMIT])],
        "/staff add 4096": lambda u, uid: [u.message(uid, ("/staff add " + LONG)[:TEXT_LIMIT])],
        "/claim 4096": lambda u, uid: [u.message(uid, ("/claim " + LONG)[:TEXT_LIMIT])],
        "/report 4096": lambda u, uid: [u.message(uid, ("/report " + LONG)[:TEXT_LIMIT])],
        "/digest 4096": lambda u, uid: [u.message(uid, ("/digest " + LONG)[:TEXT_LIMIT])],
        "/start inv 4096": lambda u, uid: [u.message(uid, ("/start inv" + LONG)[:TEXT_LIMIT])],
        # update types `run` does not ask for, should a Bot API deliver them anyway
        "inline query": lambda u, uid: [
            u.other(
                inline_query={
                    "id": "42",
                    "from": Updates.user(uid),
                    "query": "/earn 1",
                    "offset": "",
                }
            )
        ],
        "blocked the bot": lambda u, uid: [
            u.other(
                my_chat_member={
                    "chat": Updates.private(uid),
                    "from": Updates.user(uid),
                    "date": 0,
                    "old_chat_member": {
                        "status": "member",
                        "user": Updates.user(999000, is_bot=True),
                    },
                    "new_chat_member": {
                        "status": "kicked",
                        "user": Updates.user(999000, is_bot=True),
                        "until_date": 0,
                    },
                }
            )
        ],
        "poll answer": lambda u, uid: [
            u.other(
                poll_answer={
                    "poll_id": "7",
                    "user": Updates.user(uid),
                    "option_ids": [0],
                    "option_persistent_ids": ["a"],
                }
            )
        ],
        # button presses Telegram can deliver
        "button with no message (inline)": lambda u, uid: [
            u.press(uid, "earn:ok:0123456789abcdef", with_message=False)
        ],
        "inline button, no data (game)": lambda u, uid: [
            u.press(uid, None, with_message=False, game="points")
        ],
        "button with no data (game)": lambda u, uid: [u.press(uid, None, game="points")],
    }
    for label, text in NOTHING_READABLE.items():
        found[f"only {label}"] = sending(text)
        found[f"/register then only {label}"] = sending("/register", text)
        found[f"/earn then only {label}"] = sending("/earn", text)
    for data in FORGED_DATA:
        found[f"forged {data!r}"] = pressing(data)
        found[f"forged {data!r} under a redeem list"] = pressing(data, after="/redeem 07400123456")
    for flow in ("/earn 07400123456 25", "/redeem 07400123456", "/register"):
        found[f"{flow}, then a button with no message"] = pressing(
            "earn:ok:0123456789abcdef", after=flow, with_message=False
        )
        found[f"{flow}, then a game button"] = pressing(None, after=flow, game="points")
    return found


# Cases made in a loop: a function binds each value (a lambda's default argument would too,
# but mypy cannot infer such a lambda as a Case).


def sending(*texts: str) -> Case:
    """The user sends each of `texts`, in turn."""
    return lambda u, uid: [u.message(uid, text) for text in texts]


def pressing(
    data: str | None,
    *,
    after: str | None = None,
    with_message: bool = True,
    game: str | None = None,
) -> Case:
    """The user presses a button with `data`, after sending `after` if given."""
    return lambda u, uid: [
        *([u.message(uid, after)] if after is not None else []),
        u.press(uid, data, with_message=with_message, game=game),
    ]


CASES = cases()

# Calls that show the user something; a hostile update gets at most one of each.
REPLIES = ("sendMessage", "sendPhoto", "sendDocument", "editMessageText")


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    config = make_config(tmp_path)
    staff = StaffConfig(admins=(ADMIN,), cashiers=(CASHIER, *CASHIERS))
    async with BotHarness(dataclasses.replace(config, staff=staff)) as harness:
        await harness.store.register(
            {"name": "Ann Lee", "phone": PHONE, "email": None},
            actor_id=CASHIER,
            now=harness.services.clock(),
        )
        yield harness


async def feed(bot: BotHarness, update: JSONDict) -> list[SentCall]:
    before = len(bot.emulator.calls)
    await bot.app.process_update(Update.de_json(update, bot.app.bot))
    return bot.emulator.snapshot()[before:]


def short(record: logging.LogRecord) -> str:
    """The exception behind a log record, cut short (a 4096-character text is in some)."""
    error = record.exc_info[1] if record.exc_info else None
    text = f"{type(error).__name__}: {error}" if error else ""
    return text if len(text) < 200 else text[:200] + "..."


def problems_with(name: str, step: int, calls: list[SentCall]) -> list[str]:
    found = []
    replies = [c for c in calls if c.method in REPLIES]
    popups = [c for c in calls if c.method == "answerCallbackQuery"]
    if len(replies) > 1 or len(popups) > 1:
        said = [(c.method, (c.visible_text or "")[:60]) for c in calls]
        found.append(f"{name} (step {step + 1}): more than one answer: {said}")
    for call in calls:
        if not call.ok:
            found.append(f"{name} (step {step + 1}): Telegram refuses {call.method}: {call.error}")
    return found


@pytest.mark.parametrize("who", ["customer", "cashier"])
async def test_every_hostile_update_is_answered_once_or_ignored_never_refused(
    bot: BotHarness, caplog: pytest.LogCaptureFixture, who: str
) -> None:
    caplog.set_level(logging.INFO)
    updates = Updates()
    problems: list[str] = []
    for index, (name, case) in enumerate(CASES.items()):
        # A user of their own per case: a customer nobody knows, or a cashier of the config.
        user_id = 50_000 + index if who == "customer" else CASHIERS[index]
        errors_before = len([r for r in caplog.records if r.levelno >= logging.ERROR])
        for step, update in enumerate(case(updates, user_id)):
            problems += problems_with(name, step, await feed(bot, update))
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR][errors_before:]
        problems += [
            f"{name}: ERROR logged: {r.getMessage()} {r.exc_info and r.exc_info[1]!r}"
            for r in errors
        ]

    assert problems == [], "\n".join(problems)
    assert bot.bad_requests() == []


@pytest.mark.parametrize("who", [ADMIN, 5999])
async def test_a_flood_of_50_updates_from_one_person_is_answered_one_by_one(
    bot: BotHarness, caplog: pytest.LogCaptureFixture, who: int
) -> None:
    # Through the update queue, as polling delivers them: the per-user processor takes them in
    # order, one at a time, while the rate limiter keeps the replies under Telegram's limit.
    caplog.set_level(logging.INFO)
    updates = Updates()
    texts = ["/help", "hello", "/status", "🎉", "/cancel"] * 10
    flood = [updates.message(who, text) for text in texts]
    before = len(bot.emulator.calls)

    for update in flood:
        await bot.app.update_queue.put(Update.de_json(update, bot.app.bot))

    def answered() -> int:
        return len([c for c in bot.emulator.snapshot()[before:] if c.method == "sendMessage"])

    async with asyncio.timeout(30):
        await bot.emulator.until(lambda: answered() >= len(flood) or None)
    await asyncio.sleep(0.2)  # nothing more comes

    assert answered() == len(flood)
    assert bot.bad_requests() == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
