#!/usr/bin/env python3
"""The README's two commands, for a fresh machine with only Python 3.11+:

    python3 dev.py console    # the bot in this terminal, on demo data (no token, no network)
    python3 dev.py test       # the whole test suite (what CI runs)

and the checks review makes, which CI runs after the tests:

    python3 dev.py check      # ruff check, ruff format --check, mypy, the import contracts
    python3 dev.py i18n       # the translation catalogs: extract texts, update every .po, compile

Each creates ./.venv and installs the project into it the first time (and again whenever
pyproject.toml or requirements/dev-constraints.txt changes), then runs: `check` installs the dev
tools too, at the exact versions of that file. Anything after `console` or `test` is passed on,
e.g. `python3 dev.py test -k earn` or `python3 dev.py console --as customer`. `check` runs every
step even after one fails, names those that failed, and exits non-zero if any did.
Standard library only: this file runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".loyalty-bot-installed"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
# Exact versions of ruff, mypy, import-linter and grimp, so a new release of one cannot turn CI
# red on its own (the file says how to bump them).
CONSTRAINTS = ROOT / "requirements" / "dev-constraints.txt"
# The extras an install of each extra brings: dev includes test.
PROVIDES = {"test": {"test"}, "dev": {"test", "dev"}}


def ensure_environment(extra: str = "test") -> None:
    """Creates .venv and installs the project with `extra`, unless already current.

    The stamp holds the extra installed and a hash of the files that decide what is installed,
    so an edit to either (or a first `check` after `test`) installs again.
    """
    if sys.version_info < (3, 11):  # noqa: UP036 - this file runs on whatever python3 is
        sys.exit(f"loyalty-bot needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    digest = hashlib.sha256()
    for path in (ROOT / "pyproject.toml", CONSTRAINTS):
        digest.update(path.read_bytes())
    wanted = digest.hexdigest()
    if PYTHON.exists() and STAMP.exists():
        installed, _, stamped = STAMP.read_text().partition(" ")
        if stamped == wanted and extra in PROVIDES.get(installed, set()):
            return
    if not _has_pip():  # none yet, or one interrupted half-made: (re)create it
        print("Creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    what = "loyalty-bot, its dependencies" + (" and the dev tools" if extra == "dev" else "")
    print(f"Installing {what} into .venv (first run only) ...", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "-c", str(CONSTRAINTS), "-e", f"{ROOT}[{extra}]"], check=True)
    STAMP.write_text(f"{extra} {wanted}")


def _has_pip() -> bool:
    if not PYTHON.exists():
        return False
    probe = [str(PYTHON), "-m", "pip", "--version"]
    return subprocess.run(probe, capture_output=True).returncode == 0


# Ctrl-Cs that arrived while a command ran: `check` stops at the step they ended.
INTERRUPTS: list[int] = []


def run_in_foreground(args: list[str]) -> int:
    """Runs the command and returns its exit code; Ctrl-C is the command's to handle.

    The terminal sends Ctrl-C to this process and the command alike. The command stops cleanly
    on its own (the console says "Bye.", pytest prints its summary); this process only waits for
    it (noting the Ctrl-C in INTERRUPTS), rather than killing it mid-shutdown and printing a
    traceback of its own.
    """
    previous = signal.signal(signal.SIGINT, lambda signum, frame: INTERRUPTS.append(signum))
    try:
        return subprocess.run(args, cwd=ROOT).returncode
    finally:
        signal.signal(signal.SIGINT, previous)


def _tool(name: str, *args: str) -> list[str]:
    return [str(BIN / (f"{name}.exe" if os.name == "nt" else name)), *args]


# `check`: what review checks, each step independent of the others. mypy, ruff and import-linter
# read their settings (what to check, how strictly) from pyproject.toml.
CHECKS: list[tuple[str, list[str]]] = [
    ("ruff check .", _tool("ruff", "check", ".")),
    ("ruff format --check .", _tool("ruff", "format", "--check", ".")),
    ("mypy --strict (bot, core, tests, bench)", _tool("mypy")),
    ("import contracts (lint-imports)", _tool("lint-imports", "--no-cache", "--no-logo")),
    # The cycle test that `dev.py test` runs too, so that `check` alone covers every import rule.
    (
        "no import cycles",
        _tool("pytest", "-q", "-n", "0", "-k", "cycle", "tests/unit/test_architecture.py"),
    ),
]


def check() -> int:
    """Runs every step of CHECKS; prints those that failed and returns 1 if any did."""
    failed: list[str] = []
    for name, args in CHECKS:
        print(f"\n==> {name}", flush=True)
        code = run_in_foreground(args)
        if INTERRUPTS:
            print("\nInterrupted: dev.py check stopped there.")
            return 130
        if code != 0:
            print(f"FAILED: {name} (exit code {code})", flush=True)
            failed.append(name)
    if failed:
        print(f"\ndev.py check: {len(failed)} of {len(CHECKS)} failed:")
        for name in failed:
            print(f"  - {name}")
        return 1
    print(f"\ndev.py check: all {len(CHECKS)} passed.")
    return 0


# `i18n`: the catalogs of bot/locale (bot/i18n.py says how texts are marked). Extract every
# marked text into messages.pot, merge it into each language's .po (new texts arrive empty, for
# a translator; tests/unit/test_catalogs.py fails until they are filled in), compile the .mo
# files that ship in the package.
LOCALE = "bot/locale"
I18N: list[tuple[str, list[str]]] = [
    (
        "extract",
        _tool(
            "pybabel",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "N_",
            "--no-location",
            "--sort-output",
            "--omit-header",
            "-o",
            f"{LOCALE}/messages.pot",
            ".",
        ),
    ),
    (
        "update",
        _tool(
            "pybabel",
            "update",
            "-i",
            f"{LOCALE}/messages.pot",
            "-d",
            LOCALE,
            "--no-fuzzy-matching",
            "--ignore-obsolete",
            "--width",
            "100",
        ),
    ),
    ("compile", _tool("pybabel", "compile", "-d", LOCALE, "--statistics")),
]


def i18n() -> int:
    """Extracts, updates and compiles the catalogs, stopping at the first step that fails."""
    for name, args in I18N:
        print(f"==> {name}", flush=True)
        code = run_in_foreground(args)
        if code != 0:
            print(f"FAILED: {name} (exit code {code})", flush=True)
            return code
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"console", "test", "check", "i18n"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command in ("check", "i18n") and rest:
        print(f"dev.py {command} takes no arguments: its settings are in this file and pyproject")
        return 2
    try:
        ensure_environment("dev" if command in ("check", "i18n") else "test")
    except KeyboardInterrupt:
        print("\nInterrupted: run the same command again to finish setting up.", file=sys.stderr)
        return 130
    except subprocess.CalledProcessError:
        print("Installing failed (pip's message is above); run the command again.", file=sys.stderr)
        return 1
    if command == "check":
        return check()
    if command == "i18n":
        return i18n()
    if command == "test":
        args = [str(PYTHON), "-m", "pytest", *rest]
    else:
        if not any(a == "--demo" or a.startswith("--config") for a in rest):
            rest = ["--demo", *rest]
        args = [str(BIN / "loyalty-bot"), "console", *rest]
    return run_in_foreground(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
