"""`loyalty-bot console`: the real bot in a terminal, with no token and no network.

The same Application, handlers and database as `loyalty-bot run`; only Telegram is replaced:
each line typed becomes a message from a pretend Telegram user, and what the bot would send is
printed (HTML rendered to plain text, inline buttons as numbered choices: `[#1] ✅ Confirm`).
Piped input works, so a session can be scripted (tests/e2e/test_console.py does).

    /as admin|cashier|customer   switch who is typing
    /share +447400123456         answer a "share my phone number" button
    #1, #2, ...                  press a button of the last message that had buttons
    /quit, Ctrl-D, Ctrl-C        leave

Everything else is a message to the bot, numbers included: "1" typed where the bot asks for an
amount is an amount, never a button. A number is only ever a button with "#" in front, so a
line can't mean both; a bare number typed while the latest message has buttons is still sent as
text, and the console says how to press the button instead.

Photos and files the bot sends (charts, CSV exports) are saved to the folder named by
`--downloads DIR`, or else to a new temporary folder; each is announced with its path. Never the
current folder: a console started in a checkout must not leave files behind in it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import re
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, TextIO

from telegram import Update

from core.config import Config

from ..app import build_application
from ..offline import (
    BotApiEmulator,
    OfflineRequest,
    SentCall,
    keyboard_rows,
    make_callback_update,
    make_contact_update,
    make_message_update,
    parse_html,
)
from ..services import Services

TOKEN = "100000:CONSOLE-offline-token-not-used-anywhere"


@dataclasses.dataclass(frozen=True)
class Person:
    user_id: int
    first_name: str
    role: str

    @property
    def label(self) -> str:
        return f"{self.first_name} ({self.role})"


# Fixed pretend users, so roles apply exactly as they would in Telegram. The demo database
# links CUSTOMER to a card (core/demo.py), so `/as customer` then `/status` shows one at once.
ADMIN = Person(700001, "Alex", "admin")
CASHIER = Person(700002, "Casey", "cashier")
CUSTOMER = Person(700003, "Chris", "customer")
PEOPLE = {p.role: p for p in (ADMIN, CASHIER, CUSTOMER)}

BANNER = """loyalty-bot console: the real bot, with Telegram replaced by this terminal.
You are {who}. Type /help to see the commands.
  /as admin|cashier|customer  switch who is typing     /share <phone>  share a phone contact
  #1, #2, ...                 press button [#1], [#2]  /quit or Ctrl-D leave
  anything else, numbers included, is a message to the bot
"""
PRESS = re.compile(r"#\s*(\d+)")  # "#1" presses button [#1]; a bare "1" is a message


class Console:
    """Feeds typed lines to the Application as updates and prints what the bot sends."""

    def __init__(
        self,
        config: Config,
        *,
        person: Person,
        out: TextIO = sys.stdout,
        downloads: Path | None = None,
    ) -> None:
        self.config = config
        self.person = person
        self.out = out
        self._downloads = downloads  # made on the first file, so a session without any makes none
        self.emulator = BotApiEmulator()
        self.emulator.add_listener(self._show)
        self.app = build_application(
            config,
            request=OfflineRequest(emulator=self.emulator),
            get_updates_request=OfflineRequest(emulator=self.emulator),
            token=TOKEN,
            announce=lambda text: None,  # nobody needs to /claim: the console admin is admin
            customize=self._customize,
        )
        self._update_ids = itertools.count(1)
        # Per chat: the buttons of the latest message that had any, as (label, data, message
        # id), and the id of the latest message of any kind.
        self._buttons: dict[int, list[tuple[str, str, int]]] = {}
        self._latest: dict[int, int] = {}

    @staticmethod
    def _customize(svc: Services) -> None:
        svc.extra_admins = frozenset({ADMIN.user_id})
        svc.extra_cashiers = frozenset({CASHIER.user_id})

    # --- output ---------------------------------------------------------------------------

    def _print(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def _show(self, call: SentCall) -> None:
        """Prints one Bot API call the way a person would see it."""
        if not call.ok:
            self._print(f"  [Telegram would refuse {call.method}: {call.error}]")
            return
        chat = call.chat_id
        prefix = self._prefix(chat)
        if call.method in ("sendMessage", "sendPhoto", "sendDocument"):
            self._latest[int(chat)] = _message_id(call)
        if call.method in ("sendMessage", "editMessageText"):
            text = self._render(call.text or "")
            edited = " (edited)" if call.method == "editMessageText" else ""
            self._print(f"{prefix}{edited}{_indent(text)}")
            self._remember_buttons(call)
        elif call.method == "answerCallbackQuery" and call.params.get("text"):
            self._print(f"  [popup] {call.params['text']}")
        elif call.method in ("sendPhoto", "sendDocument"):
            self._print(f"{prefix}{_indent(self._save(call))}")
        if call.method in ("sendMessage",) and _asks_for_contact(call.params):
            self._print("  [button: Share my phone number — type /share <your phone number>]")

    def _prefix(self, chat: Any) -> str:
        person = next((p for p in PEOPLE.values() if str(p.user_id) == str(chat)), None)
        if person is None:
            return f"bot → Telegram user {chat}:"
        if person == self.person:
            return "bot:"
        return f"bot → {person.label}:"

    @staticmethod
    def _render(text: str) -> str:
        try:
            return parse_html(text)
        except ValueError:
            return text

    def _remember_buttons(self, call: SentCall) -> None:
        rows = keyboard_rows(call.params)
        buttons = [b for row in rows for b in row if "callback_data" in b]
        if not buttons:
            return
        chat = int(call.chat_id)
        self._buttons[chat] = [(b["text"], b["callback_data"], _message_id(call)) for b in buttons]
        choices = "  ".join(f"[#{i}] {b['text']}" for i, b in enumerate(buttons, 1))
        self._print(f"  {choices}")

    def _save(self, call: SentCall) -> str:
        caption = self._render(call.text or "")
        kind = "photo" if call.method == "sendPhoto" else "document"
        for name, data in call.files.items():
            folder = self._downloads_folder()
            result = call.result if isinstance(call.result, dict) else {}
            document = result.get("document") or {}
            filename = document.get("file_name") or f"{name}-{result.get('message_id', 0)}.png"
            path = folder / Path(str(filename)).name
            path.write_bytes(data)
            return f"[{kind} saved to {path} ({len(data):,} bytes)] {caption}".rstrip()
        return f"[{kind}] {caption}"

    def _downloads_folder(self) -> Path:
        if self._downloads is None:
            self._downloads = Path(tempfile.mkdtemp(prefix="loyalty-bot-console-"))
        self._downloads.mkdir(parents=True, exist_ok=True)
        return self._downloads

    # --- input ----------------------------------------------------------------------------

    async def handle_line(self, line: str) -> bool:
        """Acts on one typed line; False when the user wants to leave."""
        line = line.strip()
        if not line:
            return True
        if line in ("/quit", "/exit"):
            return False
        # Whole words only: a bot command that merely starts with "/as" must reach the bot.
        word, _, rest = line.partition(" ")
        if word == "/as":
            self._switch(rest.strip())
            return True
        if word == "/share":
            phone = rest.strip()
            if not phone:
                self._print("  usage: /share +447400123456")
                return True
            await self._feed(
                make_contact_update(
                    next(self._update_ids),
                    user_id=self.person.user_id,
                    phone_number=phone,
                    contact_user_id=self.person.user_id,
                    first_name=self.person.first_name,
                )
            )
            return True
        press = PRESS.fullmatch(line)
        if press:
            await self._press(int(press[1]))
            return True
        hint = self._button_hint(line)  # decided before the bot answers with a new message
        await self._feed(
            make_message_update(
                next(self._update_ids),
                user_id=self.person.user_id,
                text=line,
                first_name=self.person.first_name,
            )
        )
        if hint:
            self._print(hint)
        return True

    async def _press(self, number: int) -> None:
        """Presses button [#number] of the latest message that had buttons, if there is one."""
        buttons = self._buttons.get(self.person.user_id)
        if not buttons:
            self._print(f"  [no button #{number}: there are no buttons to press yet]")
            return
        if not 1 <= number <= len(buttons):
            self._print(f"  [no button #{number}: the buttons are #1 to #{len(buttons)}]")
            return
        _label, data, message_id = buttons[number - 1]
        await self._feed(
            make_callback_update(
                next(self._update_ids),
                user_id=self.person.user_id,
                data=data,
                message_id=message_id,
                first_name=self.person.first_name,
            )
        )

    def _button_hint(self, line: str) -> str | None:
        """For a bare number typed under buttons: how to press the button it may have meant.

        Only while the buttons are on the latest message the bot sent this person: where the
        bot has since asked something else (an amount), a number is simply the answer.
        """
        me = self.person.user_id
        buttons = self._buttons.get(me)
        if not (line.isdecimal() and buttons and self._latest.get(me) == buttons[0][2]):
            return None
        if not 1 <= int(line) <= len(buttons):
            return None
        label = buttons[int(line) - 1][0]
        return f"  [sent “{line}” as a message: to press [#{line}] {label}, type #{line}]"

    def _switch(self, role: str) -> None:
        person = PEOPLE.get(role.lower())
        if person is None:
            self._print("  usage: /as admin | /as cashier | /as customer")
            return
        self.person = person
        self._print(f"  [you are now {person.label}]")

    async def _feed(self, data: dict[str, Any]) -> None:
        # The numbering stays until the bot shows other buttons, whatever the user types: as in
        # Telegram, older buttons stay on screen and the bot answers them if pressed.
        await self.app.process_update(Update.de_json(data, self.app.bot))

    # --- lifecycle ------------------------------------------------------------------------

    async def run(self, lines: TextIO = sys.stdin) -> None:
        app = self.app
        await app.initialize()
        assert app.post_init is not None
        await app.post_init(app)
        await app.start()
        interactive = lines.isatty()
        reader = _LineReader(lines)
        self._print(BANNER.format(who=self.person.label))
        prompting = False  # a prompt is on screen, so "Bye." after Ctrl-C/Ctrl-D needs a new line
        try:
            while True:
                if interactive:
                    self.out.write(f"{self.person.role}> ")
                    self.out.flush()
                    prompting = True
                line = await reader.get()
                if not line:  # Ctrl-D or end of piped input
                    break
                prompting = False
                if not interactive:
                    self._print(f"{self.person.role}> {line.rstrip()}")
                if not await self.handle_line(line):
                    break
        finally:
            if prompting:
                self._print()
            await app.stop()
            await app.shutdown()
            assert app.post_shutdown is not None
            await app.post_shutdown(app)
            self._print("Bye.")


class _LineReader:
    """Reads lines on a daemon thread, so Ctrl-C never waits for a blocked readline()."""

    def __init__(self, lines: TextIO) -> None:
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def pump() -> None:
            for line in iter(lines.readline, ""):
                loop.call_soon_threadsafe(self._queue.put_nowait, line)
            loop.call_soon_threadsafe(self._queue.put_nowait, "")  # end of input

        threading.Thread(target=pump, name="console-stdin", daemon=True).start()

    async def get(self) -> str:
        return await self._queue.get()


def _indent(text: str) -> str:
    lines = text.splitlines() or [""]
    if len(lines) == 1:
        return f" {lines[0]}"
    return "\n" + "\n".join(f"  {line}" for line in lines)


def _message_id(call: SentCall) -> int:
    return int(call.result.get("message_id", 1)) if isinstance(call.result, dict) else 1


def _asks_for_contact(params: dict[str, Any]) -> bool:
    markup = params.get("reply_markup")
    return "request_contact" in str(markup)


def run_console(config: Config, *, role: str, downloads: Path | None = None) -> int:
    console = Console(config, person=PEOPLE[role], downloads=downloads)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(console.run())
    return 0
