"""Storage faults: what is wrong with the database file, in one line that says what to do.

When the disk or the file misbehaves (a folder this user can't write, a file that is not a
database or is damaged, a full disk, a schema from a newer loyalty-bot), the operator needs one
line naming the file and the fix, not a traceback. Every such failure becomes a `StorageFault`
here, in one place, recognised by the kind of exception and its code, never by its wording:

- sqlite3 errors by their primary result code (`sqlite_errorcode`; SQLAlchemy keeps the driver's
  exception in `.orig`): NOTADB and CORRUPT, FULL, CANTOPEN/READONLY/PERM, IOERR, BUSY/LOCKED;
- OSError by errno: ENOSPC/EDQUOT, EACCES/EPERM, EROFS, ENOTDIR;
- Alembic's ResolutionError (wrapped in CommandError "Can't locate revision identified by ..."):
  the database was upgraded by a newer loyalty-bot, whose revision this one does not know.

`diagnose` maps an exception to a fault (None: not a storage fault, let it be a bug report);
`check_folder` and `check_file` find the faults before anything is written, so a refused start
leaves the file exactly as it was. bot/cli prints `str(fault)`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from core.errors import LoyaltyError

OPERATIONS_DOC: Final = "docs/operations.md"
# Below this much free space SQLite cannot be trusted to commit (a write needs room for its WAL
# frames): refuse to start rather than fail the first cashier's confirmation.
MIN_FREE_BYTES: Final = 1024 * 1024
# `run` and `console` read every page of a database up to this size at start (PRAGMA
# quick_check: 0.2 s for 90 MB measured with the file in the page cache, more from a cold
# disk): a damaged page is found before a cashier meets it.
# Larger ones are left to `loyalty-bot db check`, which reads everything.
QUICK_CHECK_LIMIT: Final = 256 * 1024 * 1024

# sqlite3 primary result codes (the low byte of an extended code). Named here because
# sqlite3.SQLITE_* constants exist only from Python 3.11 and mypy's stubs vary.
SQLITE_PERM, SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY = 3, 5, 6, 8
SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN = 10, 11, 13, 14
SQLITE_NOTADB = 26

_ACCESS_ERRNOS: Final = frozenset({errno.EACCES, errno.EPERM})
_FULL_ERRNOS: Final = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})


class StorageFault(LoyaltyError):
    """The database file or its disk is unusable: which file, what is wrong, what to do."""

    def __init__(self, path: Path | None, problem: str, advice: str) -> None:
        super().__init__(f"{problem}: {advice}")
        self.path = path
        self.problem = problem
        self.advice = advice


# --- the faults, each worded once ---------------------------------------------------------------


def damaged(path: Path) -> StorageFault:
    return StorageFault(
        path,
        f"{path} is not a loyalty-bot database or is damaged",
        f"restore the last backup (see {OPERATIONS_DOC})",
    )


def foreign(path: Path) -> StorageFault:
    return StorageFault(
        path,
        f"{path} is a database of another program (it has tables but no loyalty-bot schema)",
        "set [database] url to a new file, or restore the right one",
    )


def newer(path: Path | None, revision: str, known: str | None) -> StorageFault:
    name = path if path is not None else "the database"
    return StorageFault(
        path,
        f"{name} was upgraded by a newer loyalty-bot (revision {revision}; "
        f"this one knows up to {known})",
        "install that version",
    )


def disk_full(path: Path | None) -> StorageFault:
    folder = _folder(path)
    return StorageFault(
        path, f"the disk holding {folder} is full", "free some space, then start again"
    )


def folder_not_writable(path: Path, folder: Path, role: str = "database") -> StorageFault:
    return StorageFault(
        path,
        f"the {role} folder {folder} is not writable by this user",
        f"let this user write there (chown/chmod), or {_elsewhere(role)}",
    )


def folder_is_a_file(path: Path, folder: Path, role: str = "database") -> StorageFault:
    return StorageFault(
        path, f"the {role} folder {folder} is a file, not a folder", _elsewhere(role)
    )


def _elsewhere(role: str) -> str:
    if role == "database":
        return "set [database] url to a path in a folder this user can write"
    return "choose a folder this user can write (--to, or [backup] folder)"


def read_only_filesystem(path: Path, folder: Path, role: str = "database") -> StorageFault:
    return StorageFault(
        path,
        f"the {role} folder {folder} is on a read-only file system",
        f"remount it read-write, or {_elsewhere(role)}",
    )


def file_not_writable(path: Path) -> StorageFault:
    return StorageFault(
        path,
        f"the database file {path} is not readable and writable by this user",
        "let this user read and write it (chown/chmod)",
    )


def io_error(path: Path | None) -> StorageFault:
    name = path if path is not None else "the database"
    return StorageFault(
        path,
        f"the disk failed reading or writing {name} (I/O error)",
        "check the disk, then run loyalty-bot db check",
    )


def busy(path: Path | None) -> StorageFault:
    name = path if path is not None else "the database"
    return StorageFault(
        path,
        f"{name} is locked by another program",
        "close it (an sqlite3 shell, a copy in progress) and try again",
    )


def missing(path: Path) -> StorageFault:
    return StorageFault(
        path,
        f"no database at {path}",
        "check [database] url in the config (or --config), or restore a backup",
    )


# --- recognising them ----------------------------------------------------------------------------


def diagnose(
    exc: BaseException, path: Path | None, *, role: str = "database"
) -> StorageFault | None:
    """The storage fault behind `exc` (for the database at `path`), or None if it is not one.

    Looks through the whole chain: SQLAlchemy's `.orig`, `__cause__` and `__context__`.
    role="backup" words the folder faults for a backup being written at `path`.
    """
    for error in _chain(exc):
        if isinstance(error, StorageFault):
            return error
        fault = _from_alembic(error, path)
        if fault is None and isinstance(error, sqlite3.Error):
            fault = _from_sqlite(error, path, role)
        if fault is None and isinstance(error, OSError):
            fault = _from_os(error, path, role)
        if fault is not None:
            return fault
    return None


@contextlib.contextmanager
def translated(path: Path | None) -> Iterator[None]:
    """Re-raises a storage fault inside the block as a StorageFault; anything else as it is."""
    try:
        yield
    except StorageFault:
        raise
    except Exception as exc:
        fault = diagnose(exc, path)
        if fault is None:
            raise
        raise fault from exc


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        error = todo.pop(0)
        if id(error) in seen:
            continue
        seen.add(id(error))
        yield error
        for linked in (getattr(error, "orig", None), error.__cause__, error.__context__):
            if isinstance(linked, BaseException):
                todo.append(linked)


def _from_alembic(error: BaseException, path: Path | None) -> StorageFault | None:
    # Alembic raises ResolutionError(message, argument) for a revision it has no script for; the
    # only way a database names one is that a newer loyalty-bot upgraded it.
    from alembic.script.revision import ResolutionError

    if isinstance(error, ResolutionError) and isinstance(error.argument, str):
        from .migrate import head_revision

        return newer(path, error.argument, head_revision())
    return None


def _from_sqlite(error: sqlite3.Error, path: Path | None, role: str) -> StorageFault | None:
    code = getattr(error, "sqlite_errorcode", None)
    if not isinstance(code, int):
        return None
    primary = code & 0xFF
    if primary in (SQLITE_NOTADB, SQLITE_CORRUPT):
        return damaged(path) if path is not None else None
    if primary == SQLITE_FULL:
        return disk_full(path)
    if primary in (SQLITE_CANTOPEN, SQLITE_READONLY, SQLITE_PERM):
        return _access(path, role) if path is not None else None
    if primary == SQLITE_IOERR:
        return io_error(path)
    if primary in (SQLITE_BUSY, SQLITE_LOCKED):
        return busy(path)
    return None


def _from_os(error: OSError, path: Path | None, role: str) -> StorageFault | None:
    if path is None:
        return None
    filename = error.filename
    # Only errors about the database, its folder or the files beside it (WAL, lock, backups'
    # temporary copies): an unwritable --out file of a report is not the database's problem.
    about = filename is None or _related(Path(os.fsdecode(filename)), path)
    if error.errno in _FULL_ERRNOS:
        return disk_full(path if about or filename is None else Path(os.fsdecode(filename)))
    if not about or filename is None:
        return None
    if error.errno == errno.EROFS:
        return read_only_filesystem(path, path.parent, role)
    if error.errno == errno.ENOTDIR or (error.errno == errno.EEXIST and not path.parent.is_dir()):
        return folder_is_a_file(path, _file_among_parents(path) or path.parent, role)
    if error.errno in _ACCESS_ERRNOS:
        return _access(path, role)
    return None


def _related(filename: Path, path: Path) -> bool:
    folder = path.parent
    return filename == folder or filename.parent == folder or filename in folder.parents


def _access(path: Path, role: str = "database") -> StorageFault:
    """Which of the database's folder and file this user can't use; from what the disk says."""
    blocker = _file_among_parents(path)
    if blocker is not None:
        return folder_is_a_file(path, blocker, role)
    folder = path.parent
    existing = next((p for p in (folder, *folder.parents) if p.exists()), folder)
    if not os.access(existing, os.W_OK | os.X_OK):
        return folder_not_writable(path, existing, role)
    if (stuck := _unwritable_file(path)) is not None:
        return file_not_writable(stuck)
    return folder_not_writable(path, existing, role)


def _unwritable_file(path: Path) -> Path | None:
    """The database file, or one of the files SQLite and the lock keep beside it, that this
    user can't read and write (left behind by a command run as root, say)."""
    for candidate in (path, *(Path(f"{path}{suffix}") for suffix in ("-wal", "-shm", ".lock"))):
        if candidate.exists() and not os.access(candidate, os.R_OK | os.W_OK):
            return candidate
    return None


def _file_among_parents(path: Path) -> Path | None:
    """The first of the database's parent folders that is in fact a file, if any."""
    for parent in reversed(path.parents):
        if parent.exists() and not parent.is_dir():
            return parent
    return None


def _folder(path: Path | None) -> Path | str:
    if path is None:
        return "the database"
    return path.parent


# --- finding them before anything is written -----------------------------------------------------


def check_folder(path: Path) -> None:
    """Makes sure the database's folder exists and this user can write there and in the file.

    Creates the folder (as opening the database would). Raises StorageFault.
    """
    folder = path.parent
    with translated(path):
        if (blocker := _file_among_parents(path)) is not None:
            raise folder_is_a_file(path, blocker)
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK | os.X_OK):
            raise folder_not_writable(path, folder)
        if (stuck := _unwritable_file(path)) is not None:
            raise file_not_writable(stuck)
        if shutil.disk_usage(folder).free < MIN_FREE_BYTES:
            raise disk_full(path)


def check_file(path: Path, *, quick_check_limit: int = QUICK_CHECK_LIMIT) -> None:
    """Reads the database without changing it: is it ours, undamaged, and not too new?

    A missing or empty file is fine (it becomes a new database). Raises StorageFault.
    """
    if not path.exists() or path.stat().st_size == 0:
        return
    from .migrate import known_revisions

    with translated(path), contextlib.closing(open_read_only(path)) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "alembic_version" not in tables:
            if tables - {"sqlite_sequence"}:
                raise foreign(path)
            return
        row = db.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = row[0] if row else None
        known = known_revisions()
        if revision is not None and revision not in known:
            raise newer(path, revision, known[-1] if known else None)
        if path.stat().st_size <= quick_check_limit:
            result = [r[0] for r in db.execute("PRAGMA quick_check")]
            if result != ["ok"]:
                raise damaged(path)


def open_read_only(path: Path) -> sqlite3.Connection:
    """A connection that cannot write (query_only), on a file that must already exist.

    Not `mode=ro`: a read-only connection to a WAL database leaves its -wal and -shm files
    behind; this one removes them on close like any other, and changes no byte of the file.
    """
    if not path.exists():
        raise missing(path)
    db = sqlite3.connect(path, timeout=10)
    try:
        db.execute("PRAGMA query_only=ON")
    except BaseException:
        db.close()
        raise
    return db
