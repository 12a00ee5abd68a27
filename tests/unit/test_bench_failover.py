"""bench/failover.py's arithmetic: the figures, the ledger check and the verdict, without
starting a bot (the benchmark itself runs only by hand: `python -m bench.failover`)."""

from __future__ import annotations

import math

from bench.failover import (
    FIGURES,
    TARGET_S,
    first_after,
    ledger_problems,
    summary,
    table,
    verdict,
)


def test_summary_gives_min_median_and_max_to_the_millisecond() -> None:
    assert summary([3.0, 1.23456, 2.0, 9.5]) == {"n": 4, "min": 1.235, "median": 2.5, "max": 9.5}
    assert summary([]) == {"n": 0, "min": None, "median": None, "max": None}


def test_first_after_skips_what_came_before_the_kill_and_other_methods() -> None:
    arrivals = [(1.0, "getUpdates"), (5.5, "getMe"), (6.0, "deleteWebhook"), (7.0, "getUpdates")]
    assert first_after(arrivals, 5.0) == 0.5
    assert first_after(arrivals, 5.0, "getUpdates") == 2.0
    assert math.isinf(first_after(arrivals, 8.0))


def test_an_exact_ledger_has_no_problems() -> None:
    assert ledger_problems([10, 11, 12], [("earn", 1000), ("earn", 1100), ("earn", 1200)], 0) == []


def test_a_lost_earn_and_a_doubled_one_are_named() -> None:
    problems = ledger_problems([10, 11, 12], [("earn", 1000), ("earn", 1000), ("earn", 1200)], 0)
    assert problems == [
        "3 earns in the ledger for 3 confirmed; lost: [11]; doubled or unexpected: [10]"
    ]
    assert ledger_problems([10], [], 0) == ["0 earns in the ledger for 1 confirmed; lost: [10]"]


def test_other_entries_out_of_order_earns_and_unbalanced_customers_are_problems() -> None:
    assert ledger_problems([10, 11], [("earn", 1100), ("earn", 1000)], 0) == [
        "the earns are in the ledger, but not in the order they were confirmed"
    ]
    assert ledger_problems([10], [("earn", 1000), ("void", None)], 2) == [
        "unexpected ledger entries: void",
        "2 customers whose balance is not the sum of their ledger",
    ]


def test_the_verdict_is_met_when_every_round_answers_within_the_target() -> None:
    met = verdict([2.1, 3.4, 9.99], [], kills=3)
    assert met["met"] is True
    assert met["worst_s"] == 9.99
    assert met["target_s"] == TARGET_S == 10.0
    assert "slowest 9.99 s" in met["why"]


def test_the_slowest_round_decides() -> None:
    missed = verdict([2.0, 10.0, 3.0], [], kills=3)
    assert missed["met"] is False
    assert missed["why"] == "slowest takeover 10.00 s, not under 10 s"


def test_missing_rounds_or_ledger_problems_fail_the_verdict() -> None:
    assert verdict([1.0], [], kills=2)["why"] == "1 of 2 rounds measured"
    assert verdict([], [], kills=0)["met"] is False
    lost = verdict([1.0, 1.0], ["1 earns in the ledger for 2 confirmed"], kills=2)
    assert lost == {
        "target_s": 10.0,
        "worst_s": 1.0,
        "met": False,
        "why": "1 earns in the ledger for 2 confirmed",
    }


def test_the_table_has_a_row_per_engine_and_the_verdicts() -> None:
    figures = {"n": 2, "min": 1.0, "median": 1.5, "max": 2.0}
    report = {
        "machine": {
            "date": "2026-12-05T05:30:00+00:00",
            "cpu": "AMD EPYC",
            "cores": 2,
            "load_average": [1.0, 1.0, 1.0],
            "python": "3.11.7",
            "python_telegram_bot": "22.8",
        },
        "engines": {
            "sqlite": {
                "rounds": [{}, {}],
                "summary": dict.fromkeys(FIGURES, figures),
                "problems": [],
                "verdict": verdict([1.0, 2.0], [], kills=2),
            }
        },
    }
    text = table(report)
    assert "| sqlite | 2 | 1.00 / 1.50 / 2.00 | 1.00 / 1.50 / 2.00 |" in text
    assert "| exact | ✅ |" in text
    assert "- sqlite: every takeover under 10 s (slowest 2.00 s), ledger exact" in text
