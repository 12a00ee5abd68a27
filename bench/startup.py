"""`measure_startup(db_path)`: how long `loyalty-bot run` takes to be ready, and its peak memory.

Targets (issue "Scale"): ready in under 2 s and under 150 MB at 1M customers. "Ready" is the
bot's first getUpdates at a fake Bot API: imports, the schema check and the command menus are
all done by then. Peak memory is VmHWM after a little work (a staff /status and a confirmed
/earn), so it includes answering, not just idling. Blocking: call it from plain code or a
worker thread, not on an event loop. A database behind the newest schema is refused: the bot
would migrate it first, which is not start-up (and can take minutes at 1M customers).

    python -m bench.startup bench/results/loyalty-1000000.db
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.process import (
    BotProcess,
    TimedFakeBotApi,
    cashier_ids,
    loyalty_bot_command,
    write_config,
)
from bot.offline import SentCall, keyboard_rows
from core.db.migrate import head_revision

WAIT = 60.0  # seconds for each reply; generous for a cold 1M-row database on a busy machine


def measure_startup(
    db_path: str | Path,
    *,
    cashiers: int = 50,
    latency_ms: float = 0.0,
    earn: bool = True,
    url: str | None = None,
) -> dict[str, float]:
    """Spawns `loyalty-bot run` on `db_path`, used in place, with `cashiers` staff in its
    config; returns the figures below. `url`: run it on that copy of the file instead (its
    PostgreSQL copy, bench/postgres.py); the file still names the card to look up. The
    database gains one purchase (unless earn=False) and the bot's note of the command menus it
    set (a settings row).

    startup_s           spawn to the first getUpdates at the fake Bot API
    startup_cpu_s       CPU the bot used to get there (steadier than wall time when busy)
    startup_cpu_wait_s  time it was ready to run but had no CPU (other people's load)
    first_status_s      then a cashier's /status <card> answered
    first_earn_s        then a one-line /earn confirmed (not with earn=False)
    peak_rss_mb         VmHWM of the bot process after all that
    """
    db = Path(db_path).resolve()
    if not db.is_file():  # sqlite3 would quietly create an empty one
        raise FileNotFoundError(db)
    conn = sqlite3.connect(db)
    try:
        (revision,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        card = conn.execute("SELECT card_number FROM customers ORDER BY id LIMIT 1").fetchone()[0]
    finally:
        conn.close()
    if revision != head_revision():
        # Stopping the bot half way through a migration can also leave the file half migrated
        # (SQLite runs ALTER TABLE outside the migration's transaction): it happened once here.
        raise RuntimeError(
            f"{db} is at schema {revision}, not {head_revision()}: "
            "upgrade it first (`loyalty-bot db upgrade`) or generate it again"
        )
    staff = cashier_ids(cashiers)
    who = staff[0]
    with (
        tempfile.TemporaryDirectory(prefix="bench-") as tmp,
        TimedFakeBotApi(latency=latency_ms / 1000) as fake,
    ):
        config = write_config(Path(tmp), fake, db, staff, url=url)
        process = BotProcess(loyalty_bot_command(config), Path(tmp) / "bot.log")
        try:
            startup = process.wait_ready(fake)
            result = {
                "startup_s": round(startup, 3),
                "startup_cpu_s": round(process.cpu_seconds(), 2),
                "startup_cpu_wait_s": round(process.cpu_wait_seconds(), 2),
            }
            asked = time.perf_counter()
            _reply(fake, who, lambda: fake.push_message(who, f"/status {card}"))
            result["first_status_s"] = round(time.perf_counter() - asked, 3)
            if earn:
                asked = time.perf_counter()
                preview = _reply(fake, who, lambda: fake.push_message(who, f"/earn {card} 12.50"))
                data = keyboard_rows(preview.params)[0][0]["callback_data"]  # Confirm comes first
                message_id = preview.result["message_id"]
                _reply(fake, who, lambda: fake.push_callback(who, data, message_id))
                result["first_earn_s"] = round(time.perf_counter() - asked, 3)
            result["peak_rss_mb"] = round(process.peak_rss_mb(), 1)
        except BaseException:
            print(f"--- the bot's output ends ---\n{process.tail()}", file=sys.stderr)
            raise
        finally:
            process.stop()
    return result


def _reply(fake: TimedFakeBotApi, who: int, act: Callable[[], object]) -> SentCall:
    """Does `act` (a user's move) and returns the bot's next message to `who`."""
    after = len(fake.calls)
    act()
    return fake.wait_for(
        lambda c: c.method == "sendMessage" and c.chat_id == who, timeout=WAIT, after=after
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not Path(args[0]).is_file():
        print("usage: python -m bench.startup DATABASE.db", file=sys.stderr)
        return 2
    print(json.dumps(measure_startup(args[0]), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
