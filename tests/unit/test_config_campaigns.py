"""[[campaigns]] and [program] min_purchase: read as written, or refused naming the key."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from core.config import load_config
from core.errors import ConfigError
from core.types import BillLevel, Campaign, Program


def program(tmp_path: Path, text: str) -> Program:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, environ={}).program


def test_campaigns_are_read_with_their_times_and_the_shops_time_zone(tmp_path: Path) -> None:
    read = program(
        tmp_path,
        """
        [program]
        min_purchase = 2.50

        [reports]
        timezone = "Europe/Dublin"

        [[campaigns]]
        name = "Double Tuesday"
        start = 2026-01-06
        end = 2026-12-29
        weekdays = ["tue"]
        hours = "10:00-14:00"
        multiplier = 2

        [[campaigns]]
        name = "Big basket"
        start = "2026-01-01"
        bill_bonus = [{ bill = 250, points = 25 }, { bill = 500, points = 60 }]

        [[campaigns]]
        name = "Welcome"
        start = 2026-01-01
        first_purchase_bonus = 50
        public = false
        """,
    )
    assert read.min_purchase == Decimal("2.50")
    assert read.timezone == "Europe/Dublin"
    assert read.campaigns == (
        Campaign(
            name="Double Tuesday",
            start=dt.date(2026, 1, 6),
            end=dt.date(2026, 12, 29),
            weekdays=frozenset({1}),
            hours=(dt.time(10), dt.time(14)),
            multiplier=Decimal(2),
        ),
        Campaign(
            name="Big basket",
            start=dt.date(2026, 1, 1),
            bill_bonus=(BillLevel(Decimal(250), 25), BillLevel(Decimal(500), 60)),
        ),
        Campaign(name="Welcome", start=dt.date(2026, 1, 1), first_purchase_bonus=50, public=False),
    )


def test_no_campaigns_and_no_minimum_by_default(tmp_path: Path) -> None:
    read = program(tmp_path, "")
    assert (read.campaigns, read.min_purchase) == ((), Decimal(0))


BASE = '[[campaigns]]\nname = "X"\nstart = 2026-01-01\n'


@pytest.mark.parametrize(
    ("extra", "where", "says"),
    [
        ("", "campaigns[0]", "give exactly one of multiplier, bill_bonus, first_purchase_bonus"),
        ("multiplier = 2\nfirst_purchase_bonus = 5\n", "campaigns[0]", "(got 2)"),
        ("multiplier = 1\n", "campaigns[0].multiplier", "must be more than 1"),
        ('multiplier = 2\nweekdays = ["tuesday", "funday"]\n', "weekdays[1]", "'funday'"),
        (
            'multiplier = 2\nhours = "14:00-10:00"\n',
            "campaigns[0].hours",
            "the end, 10:00, is not after the start, 14:00",
        ),
        ('multiplier = 2\nhours = "9-5"\n', "campaigns[0].hours", 'expected "HH:MM-HH:MM"'),
        ("multiplier = 2\nend = 2025-12-31\n", "campaigns[0].end", "is before the start"),
        ("multiplier = 2\nstart2 = 1\n", "campaigns[0].start2", "unknown key"),
        (
            "bill_bonus = [{ bill = 500, points = 60 }, { bill = 250, points = 25 }]\n",
            "bill_bonus[1].bill",
            "bills must go up",
        ),
        ("first_purchase_bonus = 0\n", "first_purchase_bonus", "must be greater than 0"),
    ],
)
def test_a_campaign_mistake_names_its_key(
    tmp_path: Path, extra: str, where: str, says: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        program(tmp_path, BASE + extra)
    assert where in str(caught.value)
    assert says in str(caught.value)


def test_a_minimum_at_or_above_the_maximum_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"program\.min_purchase"):
        program(tmp_path, "[program]\nmax_purchase = 100\nmin_purchase = 100\n")


def test_the_commented_campaigns_in_config_example_are_valid(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    lines = example.read_text(encoding="utf-8").splitlines()
    first = lines.index("# [[campaigns]]")
    block = [line.removeprefix("# ").removeprefix("#") for line in lines[first:]]
    end = next(i for i, line in enumerate(block) if line.startswith("Tiers, lowest first"))
    read = program(tmp_path, "\n".join(block[:end]))
    assert [(c.name, c.effect) for c in read.campaigns] == [
        ("Double Tuesday", "multiplier"),
        ("Big basket", "bill_bonus"),
        ("Welcome", "first_purchase"),
    ]
    assert [level.bill for level in read.campaigns[1].bill_bonus] == [
        Decimal(b) for b in (250, 500, 750, 1000, 1250)
    ]


def test_birthday_and_referral_bonuses_are_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[birthday]\nbonus = 100\ntime = "08:30"\n[referral]\nbonus = 50\nmonthly_limit = 3\n',
        encoding="utf-8",
    )
    config = load_config(path, environ={})
    assert (config.birthday.bonus, config.birthday.time) == (100, dt.time(8, 30))
    assert (config.program.referral_bonus, config.program.referral_monthly_limit) == (50, 3)
    defaults = load_config(None, environ={})
    assert (defaults.birthday.bonus, defaults.program.referral_bonus) == (0, 0)  # both off
    path.write_text("[referral]\nmonthly_limit = -1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"referral\.monthly_limit: must be 0 to 1000000"):
        load_config(path, environ={})
    path.write_text("[birthday]\nbonus = -5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"birthday\.bonus"):
        load_config(path, environ={})
