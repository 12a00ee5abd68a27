"""One person's private chat with a bot that polls a FakeBotApi from another process or thread.

Each action pushes an update to the fake server and blocks until the bot's next message to that
person arrives, so a test reads like the conversation it drives.
"""

from __future__ import annotations

import time

from bot.offline import SentCall, keyboard_rows
from tests.support.fake_bot_api import FakeBotApi

__all__ = ["REPLY_TIMEOUT", "Chat"]

# Generous: the first reply also waits for the child process's imports and migrations, and CI
# machines are often busy.
REPLY_TIMEOUT = 30.0
_REFUSAL_CHECK_EVERY = 0.2  # seconds between looks for refused calls while waiting for a reply


class Chat:
    """What `user_id` sends and presses, and what the bot shows them."""

    def __init__(self, fake: FakeBotApi, user_id: int) -> None:
        self.fake = fake
        self.user_id = user_id

    def send(self, text: str) -> str:
        """Sends `text`; returns the visible text of the bot's next message to this person."""
        mark = len(self.fake.calls)
        self.fake.push_message(self.user_id, text)
        return self.next_message(after=mark)

    def press(self, label: str) -> str:
        """Presses the newest button whose label has `label`; returns the bot's next message."""
        mark = len(self.fake.calls)
        self.fake.push_callback(self.user_id, *self.button(label))
        return self.next_message(after=mark)

    def share_own_contact(self, phone: str) -> str:
        """Taps "Share my phone number": Telegram sends the sender's own contact."""
        mark = len(self.fake.calls)
        self.fake.push_contact(self.user_id, phone, self.user_id)
        return self.next_message(after=mark)

    def button(self, label: str) -> tuple[str, int]:
        """The callback data and message id of the newest button whose label has `label`."""
        for call in reversed(self.fake.sent_to(self.user_id)):
            for row in keyboard_rows(call.params):
                for button in row:
                    if label in str(button.get("text", "")):
                        return str(button["callback_data"]), int(call.result["message_id"])
        raise AssertionError(f"no {label!r} button was sent to {self.user_id}")

    def next_message(self, *, after: int) -> str:
        """The visible text of the first message to this person among calls from `after` on.

        Fails at once, naming the call, if the bot meanwhile sent something Telegram refuses:
        the reply being waited for would otherwise just never come.
        """

        def to_me(call: SentCall) -> bool:
            return call.method == "sendMessage" and call.chat_id == self.user_id

        deadline = time.monotonic() + REPLY_TIMEOUT
        while time.monotonic() < deadline:
            call = self.fake.emulator.wait_for_call(to_me, _REFUSAL_CHECK_EVERY, after)
            if call is not None:
                return call.visible_text or ""
            # A fault the test scripted (a 429, a 502) is not the bot's mistake.
            refused = [c for c in self.fake.calls[after:] if not c.ok and c.fault is None]
            if refused:
                first = refused[0]
                raise AssertionError(
                    f"Telegram refuses {first.method} {first.params}: {first.error}"
                )
        return self.fake.wait_for(to_me, 0, after=after).visible_text or ""  # fails, listing calls

    def messages(self, *, after: int = 0) -> list[str]:
        """Visible texts of every accepted call to this person from `after` on (edits too)."""
        calls = self.fake.calls[after:]
        return [c.visible_text or "" for c in calls if c.ok and c.chat_id == self.user_id]
