"""Storage as an operator meets it: real `loyalty-bot` processes, real files (issue 11).

- a second `run` on a database another `run` serves waits as its standby, saying so, while the
  first alone serves; once the first is killed with SIGKILL (no clean-up at all), the standby
  takes over within seconds; a standby stops cleanly on SIGTERM;
- a fault at start is one line on stderr, also with the real logging set up, and no traceback;
- `db backup`, `db check` and `db restore` from the command line.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.db.migrate import head_revision
from tests.support.chat import Chat
from tests.support.fake_bot_api import FakeBotApi
from tests.support.process import DATABASE_FILE, PROJECT_ROOT, BotProcess, write_config
from tests.support.storage import build_shop, digest, random_bytes, stamped

pytestmark = pytest.mark.e2e

ADMIN = 1001


def loyalty_bot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT)},
    )


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_shop(tmp_path_factory.mktemp("shop"))


def test_a_second_bot_stands_by_and_takes_over_when_the_first_is_killed(
    tmp_path: Path,
) -> None:
    with FakeBotApi() as fake:
        config = write_config(tmp_path, base_url=fake.base_url, admins=[ADMIN])
        admin = Chat(fake, ADMIN)
        with BotProcess(config) as first:
            assert admin.send("/help")  # serving
            with BotProcess(config) as standby:
                standby.wait_for_stderr(
                    rf"standby: another loyalty-bot run \(pid {first.pid}\) is serving "
                    rf"{DATABASE_FILE}; this one takes over as soon as it stops"
                )
                assert standby.running
                assert admin.send("/help")  # the first still answers, alone
                first.stop(signal.SIGKILL)
                killed = time.monotonic()
                standby.wait_for_stderr("serving: this process holds the database's lock")
                assert admin.send("/help")  # the standby answers now
                took_over = time.monotonic() - killed
                assert standby.stop().returncode == 0
        assert took_over < 10
        assert fake.bad_requests == []


def test_a_standby_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    with FakeBotApi() as fake:
        config = write_config(tmp_path, base_url=fake.base_url, admins=[ADMIN])
        with BotProcess(config) as first:
            first.wait_for_stderr("serving: ")  # the first holds the lock before the second starts
            with BotProcess(config) as standby:
                standby.wait_for_stderr("standby: ")
                stopped = standby.stop(signal.SIGTERM)
            assert stopped.returncode == 0
            assert "standby stopped before taking over" in stopped.stderr
            assert first.running


def test_a_fault_at_start_is_one_line_from_the_real_process(tmp_path: Path) -> None:
    db = tmp_path / DATABASE_FILE
    random_bytes(db)
    before = digest(db)
    config = write_config(tmp_path, base_url="http://127.0.0.1:9/bot")
    with BotProcess(config) as bot:
        exited = bot.wait()
    assert exited.returncode == 1
    assert exited.stderr.splitlines() == [
        f"loyalty-bot run: {db} is not a loyalty-bot database or is damaged: "
        "restore the last backup (see docs/operations.md)"
    ]
    assert digest(db) == before


def test_db_upgrade_on_a_newer_schema_is_one_line(tmp_path: Path, shop: Path) -> None:
    db = tmp_path / DATABASE_FILE
    stamped(db, shop, "0042")
    config = write_config(tmp_path, base_url=None)
    done = loyalty_bot("db", "upgrade", "--config", str(config), cwd=tmp_path)
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith(f"loyalty-bot db upgrade: {db} was upgraded by a newer loyalty-bot")
    known = f"this one knows up to {head_revision()}"
    assert line.endswith(f"(revision 0042; {known}): install that version")


def test_backup_check_and_restore_from_the_command_line(tmp_path: Path, shop: Path) -> None:
    db = tmp_path / DATABASE_FILE
    shutil.copyfile(shop, db)
    config = str(write_config(tmp_path, base_url=None))

    made = loyalty_bot("db", "backup", "--config", config, "--to", "saved.db", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip().startswith(
        f"backup written to {tmp_path / 'saved.db'} (50 customers,"
    )
    assert made.stdout.strip().endswith("entries), verified")

    checked = loyalty_bot("db", "check", "--config", config, cwd=tmp_path)
    assert checked.returncode == 0 and checked.stdout.splitlines()[-1] == "healthy"
    checked = loyalty_bot("db", "check", "saved.db", "--config", config, cwd=tmp_path)
    assert checked.stdout.startswith(f"checked {tmp_path / 'saved.db'} ")
    assert checked.returncode == 0 and checked.stdout.splitlines()[-1] == "healthy"

    db.write_bytes(b"oops")  # the database is lost
    checked = loyalty_bot("db", "check", "--config", config, cwd=tmp_path)
    assert checked.returncode == 1 and "NOT healthy" in checked.stdout

    restored = loyalty_bot("db", "restore", "saved.db", "--config", config, cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert f"kept as {tmp_path / 'loyalty.db.before-restore'}" in restored.stdout
    assert (tmp_path / "loyalty.db.before-restore").read_bytes() == b"oops"
    checked = loyalty_bot("db", "check", "--config", config, cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout
