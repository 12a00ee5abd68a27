"""Drives the real Application with real Update objects, offline.

The bot is built by bot.app.build_application exactly as `loyalty-bot run` builds it; only the
request layer is swapped for bot.offline.OfflineRequest, which answers like Telegram and refuses
what Telegram refuses. Tests then read what the user would see (`said_to`, `last_text`) and what
the database holds (`harness.store`).
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Any

from telegram import Update

from bot.app import build_application
from bot.offline import (
    BotApiEmulator,
    OfflineRequest,
    SentCall,
    keyboard_rows,
    make_callback_update,
    make_contact_update,
    make_message_update,
    parse_html,
)
from bot.services import Services, services_of
from core.config import Config, StaffConfig, load_config
from core.db.staff import StaffStore
from core.db.store import Store

ADMIN = 1001
CASHIER = 2002
CUSTOMER = 3003
STRANGER = 4004

TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"


def database_path(tmp_path: Path) -> Path:
    """The SQLite file of make_config(tmp_path)."""
    return tmp_path / "test.db"


# Set by tests/bot/conftest.py when the bot tests run on PostgreSQL (LOYALTY_BOT_TEST_ENGINE):
# this worker's database, emptied before each test, instead of a SQLite file per test.
DATABASE_URL_OVERRIDE: list[str] = []


def make_config(tmp_path: Path, **program: Any) -> Config:
    """The default program on the SQLite file database_path(tmp_path), with one admin and one
    cashier. In tests/bot that file is already at the newest schema (tests/bot/conftest.py);
    elsewhere the Application's post_init creates it by running the migrations."""
    base = load_config(None, environ={})
    url = (
        DATABASE_URL_OVERRIDE[0]
        if DATABASE_URL_OVERRIDE
        else f"sqlite+aiosqlite:///{database_path(tmp_path)}"
    )
    return dataclasses.replace(
        base,
        database_url=url,
        staff=StaffConfig(admins=(ADMIN,), cashiers=(CASHIER,)),
        program=dataclasses.replace(base.program, **program),
    )


# Update ids, unique across every harness in this process: Telegram's only grow, and a bot
# restarted on the same database skips an id it already handled (bot/persistence.py).
_UPDATE_IDS = itertools.count(1)


class BotHarness:
    """The Application, started, with helpers to talk to it as a given user."""

    def __init__(self, config: Config, *, emulator: BotApiEmulator | None = None) -> None:
        """`emulator`: Telegram as another harness left it (a restart of the same bot)."""
        self.config = config
        self.emulator = emulator if emulator is not None else BotApiEmulator()
        self.announcements: list[str] = []
        self.app = build_application(
            config,
            request=OfflineRequest(emulator=self.emulator),
            get_updates_request=OfflineRequest(emulator=self.emulator),
            token=TOKEN,
            announce=self.announcements.append,
        )
        # Telegram app languages by user (set_app_language); "en" for anyone not listed.
        self.app_languages: dict[int, str] = {}
        self.last_update_id = 0  # the id of the latest message sent with `send`

    async def __aenter__(self) -> BotHarness:
        await self.app.initialize()
        assert self.app.post_init is not None
        await self.app.post_init(self.app)
        await self.app.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.app.stop()
        await self.app.shutdown()
        assert self.app.post_shutdown is not None
        await self.app.post_shutdown(self.app)

    # --- what the database holds ------------------------------------------------------------

    @property
    def services(self) -> Services:
        return services_of(self.app)

    @property
    def store(self) -> Store:
        return self.services.store

    @property
    def staff(self) -> StaffStore:
        return self.services.staff

    # --- acting as a user ---------------------------------------------------------------------

    async def _feed(self, data: dict[str, Any]) -> list[SentCall]:
        before = len(self.emulator.calls)
        await self.app.process_update(Update.de_json(data, self.app.bot))
        return self.emulator.calls[before:]

    def set_app_language(self, user_id: int, language_code: str) -> None:
        """`user_id`'s Telegram app is in `language_code` from now on (their updates say so)."""
        self.app_languages[user_id] = language_code

    async def send(
        self, user_id: int, text: str, first_name: str = "Test", *, update_id: int | None = None
    ) -> list[SentCall]:
        """The user sends `text`; returns the Bot API calls it caused. `update_id`: Telegram
        delivering an update again (ids otherwise only grow, as Telegram's do)."""
        if update_id is None:
            update_id = next(_UPDATE_IDS)
        self.last_update_id = update_id
        return await self._feed(
            make_message_update(
                update_id,
                user_id=user_id,
                text=text,
                first_name=first_name,
                language_code=self.app_languages.get(user_id, "en"),
            )
        )

    async def press(
        self, user_id: int, label: str, *, on_behalf_of: int | None = None
    ) -> list[SentCall]:
        """`user_id` presses the newest button containing `label` in a message to
        `on_behalf_of` (default: their own chat) - a different presser means forged data."""
        chat = on_behalf_of if on_behalf_of is not None else user_id
        call, button = self.find_button(chat, label)
        message_id = self._message_id(call)
        return await self.press_data(user_id, button["callback_data"], message_id=message_id)

    async def press_data(self, user_id: int, data: str, *, message_id: int = 1) -> list[SentCall]:
        """A button press with arbitrary (possibly forged) callback data."""
        update_id = next(_UPDATE_IDS)
        return await self._feed(
            make_callback_update(
                update_id,
                user_id=user_id,
                data=data,
                message_id=message_id,
                language_code=self.app_languages.get(user_id, "en"),
            )
        )

    async def share_contact(
        self, user_id: int, phone: str, *, contact_user_id: int | None = None
    ) -> list[SentCall]:
        update_id = next(_UPDATE_IDS)
        return await self._feed(
            make_contact_update(
                update_id,
                user_id=user_id,
                phone_number=phone,
                contact_user_id=user_id if contact_user_id is None else contact_user_id,
                language_code=self.app_languages.get(user_id, "en"),
            )
        )

    # --- what the user saw --------------------------------------------------------------------

    def said_to(self, chat_id: int) -> list[SentCall]:
        """Messages (and edits, photos, documents) sent to `chat_id`, oldest first."""
        return [c for c in self.emulator.calls if c.ok and str(c.chat_id) == str(chat_id)]

    def texts_to(self, chat_id: int) -> list[str]:
        """The visible text (HTML rendered to plain text) of every message to `chat_id`."""
        return [parse_html(c.text) for c in self.said_to(chat_id) if c.text]

    def last_text(self, chat_id: int) -> str:
        texts = self.texts_to(chat_id)
        assert texts, f"nothing was sent to {chat_id}"
        return texts[-1]

    def alerts(self) -> list[str]:
        """Texts of answerCallbackQuery popups, oldest first."""
        return [
            str(c.params.get("text", ""))
            for c in self.emulator.calls
            if c.method == "answerCallbackQuery" and c.params.get("text")
        ]

    def find_button(self, chat_id: int, label: str) -> tuple[SentCall, dict[str, Any]]:
        for call in reversed(self.said_to(chat_id)):
            for row in keyboard_rows(call.params):
                for button in row:
                    if label.lower() in str(button.get("text", "")).lower():
                        return call, button
        raise AssertionError(f"no button {label!r} in messages to {chat_id}")

    @staticmethod
    def _message_id(call: SentCall) -> int:
        result = getattr(call, "result", None)
        if isinstance(result, dict) and "message_id" in result:
            return int(result["message_id"])
        return 1

    def bad_requests(self) -> list[SentCall]:
        return self.emulator.bad_requests
