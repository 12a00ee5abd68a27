"""An in-process stand-in for the Telegram Bot API, for tests and the terminal console.

``OfflineRequest`` plugs into python-telegram-bot where ``HTTPXRequest`` normally sits, so the
real ``Bot``/``Application`` code runs unchanged but every API call lands in ``BotApiEmulator``.
The emulator answers like Telegram does and, more importantly, refuses what Telegram refuses
(over-long texts, oversized ``callback_data``, HTML it cannot parse, ...): a handler that passes
against this fake should not meet a ``BadRequest`` in production.

The HTTP fake server in ``tests/support/fake_bot_api.py`` reuses ``BotApiEmulator`` so both
doubles accept and reject exactly the same things.

Which module holds what (each imports only those listed above it, never the other way):

- ``html``: Telegram's HTML parser (``parse_html``) and UTF-16 lengths;
- ``params``: how a call's parameters are read (``decode_params``, ``keyboard_rows``);
- ``updates``: incoming updates to feed the bot (``make_*_update``, ``BOT_USER``);
- ``checks``: what Telegram refuses and the limits (``RequestRefused``, ``TEXT_LIMIT``, ...);
- ``faults``: scripted failures, ``Fault`` (errors, 429 floods, dropped connections, delays);
- ``messages``: the messages in the bot's chats, sent, edited and deleted;
- ``emulator``: ``BotApiEmulator``, which answers and records calls (``SentCall``) and plays
  the faults a test scripts with ``emulator.fail(method, fault, times=..., chat_id=...)``;
- ``request``: ``OfflineRequest``, the python-telegram-bot side, which acts the faults out as
  HTTPXRequest meets them (``NetworkError``, ``TimedOut``, ...).

Import from ``bot.offline`` itself; the modules are how it is organised, not its interface.
"""

from .checks import CALLBACK_DATA_LIMIT, CAPTION_LIMIT, TEXT_LIMIT, RequestRefused
from .emulator import Answer, BotApiEmulator, SentCall
from .faults import ConnectionDropped, Fault, FaultKind
from .html import parse_html
from .params import decode_params, keyboard_rows
from .request import OfflineRequest
from .updates import BOT_USER, make_callback_update, make_contact_update, make_message_update

__all__ = [
    "BOT_USER",
    "CALLBACK_DATA_LIMIT",
    "CAPTION_LIMIT",
    "TEXT_LIMIT",
    "Answer",
    "BotApiEmulator",
    "ConnectionDropped",
    "Fault",
    "FaultKind",
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
