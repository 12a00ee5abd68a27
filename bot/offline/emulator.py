"""``BotApiEmulator``, Telegram's side of the conversation, and ``SentCall``, one call it got."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .checks import RequestRefused, checked_commands
from .faults import ConnectionDropped, Fault, FaultKind
from .html import parse_html
from .messages import Messages
from .updates import BOT_USER

__all__ = ["Answer", "BotApiEmulator", "SentCall"]

JSONDict = dict[str, Any]
T = TypeVar("T")

ApiResponse = tuple[int, JSONDict]


@dataclass(frozen=True)
class SentCall:
    """One Bot API call as Telegram received it.

    ``error`` holds Telegram's description when the call was refused; otherwise ``result`` is
    what Telegram answered (the sent Message as a dict, True, ...). ``fault`` is the scripted
    failure the call met (``BotApiEmulator.fail``), if any.
    """

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    error: str | None = None
    result: Any = None
    fault: Fault | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def delivered(self) -> bool:
        """Whether Telegram did it (the message exists), even if the bot never heard back."""
        return self.ok

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")

    @property
    def text(self) -> str | None:
        """The text or caption exactly as the bot sent it (HTML tags included)."""
        value = self.params.get("text", self.params.get("caption"))
        return value if isinstance(value, str) else None

    @property
    def visible_text(self) -> str | None:
        """The text or caption as the user reads it: HTML rendered only when sent as HTML."""
        text = self.text
        if text is None or str(self.params.get("parse_mode", "")).lower() != "html":
            return text
        try:
            return parse_html(text)
        except ValueError:
            return text  # a refused call; its raw text is the most useful thing to show


@dataclass(frozen=True)
class Answer:
    """What the transport should do with one call: send ``status`` and ``body``, unless
    ``fault`` says to hang up (``DROP_*``) or to wait first (``DELAY``)."""

    status: int
    body: JSONDict
    fault: Fault | None = None


@dataclass
class _Script:
    method: str  # "*" for any method
    fault: Fault
    times: int | None  # None: until clear_faults()
    chat_id: Any

    def matches(self, method: str, params: Mapping[str, Any]) -> bool:
        if self.method not in ("*", method):
            return False
        return self.chat_id is None or str(params.get("chat_id")) == str(self.chat_id)


class BotApiEmulator:
    """Telegram's side of the conversation: validates calls, answers them, records them.

    Thread-safe, because the HTTP fake serves each connection on its own thread.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)  # a call was recorded / update queued
        self._closed = False
        self.calls: list[SentCall] = []
        self._listeners: list[Callable[[SentCall], None]] = []
        self._wakers: list[Callable[[], None]] = []
        self._updates: list[JSONDict] = []
        self._last_update_id = 0
        self._messages = Messages()
        self._commands: dict[str, Any] = {}
        # The webhook set with setWebhook ({} when none): while one is set, Telegram refuses
        # getUpdates with 409 and would POST updates to it (tests/support/fake_bot_api.py).
        self.webhook: JSONDict = {}
        self._scripts: list[_Script] = []
        self._methods: dict[str, Callable[[JSONDict, dict[str, bytes], dict[str, str]], Any]] = {
            "getMe": lambda p, f, n: dict(BOT_USER),
            "sendMessage": lambda p, f, n: self._messages.send_message(p),
            "editMessageText": lambda p, f, n: self._messages.edit_message_text(p),
            "editMessageReplyMarkup": lambda p, f, n: self._messages.edit_reply_markup(p),
            "sendPhoto": lambda p, f, n: self._messages.send_file("photo", p, f, n),
            "sendDocument": lambda p, f, n: self._messages.send_file("document", p, f, n),
            "deleteMessage": lambda p, f, n: self._messages.delete_message(p),
            "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": lambda p, f, n: self._commands.get(_scope_key(p), []),
            "deleteMyCommands": self._delete_my_commands,
        }

    @property
    def bad_requests(self) -> list[SentCall]:
        """Calls Telegram refused because of what the bot sent (scripted faults don't count)."""
        with self._lock:
            return [call for call in self.calls if not call.ok and call.fault is None]

    def add_listener(self, listener: Callable[[SentCall], None]) -> None:
        """Calls ``listener`` with every recorded call (the console prints from it)."""
        with self._lock:
            self._listeners.append(listener)

    # scripted failures (bot/offline/faults.py)

    def fail(
        self, method: str, fault: Fault, *, times: int | None = 1, chat_id: Any = None
    ) -> None:
        """The next ``times`` calls of ``method`` ("*": any method), only those to ``chat_id``
        when given, meet ``fault`` instead of the normal answer; ``times=None`` until
        ``clear_faults``. Scripts are consumed in the order they were added.
        """
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None: until cleared)")
        with self._lock:
            self._scripts.append(_Script(method, fault, times, chat_id))

    def clear_faults(self) -> None:
        """Forgets every script not yet consumed: Telegram behaves again."""
        with self._lock:
            self._scripts.clear()

    @property
    def pending_faults(self) -> int:
        """How many scripted failures are still to come (-1: one runs until cleared)."""
        with self._lock:
            if any(script.times is None for script in self._scripts):
                return -1
            return sum(script.times or 0 for script in self._scripts)

    def faults_ahead(self, method: str, params: Mapping[str, Any]) -> bool:
        """Whether the next such call meets a scripted fault (a long poll then answers at once,
        as Telegram answers a 409 at once)."""
        with self._lock:
            return any(script.matches(method, params) for script in self._scripts)

    def _take_fault(self, method: str, params: Mapping[str, Any]) -> Fault | None:
        for index, script in enumerate(self._scripts):
            if script.matches(method, params):
                if script.times is not None:
                    script.times -= 1
                    if script.times == 0:
                        del self._scripts[index]
                return script.fault
        return None

    def answer(
        self,
        method: str,
        params: Mapping[str, Any],
        files: Mapping[str, bytes] | None = None,
        file_names: Mapping[str, str] | None = None,
    ) -> Answer:
        """Handles one API call, scripted faults included; the transport acts out the fault."""
        params = dict(params)
        uploads = dict(files or {})
        with self._lock:
            fault = self._take_fault(method, params)
            if fault is not None and not fault.reaches_telegram:
                # Telegram never acted on it: recorded (with why), but no message exists.
                self._record(SentCall(method, params, uploads, fault.description, fault=fault))
                body = fault.body() if fault.kind is FaultKind.ERROR else {}
                return Answer(fault.status, body, fault)
            handler = self._methods.get(method)
            try:
                # Unknown methods are accepted so a new bot feature doesn't need a new fake first.
                names = dict(file_names or {})
                result = True if handler is None else handler(params, uploads, names)
            except RequestRefused as refused:
                self._record(SentCall(method, params, uploads, refused.description, fault=fault))
                status = refused.status
                return Answer(
                    status,
                    {"ok": False, "error_code": status, "description": refused.description},
                    fault,
                )
            self._record(SentCall(method, params, uploads, result=result, fault=fault))
            return Answer(200, {"ok": True, "result": result}, fault)

    def call(
        self,
        method: str,
        params: Mapping[str, Any],
        files: Mapping[str, bytes] | None = None,
        file_names: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        """Handles one API call; returns (HTTP status, Telegram's JSON answer).

        A scripted dropped connection raises ``ConnectionDropped``; a scripted delay is not
        waited here (``answer`` tells the transport, which waits without blocking anyone).
        """
        answer = self.answer(method, params, files, file_names)
        if answer.fault is not None and answer.fault.kind in (
            FaultKind.DROP_BEFORE,
            FaultKind.DROP_AFTER,
        ):
            raise ConnectionDropped(answer.fault)
        return answer.status, answer.body

    def _record(self, call: SentCall) -> None:
        self.calls.append(call)
        self._notify()
        for listener in self._listeners:
            listener(call)

    def _notify(self) -> None:
        self._changed.notify_all()
        for wake in self._wakers:
            wake()

    def add_waker(self, wake: Callable[[], None]) -> None:
        """Runs ``wake`` after every recorded call or queued update, on the changing thread.

        This is how asyncio code waits for the emulator without blocking its event loop.
        """
        with self._lock:
            self._wakers.append(wake)

    def remove_waker(self, wake: Callable[[], None]) -> None:
        with self._lock:
            self._wakers.remove(wake)

    def snapshot(self) -> list[SentCall]:
        """A copy of the calls recorded so far, safe to iterate while calls keep arriving."""
        with self._lock:
            return list(self.calls)

    def find_call(self, predicate: Callable[[SentCall], bool], after: int = 0) -> SentCall | None:
        """The first accepted call from index ``after`` on that satisfies ``predicate``."""
        with self._lock:
            return next((c for c in self.calls[after:] if c.ok and predicate(c)), None)

    @property
    def closed(self) -> bool:
        return self._closed

    async def until(self, probe: Callable[[], T | None]) -> T:
        """Awaits the first non-None ``probe()``, re-checked after every change.

        Bound it with ``asyncio.timeout``. Changes may come from any thread (the HTTP fake's
        server threads, a console reading stdin), so they reach the loop via call_soon_threadsafe.
        """
        loop = asyncio.get_running_loop()
        changed = asyncio.Event()

        def wake() -> None:
            loop.call_soon_threadsafe(changed.set)

        self.add_waker(wake)
        try:
            while (found := probe()) is None:
                await changed.wait()
                changed.clear()
            return found
        finally:
            self.remove_waker(wake)

    # queue of incoming updates, read by getUpdates

    def start_update_ids_after(self, update_id: int) -> None:
        """Numbers the next updates after `update_id`, as Telegram's keep growing across runs:
        a bot reusing its database remembers the last ids it handled (bot/persistence.py)."""
        with self._lock:
            self._last_update_id = max(self._last_update_id, update_id)

    def next_update_id(self) -> int:
        with self._lock:
            self._last_update_id += 1
            return self._last_update_id

    def next_message_id(self, chat_id: int) -> int:
        """Allocates a message id in ``chat_id``; user and bot messages share one sequence."""
        with self._lock:
            return self._messages.next_message_id(chat_id)

    def push_update(self, update: Mapping[str, Any]) -> None:
        with self._lock:
            self._last_update_id = max(self._last_update_id, int(update["update_id"]))
            self._updates.append(dict(update))
            self._notify()

    def has_updates(self, offset: int | None) -> bool:
        with self._lock:
            return any(u["update_id"] >= (offset or 0) for u in self._updates)

    def confirm_updates(self, offset: int | str | None) -> None:
        """Forgets every update before ``offset``, as Telegram does as soon as a getUpdates asks
        from it, not once that long poll is answered: a bot killed during the poll is not sent
        them again."""
        first = int(offset or 0)
        if first > 0:
            with self._lock:
                self._updates = [u for u in self._updates if u["update_id"] >= first]

    def wait_for_updates(self, offset: int | None, timeout: float) -> None:
        """Confirms the updates before ``offset``, then blocks up to ``timeout`` seconds until
        an update at or after it is queued."""
        self.confirm_updates(offset)
        with self._lock:
            self._changed.wait_for(lambda: self._closed or self.has_updates(offset), timeout)

    def wait_for_call(
        self, predicate: Callable[[SentCall], bool], timeout: float, after: int = 0
    ) -> SentCall | None:
        """Blocks until an accepted call from index ``after`` on satisfies ``predicate``."""
        with self._lock:
            self._changed.wait_for(
                lambda: self._closed or self.find_call(predicate, after) is not None, timeout
            )
            return self.find_call(predicate, after)

    def message(self, chat_id: int, message_id: int) -> JSONDict | None:
        """The current state of a message the bot sent (after edits), if it exists."""
        with self._lock:
            return self._messages.message(chat_id, message_id)

    def close(self) -> None:
        """Wakes every waiter so a stopping server doesn't hang on long polls."""
        with self._lock:
            self._closed = True
            self._notify()

    # method implementations

    def _get_updates(self, params: JSONDict, _f: object, _n: object) -> list[JSONDict]:
        if self.webhook:
            raise RequestRefused(
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
                409,
            )
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        if offset < 0:
            return self._updates[offset:][:limit]
        self.confirm_updates(offset)  # done already if this was a long poll, when it began
        return self._updates[:limit]

    def _delete_webhook(self, params: JSONDict, _f: object, _n: object) -> bool:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = {}
        return True

    def _set_webhook(self, params: JSONDict, _f: object, _n: object) -> bool:
        url = str(params.get("url") or "")
        if not url:  # Telegram: an empty url removes the webhook
            self.webhook = {}
            return True
        if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise RequestRefused("Bad Request: bad webhook: An HTTPS URL must be provided")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise RequestRefused("Bad Request: secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = {"url": url, "secret_token": secret}
        return True

    def _webhook_info(self, _p: JSONDict, _f: object, _n: object) -> JSONDict:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def _set_my_commands(self, params: JSONDict, _f: object, _n: object) -> bool:
        commands = checked_commands(params)
        self._commands[_scope_key(params)] = commands
        return True

    def _delete_my_commands(self, params: JSONDict, _f: object, _n: object) -> bool:
        self._commands.pop(_scope_key(params), None)
        return True


def _scope_key(params: Mapping[str, Any]) -> str:
    return json.dumps([params.get("scope"), params.get("language_code")], sort_keys=True)
