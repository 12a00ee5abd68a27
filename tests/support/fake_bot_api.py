"""A fake Telegram Bot API server on 127.0.0.1, for end-to-end tests over real HTTP.

The bot under test is built with ``base_url=fake.start()`` and talks to this server exactly as
it talks to api.telegram.org: HTTPXRequest, form and multipart bodies, long-polled getUpdates.
Answers and refusals come from ``bot.offline.BotApiEmulator``, shared with the in-process fake,
so both doubles reject the same over-long texts, oversized callback data and broken HTML.

Typical use inside an async test (the bot's Application runs on the test's event loop)::

    with FakeBotApi() as fake:
        app = ApplicationBuilder().token(TOKEN).base_url(fake.base_url).build()
        ...  # start polling
        fake.push_message(42, "/start")
        reply = await fake.wait_for_async(lambda c: c.method == "sendMessage")
        assert fake.bad_requests == []

To make Telegram misbehave, script faults from the test (bot/offline/faults.py)::

    fake.fail("sendMessage", Fault.flood(1))            # the next sendMessage gets a 429
    fake.fail("*", Fault.error(502), times=None)         # everything 502 ... until
    fake.clear_faults()                                  # ... Telegram is back

A dropped connection really hangs up (the client sees the server disconnect), and a delay
really holds the answer back, so the bot's HTTP client meets them as it would meet Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bot.offline import (
    Answer,
    BotApiEmulator,
    Fault,
    FaultKind,
    SentCall,
    decode_params,
    make_callback_update,
    make_contact_update,
    make_message_update,
)

__all__ = ["FakeBotApi"]

_LOGGER = logging.getLogger(__name__)

Predicate = Callable[[SentCall], bool]


class FakeBotApi:
    """A threaded HTTP server that behaves like the Bot API for one bot."""

    def __init__(self, *, latency: float = 0.0, port: int = 0) -> None:
        # `latency` delays every answer but getUpdates, to simulate a real network in benchmarks.
        # `port` 0 picks a free one; a fixed one lets a test start the bot before the server.
        self.latency = latency
        self.port = port
        self.emulator = BotApiEmulator()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle

    @property
    def base_url(self) -> str:
        """The value for ``ApplicationBuilder().base_url(...)``; the token is appended to it."""
        if self._server is None:
            raise RuntimeError("FakeBotApi is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/bot"

    def start(self) -> str:
        """Starts serving on a free port and returns the base_url."""
        if self.emulator.closed:
            # Its emulator would answer every long poll at once: the bot would spin.
            raise RuntimeError("a stopped FakeBotApi cannot be restarted; create a new one")
        if self._server is None:
            self._server = _Server(("127.0.0.1", self.port))
            self._server.fake = self
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="FakeBotApi",
                daemon=True,
            )
            self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stops serving; long polls still waiting are answered at once with no updates."""
        if self._server is None:
            return
        self.emulator.close()
        self._server.shutdown()
        self._server.server_close()
        # Hanging up before a woken long poll has written its answer would turn a clean stop
        # into a NetworkError in the bot.
        self._server.wait_until_answered(timeout=5 + self.latency)
        self._server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeBotApi:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # making Telegram misbehave (from the test's own thread or event loop)

    def fail(
        self, method: str, fault: Fault, *, times: int | None = 1, chat_id: Any = None
    ) -> None:
        """Scripts ``fault`` for the next ``times`` calls of ``method`` (see BotApiEmulator)."""
        self.emulator.fail(method, fault, times=times, chat_id=chat_id)

    def clear_faults(self) -> None:
        """Telegram behaves again: every script not yet consumed is dropped."""
        self.emulator.clear_faults()

    # what the bot sent

    @property
    def calls(self) -> list[SentCall]:
        """Every call received so far, refused ones included (``call.error`` is set)."""
        return self.emulator.snapshot()

    @property
    def bad_requests(self) -> list[SentCall]:
        """Calls Telegram would have refused; a healthy test ends with this empty."""
        return self.emulator.bad_requests

    def sent_to(self, chat_id: int) -> list[SentCall]:
        """Accepted calls addressed to ``chat_id``, oldest first: what that user saw."""
        return [c for c in self.calls if c.ok and c.chat_id == chat_id]

    def wait_for(self, predicate: Predicate, timeout: float = 10.0, *, after: int = 0) -> SentCall:
        """Blocks until an accepted call (from index ``after`` on) satisfies ``predicate``.

        Only for code where the bot runs on another thread or process: called on the bot's own
        event loop it would freeze the bot it is waiting for, so that raises instead.
        """
        try:
            asyncio.get_running_loop()
            on_event_loop = True
        except RuntimeError:  # the documented answer to "no loop runs on this thread"
            on_event_loop = False
        if on_event_loop:
            raise RuntimeError("wait_for() would block the event loop; use wait_for_async()")
        call = self.emulator.wait_for_call(predicate, timeout, after)
        if call is None:
            raise AssertionError(self._not_found(timeout, after))
        return call

    async def wait_for_async(
        self,
        predicate: Predicate,
        timeout: float = 10.0,  # noqa: ASYNC109 - on expiry it fails with the recent calls listed
        *,
        after: int = 0,
    ) -> SentCall:
        """Like ``wait_for`` but awaitable, so a bot on the same event loop keeps running."""
        try:
            async with asyncio.timeout(timeout):
                return await self.emulator.until(lambda: self.emulator.find_call(predicate, after))
        except TimeoutError:
            raise AssertionError(self._not_found(timeout, after)) from None

    def _not_found(self, timeout: float, after: int) -> str:
        recent = [c for c in self.calls[after:] if c.method != "getUpdates"][-10:]
        lines = [
            f"  {c.method} {c.params} {'REFUSED: ' + c.error if c.error else ''}".rstrip()
            for c in recent
        ]
        return f"no matching call within {timeout}s; recent calls:\n" + (
            "\n".join(lines) or "  (none)"
        )

    # what users do

    def push_update(self, update: Mapping[str, Any]) -> dict[str, Any]:
        """Queues a raw Update dict for getUpdates and returns it."""
        self.emulator.push_update(update)
        return dict(update)

    def push_message(self, user_id: int, text: str, *, first_name: str = "Test") -> dict[str, Any]:
        """A user sends ``text`` to the bot in their private chat."""
        return self.push_update(
            make_message_update(
                self.emulator.next_update_id(),
                user_id=user_id,
                text=text,
                first_name=first_name,
                message_id=self.emulator.next_message_id(user_id),
            )
        )

    def push_callback(self, user_id: int, data: str, message_id: int) -> dict[str, Any]:
        """A user presses the inline button carrying ``data`` under message ``message_id``."""
        # Embed the message as the bot last left it, as Telegram does in a CallbackQuery.
        message = self.emulator.message(user_id, message_id) or {}
        return self.push_update(
            make_callback_update(
                self.emulator.next_update_id(),
                user_id=user_id,
                data=data,
                message_id=message_id,
                message_text=str(message.get("text", "...")),
                reply_markup=message.get("reply_markup"),
            )
        )

    def push_contact(self, user_id: int, phone: str, contact_user_id: int) -> dict[str, Any]:
        """A user shares a contact; their own phone when ``contact_user_id == user_id``."""
        return self.push_update(
            make_contact_update(
                self.emulator.next_update_id(),
                user_id=user_id,
                phone_number=phone,
                contact_user_id=contact_user_id,
                message_id=self.emulator.next_message_id(user_id),
            )
        )

    # serving one request (called on a server thread)

    def _answer(self, method: str, request: _ParsedRequest) -> Answer:
        params = decode_params(request.fields)
        if method == "getUpdates":
            if not self.emulator.faults_ahead(method, params):  # a scripted 409 comes at once
                timeout = float(params.get("timeout") or 0)
                self.emulator.wait_for_updates(params.get("offset"), timeout)
        elif self.latency:
            time.sleep(self.latency)
        return self.emulator.answer(method, params, request.files, request.file_names)


class _ParsedRequest:
    """The fields and uploaded files of one HTTP request, however it was encoded."""

    def __init__(self) -> None:
        self.fields: dict[str, Any] = {}
        self.files: dict[str, bytes] = {}
        self.file_names: dict[str, str] = {}


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a keep-alive connection must never hold up interpreter exit
    # socketserver's default backlog of 5 drops connection attempts when the bot opens many at
    # once (its pool holds 256); each drop costs a one-second TCP retry and skews benchmarks.
    request_queue_size = 1024
    fake: FakeBotApi

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        self.answering = 0  # requests between "read" and "answer written"
        self.all_answered = threading.Condition()

    def wait_until_answered(self, timeout: float) -> None:
        """Lets requests already being served (a woken long poll) write their answers."""
        with self.all_answered:
            self.all_answered.wait_for(lambda: self.answering == 0, timeout)

    def close_connections(self) -> None:
        """Hangs up on every client so no handler thread outlives the server."""
        with self.connections_lock:
            for connection in self.connections:
                with contextlib.suppress(OSError):  # the client may have hung up already
                    connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients dropping keep-alive connections at shutdown is normal, not worth a traceback.
        _LOGGER.debug("fake Bot API connection error from %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like api.telegram.org; matters for benchmarks
    timeout = 120  # seconds an idle keep-alive connection may hold a thread
    # Headers and body go out in two writes; with Nagle on, the body waits for the client's
    # delayed ACK (~40 ms) and every call looks like a slow network.
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        super().finish()

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        _LOGGER.debug("fake Bot API: " + format, *args)

    def _serve(self) -> None:
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        if len(parts) != 2 or not parts[0].startswith("bot"):
            self._reply(
                HTTPStatus.NOT_FOUND, {"ok": False, "error_code": 404, "description": "Not Found"}
            )
            return
        try:
            request = self._parse(url.query)
        except ValueError as error:
            self._reply(
                HTTPStatus.BAD_REQUEST,
                {"ok": False, "error_code": 400, "description": f"Bad Request: {error}"},
            )
            return
        with self.server.all_answered:
            self.server.answering += 1
        try:
            answer = self.server.fake._answer(parts[1], request)
            fault = answer.fault
            if fault is not None and fault.kind in (FaultKind.DROP_BEFORE, FaultKind.DROP_AFTER):
                # Hang up without a word: the client sees "Server disconnected".
                self.close_connection = True
                return
            if fault is not None and fault.kind is FaultKind.DELAY:
                time.sleep(fault.seconds)
                self.close_connection = True  # the client may have timed out and hung up
                with contextlib.suppress(OSError):  # ... then nobody is left to answer
                    self._reply(answer.status, answer.body)
                return
            self._reply(answer.status, answer.body)
        finally:
            with self.server.all_answered:
                self.server.answering -= 1
                self.server.all_answered.notify_all()

    def _parse(self, query: str) -> _ParsedRequest:
        request = _ParsedRequest()
        request.fields.update(parse_qsl(query, keep_blank_values=True))
        body = self._read_body()
        content_type = self.headers.get_content_type()
        if not body:
            return request
        if content_type == "application/json":
            decoded = json.loads(body)
            if not isinstance(decoded, dict):
                raise ValueError("JSON body must be an object")
            request.fields.update(decoded)
        elif content_type == "multipart/form-data":
            self._parse_multipart(body, request)
        else:
            request.fields.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        return request

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()  # the CRLF after each chunk
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _parse_multipart(self, body: bytes, request: _ParsedRequest) -> None:
        # The email parser understands MIME multipart, which is what multipart/form-data is.
        head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode("latin-1")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        if not message.is_multipart():
            raise ValueError("malformed multipart body")
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if not isinstance(name, str) or not isinstance(payload, bytes):
                continue
            filename = part.get_filename()
            if filename is None:
                request.fields[name] = payload.decode("utf-8")
            else:
                request.files[name] = payload
                request.file_names[name] = filename

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
