"""A bot under measurement: its own process, its CPU time and peak memory read from /proc.

psutil is not a dependency, and /proc/<pid>/stat and /proc/<pid>/status already hold what the
benchmark needs: utime + stime (all threads of the process, aiosqlite's included) and VmHWM,
the resident set's high-water mark. Linux only, like the machines the benchmark runs on.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bot.offline import Answer
from tests.support.fake_bot_api import FakeBotApi, _ParsedRequest

TOKEN = "123456:bench-not-a-real-token-0000000000"  # the fake accepts any token
CASHIER_IDS = 7_000_001  # cashiers are 7000001, 7000002, ...: clear of customers and staff
START_TIMEOUT = 120.0  # seconds; far beyond a 1M-customer database on a busy machine
READY_POLL = 0.005  # seconds between looks at the fake while the bot starts
_TICKS = os.sysconf("SC_CLK_TCK")


class TimedFakeBotApi(FakeBotApi):
    """The tests' fake Bot API, also noting when the first long poll arrives.

    The fake records a getUpdates call only when it answers it (after the long poll), so
    "ready" is taken here, as the request comes in: the bot has finished starting up.
    """

    def __init__(self, *, latency: float = 0.0) -> None:
        super().__init__(latency=latency)
        self.first_poll: float | None = None  # time.perf_counter() of the first getUpdates
        # Benchmarks reuse their databases, which remember the update ids they handled: start
        # past any earlier run's, or the bot would take this run's updates for replays.
        self.emulator.start_update_ids_after(int(time.time() * 1000) % 2**31)

    def __enter__(self) -> TimedFakeBotApi:
        self.start()
        return self

    def _answer(self, method: str, request: _ParsedRequest) -> Answer:
        if method == "getUpdates" and self.first_poll is None:
            self.first_poll = time.perf_counter()
        return super()._answer(method, request)


def cashier_ids(count: int) -> list[int]:
    return list(range(CASHIER_IDS, CASHIER_IDS + count))


def loyalty_bot_command(config: Path) -> list[str]:
    """`loyalty-bot run`, the console script installed beside this interpreter."""
    return [str(Path(sys.executable).with_name("loyalty-bot")), "run", "--config", str(config)]


def echo_bot_command(base_url: str) -> list[str]:
    return [sys.executable, "-m", "bench.echo_bot", "--base-url", base_url, "--token", TOKEN]


def write_config(
    folder: Path,
    fake: FakeBotApi,
    db: Path,
    cashiers: Sequence[int],
    *,
    url: str | None = None,
) -> Path:
    """A config.toml pointing the bot at the fake and at `db` (or `url`), `cashiers` as staff."""
    path = folder / "config.toml"
    # JSON strings are valid TOML basic strings, which takes care of any quoting in paths.
    path.write_text(
        "[telegram]\n"
        f"token = {json.dumps(TOKEN)}\n"
        f"base_url = {json.dumps(fake.base_url)}\n"
        "[database]\n"
        f"url = {json.dumps(url or f'sqlite+aiosqlite:///{db.resolve()}')}\n"
        "[staff]\n"
        f"cashiers = {json.dumps(list(cashiers))}\n"
    )
    return path


class BotProcess:
    """One spawned bot; its output goes to `log` so a full pipe can never stall it."""

    def __init__(self, command: Sequence[str], log: Path) -> None:
        self.log = log
        env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}  # env wins
        env["NO_PROXY"] = "127.0.0.1"  # the fake is local, whatever proxy the shell has set
        with log.open("wb") as out:
            self.spawned = time.perf_counter()
            self.popen = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=_repo_root()
            )
        self.pid = self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def cpu_seconds(self) -> float:
        """User + system CPU time so far, every thread of the process included."""
        return cpu_seconds(self.pid)

    def cpu_wait_seconds(self) -> float:
        """Time its threads were ready to run but waiting for a CPU (/proc schedstat).

        On a shared machine this says how much of the bot's slowness was other people's load.
        """
        return cpu_wait_seconds(self.pid)

    def peak_rss_mb(self) -> float:
        """VmHWM: the most memory the process has held resident, in MiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # reported in kB
        raise RuntimeError("no VmHWM in /proc/<pid>/status")

    def ready_after(self, fake: TimedFakeBotApi) -> float | None:
        """Seconds from spawn to the bot's first getUpdates; None while it is still starting."""
        if fake.first_poll is not None:
            return fake.first_poll - self.spawned
        if not self.alive():
            raise RuntimeError(f"the bot exited with {self.popen.returncode}:\n{self.tail()}")
        if time.perf_counter() - self.spawned > START_TIMEOUT:
            raise TimeoutError(f"the bot did not poll within {START_TIMEOUT} s:\n{self.tail()}")
        return None

    def wait_ready(self, fake: TimedFakeBotApi) -> float:
        """Blocks until the bot polls for the first time; returns seconds since spawn."""
        while (ready := self.ready_after(fake)) is None:
            time.sleep(READY_POLL)
        return ready

    async def until_ready(self, fake: TimedFakeBotApi) -> float:
        """wait_ready() for code on an event loop (on a thread: the loop keeps running)."""
        return await asyncio.to_thread(self.wait_ready, fake)

    def tail(self, lines: int = 30) -> str:
        """The end of the bot's output, for a failure message."""
        text = self.log.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> int:
        """SIGTERM (the bot finishes the update in hand and shuts down), SIGKILL if it hangs."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                return self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
        return self.popen.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far, every thread included (ended ones too)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()  # the name in (...) may itself hold spaces
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime: fields 14 and 15


def cpu_wait_seconds(pid: int) -> float:
    """Time the threads of process `pid` that still run were ready but had no CPU."""
    waited = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            waited += int((task / "schedstat").read_text().split()[1])  # nanoseconds
        except (FileNotFoundError, ProcessLookupError):
            continue  # a thread that ended while we looked
    return waited / 1e9


def _repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
