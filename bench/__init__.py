"""Benchmarks: how loyalty-bot behaves as its data grows (see bench/README.md).

Not part of the test suite: `python -m bench` generates (or reuses) databases of 10k, 100k and
1M customers and prints the timings table.
"""
