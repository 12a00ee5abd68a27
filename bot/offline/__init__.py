"""An in-process stand-in for the Telegram Bot API, for tests and the terminal console.

Everything still lives in ``emulator``; this package re-exports what ``bot.offline`` always
exported so callers keep importing from ``bot.offline``.
"""

from .checks import CALLBACK_DATA_LIMIT, CAPTION_LIMIT, TEXT_LIMIT, RequestRefused
from .emulator import BotApiEmulator, SentCall
from .html import parse_html
from .params import decode_params, keyboard_rows
from .request import OfflineRequest
from .updates import BOT_USER, make_callback_update, make_contact_update, make_message_update

__all__ = [
    "BOT_USER",
    "CALLBACK_DATA_LIMIT",
    "CAPTION_LIMIT",
    "TEXT_LIMIT",
    "BotApiEmulator",
    "OfflineRequest",
    "RequestRefused",
    "SentCall",
    "decode_params",
    "keyboard_rows",
    "make_callback_update",
    "make_contact_update",
    "make_message_update",
    "parse_html",
]
