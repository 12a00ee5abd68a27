"""Storage faults in one line: every command, every fault, a real broken file (issue 11).

Each test breaks a real database the way a disk or an operator would, runs the command as
`loyalty-bot` would (bot.cli.main, in this process, for speed: tests/e2e/test_storage.py runs
some as real processes), and checks the three promises: one line on stderr that names the file
and says what to do, exit status 1, and the file's bytes unchanged.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import cli, logs
from core.db.faults import StorageFault, check_file, diagnose
from core.db.migrate import known_revisions
from tests.support.storage import (
    Outcome,
    build_at,
    build_shop,
    digest,
    fill_the_disk,
    foreign,
    garbled_page,
    random_bytes,
    stamped,
    truncated,
    unwritable,
    write_config,
)

COMMANDS = {
    "run": ["run"],
    "db upgrade": ["db", "upgrade"],
    "report": ["report"],
    "console": ["console"],
}
HEAD = known_revisions()[-1]
OPERATIONS = "restore the last backup (see docs/operations.md)"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_shop(tmp_path_factory.mktemp("shop"))


@pytest.fixture(autouse=True)
def quiet_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    # `run` sets up root logging for a real process; here it would take pytest's handlers away.
    monkeypatch.setattr(logs, "configure", lambda *args, **kwargs: None)


@pytest.fixture(autouse=True)
def no_token_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)


def loyalty_bot(
    command: str, config: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> Outcome:
    code = cli.main([*COMMANDS.get(command, command.split()), "--config", str(config), *extra])
    out, err = capsys.readouterr()
    return Outcome(code, out, err)


def assert_one_line(done: Outcome, command: str, message: str) -> None:
    assert done.returncode == 1, done.stderr
    assert done.lines == [f"loyalty-bot {command}: {message}"]
    assert "Traceback" not in done.stderr


# --- a file that is not ours, or damaged -------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_random_bytes_are_not_a_database(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "loyalty.db"
    random_bytes(db)
    before = digest(db)

    done = loyalty_bot(command, write_config(tmp_path, db), capsys)

    assert_one_line(
        done, command, f"{db} is not a loyalty-bot database or is damaged: {OPERATIONS}"
    )
    assert digest(db) == before


@pytest.mark.parametrize("command", COMMANDS)
def test_a_truncated_copy_is_damaged(
    command: str, tmp_path: Path, shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "loyalty.db"
    truncated(db, shop)
    before = digest(db)

    done = loyalty_bot(command, write_config(tmp_path, db), capsys)

    assert_one_line(
        done, command, f"{db} is not a loyalty-bot database or is damaged: {OPERATIONS}"
    )
    assert digest(db) == before


# `report` reads only the pages its figures need: a garbled page elsewhere is found by
# `db check` (tests/integration/test_db_check.py), not by a report.
@pytest.mark.parametrize("command", ["run", "db upgrade", "console"])
def test_a_garbled_page_is_found_before_the_bot_starts(
    command: str, tmp_path: Path, shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "loyalty.db"
    garbled_page(db, shop)
    before = digest(db)

    done = loyalty_bot(command, write_config(tmp_path, db), capsys)

    assert_one_line(
        done, command, f"{db} is not a loyalty-bot database or is damaged: {OPERATIONS}"
    )
    assert digest(db) == before


@pytest.mark.parametrize("command", COMMANDS)
def test_a_schema_from_a_newer_loyalty_bot_asks_for_that_version(
    command: str, tmp_path: Path, shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "loyalty.db"
    stamped(db, shop, "0042")
    before = digest(db)

    done = loyalty_bot(command, write_config(tmp_path, db), capsys)

    assert_one_line(
        done,
        command,
        f"{db} was upgraded by a newer loyalty-bot (revision 0042; this one knows up to {HEAD}): "
        "install that version",
    )
    assert digest(db) == before


@pytest.mark.parametrize("command", ["run", "db upgrade", "console"])
def test_another_programs_database_is_left_alone(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "recipes.db"
    foreign(db)
    before = digest(db)

    done = loyalty_bot(command, write_config(tmp_path, db), capsys)

    assert_one_line(
        done,
        command,
        f"{db} is a database of another program (it has tables but no loyalty-bot schema): "
        "set [database] url to a new file, or restore the right one",
    )
    assert digest(db) == before


# --- the folder --------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "db upgrade", "console"])
def test_a_database_folder_that_is_a_file(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("not a folder")
    db = blocker / "shop" / "loyalty.db"

    done = loyalty_bot(command, write_config(tmp_path, db), capsys)

    assert_one_line(
        done,
        command,
        f"the database folder {blocker} is a file, not a folder: "
        "set [database] url to a path in a folder this user can write",
    )
    assert blocker.read_text() == "not a folder"


@pytest.mark.parametrize("command", COMMANDS)
def test_a_database_folder_this_user_cannot_write(
    command: str, tmp_path: Path, shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    db = folder / "loyalty.db"
    shutil.copyfile(shop, db)
    before = digest(db)
    config = write_config(tmp_path, db)

    with unwritable(folder):
        done = loyalty_bot(command, config, capsys)
        left = sorted(p.name for p in folder.iterdir())

    assert_one_line(
        done,
        command,
        f"the database folder {folder} is not writable by this user: let this user write there "
        "(chown/chmod), or set [database] url to a path in a folder this user can write",
    )
    assert digest(db) == before
    assert left == ["loyalty.db"]


@pytest.mark.parametrize("left", ["loyalty.db.lock", "loyalty.db"])
def test_a_file_this_user_cannot_write_is_named(
    left: str, tmp_path: Path, shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # As after `sudo loyalty-bot run` once: root's files beside the database.
    db = tmp_path / "loyalty.db"
    shutil.copyfile(shop, db)
    (tmp_path / "loyalty.db.lock").touch()
    before = digest(db)
    config = write_config(tmp_path, db)

    with unwritable(tmp_path / left):
        done = loyalty_bot("run", config, capsys)

    assert_one_line(
        done,
        "run",
        f"the database file {tmp_path / left} is not readable and writable by this user: "
        "let this user read and write it (chown/chmod)",
    )
    assert digest(db) == before


# --- a full disk -------------------------------------------------------------------------------


@pytest.fixture
def older_shop(tmp_path: Path) -> Iterator[Path]:
    """A database one migration behind: starting anything must write (the upgrade)."""
    yield build_at(tmp_path / "loyalty.db", known_revisions()[-2])


@pytest.mark.parametrize("command", COMMANDS)
def test_a_full_disk_says_free_some_space(
    command: str,
    tmp_path: Path,
    older_shop: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = digest(older_shop)
    config = write_config(tmp_path, older_shop)
    fill_the_disk(monkeypatch)

    done = loyalty_bot(command, config, capsys)

    assert_one_line(
        done, command, f"the disk holding {tmp_path} is full: free some space, then start again"
    )
    assert digest(older_shop) == before


def test_a_full_disk_while_building_the_demo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path, tmp_path / "loyalty.db")
    fill_the_disk(monkeypatch)

    done = loyalty_bot("demo", config, capsys)

    assert done.returncode == 1
    assert done.lines[-1] == (
        f"loyalty-bot demo: the disk holding {tmp_path} is full: free some space, then start again"
    )


def test_too_little_free_space_is_refused_before_anything_is_written(
    tmp_path: Path, shop: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "loyalty.db"
    shutil.copyfile(shop, db)
    before = digest(db)

    class Usage:
        total, used, free = 10**9, 10**9 - 4096, 4096

    monkeypatch.setattr(shutil, "disk_usage", lambda path: Usage)
    done = loyalty_bot("run", write_config(tmp_path, db), capsys)

    assert_one_line(
        done, "run", f"the disk holding {tmp_path} is full: free some space, then start again"
    )
    assert digest(db) == before


# --- recognised by kind and code, not by wording -----------------------------------------------


@pytest.mark.parametrize(
    ("errno_name", "expected"),
    [
        ("ENOSPC", "the disk holding {folder} is full"),
        ("EROFS", "the database folder {folder} is on a read-only file system"),
    ],
)
def test_os_errors_about_the_database_are_recognised_by_errno(
    tmp_path: Path, errno_name: str, expected: str
) -> None:
    import errno

    db = tmp_path / "loyalty.db"
    error = OSError(getattr(errno, errno_name), "message in any language", str(db) + "-wal")
    fault = diagnose(error, db)
    assert fault is not None and str(fault).startswith(expected.format(folder=tmp_path))


def test_an_os_error_about_another_file_is_not_a_database_fault(tmp_path: Path) -> None:
    import errno

    error = PermissionError(errno.EACCES, "Permission denied", "/elsewhere/report.csv")
    assert diagnose(error, tmp_path / "loyalty.db") is None


def test_other_errors_are_not_storage_faults(tmp_path: Path) -> None:
    assert diagnose(ValueError("a bug"), tmp_path / "loyalty.db") is None


def test_a_healthy_database_passes_the_start_checks(shop: Path) -> None:
    check_file(shop)  # no StorageFault


def test_a_storage_fault_is_a_loyalty_error_with_its_path_and_advice(tmp_path: Path) -> None:
    random_bytes(tmp_path / "x.db")
    with pytest.raises(StorageFault) as caught:
        check_file(tmp_path / "x.db")
    assert caught.value.path == tmp_path / "x.db"
    assert caught.value.advice == OPERATIONS


# --- db's usage mistakes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["db", "upgrade", "x.db"], "loyalty-bot db upgrade: takes no file"),
        (["db", "backup", "x.db"], "loyalty-bot db backup: takes no file (did you mean --to"),
        (["db", "restore"], "loyalty-bot db restore: which backup?"),
    ],
)
def test_db_usage_mistakes_are_one_line_and_exit_2(
    args: list[str], said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main([*args, "--config", str(write_config(tmp_path, tmp_path / "loyalty.db"))])
    lines = capsys.readouterr().err.splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith(said)
    assert not (tmp_path / "loyalty.db").exists()


def test_db_check_on_a_postgresql_server_it_cannot_reach_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """(tests/integration/test_db_postgres.py checks a reachable one, and backup's refusal.)"""
    config = tmp_path / "config.toml"
    config.write_text('[database]\nurl = "postgresql+asyncpg://bot:hunter2@127.0.0.1:9/loyalty"\n')
    code = cli.main(["db", "check", "--config", str(config)])
    err = capsys.readouterr().err
    assert code == 1 and "hunter2" not in err and "Traceback" not in err
    assert err.splitlines() == [
        "loyalty-bot db check: cannot read postgresql+asyncpg://bot:***@127.0.0.1:9/loyalty: "
        + err.split("/loyalty: ", 1)[1].strip()
    ]
