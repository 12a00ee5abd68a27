"""`loyalty-bot audit`: the audit trail on the server, the lines /audit shows, or its CSV.

    loyalty-bot audit                                  # the newest 20 records
    loyalty-bot audit --customer 07400123456           # one customer's (card or phone number)
    loyalty-bot audit --staff 2002 --period 2026-11    # what one staff member did that month
    loyalty-bot audit --period 7d --format csv --out audit.csv
    loyalty-bot audit --demo                           # the console's demo shop

Filters combine. Text is what /audit sends, as plain text: the newest 20 with no filter, up to
200 with one (--limit changes that); CSV holds up to 100,000 records, and neither holds phone
numbers or e-mails. Like `loyalty-bot report` it only reads and never creates a database: with
no database file it says where it looked and exits 2.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import sys
from pathlib import Path

from core.cards import format_card
from core.config import Config, load_config
from core.db.staff import StaffStore
from core.db.store import Store
from core.demo import demo_database_url
from core.errors import LoyaltyError
from core.reports.audit import (
    CSV_LIMIT,
    NEWEST,
    TEXT_LIMIT,
    AuditFilter,
    audit_csv,
    read_trail,
    text_lines,
)
from core.reports.periods import EXAMPLES, Period, parse_period

from .report import missing_database, open_database


def add_parser(
    subparsers: argparse._SubParsersAction,  # type: ignore[type-arg]
    parents: list[argparse.ArgumentParser] | None = None,
) -> None:
    """Adds the `audit` sub-command to the main `loyalty-bot` parser (parents: --config)."""
    parser = subparsers.add_parser(
        "audit",
        parents=parents or [],
        help="print the audit trail (who did what, when), or write it as CSV",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("--customer", metavar="REF", help="one customer: card or phone number")
    parser.add_argument("--staff", metavar="ID", type=_user_id, help="one staff member's id")
    parser.add_argument("--period", metavar="P", help=f"which period: {EXAMPLES}")
    parser.add_argument("--format", choices=("text", "csv"), default="text")
    parser.add_argument(
        "--limit",
        type=_positive,
        default=None,
        help=f"at most this many records (default: text {NEWEST}, or {TEXT_LIMIT} with a "
        f"filter; csv {CSV_LIMIT:,})",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="write to this file instead of standard output"
    )
    parser.add_argument(
        "--demo", action="store_true", help="the demo database's trail (the console's shop)"
    )
    # For reproducible output in tests: "7d" is counted back from this moment.
    parser.add_argument("--now", type=dt.datetime.fromisoformat, help=argparse.SUPPRESS)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number above 0")
    return int(text)


def _user_id(text: str) -> int:
    if not text.isdigit() or len(text) > 16 or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a Telegram user id")
    return int(text)


def run(args: argparse.Namespace) -> int:
    """Runs `loyalty-bot audit`; 0 on success, 2 on a bad config, period or customer."""
    now = getattr(args, "now", None) or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    as_csv = getattr(args, "format", "text") == "csv"
    try:
        config = load_config(getattr(args, "config", None))
        typed = getattr(args, "period", None)
        period = None if typed is None else parse_period(typed, now=now, tz=config.reports.tzinfo)
    except LoyaltyError as error:
        print(f"loyalty-bot audit: {error}", file=sys.stderr)
        return 2
    demo = bool(getattr(args, "demo", False))
    if demo:
        config = dataclasses.replace(config, database_url=demo_database_url(config))
    missing = missing_database(config, demo=demo, command="audit")
    if missing:
        print(f"loyalty-bot audit: {missing}", file=sys.stderr)
        return 2
    try:
        body, count = asyncio.run(_render(config, args, period, as_csv=as_csv))
    except LoyaltyError as error:  # the customer: not a card or phone, or nobody's
        print(f"loyalty-bot audit: {error}", file=sys.stderr)
        return 2
    out: Path | None = getattr(args, "out", None)
    if out is not None:
        out.write_bytes(body)
        print(f"wrote {count:,} audit records to {out}", file=sys.stderr)
    elif as_csv:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
    else:
        sys.stdout.write(body.decode("utf-8"))
    return 0


async def _render(
    config: Config, args: argparse.Namespace, period: Period | None, *, as_csv: bool
) -> tuple[bytes, int]:
    """The trail as text or CSV bytes, and how many records it holds."""
    engine = await open_database(config)
    store = Store(engine, config.program)
    try:
        which = await _filter(store, config, args, period, as_csv=as_csv)
        limit = getattr(args, "limit", None) or (
            CSV_LIMIT if as_csv else TEXT_LIMIT if which.narrowed else NEWEST
        )
        lines, more = await read_trail(store, which, limit=limit, tz=config.reports.tzinfo)
        if as_csv:
            if more:
                print(f"only the newest {limit:,} records: --limit for more", file=sys.stderr)
            return audit_csv(lines), len(lines)
        text = [f"Audit trail · {which.label} · newest first"]
        text += text_lines(lines, html=False) or ["No records."]
        if more:
            text.append(f"Only the newest {limit:,} are shown: --limit or --format csv for more.")
        return ("\n".join(text) + "\n").encode("utf-8"), len(lines)
    finally:
        store.close()
        await engine.dispose()


async def _filter(
    store: Store,
    config: Config,
    args: argparse.Namespace,
    period: Period | None,
    *,
    as_csv: bool,
) -> AuditFilter:
    """The options as one filter, with a label naming each part ("card 4821 3379 · by 2002")."""
    labels: list[str] = []
    customer_id = actor_id = None
    reference = getattr(args, "customer", None)
    if reference:
        customer = await store.find_customer(reference)
        customer_id = customer["id"]
        labels.append(f"card {format_card(customer['card_number'])}")
    staff_id: int | None = getattr(args, "staff", None)
    if staff_id is not None:
        actor_id = staff_id
        names = {m["telegram_user_id"]: m["name"] for m in await StaffStore(store.engine).members()}
        name = names.get(staff_id)
        labels.append(f"by {name} ({staff_id})" if name else f"by {staff_id}")
    if period is not None:
        labels.append(period.label)
    everything = "every record" if as_csv else f"the newest {NEWEST} records"
    return AuditFilter(
        " · ".join(labels) or everything,
        customer_id=customer_id,
        actor_id=actor_id,
        since=None if period is None else period.start,
        until=None if period is None else period.end,
    )
