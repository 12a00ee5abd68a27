"""The python-telegram-bot side: a request layer that talks to a ``BotApiEmulator`` in memory.

``OfflineRequest`` sits where ``HTTPXRequest`` normally does, so the real ``Bot`` and
``Application`` code runs unchanged while every API call lands in the emulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from telegram.request import BaseRequest, RequestData

from .emulator import BotApiEmulator, SentCall
from .params import decode_params

__all__ = ["OfflineRequest"]


class OfflineRequest(BaseRequest):
    """A ``BaseRequest`` that sends every Bot API call to a ``BotApiEmulator`` in memory.

    Pass the same ``emulator`` to the request and the get-updates request of one bot so their
    calls land in one log and share message ids.
    """

    def __init__(
        self,
        *,
        on_call: Callable[[SentCall], None] | None = None,
        emulator: BotApiEmulator | None = None,
    ) -> None:
        self.emulator = emulator if emulator is not None else BotApiEmulator()
        if on_call is not None:
            self.emulator.add_listener(on_call)

    @property
    def calls(self) -> list[SentCall]:
        return self.emulator.calls

    @property
    def bad_requests(self) -> list[SentCall]:
        return self.emulator.bad_requests

    @property
    def read_timeout(self) -> float | None:
        # Used by Bot.get_updates to size the long-poll wait; mirrors HTTPXRequest's default.
        return 5.0

    async def initialize(self) -> None:
        """Nothing to open: there is no connection."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        api_method = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        # Going through the same string encoding as the HTTP client keeps both fakes identical
        # and catches values that would not survive serialisation.
        params = decode_params(request_data.json_parameters) if request_data else {}
        files: dict[str, bytes] = {}
        names: dict[str, str] = {}
        if request_data is not None:
            for part, (filename, content, _mime) in request_data.multipart_data.items():
                files[part] = content if isinstance(content, bytes) else content.read()
                names[part] = filename
        if api_method == "getUpdates":
            await self._wait_for_updates(params)
        status, body = self.emulator.call(api_method, params, files, names)
        return status, json.dumps(body).encode("utf-8")

    async def _wait_for_updates(self, params: Mapping[str, Any]) -> None:
        # Long polling: without this wait, Updater.start_polling would spin on empty answers.
        offset = params.get("offset")
        with contextlib.suppress(TimeoutError):  # a long poll that times out answers []
            async with asyncio.timeout(float(params.get("timeout") or 0)):
                await self.emulator.until(
                    lambda: self.emulator.closed or self.emulator.has_updates(offset) or None
                )
