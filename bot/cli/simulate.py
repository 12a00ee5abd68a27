"""`loyalty-bot simulate`: what a proposed program would have done over the shop's real period.

    loyalty-bot simulate --proposed proposed.toml                  # the last 365 days, a table
    loyalty-bot simulate --proposed proposed.toml --period 90d --format csv --out whatif.csv
    loyalty-bot simulate --proposed proposed.toml --from 2026-01-01 --to 2026-06-30
    loyalty-bot simulate --proposed proposed.toml --chart whatif.png

`--config` is the shop's config as everywhere (its database, time zone and current program);
`--proposed` is a config file holding the program to try: usually a copy of config.toml with
[program], [[tiers]], [[rewards]], [[campaigns]] or [expiry] changed. Only its program and its
[expiry] policy are read.

It only reads: the database is opened read-only (no schema upgrade either), and with no
database file it says where it looked and exits 2, like `loyalty-bot report`.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
from pathlib import Path

from core.config import Config, load_config
from core.db.engine import sqlite_file
from core.demo import demo_database_url
from core.errors import ConfigError, InvalidPeriod, LoyaltyError
from core.reports.periods import Period, parse_period
from core.reports.simulation import simulate_period
from core.reports.simulation_text import simulation_csv, simulation_text

from .report import missing_database

DEFAULT_PERIOD = "365d"
_NAME = "loyalty-bot simulate"


def add_parser(
    subparsers: argparse._SubParsersAction,  # type: ignore[type-arg]
    parents: list[argparse.ArgumentParser] | None = None,
) -> None:
    """Adds the `simulate` sub-command to the main `loyalty-bot` parser (parents: --config)."""
    parser = subparsers.add_parser(
        "simulate",
        parents=parents or [],
        help="replay a period's purchases under a proposed program, beside what happened",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument(
        "--proposed",
        type=Path,
        required=True,
        metavar="FILE",
        help="a config file with the program to try (a copy of config.toml, changed)",
    )
    parser.add_argument(
        "--period",
        default=None,
        help=f"which period: 365d, 90d or any Nd, a month 2026-10, ... (default: {DEFAULT_PERIOD})",
    )
    parser.add_argument("--from", dest="first", type=_date, help="first day (YYYY-MM-DD)")
    parser.add_argument("--to", dest="last", type=_date, help="last day, included (default: today)")
    parser.add_argument("--format", choices=("text", "csv"), default="text")
    parser.add_argument(
        "--out", type=Path, default=None, help="write to this file instead of standard output"
    )
    parser.add_argument("--chart", type=Path, default=None, metavar="FILE.png", help="a PNG chart")
    parser.add_argument(
        "--demo", action="store_true", help="simulate on the demo database (the console's shop)"
    )
    # For reproducible output in tests and re-runs: "365d" is counted back from this moment.
    parser.add_argument("--now", type=dt.datetime.fromisoformat, help=argparse.SUPPRESS)


def run(args: argparse.Namespace, config: Config) -> int:
    """Runs `loyalty-bot simulate`; 0 on success, 2 on a bad file, period or database."""
    now = args.now or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    try:
        proposed_config = load_config(args.proposed)
    except ConfigError as error:
        return _refuse(f"{args.proposed}: {error}")
    proposed = proposed_config.program
    if proposed.currency != config.program.currency:
        return _refuse(
            f"the proposed program counts in {proposed.currency}, the shop's ledger in "
            f"{config.program.currency}: amounts can't be replayed in another currency"
        )
    try:
        period = _period(args, now=now, config=config)
    except LoyaltyError as error:
        return _refuse(str(error))
    if args.demo:
        config = dataclasses.replace(config, database_url=demo_database_url(config))
    path = sqlite_file(config.database_url)
    if path is None:
        return _refuse("only a SQLite database file can be simulated on")
    if missing := missing_database(config, demo=args.demo, command="simulate"):
        return _refuse(missing)

    sim = simulate_period(
        path,
        period,
        current=config.program,
        proposed=proposed,
        expiry=(config.expiry, proposed_config.expiry),
    )

    if args.format == "csv":
        data = simulation_csv(sim)
    else:
        data = simulation_text(sim, period, proposed_name=args.proposed.name).encode("utf-8")
    if args.out is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        args.out.write_bytes(data)
        print(f"wrote the what-if for {period.label} to {args.out}", file=sys.stderr)
    if args.chart is not None:
        from core.reports.simulation_chart import simulation_chart  # matplotlib: only if asked

        args.chart.write_bytes(simulation_chart(sim, period))
        print(f"wrote the chart to {args.chart}", file=sys.stderr)
    return 0


def _period(args: argparse.Namespace, *, now: dt.datetime, config: Config) -> Period:
    """--period, or --from/--to as local days (both included), in the shop's time zone."""
    tz = config.reports.tzinfo
    if args.first is None and args.last is None:
        return parse_period(args.period or DEFAULT_PERIOD, now=now, tz=tz)
    if args.period is not None:
        raise InvalidPeriod(args.period, "give --period or --from/--to, not both")
    if args.first is None:
        raise InvalidPeriod(str(args.last), "--to needs --from: the first day of the period")
    last = args.last or now.astimezone(tz).date()
    return parse_period(f"{args.first.isoformat()}..{last.isoformat()}", now=now, tz=tz)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: use YYYY-MM-DD") from None


def _refuse(why: str) -> int:
    print(f"{_NAME}: {why}", file=sys.stderr)
    return 2
