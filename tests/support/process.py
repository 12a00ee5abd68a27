"""`loyalty-bot run` as a real child process, for end-to-end tests against FakeBotApi.

The child is started exactly as an operator starts it (the CLI, a config file, signals to stop
it); only its `[telegram] base_url` points at the fake server. Its stdout and stderr are read
continuously on background threads, so a test can wait for a line (the /claim code) while the
bot runs, and read everything it ever printed once it has stopped.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

import bot

__all__ = ["DATABASE_FILE", "TOKEN", "BotProcess", "Exited", "write_config"]

# Shaped like a real token (digits, colon, 35 characters) so log redaction meets the real thing.
TOKEN = "4839574812:AAE2e-Secret_token_never_in_any_logX"
DATABASE_FILE = "loyalty.db"  # written next to config.toml

# The checkout whose `bot` package the tests import: the child must run the same code.
PROJECT_ROOT = Path(bot.__file__).resolve().parent.parent


def write_config(
    directory: Path,
    *,
    base_url: str | None,
    token: str = TOKEN,
    admins: Iterable[int] = (),
    cashiers: Iterable[int] = (),
    database_url: str | None = None,
) -> Path:
    """Writes config.toml into `directory` with its database beside it (or at `database_url`);
    returns its path."""
    lines = ["[telegram]", f'token = "{token}"']
    if base_url is not None:
        lines.append(f'base_url = "{base_url}"')
    lines += [
        "",
        "[database]",
        # Relative to the config file's folder (core/config/load.py), so the database stays in tmp.
        f'url = "{database_url or f"sqlite+aiosqlite:///{DATABASE_FILE}"}"',
        "",
        "[staff]",
        f"admins = [{', '.join(str(i) for i in admins)}]",
        f"cashiers = [{', '.join(str(i) for i in cashiers)}]",
        "",
    ]
    path = directory / "config.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Exited:
    """How the process ended."""

    returncode: int
    seconds: float  # from the stop signal (or from start, if it exited by itself) to exit
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class _Pipe:
    """Collects one pipe's text on a thread; readers can wait for a pattern to appear."""

    def __init__(self, stream: IO[str]) -> None:
        self._chunks: list[str] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            with self._changed:
                self._chunks.append(line)
                self._changed.notify_all()
        stream.close()

    @property
    def text(self) -> str:
        with self._changed:
            return "".join(self._chunks)

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str] | None:
        with self._changed:
            self._changed.wait_for(lambda: bool(pattern.search(self.text)), timeout)
            return pattern.search(self.text)

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


class BotProcess:
    """`python -m bot run --config PATH` (the `loyalty-bot run` entry point) in a child process.

    `env` adds to the environment (e.g. LOYALTY_BOT_TEST_RETRY_SCALE). Use as a context
    manager: leaving it kills the child if a test did not stop it.
    """

    def __init__(
        self,
        config: Path,
        *,
        command: str = "run",
        env: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
    ) -> None:
        env = {**os.environ, **(env or {})}
        # The environment wins over the file (core/config/load.py): a developer's real token must
        # neither leak into the test nor hide a "missing token" case.
        env.pop("TELEGRAM_BOT_TOKEN", None)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p
        )
        env["PYTHONIOENCODING"] = "utf-8"
        # No PYTHONUNBUFFERED on purpose: the bot must flush what an operator has to see
        # (the /claim code) by itself, as it would under systemd or docker.
        self._started = time.monotonic()
        self._popen = subprocess.Popen(
            [sys.executable, "-m", "bot", command, "--config", str(config), *args],
            cwd=config.parent,  # so no ./config.toml or ./loyalty.db of the checkout is used
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        assert self._popen.stdout is not None and self._popen.stderr is not None
        self._stdout = _Pipe(self._popen.stdout)
        self._stderr = _Pipe(self._popen.stderr)
        self._exited: Exited | None = None

    def __enter__(self) -> BotProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._popen.poll() is None:
            self._popen.kill()
            self._popen.wait(timeout=10)

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def running(self) -> bool:
        return self._popen.poll() is None

    @property
    def stdout(self) -> str:
        return self._stdout.text

    @property
    def stderr(self) -> str:
        return self._stderr.text

    def wait_for_stdout(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        """The first match of `pattern` in what the bot printed, waiting up to `timeout` s."""
        match = self._stdout.wait_for(re.compile(pattern), timeout)
        if match is None:
            raise AssertionError(
                f"{pattern!r} not printed within {timeout}s; stdout:\n{self.stdout}\n"
                f"stderr:\n{self.stderr}"
            )
        return match

    def wait_for_stderr(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        """The first match of `pattern` in the bot's log (stderr), waiting up to `timeout` s."""
        match = self._stderr.wait_for(re.compile(pattern), timeout)
        if match is None:
            raise AssertionError(
                f"{pattern!r} not logged within {timeout}s; stderr:\n{self.stderr}"
            )
        return match

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 20.0) -> Exited:
        """Sends `sig` and waits for the exit; later calls return the first result."""
        if self._exited is None:
            sent = time.monotonic()
            if self._popen.poll() is None:
                self._popen.send_signal(sig)
            self._exited = self._finish(sent, timeout)
        return self._exited

    def wait(self, timeout: float = 30.0) -> Exited:
        """Waits for a process that ends by itself (a refused start)."""
        if self._exited is None:
            self._exited = self._finish(self._started, timeout)
        return self._exited

    def _finish(self, since: float, timeout: float) -> Exited:
        try:
            returncode = self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self._popen.kill()
            self._popen.wait(timeout=10)
            raise AssertionError(
                f"the bot did not exit within {timeout}s; stderr:\n{self.stderr}"
            ) from None
        seconds = time.monotonic() - since
        self._stdout.join(5)
        self._stderr.join(5)
        return Exited(returncode, seconds, self.stdout, self.stderr)
