"""One bot per database: an exclusive lock on `<database>.lock`, released by the OS at exit.

Two `loyalty-bot run` on one database both long-poll Telegram, which answers 409 Conflict to
one or the other; each then sees only some of the updates, and a Confirm pressed under one is
"expired" in the other (measured: 745 recorded earns reported to cashiers as expired in 20 s of
ten cashiers). So `run` takes this lock before it touches the database or Telegram. A second
`run` waits as a standby (`wait`), trying again every second, and takes over as soon as the
first ends, however it ends (issue "Beyond one box"). `db restore` takes it too, without
waiting: no bot may start on a file while it is being replaced, and no file is replaced under a
bot.

Why flock on a file beside the database (not a row in the database, not a pid file): the OS
releases it when the process ends however it ends (kill -9, a power cut, an OOM kill), so there
is never a stale lock to clean up; the pid written in the file is only there to be quoted in
the refusal. The file is left in place: deleting a lock file races with a process about to lock
it. On Windows (no fcntl) no lock is taken and a warning says so: run one bot per database.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from .faults import StorageFault, translated

log = logging.getLogger(__name__)


class DatabaseInUse(StorageFault):
    """Another loyalty-bot process holds the database's lock."""

    def __init__(self, path: Path, holder: str, pid: int | None) -> None:
        who = f"another loyalty-bot {holder}" + (f" (pid {pid})" if pid else "")
        if holder == "run":
            super().__init__(path, f"{who} is serving {path.name}", "stop it first")
        else:
            super().__init__(path, f"{who} is using {path.name}", "wait for it to finish")
        self.holder = holder
        self.pid = pid


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


class DatabaseLock:
    """Held from `acquire` until `release` or the end of the process."""

    def __init__(self, database: Path, command: str) -> None:
        self.database = database
        self.command = command
        self.path = lock_path(database)
        self._fd: int | None = None

    def acquire(self) -> DatabaseLock:
        """Takes the lock or raises DatabaseInUse (never waits)."""
        if sys.platform == "win32":  # pragma: no cover - no fcntl on Windows
            log.warning("no database lock on Windows: make sure only one bot runs on %s", self.path)
            return self
        import fcntl

        with translated(self.database):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder, pid = _read_holder(fd)
            os.close(fd)
            raise DatabaseInUse(self.database, holder, pid) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {self.command}\n".encode())
        self._fd = fd
        return self

    def wait(
        self,
        *,
        on_wait: Callable[[DatabaseInUse], None],
        stop: threading.Event,
        every: float = 1.0,
    ) -> bool:
        """Takes the lock as soon as its holder lets go (True), or gives up when `stop` is set
        (False). `on_wait` hears once who holds it, so a standby can say whom it waits for."""
        told = False
        while True:
            try:
                self.acquire()
                return True
            except DatabaseInUse as busy:
                if not told:
                    on_wait(busy)
                    told = True
            if stop.wait(every):
                return False

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    def __enter__(self) -> DatabaseLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def _read_holder(fd: int) -> tuple[str, int | None]:
    """What the holder wrote: "<pid> <command>"; ("run", None) if it has not written it yet."""
    try:
        text = os.pread(fd, 100, 0).decode("ascii", "replace").split()
    except OSError:
        text = []
    pid = int(text[0]) if text and text[0].isdigit() else None
    holder = text[1] if len(text) > 1 and text[1].isalpha() else "run"
    return holder, pid
