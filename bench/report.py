"""The results table (Markdown, as pasted into bench/README.md) and the JSON kept beside it."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sqlite3
from dataclasses import asdict
from pathlib import Path

from bench.generate import Generated
from bench.micro import Result, Stats

# name: (what the row says, target as the issue states it)
ROWS: dict[str, tuple[str, str]] = {
    "lookup_card": ("lookup by card", "median < 2 ms, flat"),
    "lookup_phone": ("lookup by phone", "median < 2 ms, flat"),
    "earn": ("earn (durable commit)", "median < 2 ms, flat"),
    "redeem": ("redeem (durable commit)", "median < 2 ms, flat"),
    "status_rendered": ("/status rendered", "median < 2 ms, flat"),
    "report_summary_30d": ("/report summary, 30 days", "< 2 s at 1M"),
    "report_summary_all": ("/report summary, all time", "< 2 s at 1M"),
    "csv_export": ("CSV export, all customers", "< 15 s at 1M"),
    "csv_export_memory": ("CSV export: peak RSS growth", "flat"),
    "simulate_365d": ("what-if (simulate), 365 days", "seconds at 1M"),
    "simulate_read_365d": ("what-if: its reads alone (baseline, same run)", "-"),
    "startup_to_ready": ("start-up to ready", "< 2 s at 1M"),
    "bot_peak_rss": ("bot peak RSS", "< 150 MB"),
    "earn_synchronous_normal": ("earn, synchronous=NORMAL (comparison only)", "-"),
    "fsync": ("one fsync on this disk (comparison only)", "-"),
}
FLAT_ROWS = ("lookup_card", "lookup_phone", "earn", "redeem", "status_rendered")


def machine() -> dict[str, object]:
    """What the numbers were measured on; the load average says whether the machine was quiet."""
    model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "system": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _cell(stats: Result) -> str:
    if stats is None:
        return "not yet"
    if isinstance(stats, str):
        return stats[:60]  # the whole message is in the JSON
    cpu = "" if stats.cpu is None else f" (cpu {stats.cpu:.3g})"
    if stats.n == 1:
        return f"{stats.median:.3g} {stats.unit}{cpu}"
    return f"{stats.median:.3g} / {stats.p99:.3g} {stats.unit}{cpu}"


def table(results: dict[int, dict[str, Result]]) -> str:
    """Markdown: one row per measurement, one column per size.

    Cells read "median / p99 unit (cpu median)": wall-clock times, and the process's CPU time.
    """
    sizes = sorted(results)
    head = ["measurement", *(_size(n) for n in sizes), "largest/smallest", "target"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, (label, target) in ROWS.items():
        cells = [_cell(results[n].get(name)) for n in sizes]
        medians = [s.median for n in sizes if isinstance(s := results[n].get(name), Stats)]
        ratio = "-"
        if name in FLAT_ROWS and len(medians) > 1 and medians[0] > 0:
            ratio = f"{medians[-1] / medians[0]:.2f}x"
        lines.append("| " + " | ".join([label, *cells, ratio, target]) + " |")
    return "\n".join(lines)


# The targets for PostgreSQL, where they differ from "the same as SQLite's".
PG_TARGETS = {
    "earn": "within 2x of SQLite's",
    "redeem": "within 2x of SQLite's",
}


def side_by_side(sqlite: dict[str, Result], postgresql: dict[str, Result], size: int) -> str:
    """Markdown: at one size, each measurement on SQLite and on PostgreSQL, and their ratio
    (PostgreSQL / SQLite medians, measured in the same run on the same data)."""
    head = ["measurement", f"SQLite, {_size(size)}", f"PostgreSQL, {_size(size)}", "PG/SQLite"]
    lines = ["| " + " | ".join([*head, "target"]) + " |", "|" + "---|" * (len(head) + 1)]
    for name, (label, target) in ROWS.items():
        a, b = sqlite.get(name), postgresql.get(name)
        ratio = "-"
        if isinstance(a, Stats) and isinstance(b, Stats) and a.median > 0:
            ratio = f"{b.median / a.median:.2f}x"
        wanted = PG_TARGETS.get(name, target)
        lines.append("| " + " | ".join([label, _cell(a), _cell(b), ratio, wanted]) + " |")
    return "\n".join(lines)


def _size(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k"


def save(
    folder: Path,
    results: dict[int, dict[str, Result]],
    databases: dict[int, Generated],
    info: dict[str, object],
    postgresql: dict[int, dict[str, Result]] | None = None,
) -> Path:
    """Writes micro-<date>.json (and latest.json) under `folder`; returns the dated file.
    `postgresql`: the same sizes measured on their PostgreSQL copies, kept beside them."""
    payload: dict[str, object] = {
        "machine": info,
        "sizes": {
            str(n): {
                "database": asdict(databases[n]),
                "results": {
                    k: asdict(v) if isinstance(v, Stats) else v for k, v in results[n].items()
                },
            }
            for n in sorted(results)
        },
    }
    if postgresql:
        payload["postgresql"] = {
            str(n): {k: asdict(v) if isinstance(v, Stats) else v for k, v in r.items()}
            for n, r in sorted(postgresql.items())
        }
    stamp = str(info["date"]).replace(":", "").replace("-", "")[:15]
    path = folder / f"micro-{stamp}.json"
    text = json.dumps(payload, indent=2) + "\n"
    path.write_text(text)
    (folder / "latest.json").write_text(text)
    return path
