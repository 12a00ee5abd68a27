#!/usr/bin/env python3
"""The README's two commands, for a fresh machine with only Python 3.11+:

    python3 dev.py console    # the bot in this terminal, on demo data (no token, no network)
    python3 dev.py test       # the whole test suite (what CI runs)

Each creates ./.venv and installs the project into it the first time (and again whenever
pyproject.toml changes), then runs. Anything after the command is passed on, e.g.
`python3 dev.py test -k earn` or `python3 dev.py console --as customer`.
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


def ensure_environment() -> None:
    """Creates .venv and installs the project with its test extras, unless already current."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this file runs on whatever python3 is
        sys.exit(f"loyalty-bot needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not _has_pip():  # none yet, or one interrupted half-made: (re)create it
        print("Creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing loyalty-bot and its dependencies into .venv (first run only) ...", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
    STAMP.write_text(wanted)


def _has_pip() -> bool:
    if not PYTHON.exists():
        return False
    probe = [str(PYTHON), "-m", "pip", "--version"]
    return subprocess.run(probe, capture_output=True).returncode == 0


def run_in_foreground(args: list[str]) -> int:
    """Runs the command and returns its exit code; Ctrl-C is the command's to handle.

    The terminal sends Ctrl-C to this process and the command alike. The command stops cleanly
    on its own (the console says "Bye.", pytest prints its summary); this process only waits for
    it, rather than killing it mid-shutdown and printing a traceback of its own.
    """
    previous = signal.signal(signal.SIGINT, lambda signum, frame: None)
    try:
        return subprocess.run(args, cwd=ROOT).returncode
    finally:
        signal.signal(signal.SIGINT, previous)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"console", "test"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    try:
        ensure_environment()
    except KeyboardInterrupt:
        print("\nInterrupted: run the same command again to finish setting up.", file=sys.stderr)
        return 130
    except subprocess.CalledProcessError:
        print("Installing failed (pip's message is above); run the command again.", file=sys.stderr)
        return 1
    if command == "test":
        args = [str(PYTHON), "-m", "pytest", *rest]
    else:
        if not any(a == "--demo" or a.startswith("--config") for a in rest):
            rest = ["--demo", *rest]
        args = [str(BIN / "loyalty-bot"), "console", *rest]
    return run_in_foreground(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
