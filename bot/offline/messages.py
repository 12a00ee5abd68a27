"""The messages in the bot's chats as Telegram keeps them: sent, edited, deleted."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .checks import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    RequestRefused,
    checked_chat_id,
    checked_markup,
    checked_text,
)
from .html import Entity
from .updates import BOT_USER

__all__ = ["Messages"]

JSONDict = dict[str, Any]


class Messages:
    """Every message in the bot's chats, and what Telegram compares when one is edited.

    Not locked itself: ``BotApiEmulator`` calls it only while holding its own lock.
    """

    def __init__(self) -> None:
        self._last_message_id: dict[int, int] = {}
        self._messages: dict[tuple[int, int], JSONDict] = {}
        # What Telegram compares to decide "message is not modified": text, entities, keyboard.
        self._content: dict[tuple[int, int], tuple[Any, ...]] = {}
        self._file_counter = 0

    def next_message_id(self, chat_id: int) -> int:
        """Allocates a message id in ``chat_id``; user and bot messages share one sequence."""
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def message(self, chat_id: int, message_id: int) -> JSONDict | None:
        """The current state of a message the bot sent (after edits), if it exists."""
        stored = self._messages.get((chat_id, message_id))
        return dict(stored) if stored is not None else None

    def send_message(self, params: JSONDict) -> JSONDict:
        """sendMessage: a text, with an inline keyboard when one is sent."""
        chat_id = checked_chat_id(params)
        text, entities = checked_text(params, "text", TEXT_LIMIT)
        markup = checked_markup(params)
        return self._new_message(chat_id, {"text": text}, entities, markup)

    def send_file(
        self, kind: str, params: JSONDict, files: dict[str, bytes], names: dict[str, str]
    ) -> JSONDict:
        """sendPhoto or sendDocument (``kind``): an upload, or a file re-sent by id or URL."""
        chat_id = checked_chat_id(params)
        caption, entities = checked_text(params, "caption", CAPTION_LIMIT, required=False)
        markup = checked_markup(params)
        if kind in files:
            size = len(files[kind])
            self._file_counter += 1
            file_id = f"fake-{kind}-{self._file_counter}"
        elif isinstance(params.get(kind), str) and params[kind]:
            size, file_id = 0, params[kind]  # re-sent by file_id or URL
        else:
            raise RequestRefused(f"Bad Request: there is no {kind} in the request")
        unique = f"u{file_id[-24:]}"
        media: Any
        if kind == "photo":
            media = [
                {
                    "file_id": file_id,
                    "file_unique_id": unique,
                    "width": 320,
                    "height": 320,
                    "file_size": size,
                }
            ]
        else:
            media = {
                "file_id": file_id,
                "file_unique_id": unique,
                "file_size": size,
                "file_name": names.get(kind, "document"),
                "mime_type": "application/octet-stream",
            }
        content: JSONDict = {kind: media}
        if caption:
            content["caption"] = caption
        return self._new_message(chat_id, content, entities, markup)

    def _new_message(
        self, chat_id: int, content: JSONDict, entities: list[Entity], markup: JSONDict | None
    ) -> JSONDict:
        message_id = self.next_message_id(chat_id)
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "from": dict(BOT_USER),
            **content,
        }
        if markup is not None:
            message["reply_markup"] = markup
        key = (chat_id, message_id)
        self._messages[key] = message
        self._content[key] = (message.get("text"), entities, markup)
        return dict(message)  # a copy: whoever holds the answer must not rewrite history

    def edit_message_text(self, params: JSONDict) -> JSONDict | bool:
        """editMessageText: new text, and the keyboard only if it is sent again."""
        text, entities = checked_text(params, "text", TEXT_LIMIT)
        markup = checked_markup(params)
        # Telegram drops the inline keyboard when an edit doesn't resend it.
        return self._edit(params, lambda old: (text, entities, markup), edits_text=True)

    def edit_reply_markup(self, params: JSONDict) -> JSONDict | bool:
        """editMessageReplyMarkup: the same text under a new keyboard (or none)."""
        markup = checked_markup(params)
        return self._edit(params, lambda old: (old[0], old[1], markup))

    def _edit(
        self,
        params: JSONDict,
        change: Callable[[tuple[Any, ...]], tuple[Any, ...]],
        *,
        edits_text: bool = False,
    ) -> JSONDict | bool:
        if params.get("inline_message_id"):
            return True  # Telegram answers True, not a Message, for inline-mode messages.
        chat_id = checked_chat_id(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise RequestRefused("Bad Request: message identifier is not specified")
        key = (chat_id, message_id)
        if edits_text and key in self._messages and "text" not in self._messages[key]:
            # A photo or document has a caption, edited with editMessageCaption instead.
            raise RequestRefused("Bad Request: there is no text in the message to edit")
        old = self._content.get(key, (None, [], None))
        new = change(old)
        if key in self._content and new == old:
            raise RequestRefused(
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message"
            )
        # A message the fake never sent (a test fed a callback for it) is taken as it is told.
        message = self._messages.get(key) or {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "from": dict(BOT_USER),
        }
        message = {k: v for k, v in message.items() if k != "reply_markup"}
        if new[0] is not None:
            message["text"] = new[0]
        if new[2] is not None:
            message["reply_markup"] = new[2]
        message["edit_date"] = int(time.time())
        self._messages[key] = message
        self._content[key] = new
        return dict(message)

    def delete_message(self, params: JSONDict) -> bool:
        """deleteMessage: forgets the message; Telegram answers True."""
        key = (checked_chat_id(params), params.get("message_id"))
        self._messages.pop(key, None)  # type: ignore[arg-type]
        self._content.pop(key, None)  # type: ignore[arg-type]
        return True


def _chat(chat_id: int) -> JSONDict:
    """The chat of a bot message; negative ids are groups, "-100..." ones supergroups."""
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Test"}
    kind = "supergroup" if str(chat_id).startswith("-100") else "group"
    return {"id": chat_id, "type": kind, "title": "Test group"}
