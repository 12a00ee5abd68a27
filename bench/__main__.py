"""`python -m bench`: generate (or reuse) each database size, measure, print the table.

python -m bench                         # 10k, 100k and 1M customers (1M: several minutes)
python -m bench --quick                 # 10k only, about a minute
python -m bench --sizes 10000 100000    # any sizes
"""

from __future__ import annotations

import argparse
import logging
import sys

from bench import generate, micro, report

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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("bench.generate").setLevel(logging.INFO)
    sizes = [10_000] if args.quick else sorted(set(args.sizes))
    generate.RESULTS.mkdir(parents=True, exist_ok=True)
    info = report.machine()
    databases, results = {}, {}
    for size in sizes:
        databases[size] = generate.cached(size, seed=args.seed)
        logging.info("measuring %d customers", size)
        results[size] = micro.run(databases[size], ops=args.ops, seed=args.seed)
    info["load_average_after"] = report.machine()["load_average"]
    path = report.save(generate.RESULTS, results, databases, info)
    print()
    print(
        f"{info['date']} · {info['nproc']} × {info['cpu']} · Python {info['python']} · "
        f"SQLite {info['sqlite']} · load {info['load_average']} -> {info['load_average_after']}"
    )
    print()
    print(report.table(results))
    print(f"\nmedian / p99 over {args.ops} calls; JSON: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
