"""[corrections] undo_minutes: how long "↩ Undo" works after an earn or a redemption."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import load_config
from core.errors import ConfigError


def loaded(tmp_path: Path, text: str) -> int:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, environ={}).corrections.undo_minutes


def test_undo_lasts_ten_minutes_unless_the_config_says_otherwise(tmp_path: Path) -> None:
    assert loaded(tmp_path, "") == 10
    assert loaded(tmp_path, "[corrections]\nundo_minutes = 3\n") == 3
    assert loaded(tmp_path, "[corrections]\nundo_minutes = 0\n") == 0  # no Undo button


@pytest.mark.parametrize(
    ("value", "says"),
    [("-1", "must be 0 (no Undo) to 1440, got -1"), ("1441", "got 1441"), ('"ten"', "")],
)
def test_an_undo_time_out_of_range_names_the_key(tmp_path: Path, value: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        loaded(tmp_path, f"[corrections]\nundo_minutes = {value}\n")

    assert "corrections.undo_minutes" in str(caught.value)
    assert says in str(caught.value)
