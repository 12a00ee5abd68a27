"""[expiry]: which policy expires points, how long, and when customers are reminded."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import describe, load_config
from core.errors import ConfigError
from core.expiry import ExpiryPolicy


def loaded(tmp_path: Path, text: str) -> ExpiryPolicy:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, environ={}).expiry


def test_expiry_is_off_unless_the_config_turns_it_on(tmp_path: Path) -> None:
    assert loaded(tmp_path, "") == ExpiryPolicy(policy="off", days=365, years=1, remind_days=14)
    assert not loaded(tmp_path, "").on
    policy = loaded(tmp_path, '[expiry]\npolicy = "end_of_year"\nyears = 2\nremind_days = 30\n')
    assert (policy.policy, policy.years, policy.remind_days, policy.on) == (
        "end_of_year",
        2,
        30,
        True,
    )


def test_the_example_config_leaves_expiry_off() -> None:
    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    assert load_config(example, environ={}).expiry == ExpiryPolicy()


def test_check_config_says_what_the_policy_does(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[expiry]\npolicy = "inactivity"\ndays = 180\n', encoding="utf-8")
    summary = describe(load_config(path, environ={}))
    assert "expiry:         points expire after 180 days without a purchase" in summary
    assert "expiry:         off: points never expire" in describe(load_config(None, environ={}))


@pytest.mark.parametrize(
    ("text", "key", "says"),
    [
        ('policy = "monthly"', "expiry.policy", "must be one of off, after_days, end_of_year"),
        ("days = 0", "expiry.days", "must be 1 to 36500, got 0"),
        ("years = -1", "expiry.years", "got -1"),
        ("remind_days = 400", "expiry.remind_days", "got 400"),
        ("expires = 3", "expiry.expires", "unknown key"),
    ],
)
def test_a_mistake_in_expiry_names_the_key(tmp_path: Path, text: str, key: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        loaded(tmp_path, f"[expiry]\n{text}\n")

    assert key in str(caught.value)
    assert says in str(caught.value)
