"""The baseline for bench/throughput.py: the smallest python-telegram-bot that does any work.

It replies to every text message with the same text, with the library's default settings
(updates processed one at a time, default connection pools, no logging set-up): whatever it
costs per Bot API call is the floor any PTB bot pays for polling, parsing updates and sending
replies over HTTP. Comparing the loyalty bot's CPU per call with this one's, measured in the
same run on the same machine, cancels out how fast (or busy) the machine happens to be.

    python -m bench.echo_bot --base-url http://127.0.0.1:PORT/bot --token 123:ABC
"""

from __future__ import annotations

import argparse
import signal
import sys

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Sends the message's text straight back."""
    message = update.effective_message
    if message is not None and message.text is not None:
        await message.reply_text(message.text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.echo_bot", description=__doc__)
    parser.add_argument("--base-url", required=True, help="the Bot API, token not included")
    parser.add_argument("--token", required=True)
    args = parser.parse_args(argv)
    app = ApplicationBuilder().token(args.token).base_url(args.base_url).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    # The same polling call as `loyalty-bot run` (bot/cli/__init__.py), so both bots poll alike.
    app.run_polling(
        allowed_updates=["message", "callback_query"],
        stop_signals=(signal.SIGINT, signal.SIGTERM),
        drop_pending_updates=False,
        close_loop=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
