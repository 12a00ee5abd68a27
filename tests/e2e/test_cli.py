"""The command line as a shop owner meets it: check-config, db upgrade, a bad config file."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e  # real subprocesses: skip with -m "not e2e"

ROOT = Path(__file__).resolve().parents[2]


def loyalty_bot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )


def test_check_config_prints_the_example_program(tmp_path: Path) -> None:
    done = loyalty_bot("check-config", "--config", str(ROOT / "config.example.toml"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for shown in ("Bronze", "Silver", "Gold", "Free coffee", "GBP"):
        assert shown in done.stdout


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ('[program]\npoints_per_unit = "lots"\n', "program.points_per_unit"),
        ("[program]\ncolour = 1\n", "program.colour"),
        ('[[tiers]]\nname = "Bronze"\nmin_points = 5\nmultiplier = 1.0\n', "tiers"),
    ],
)
def test_a_bad_config_fails_in_one_line_naming_the_key(
    tmp_path: Path, toml: str, named: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(toml)
    done = loyalty_bot("check-config", "--config", str(config), cwd=tmp_path)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0]
    assert "Traceback" not in done.stderr


def test_db_upgrade_creates_the_schema_beside_the_config(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[database]\nurl = "sqlite+aiosqlite:///shop.db"\n')
    done = loyalty_bot("db", "upgrade", "--config", str(config), cwd=ROOT)
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(tmp_path / "shop.db") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert {"customers", "ledger", "staff"} <= tables
