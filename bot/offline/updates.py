"""The updates a test or the console feeds to the bot, shaped as Telegram delivers them."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Final

from .html import utf16_len

__all__ = ["BOT_USER", "make_callback_update", "make_contact_update", "make_message_update"]

JSONDict = dict[str, Any]

# What getMe answers, and the sender of the bot's own messages: a pressed button sits under one.
BOT_USER: Final[Mapping[str, Any]] = {
    "id": 999000,
    "is_bot": True,
    "first_name": "Loyalty Test Bot",
    "username": "loyalty_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
    "can_connect_to_business": False,
    "has_main_web_app": False,
}


def _user(user_id: int, first_name: str, language_code: str) -> JSONDict:
    # language_code is the user's Telegram app language: the bot answers in it when it ships it.
    return {
        "id": user_id,
        "is_bot": False,
        "first_name": first_name,
        "language_code": language_code,
    }


def _private_chat(chat_id: int, first_name: str) -> JSONDict:
    return {"id": chat_id, "type": "private", "first_name": first_name}


def make_message_update(
    update_id: int,
    *,
    user_id: int,
    text: str,
    first_name: str = "Test",
    chat_id: int | None = None,
    message_id: int | None = None,
    language_code: str = "en",
) -> JSONDict:
    """Builds an Update in which a user sends ``text``; "/cmd ..." carries a bot_command entity."""
    chat = chat_id if chat_id is not None else user_id
    message: JSONDict = {
        "message_id": message_id if message_id is not None else update_id,
        "date": int(time.time()),
        "chat": _private_chat(chat, first_name),
        "from": _user(user_id, first_name, language_code),
        "text": text,
    }
    if text.startswith("/"):
        # CommandHandler only matches messages whose first entity is a bot_command at offset 0.
        command = text.split(maxsplit=1)[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
    return {"update_id": update_id, "message": message}


def make_callback_update(
    update_id: int,
    *,
    user_id: int,
    data: str,
    message_id: int,
    chat_id: int | None = None,
    message_text: str = "...",
    first_name: str = "Test",
    reply_markup: Mapping[str, Any] | None = None,
    language_code: str = "en",
) -> JSONDict:
    """Builds an Update in which a user presses an inline button under the bot's message."""
    chat = chat_id if chat_id is not None else user_id
    message: JSONDict = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": _private_chat(chat, first_name),
        "from": dict(BOT_USER),
        "text": message_text,
    }
    if reply_markup is not None:
        message["reply_markup"] = dict(reply_markup)
    return {
        "update_id": update_id,
        "callback_query": {
            "id": str(7_000_000_000 + update_id),
            "from": _user(user_id, first_name, language_code),
            "chat_instance": str(-(10**12) - chat),
            "data": data,
            "message": message,
        },
    }


def make_contact_update(
    update_id: int,
    *,
    user_id: int,
    phone_number: str,
    contact_user_id: int,
    first_name: str = "Test",
    message_id: int | None = None,
    language_code: str = "en",
) -> JSONDict:
    """Builds an Update in which a user shares a contact (their own when the ids match)."""
    contact = {"phone_number": phone_number, "first_name": first_name, "user_id": contact_user_id}
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id if message_id is not None else update_id,
            "date": int(time.time()),
            "chat": _private_chat(user_id, first_name),
            "from": _user(user_id, first_name, language_code),
            "contact": contact,
        },
    }
