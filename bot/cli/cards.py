"""`loyalty-bot cards`: printable QR cards for customers without Telegram (issue 14).

    loyalty-bot cards --customer 07400123456 --out cards/      # one card (card or phone number)
    loyalty-bot cards --all --out cards/ --format svg          # every card, one file each
    loyalty-bot cards --all --out cards/ --bot my_shop_bot     # without asking Telegram

Each file, `card-<number>.png` (or .svg), is a QR code of t.me/<bot>?start=c_<card number> with
the number printed under it. A cashier scanning it with the phone's camera gets the customer's
card (bot/handlers/card.py); anyone else who opens it learns nothing. The number is not a
secret (it is printed on the card), and typing it is still checked by its check digit.

The bot's username comes from --bot, or else from Telegram (one getMe with the configured
token). Like `loyalty-bot report` it only reads: with no database file it exits 2.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from pathlib import Path
from typing import Literal, cast

from core.card_tokens import deep_link, printed
from core.config import Config, load_config
from core.db import finding
from core.db.store import Store
from core.demo import demo_database_url
from core.errors import LoyaltyError

from .report import missing_database, open_database

BATCH = 1000
Format = Literal["png", "svg"]  # as bot/qr.py, imported only when drawing (see _save)


def add_parser(
    subparsers: argparse._SubParsersAction,  # type: ignore[type-arg]
    parents: list[argparse.ArgumentParser] | None = None,
) -> None:
    """Adds the `cards` sub-command to the main `loyalty-bot` parser (parents: --config)."""
    parser = subparsers.add_parser(
        "cards",
        parents=parents or [],
        help="write printable QR cards (PNG or SVG) for customers without Telegram",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--customer", metavar="REF", help="one customer: card or phone number")
    which.add_argument("--all", action="store_true", help="every customer's card")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write")
    parser.add_argument("--format", choices=("png", "svg"), default="png")
    parser.add_argument("--bot", metavar="USERNAME", help="the bot's username (default: ask)")
    parser.add_argument("--demo", action="store_true", help="the demo database's customers")


def run(args: argparse.Namespace) -> int:
    """Runs `loyalty-bot cards`; 0 on success, 2 on a bad config or customer, or no database."""
    try:
        config = load_config(getattr(args, "config", None))
    except LoyaltyError as error:
        print(f"loyalty-bot cards: {error}", file=sys.stderr)
        return 2
    demo = bool(args.demo)
    if demo:
        config = dataclasses.replace(config, database_url=demo_database_url(config))
    missing = missing_database(config, demo=demo, command="cards")
    if missing:
        print(f"loyalty-bot cards: {missing}", file=sys.stderr)
        return 2
    username = (args.bot or "").removeprefix("@")
    if not username:
        if not config.telegram.token:
            print(
                "loyalty-bot cards: the bot's username is needed for the link: pass "
                "--bot <username>, or set TELEGRAM_BOT_TOKEN so it can be asked",
                file=sys.stderr,
            )
            return 2
        username = asyncio.run(_ask_username(config))
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        written = asyncio.run(_write(config, args, username))
    except LoyaltyError as error:  # the customer: not a card or phone, or nobody's
        print(f"loyalty-bot cards: {error}", file=sys.stderr)
        return 2
    print(f"wrote {written:,} card(s) to {args.out}", file=sys.stderr)
    return 0


async def _ask_username(config: Config) -> str:
    from telegram import Bot  # here: the other commands start without loading telegram

    async with Bot(config.telegram.token, base_url=config.telegram.base_url) as bot:
        return bot.username


async def _write(config: Config, args: argparse.Namespace, username: str) -> int:
    out: Path = args.out
    kind = cast(Format, args.format)
    engine = await open_database(config)
    store = Store(engine, config.program)
    try:
        if args.customer:
            numbers = [(await store.find_customer(args.customer))["card_number"]]
            return await asyncio.to_thread(_save, out, username, numbers, kind)
        written, after = 0, 0
        while batch := await store.unit.read(finding.card_numbers, after, BATCH):
            numbers = [number for _, number in batch]
            written += await asyncio.to_thread(_save, out, username, numbers, kind)
            after = batch[-1][0]
        return written
    finally:
        store.close()
        await engine.dispose()


def _save(out: Path, username: str, numbers: list[str], kind: Format) -> int:
    from ..qr import printed_card  # here: segno and Pillow load only to draw cards

    for number in numbers:
        link = deep_link(username, printed(number))
        (out / f"card-{number}.{kind}").write_bytes(printed_card(link, number, kind))
    return len(numbers)
