"""Updates from different people run concurrently; each person's own updates stay in order.

python-telegram-bot processes one update at a time by default, so with 100 ms to the Bot API a
whole shop is capped at ~10 calls a second. Running everything concurrently would break
conversations (a double tap of Confirm, or a message and a button press from the same cashier,
must be seen in order). So: one lock per user, FIFO, and no limit across users beyond the
processor's overall cap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class PerUserUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}  # updates holding or waiting on each lock

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _ordering_key(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._users[key] -= 1
            if not self._users[key]:  # forget idle users: memory stays flat
                del self._users[key]
                del self._locks[key]

    @property
    def users_in_flight(self) -> int:
        """Users with an update running or waiting; idle users are forgotten (memory stays flat)."""
        return len(self._locks)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


def _ordering_key(update: object) -> int | None:
    if isinstance(update, Update):
        if update.effective_user is not None:
            return update.effective_user.id
        if update.effective_chat is not None:
            return update.effective_chat.id
    return None
