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

from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from .emulator import BotApiEmulator, SentCall
from .faults import Fault, FaultKind
from .params import decode_params

__all__ = ["OfflineRequest"]


class OfflineRequest(BaseRequest):
    """A ``BaseRequest`` that sends every Bot API call to a ``BotApiEmulator`` in memory.

    Pass the same ``emulator`` to the request and the get-updates request of one bot so their
    calls land in one log and share message ids. Faults scripted on the emulator
    (``emulator.fail``) are acted out here as HTTPXRequest meets them: a dropped connection is
    a ``NetworkError``, an answer slower than the read timeout a ``TimedOut``.
    """

    def __init__(
        self,
        *,
        on_call: Callable[[SentCall], None] | None = None,
        emulator: BotApiEmulator | None = None,
        read_timeout: float | None = 5.0,
    ) -> None:
        self.emulator = emulator if emulator is not None else BotApiEmulator()
        self._read_timeout = read_timeout
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
        # Used by Bot.get_updates to size the long-poll wait; HTTPXRequest's default is 5 s.
        return self._read_timeout

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
        if api_method == "getUpdates" and not self.emulator.faults_ahead(api_method, params):
            await self._wait_for_updates(params)
        answer = self.emulator.answer(api_method, params, files, names)
        if answer.fault is not None:
            await self._act_out(answer.fault, read_timeout)
        return answer.status, json.dumps(answer.body).encode("utf-8")

    async def _act_out(self, fault: Fault, read_timeout: object) -> None:
        """Does to the caller what a scripted fault does through HTTPXRequest."""
        if fault.kind in (FaultKind.DROP_BEFORE, FaultKind.DROP_AFTER):
            # What HTTPXRequest raises when the server hangs up without an answer.
            raise NetworkError(
                "httpx.RemoteProtocolError: Server disconnected without sending a response."
            )
        if fault.kind is FaultKind.DELAY:
            limit = self._read_timeout if read_timeout is BaseRequest.DEFAULT_NONE else read_timeout
            if isinstance(limit, int | float) and fault.seconds > limit:
                await asyncio.sleep(limit)
                raise TimedOut  # what HTTPXRequest raises on httpx.ReadTimeout
            await asyncio.sleep(fault.seconds)

    async def _wait_for_updates(self, params: Mapping[str, Any]) -> None:
        # Long polling: without this wait, Updater.start_polling would spin on empty answers.
        offset = params.get("offset")
        self.emulator.confirm_updates(offset)
        with contextlib.suppress(TimeoutError):  # a long poll that times out answers []
            async with asyncio.timeout(float(params.get("timeout") or 0)):
                await self.emulator.until(
                    lambda: self.emulator.closed or self.emulator.has_updates(offset) or None
                )
