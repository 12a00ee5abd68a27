"""`loyalty-bot report`: the /report figures without Telegram, for cron jobs and spreadsheets.

    loyalty-bot report                                  # last 30 days, every section, as text
    loyalty-bot report --period 2026-10 --section summary
    loyalty-bot report --period 2026-10 --format csv --data ledger --out october.csv
    loyalty-bot report --format csv --data customers --contacts --out customers.csv
    loyalty-bot report --demo                           # the console's demo shop

Text is the same report the bot sends, as plain text. CSV is one of the three exports; phone
numbers and e-mails are only included with --contacts (whoever runs this can read the
database anyway, but a file passed on should not carry them unless asked), and such an export
leaves an audit record ("contacts_export", by the server's user: see `loyalty-bot audit`).

A report only reads: it never creates a database. With no database file it says where it looked
and exits 2, instead of creating an empty one and reporting an empty shop.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import getpass
import sys
from collections.abc import AsyncIterator
from contextlib import nullcontext, suppress
from pathlib import Path
from typing import IO, Literal, cast

from sqlalchemy.ext.asyncio import AsyncEngine

from core.config import Config, load_config
from core.db.engine import open_engine, sqlite_file
from core.db.migrate import upgrade
from core.db.store import Store
from core.demo import demo_database_url
from core.errors import LoyaltyError
from core.reports import csv_export, queries, sections, text
from core.reports.periods import DEFAULT_PERIOD, EXAMPLES, Period, parse_period

SECTIONS = ("summary", "customers", "rewards", "staff")
EXPORTS = ("customers", "ledger", "redemptions")
Section = Literal["summary", "customers", "rewards", "staff", "all"]


def add_parser(
    subparsers: argparse._SubParsersAction,  # type: ignore[type-arg]
    parents: list[argparse.ArgumentParser] | None = None,
) -> None:
    """Adds the `report` sub-command to the main `loyalty-bot` parser (parents: --config)."""
    parser = subparsers.add_parser(
        "report",
        parents=parents or [],
        help="print the loyalty report, or write one of its CSV exports",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument(
        "--period",
        default=DEFAULT_PERIOD,
        help=f"which period: {EXAMPLES} (default: {DEFAULT_PERIOD})",
    )
    parser.add_argument("--format", choices=("text", "csv"), default="text")
    parser.add_argument(
        "--section",
        choices=(*SECTIONS, "all"),
        default="all",
        help="text only: which section to print (default: all)",
    )
    parser.add_argument(
        "--data",
        choices=EXPORTS,
        default="customers",
        help="csv only: which export (default: customers)",
    )
    parser.add_argument(
        "--contacts",
        action="store_true",
        help="csv of customers only: include phone numbers and e-mails",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="write to this file instead of standard output"
    )
    parser.add_argument(
        "--demo", action="store_true", help="report on the demo database (the console's shop)"
    )
    # For reproducible output in tests and re-runs: "30d" is counted back from this moment.
    parser.add_argument("--now", type=dt.datetime.fromisoformat, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    """Runs `loyalty-bot report`; 0 on success, 2 on a bad config or period (one line why)."""
    now = getattr(args, "now", None) or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    try:
        config = load_config(getattr(args, "config", None))
        period = parse_period(getattr(args, "period", None), now=now, tz=config.reports.tzinfo)
    except LoyaltyError as error:
        print(f"loyalty-bot report: {error}", file=sys.stderr)
        return 2
    if getattr(args, "demo", False):
        config = dataclasses.replace(config, database_url=demo_database_url(config))
    missing = missing_database(config, demo=getattr(args, "demo", False))
    if missing:
        print(f"loyalty-bot report: {missing}", file=sys.stderr)
        return 2
    out: Path | None = getattr(args, "out", None)
    if getattr(args, "format", "text") == "csv":
        # Standard output is left open: only a file we opened is ours to close.
        output = nullcontext(sys.stdout.buffer) if out is None else out.open("wb")
        with output as stream:
            asyncio.run(_write_csv(config, period, args, stream))
    else:
        section = cast(Section, getattr(args, "section", "all"))
        report = asyncio.run(_text(config, period, section=section, now=now))
        if out is None:
            sys.stdout.write(report)
        else:
            out.write_text(report, encoding="utf-8")
    if out is not None:
        print(f"wrote the report for {period.label} to {out}", file=sys.stderr)
    return 0


def missing_database(config: Config, *, demo: bool, command: str = "report") -> str | None:
    """Why there is nothing to read (one line, with what to do), or None if the file exists."""
    path = sqlite_file(config.database_url)
    if path is None or path.exists():
        return None
    if demo:
        return (
            f"no demo database at {path}: build it with `loyalty-bot demo` "
            "(or `python3 dev.py console` once)"
        )
    return (
        f"no database at {path}: nothing has been recorded there yet. Is --config the right "
        f"file? For the console's demo shop: loyalty-bot {command} --demo"
    )


async def _write_csv(
    config: Config, period: Period, args: argparse.Namespace, stream: IO[bytes]
) -> None:
    engine = await open_database(config)
    try:
        if getattr(args, "data", "customers") == "customers" and getattr(args, "contacts", False):
            await _record_contacts_export(engine, config, period)  # before any contact leaves
        await csv_export.write_csv(_export(engine, config, period, args), stream)
    finally:
        await engine.dispose()


async def _record_contacts_export(engine: AsyncEngine, config: Config, period: Period) -> None:
    """The audit record of a contacts export from the server: which period, and the account
    that ran it (no Telegram user did)."""
    details: dict[str, object] = {"period": period.key, "via": "cli"}
    # No name for this uid (a bare container)? The record stands without one.
    with suppress(OSError, KeyError):
        details["os_user"] = getpass.getuser()
    store = Store(engine, config.program)
    try:
        now = dt.datetime.now(dt.UTC)
        await store.record_audit("contacts_export", actor_id=None, now=now, details=details)
    finally:
        store.close()


async def _text(config: Config, period: Period, *, section: Section, now: dt.datetime) -> str:
    engine = await open_database(config)
    try:
        return await render_text(engine, config, period, section=section, now=now)
    finally:
        await engine.dispose()


async def open_database(config: Config) -> AsyncEngine:
    """The database, upgraded to the newest schema (as `loyalty-bot run` does on start)."""
    engine = open_engine(config.database_url)
    try:
        await upgrade(engine)
    except BaseException:
        await engine.dispose()
        raise
    return engine


async def render_text(
    engine: AsyncEngine, config: Config, period: Period, *, section: Section, now: dt.datetime
) -> str:
    """The report's sections as plain text, separated by blank lines."""
    program = config.program
    parts: list[str] = []
    if section in ("summary", "all"):
        summary = await queries.summary(
            engine, period, program, now=now, point_value=queries.assumed_point_value(program)
        )
        parts += text.summary_text(summary, program, html=False)
    if section in ("customers", "all"):
        top = await sections.top_customers(engine, period)
        parts += text.customers_text(top, period, html=False)
    if section in ("rewards", "all"):
        counts = await sections.reward_counts(engine, period, program)
        history = await sections.redemption_history(engine, period, program)
        parts += text.rewards_text(counts, history, period, html=False)
    if section in ("staff", "all"):
        staff = await sections.staff_activity(engine, period)
        parts += text.staff_text(staff, period, html=False)
    return "\n\n".join(parts) + "\n"


def _export(
    engine: AsyncEngine, config: Config, period: Period, args: argparse.Namespace
) -> AsyncIterator[bytes]:
    data = getattr(args, "data", "customers")
    if data == "ledger":
        return csv_export.ledger_csv(engine, period, config.program)
    if data == "redemptions":
        return csv_export.redemptions_csv(engine, period, config.program)
    contacts = bool(getattr(args, "contacts", False))
    return csv_export.customers_csv(engine, period, include_contacts=contacts)
