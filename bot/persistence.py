"""Conversations that survive a restart: python-telegram-bot's persistence, in our database.

python-telegram-bot keeps each open conversation's state and each person's `user_data` (a
/register draft, the customer an /earn is for, a preview waiting for Confirm) in memory. A
restart, a crash, or a standby taking over (bot/cli, core/db/lock.py) used to lose them: the
cashier's next message fell outside any flow and a pending Confirm was "no longer active".
`DatabasePersistence` keeps them in the `bot_state` table (core/db/bot_state.py) of the shop's
own database, and `PersistentApplication` writes what an update changed as soon as the update
is done, rather than python-telegram-bot's default of once a minute, so a kill -9 loses at
most the update in hand. A Confirm pressed after a restart is then recorded exactly once, by
its idempotency key, like any other.

What is stored: conversation states and user_data only (chat data is unused; bot_data holds the
live Services; button data is plain text in the buttons). Values are pickled, as
python-telegram-bot's own PicklePersistence does, because drafts and previews are dataclasses
with Decimals; a value that no longer unpickles (a field renamed in an upgrade) is dropped with
a log line, and that person starts their flow again. An unchanged value is not written again,
so a /status costs no write.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import pickle
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Update
from telegram.ext import Application, BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from core.db import bot_state
from core.db.engine import open_engine
from core.db.migrate import upgrade

log = logging.getLogger(__name__)

CONVERSATION = "conversation"
USER = "user"
META = "meta"
RECENT_UPDATES = "recent_updates"  # ids of the latest updates that changed what is kept here
RECENT = 500


class DatabasePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Conversation states and user_data in the `bot_state` table of `database_url`."""

    def __init__(self, database_url: str) -> None:
        # update_interval: the periodic write is only a backstop; PersistentApplication writes
        # after every update.
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=60,
        )
        self.database_url = database_url
        self._engine: AsyncEngine | None = None
        self._written: dict[tuple[str, str], bytes] = {}  # digests of what the table holds
        self.writes = 0  # rows written or deleted so far: did an update change what is kept?
        self._recent: list[int] | None = None  # loaded at the first update (handled_before)

    async def _db(self) -> AsyncEngine:
        if self._engine is None:
            # python-telegram-bot reads the persistence before post_init opens the shop's
            # database, so this may be the first touch of a new file: bring it to the schema.
            self._engine = open_engine(self.database_url)
            await upgrade(self._engine)
        return self._engine

    # --- conversations ------------------------------------------------------------------------

    async def get_conversations(self, name: str) -> ConversationDict:
        stored = await bot_state.load(await self._db(), CONVERSATION)
        conversations: dict[ConversationKey, object] = {}
        prefix = f"{name}:"
        for key, value in stored.items():
            if not key.startswith(prefix):
                continue
            state = self._unpickled(CONVERSATION, key, value)
            if state is not None:
                ids = tuple(int(part) for part in key[len(prefix) :].split(":"))
                conversations[ids] = state
        return conversations

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        row = f"{name}:{':'.join(str(part) for part in key)}"
        if new_state is None:  # the conversation ended
            await self._forget(CONVERSATION, row)
        else:
            await self._save(CONVERSATION, row, new_state)

    # --- user_data ----------------------------------------------------------------------------

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        stored = await bot_state.load(await self._db(), USER)
        users: dict[int, dict[Any, Any]] = {}
        for key, value in stored.items():
            data = self._unpickled(USER, key, value)
            if isinstance(data, dict):
                users[int(key)] = data
        return users

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        if data:
            await self._save(USER, str(user_id), data)
        else:  # nothing in hand: no row
            await self._forget(USER, str(user_id))

    async def drop_user_data(self, user_id: int) -> None:
        await self._forget(USER, str(user_id))

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        """Nothing to do: only this process writes (one bot per database)."""

    # --- unused kinds (store_data says so; python-telegram-bot never calls these) ---------------

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        """Chat data is not used."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        """Chat data is not used."""

    async def drop_chat_data(self, chat_id: int) -> None:
        """Chat data is not used."""

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        """bot_data holds the live Services, not data to keep."""

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        """bot_data holds the live Services, not data to keep."""

    async def get_callback_data(self) -> CDCData | None:
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        """Button data is plain text in the buttons."""

    async def flush(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    # --- updates already handled ---------------------------------------------------------------

    async def handled_before(self, update_id: int) -> bool:
        """Whether `update_id` is one of the latest updates whose changes are kept here (the
        ids are read once, at the first update; at most RECENT of them, so a scan is cheap)."""
        return update_id in await self._recent_ids()

    async def remember_update(self, update_id: int) -> None:
        """`update_id` changed what is kept: Telegram delivering it again must not replay it."""
        self._recent = [*(await self._recent_ids())[-(RECENT - 1) :], update_id]
        await self._save(META, RECENT_UPDATES, self._recent)

    async def _recent_ids(self) -> list[int]:
        if self._recent is None:
            stored = (await bot_state.load(await self._db(), META)).get(RECENT_UPDATES)
            loaded = self._unpickled(META, RECENT_UPDATES, stored) if stored is not None else None
            kept = loaded if isinstance(loaded, list) else []
            self._recent = [i for i in kept if isinstance(i, int)]
        return self._recent

    # --- rows ---------------------------------------------------------------------------------

    async def _save(self, kind: str, key: str, value: object) -> None:
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        digest = hashlib.blake2b(data, digest_size=16).digest()
        if self._written.get((kind, key)) == digest:
            return  # unchanged: no write (most updates change nothing kept here)
        await bot_state.save(await self._db(), kind, key, data, dt.datetime.now(dt.UTC))
        self._written[(kind, key)] = digest
        self.writes += 1

    async def _forget(self, kind: str, key: str) -> None:
        if not self._written.get((kind, key)):
            # Absent: python-telegram-bot read every kept row at start-up (get_user_data,
            # get_conversations), which filled _written, and only this process writes. So the
            # first update of someone never seen costs no DELETE.
            return
        if await bot_state.forget(await self._db(), kind, key):
            self.writes += 1  # something kept was removed: a change
        self._written[(kind, key)] = b""

    def _unpickled(self, kind: str, key: str, value: bytes) -> object | None:
        # The row is there either way: its digest, so an unchanged value is not rewritten and
        # a flow that ends deletes it (the unreadable one included).
        self._written[(kind, key)] = hashlib.blake2b(value, digest_size=16).digest()
        try:
            loaded: object = pickle.loads(value)
        except Exception as exc:
            log.warning("dropped a saved %s (%s): %s", kind, key, type(exc).__name__)
            return None
        return loaded


class PersistentApplication(Application):  # type: ignore[type-arg]
    """The Application, writing what each update changed as soon as it is done, and never
    handling twice an update whose changes it already kept.

    Telegram delivers an update again when the bot that fetched it stopped before confirming
    it. A step that moved a flow on must not run again in the next state (a phone number read
    as an amount), so the ids of such updates are kept with the state they produced and a
    redelivery of one is skipped. Changes of points are safe anyway (idempotency keys).
    """

    async def process_update(self, update: object) -> None:
        persistence = self.persistence
        if not isinstance(persistence, DatabasePersistence) or not isinstance(update, Update):
            await super().process_update(update)
            return
        if await persistence.handled_before(update.update_id):
            log.info("update %s was handled before a restart: not again", update.update_id)
            return
        before = persistence.writes
        try:
            await super().process_update(update)
        finally:
            if self.running:
                await self.update_persistence()
                if persistence.writes != before:
                    await persistence.remember_update(update.update_id)
