"""`python -m bench`: the whole suite. Generates (or reuses) each database size, measures it and
prints the table; then runs the whole-bot throughput benchmark (bench/throughput.py) and prints
its tables and verdicts.

python -m bench                 # 10k, 100k, 1M (~11 min, + generating once), throughput (~4 min)
python -m bench --quick         # 10k only and a short throughput run: a few minutes
python -m bench --sizes 10000 100000  # any sizes
python -m bench --no-throughput # the per-size table only
python -m bench --engines sqlite postgresql  # each size on its PostgreSQL copy too, side by side
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bench import generate, micro, postgres, report

SIZES = (10_000, 100_000, 1_000_000)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=list(SIZES),
        metavar="N",
        help="numbers of customers (default: 10000 100000 1000000)",
    )
    parser.add_argument("--quick", action="store_true", help="10k customers only")
    parser.add_argument("--ops", type=int, default=300, help="timed calls per measurement")
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    parser.add_argument(
        "--no-throughput", action="store_true", help="skip the whole-bot throughput benchmark"
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="throughput rounds; verdicts take the median"
    )
    parser.add_argument(
        "--engines",
        nargs="+",
        choices=("sqlite", "postgresql"),
        default=["sqlite"],
        help="postgresql: each size also on a copy in PostgreSQL (LOYALTY_BOT_BENCH_POSTGRES)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("bench.generate").setLevel(logging.INFO)
    sizes = [10_000] if args.quick else sorted(set(args.sizes))
    generate.RESULTS.mkdir(parents=True, exist_ok=True)
    info = report.machine()
    databases, results, on_postgresql = {}, {}, {}
    for size in sizes:
        databases[size] = generate.cached(size, seed=args.seed)
        logging.info("measuring %d customers", size)
        results[size] = micro.run(databases[size], ops=args.ops, seed=args.seed)
        if "postgresql" in args.engines:
            url = asyncio.run(postgres.copied(databases[size]))
            logging.info("measuring %d customers on PostgreSQL", size)
            on_postgresql[size] = micro.run(databases[size], ops=args.ops, seed=args.seed, url=url)
    info["load_average_after"] = report.machine()["load_average"]
    path = report.save(generate.RESULTS, results, databases, info, on_postgresql)
    print()
    print(
        f"{info['date']} · {info['nproc']} × {info['cpu']} · Python {info['python']} · "
        f"SQLite {info['sqlite']} · load {info['load_average']} -> {info['load_average_after']}"
    )
    print()
    print(report.table(results))
    for size, measured in on_postgresql.items():
        print(f"\n### SQLite and PostgreSQL side by side, {size:,} customers\n")
        print(report.side_by_side(results[size], measured, size))
    print(f"\nmedian / p99 over {args.ops} calls; JSON: {path}")
    if args.no_throughput:
        return 0
    from bench import throughput  # starts bot processes: imported only when it runs

    print("\n## Whole-bot throughput\n", flush=True)
    return throughput.main(
        ["--rounds", str(args.rounds), *(["--seconds", "8"] if args.quick else [])]
    )


if __name__ == "__main__":
    sys.exit(main())
