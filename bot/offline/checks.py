"""What Telegram refuses in a call, and the error it answers with: texts, keyboards, commands."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from .html import Entity, parse_entities
from .params import json_value

__all__ = [
    "CALLBACK_DATA_LIMIT",
    "CAPTION_LIMIT",
    "TEXT_LIMIT",
    "RequestRefused",
    "checked_chat_id",
    "checked_commands",
    "checked_markup",
    "checked_text",
]

JSONDict = dict[str, Any]

# Limits from the Bot API documentation. Telegram counts message length in Unicode code
# points of the text *after* entity parsing, so "<b>" tags do not count against it.
TEXT_LIMIT: Final = 4096
CAPTION_LIMIT: Final = 1024
CALLBACK_DATA_LIMIT: Final = 64  # bytes of UTF-8, not characters

# Inline buttons must do something; a button with none of these is refused by Telegram.
_BUTTON_ACTIONS: Final = frozenset(
    """url callback_data web_app login_url switch_inline_query switch_inline_query_current_chat
    switch_inline_query_chosen_chat copy_text callback_game pay""".split()
)
# A command name is 1-32 lowercase letters, digits or underscores ("Balance" is refused).
_COMMAND_RE: Final = re.compile(r"[a-z0-9_]{1,32}")


class RequestRefused(Exception):
    """Telegram would answer this call with an error (``description`` is its wording)."""

    def __init__(self, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.description = description
        self.status = status


def checked_chat_id(params: Mapping[str, Any]) -> int:
    """The chat a call is for, refused as Telegram does when it is missing or unknown."""
    chat_id = params.get("chat_id")
    if chat_id is None or chat_id == "":
        raise RequestRefused("Bad Request: chat_id is empty")
    if not isinstance(chat_id, int) or isinstance(chat_id, bool):
        # "@channelname" chats exist on Telegram, but the fake knows none of them.
        raise RequestRefused("Bad Request: chat not found")
    return chat_id


def checked_text(
    params: Mapping[str, Any], name: str, limit: int, *, required: bool = True
) -> tuple[str, list[Entity]]:
    """Validates a text or caption as Telegram does; returns its visible text and entities."""
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise RequestRefused("Bad Request: message text is empty")
        return "", []
    text = str(raw)
    parse_mode = str(params.get("parse_mode") or "").lower()
    entities: list[Entity] = []
    # Markdown passes unchecked: this bot formats with HTML, so only HTML is emulated.
    if parse_mode == "html":
        try:
            text, entities = parse_entities(text)
        except ValueError as error:
            raise RequestRefused(f"Bad Request: {error}") from error
    elif parse_mode not in ("", "markdown", "markdownv2"):
        raise RequestRefused("Bad Request: unsupported parse_mode")
    visible = text.strip()
    if required and not visible:
        raise RequestRefused("Bad Request: message text is empty")
    if len(visible) > limit:
        what = "message is too long" if name == "text" else "message caption is too long"
        raise RequestRefused(f"Bad Request: {what}")
    return text, entities


def checked_markup(params: Mapping[str, Any]) -> JSONDict | None:
    """Validates reply_markup; returns it when it is an inline keyboard (Telegram echoes those)."""
    if params.get("reply_markup") in (None, ""):
        return None
    markup = json_value(params["reply_markup"])
    if not isinstance(markup, dict):
        raise RequestRefused("Bad Request: can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return None  # reply keyboards, keyboard removal, force_reply: not part of the Message
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise RequestRefused(
            "Bad Request: can't parse inline keyboard button: "
            'field "inline_keyboard" must be an Array of Arrays'
        )
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise RequestRefused(
                    "Bad Request: can't parse inline keyboard button: "
                    'Field "text" must be of type String'
                )
            if not _BUTTON_ACTIONS & button.keys():
                raise RequestRefused(
                    "Bad Request: can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= CALLBACK_DATA_LIMIT:
                raise RequestRefused("Bad Request: BUTTON_DATA_INVALID")
    return {"inline_keyboard": rows}


def checked_commands(params: Mapping[str, Any]) -> list[Any]:
    """Validates setMyCommands' list as Telegram does; returns it."""
    commands = params.get("commands")
    if not isinstance(commands, list):
        raise RequestRefused("Bad Request: can't parse commands JSON object")
    for command in commands:
        if not isinstance(command, dict):
            raise RequestRefused("Bad Request: can't parse BotCommand JSON object")
        if not _COMMAND_RE.fullmatch(str(command.get("command", ""))):
            raise RequestRefused("Bad Request: BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
            raise RequestRefused("Bad Request: command description is empty")
    return commands
