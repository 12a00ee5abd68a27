"""`loyalty-bot report` only reads: it never creates a database, and reaches the demo's.

Regression: right after `python3 dev.py console` (which uses loyalty-demo.db), `loyalty-bot
report` silently created an empty ./loyalty.db and reported an empty shop.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main


@pytest.fixture
def shop_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder with no config file, as the current folder: the defaults apply."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    return tmp_path


def test_report_without_a_database_says_where_it_looked_and_creates_nothing(
    shop_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report"]) == 2

    err = capsys.readouterr().err
    assert err.count("\n") == 1  # one line
    assert f"no database at {shop_folder / 'loyalty.db'}" in err
    assert "loyalty-bot report --demo" in err
    assert list(shop_folder.iterdir()) == []


def test_report_demo_without_the_demo_database_says_how_to_build_it(
    shop_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--demo", "--format", "csv"]) == 2

    err = capsys.readouterr().err
    assert f"no demo database at {shop_folder / 'loyalty-demo.db'}" in err
    assert "loyalty-bot demo" in err
    assert list(shop_folder.iterdir()) == []


def test_report_demo_reads_the_demo_shop_and_leaves_the_real_database_alone(
    shop_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo"]) == 0
    capsys.readouterr()

    assert main(["report", "--demo", "--period", "all", "--section", "summary"]) == 0

    printed = capsys.readouterr().out
    assert "SUMMARY · ALL TIME" in printed
    assert "Total: 50 (50 new)" in printed  # the demo shop's 50 customers
    assert not (shop_folder / "loyalty.db").exists()
