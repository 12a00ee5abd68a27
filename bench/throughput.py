"""Whole-bot throughput: `loyalty-bot run` against a fake Bot API, beside a PTB echo bot.

    python -m bench.throughput [--cashiers 50] [--seconds 20] [--latency-ms 0,100] [--pace 30]
                               [--rounds 1]     (~3 minutes a round on 2 cores)

For each added latency (every Bot API call but getUpdates answered that much later), on a
fake Bot API on 127.0.0.1 (tests/support/fake_bot_api.py):
- echo: bench/echo_bot.py, python-telegram-bot with default settings; `--cashiers` users each
  send a message and wait for the echo, over and over;
- loyalty: a real `loyalty-bot run` process on a copy of a generated database; `--cashiers`
  cashiers each record purchases back to back (one-line /earn, then Confirm), while one
  customer sends /status every 0.2 s (their reply times are the /status columns);
- loyalty, paced (latencies above 0): the same, but the cashiers together offer only `--pace`
  Bot API calls a second, about Telegram's ceiling for a bot: the /status time a busy shop sees.
Each run measures a fixed window after a warm-up: Bot API calls per second (getUpdates not
counted), earns per second, and the bot process's CPU time per call (/proc). The machine is
shared and noisy, so the headline is a ratio from runs a minute apart: the loyalty bot's CPU per
call over the echo bot's; `--rounds N` repeats everything and the targets take the median.
After each loyalty run the ledger is checked (bench/verdict.py).

Also here (from bench/startup.py): `measure_startup(db_path)`, start-up time and peak memory.
A markdown table goes to stdout, everything measured to bench/results/throughput-*.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Coroutine
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import telegram

from bench import shop
from bench.process import (
    BotProcess,
    TimedFakeBotApi,
    cashier_ids,
    echo_bot_command,
    loyalty_bot_command,
    write_config,
)
from bench.startup import measure_startup
from bench.verdict import table, verdicts, verify_ledger
from core.db.engine import open_engine
from core.db.migrate import upgrade

__all__ = ["Run", "main", "measure", "measure_startup"]

RESULTS = Path(__file__).resolve().parent / "results"
PROBE_PAUSE = 0.2  # seconds between the probing customer's /status messages
CALLS_PER_EARN = 4.4  # preview, button answer, keyboard removed, "✅", and 41% notified customers
DRAIN_TIMEOUT = 60.0  # seconds for conversations in flight to finish after the window
QUIET = 1.0  # seconds without a call: the bot has sent everything it was going to


@dataclass(frozen=True)
class Run:
    bot: str  # "loyalty" or "echo"
    latency_ms: int
    users: int
    pace: float | None = None  # Bot API calls/s the cashiers offer; None: as many as they can


async def measure(
    run: Run, *, warmup: float, seconds: float, database: Path | None
) -> dict[str, Any]:
    """Starts the bot, loads it, measures the window, lets it finish, verifies the ledger."""
    with (
        tempfile.TemporaryDirectory(prefix="bench-") as tmp,
        TimedFakeBotApi(latency=run.latency_ms / 1000) as fake,
    ):
        folder = Path(tmp)
        inbox = shop.Inbox(fake, asyncio.get_running_loop())
        tally, stop = shop.Tally(), asyncio.Event()
        people = cashier_ids(run.users)
        db = folder / "loyalty.db"
        loads: list[Coroutine[Any, Any, None]]
        if run.bot == "loyalty":
            assert database is not None
            shutil.copyfile(database, db)  # every run starts from the same data
            cards, probe, before = _cast(db)
            command = loyalty_bot_command(write_config(folder, fake, db, people))
            pacer = shop.Pacer(run.pace / CALLS_PER_EARN if run.pace else None)
            loads = [shop.cashier(fake, inbox, who, cards, tally, stop, pacer) for who in people]
            loads.append(shop.status_probe(fake, inbox, probe, tally, stop, pause=PROBE_PAUSE))
        else:
            command = echo_bot_command(fake.base_url)
            loads = [shop.echo_user(fake, inbox, who, tally, stop) for who in people]
        process = BotProcess(command, folder / "bot.log")
        try:
            startup = await process.until_ready(fake)
            tasks = [asyncio.create_task(load) for load in loads]
            await _hold(tasks, warmup)
            start = _Sample.take(process, inbox)
            await _hold(tasks, seconds)
            end = _Sample.take(process, inbox)
            stop.set()
            async with asyncio.timeout(DRAIN_TIMEOUT):
                await asyncio.gather(*tasks)
                await _quiet(inbox)
            peak_rss = process.peak_rss_mb()
        except BaseException:
            _keep_log(process, run)
            raise
        finally:
            process.stop()
        result = {
            **asdict(run),
            **end.since(start),
            "startup_s": round(startup, 2),
            "peak_rss_mb": round(peak_rss, 1),
            "calls_by_method": dict(inbox.methods),
            "problems": [f"refused: {c.method} {c.error}" for c in inbox.refused[:5]],
        }
        t0, t1 = start.at, end.at
        if run.bot == "echo":
            result["echoes_per_s"] = round(shop.in_window(tally.echoes, t0, t1) / (t1 - t0), 1)
            return result
        done = [e.confirmed_at for e in tally.earns]
        result["earns_per_s"] = round(shop.in_window(done, t0, t1) / (t1 - t0), 1)
        result["earns_total"] = len(tally.earns)
        waits = [s for sent, s in tally.status if t0 <= sent < t1]
        result["status_n"] = len(waits)
        for name, share in (("p50", 0.5), ("p95", 0.95), ("max", 1.0)):
            value = shop.percentile(waits, share)
            result[f"status_{name}_ms"] = None if value is None else round(1000 * value)
        result["problems"] += verify_ledger(db, before, tally.earns)
        return result


@dataclass(frozen=True)
class _Sample:
    at: float
    calls: int
    cpu: float  # the bot's CPU seconds
    cpu_wait: float  # the bot's seconds ready to run but with no CPU free
    own_cpu: float  # this process's CPU seconds: the fake and the simulated users

    @classmethod
    def take(cls, process: BotProcess, inbox: shop.Inbox) -> _Sample:
        times = os.times()
        return cls(
            time.perf_counter(),
            inbox.calls,
            process.cpu_seconds(),
            process.cpu_wait_seconds(),
            times.user + times.system,
        )

    def since(self, start: _Sample) -> dict[str, Any]:
        window, calls, cpu = self.at - start.at, self.calls - start.calls, self.cpu - start.cpu
        return {
            "window_s": round(window, 2),
            "calls": calls,
            "calls_per_s": round(calls / window, 1),
            "cpu_ms_per_call": round(1000 * cpu / calls, 3) if calls else None,
            "cpu_busy": round(cpu / window, 2),  # share of one core
            "cpu_starved": round((self.cpu_wait - start.cpu_wait) / window, 2),
            # The fake and the users share one process: near 100%, they were the limit.
            "harness_busy": round((self.own_cpu - start.own_cpu) / window, 2),
        }


async def _hold(tasks: list[asyncio.Task[None]], seconds: float) -> None:
    """Lets the load run for `seconds`, failing at once if any simulated user failed."""
    done, _ = await asyncio.wait(tasks, timeout=seconds, return_when=asyncio.FIRST_EXCEPTION)
    for task in done:
        task.result()  # raises what the user ran into; a user never ends before `stop`


async def _quiet(inbox: shop.Inbox) -> None:
    """Waits until the bot has made no call for QUIET seconds (notifications go out last)."""
    seen = -1
    while seen != inbox.calls:
        seen = inbox.calls
        await asyncio.sleep(QUIET)


def _keep_log(process: BotProcess, run: Run) -> None:
    kept = RESULTS / f"failed-{run.bot}-{run.latency_ms}ms-{dt.datetime.now():%H%M%S}.log"
    kept.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(process.log, kept)
    print(f"--- the bot's output ends (all of it: {kept}) ---\n{process.tail()}", file=sys.stderr)


def _cast(db: Path) -> tuple[list[str], int, int]:
    """The cards the cashiers use, the probing customer's Telegram id, the last ledger id."""
    conn = sqlite3.connect(db)
    try:
        probe_id, probe_user = conn.execute(
            "SELECT id, telegram_user_id FROM customers WHERE telegram_user_id IS NOT NULL "
            "ORDER BY id LIMIT 1"
        ).fetchone()
        rows = conn.execute("SELECT card_number FROM customers WHERE id != ?", (probe_id,))
        cards = [card for (card,) in rows]
        before = conn.execute("SELECT COALESCE(MAX(id), 0) FROM ledger").fetchone()[0]
    finally:
        conn.close()
    return cards, int(probe_user), int(before)


def machine() -> dict[str, Any]:
    """Where and when: results mean little without the machine they came from."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    models = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpu": models[0] if models else platform.processor(),
        "cores": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "python_telegram_bot": telegram.__version__,
        "platform": platform.platform(),
    }


def plan(args: argparse.Namespace) -> list[tuple[int, Run]]:
    """(round, run): echo then loyalty per latency, so each pair is a minute apart at most."""
    runs = []
    for round_ in range(1, args.rounds + 1):
        for latency in args.latency_ms:
            runs += [(round_, Run(bot, latency, args.cashiers)) for bot in args.bots]
            if "loyalty" in args.bots and latency and args.pace:
                runs.append((round_, Run("loyalty", latency, args.cashiers, pace=args.pace)))
    return runs


async def run_all(args: argparse.Namespace, database: Path | None) -> dict[str, Any]:
    report: dict[str, Any] = {"machine": machine(), "settings": vars(args).copy(), "runs": []}
    for round_, run in plan(args):
        print(f"... round {round_}: {run}", file=sys.stderr)
        load = os.getloadavg()[0]
        result = await measure(run, warmup=args.warmup, seconds=args.seconds, database=database)
        report["runs"].append({**result, "round": round_, "load_before": round(load, 2)})
    report["verdicts"] = verdicts(report["runs"])
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.throughput",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--cashiers", type=int, default=50, help="simultaneous users (default 50)")
    parser.add_argument("--seconds", type=float, default=20, help="measured window (default 20)")
    parser.add_argument("--warmup", type=float, default=5, help="unmeasured lead-in (default 5)")
    parser.add_argument("--latency-ms", type=_ints, default=[0, 100], help="default 0,100")
    parser.add_argument("--pace", type=float, default=30, help="paced run's calls/s; 0: none")
    parser.add_argument("--rounds", type=int, default=1, help="repeat everything (default 1)")
    parser.add_argument("--customers", type=int, default=1000, help="database size (default 1000)")
    parser.add_argument("--bots", type=lambda s: s.split(","), default=["echo", "loyalty"])
    parser.add_argument("--out", type=Path, help="JSON file (default bench/results/...)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        database = _template(args.customers, Path(tmp)) if "loyalty" in args.bots else None
        report = asyncio.run(run_all(args, database))
    out = args.out or RESULTS / f"throughput-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(table(report))
    print(f"\n(written to {out})")
    return 0 if all(v["ok"] for v in report["verdicts"]) else 1


def _template(customers: int, folder: Path) -> Path:
    """A copy of the generated database at the newest schema: start-up never migrates."""
    from bench.generate import cached  # numpy: needed for the loyalty bot's data only

    path = folder / "template.db"
    shutil.copyfile(cached(customers).path, path)

    async def upgrade_copy() -> None:
        engine = open_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()  # the last connection closing folds the WAL into the file

    asyncio.run(upgrade_copy())
    return path


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


if __name__ == "__main__":
    sys.exit(main())
