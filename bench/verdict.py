"""What bench/throughput.py concludes: the ledger check, the targets, the markdown table.

Targets (issue "Scale"):
- no added latency: the loyalty bot's CPU per Bot API call within 1.5x the echo bot's;
- 100 ms per call, 50 cashiers: at least 25 Bot API calls per second (flat out), and a
  customer's /status answered within 300 ms at p95 while the shop offers that load (the paced
  run; its reply's own 100 ms included);
- every run: the ledger holds exactly the confirmed earns, balances match their ledgers, and
  the fake refused nothing.
"""

from __future__ import annotations

import sqlite3
import statistics
from pathlib import Path
from typing import Any

from bench.shop import Earn

MAX_CPU_RATIO = 1.5
MIN_CALLS_PER_S = 25.0
MAX_STATUS_P95_MS = 300
BUSY_LATENCY_MS = 100
BUSY_USERS = 50


def verify_ledger(db: Path, before: int, earns: list[Earn]) -> list[str]:
    """Problems with the ledger after a run (none when every confirmed earn is there once)."""
    conn = sqlite3.connect(db)
    try:
        recorded = conn.execute(
            "SELECT l.idempotency_key, l.actor_id, c.card_number, l.amount_minor, l.kind "
            "FROM ledger l JOIN customers c ON c.id = l.customer_id WHERE l.id > ?",
            (before,),
        ).fetchall()
        unbalanced = conn.execute(
            "SELECT COUNT(*) FROM customers c WHERE c.balance != "
            "(SELECT COALESCE(SUM(points), 0) FROM ledger l WHERE l.customer_id = c.id)"
        ).fetchone()[0]
    finally:
        conn.close()
    problems = []
    if len(recorded) != len(earns):
        problems.append(f"{len(recorded)} new ledger entries for {len(earns)} confirmed earns")
    expected = {(e.key, e.cashier, e.card, e.amount_minor, "earn") for e in earns}
    missing, extra = expected - set(recorded), set(recorded) - expected
    if missing or extra:
        problems.append(
            f"{len(missing)} confirmed earns not in the ledger as confirmed (cashier, card, "
            f"amount), {len(extra)} entries nobody confirmed"
        )
    if unbalanced:
        problems.append(f"{unbalanced} customers whose balance is not the sum of their ledger")
    return problems


def verdicts(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target against the runs that measure it (the median over rounds), then correctness.

    A target measured under other conditions than it names is shown but not judged: the CPU
    ratio at 100 ms, and /status while the cashiers go flat out (more than Telegram would let
    the bot send).
    """
    out: list[dict[str, Any]] = []
    for latency in sorted({r["latency_ms"] for r in runs}):
        ratios = [
            bot["cpu_ms_per_call"] / echo["cpu_ms_per_call"]
            for bot in _select(runs, "loyalty", latency, None)
            for echo in _select(runs, "echo", latency, None)
            if bot["round"] == echo["round"] and bot["calls"] and echo["calls"]
        ]
        if ratios:
            ratio = round(statistics.median(ratios), 2)
            out.append(
                _check(
                    f"CPU per call, bot / echo, {latency} ms",
                    ratio,
                    ratios,
                    f"<= {MAX_CPU_RATIO}",
                    ratio <= MAX_CPU_RATIO,
                    latency == 0,
                )
            )
        if latency != BUSY_LATENCY_MS:
            continue
        for pace in sorted({r["pace"] or 0 for r in runs if r["bot"] == "loyalty"}):
            chosen = _select(runs, "loyalty", latency, pace or None)
            if not chosen:
                continue
            busy = all(r["users"] >= BUSY_USERS for r in chosen)
            load = f"{chosen[0]['users']} cashiers " + (
                f"offering {pace:g}/s" if pace else "flat out"
            )
            if not pace:
                rates = [r["calls_per_s"] for r in chosen]
                rate = statistics.median(rates)
                out.append(
                    _check(
                        f"Bot API calls/s, {latency} ms, {load}",
                        rate,
                        rates,
                        f">= {MIN_CALLS_PER_S:g}",
                        rate >= MIN_CALLS_PER_S,
                        busy,
                    )
                )
            p95s = [r["status_p95_ms"] for r in chosen if r.get("status_p95_ms") is not None]
            p95 = statistics.median(p95s) if p95s else None
            out.append(
                _check(
                    f"/status p95 ms, {latency} ms, {load}",
                    p95,
                    p95s,
                    f"<= {MAX_STATUS_P95_MS}",
                    p95 is not None and p95 <= MAX_STATUS_P95_MS,
                    busy and bool(pace),
                )
            )
    for run in runs:
        problems = run["problems"]
        out.append(
            _check(
                f"correct: {_name(run)}, {run['latency_ms']} ms, round {run['round']}",
                "; ".join(problems) or "yes",
                [],
                "no problems",
                not problems,
                True,
            )
        )
    return out


def _select(
    runs: list[dict[str, Any]], bot: str, latency: int, pace: float | None
) -> list[dict[str, Any]]:
    return [r for r in runs if (r["bot"], r["latency_ms"], r["pace"]) == (bot, latency, pace)]


def _name(run: dict[str, Any]) -> str:
    return str(run["bot"]) + (f" paced {run['pace']:g}/s" if run["pace"] else "")


def _check(
    name: str, value: Any, each: list[Any], target: str, met: bool, binding: bool
) -> dict[str, Any]:
    return {
        "name": name,
        "value": value,
        "rounds": [round(v, 2) for v in each],
        "target": target,
        "met": met,
        "ok": met or not binding,
    }


def table(report: dict[str, Any]) -> str:
    """The results as markdown: one row per run, then the targets."""
    m = report["machine"]
    lines = [
        f"{m['date']} · {m['cpu']} · {m['cores']} cores · Python {m['python']} · "
        f"PTB {m['python_telegram_bot']}",
        "",
        "| round | latency | bot | calls/s | earns/s | CPU ms/call | bot CPU | CPU-starved"
        " | harness CPU | /status p50 / p95 | start-up | peak RSS |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["runs"]:
        status = f"{r['status_p50_ms']} / {r['status_p95_ms']} ms" if r.get("status_n") else "—"
        lines.append(
            f"| {r['round']} | {r['latency_ms']} ms | {_name(r)} ×{r['users']} "
            f"| {r['calls_per_s']} | {r.get('earns_per_s', '—')} | {r['cpu_ms_per_call']} "
            f"| {r['cpu_busy']:.0%} "
            f"| {r['cpu_starved']:.0%} | {r['harness_busy']:.0%} | {status} "
            f"| {r['startup_s']} s | {r['peak_rss_mb']} MB |"
        )
    lines += ["", "| target | measured (median) | each round | wanted | |", "|---|---|---|---|---|"]
    for v in report["verdicts"]:
        mark = "✅" if v["met"] else ("❌" if not v["ok"] else "(not judged)")
        each = ", ".join(f"{x:g}" for x in v["rounds"]) if len(v["rounds"]) > 1 else ""
        lines.append(f"| {v['name']} | {v['value']} | {each} | {v['target']} | {mark} |")
    return "\n".join(lines)
