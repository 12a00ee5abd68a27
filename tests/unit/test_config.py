"""core.config: loading config.toml, its defaults, and one clear error per mistake."""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.config import (
    DEFAULT_PROGRAM,
    Config,
    StaffConfig,
    describe,
    load_config,
    redact_url,
    sqlite_path,
)
from core.errors import ConfigError
from core.types import MoneyOff, Program, Reward, TierPolicy

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
TOKEN = "123456:ABC-secret-token-value"


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> Config:
    return load_config(write(tmp_path, text), environ=environ or {})


def _build_from_text(text: str) -> Config:
    with tempfile.TemporaryDirectory() as folder:
        return load_config(write(Path(folder), text), environ={})


# --- the example file and the defaults -------------------------------------------------------


def test_the_example_file_loads_and_its_program_equals_the_built_in_defaults() -> None:
    config = load_config(EXAMPLE, environ={})
    assert config.program == DEFAULT_PROGRAM
    assert config.path == EXAMPLE


def test_the_defaults_are_the_documented_program() -> None:
    assert DEFAULT_PROGRAM.currency == "GBP"
    assert DEFAULT_PROGRAM.points_per_unit == Decimal(1)
    assert DEFAULT_PROGRAM.signup_bonus == 0
    assert DEFAULT_PROGRAM.reset_after_redemption is False
    assert DEFAULT_PROGRAM.max_purchase == Decimal(10000)
    assert DEFAULT_PROGRAM.default_region == "GB"
    assert [(t.name, t.min_points, t.multiplier) for t in DEFAULT_PROGRAM.tiers] == [
        ("Bronze", 0, Decimal("1.0")),
        ("Silver", 500, Decimal("1.25")),
        ("Gold", 2000, Decimal("1.5")),
    ]
    assert [(r.id, r.name, r.cost, r.value) for r in DEFAULT_PROGRAM.rewards] == [
        ("coffee", "Free coffee", 100, Decimal("2.50")),
        ("cake", "Slice of cake", 250, Decimal("3.50")),
        ("tenoff", "£10 off your shop", 1000, Decimal("10.00")),
    ]


def test_the_example_file_documents_every_key_with_a_comment() -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    keys = [
        "token",
        "base_url",
        "url",
        "admins",
        "cashiers",
        "currency",
        "points_per_unit",
        "signup_bonus",
        "reset_after_redemption",
        "max_purchase",
        "default_region",
        "digest_time",
        "timezone",
        "folder",
        "keep",
        "time",
        "min_purchase",
        "bonus",
        "monthly_limit",
    ]
    for key in keys:
        # A key in two sections ([backup] and [birthday] time) is documented in each.
        found = [i for i, line in enumerate(lines) if line.startswith(f"{key} = ")]
        assert found, f"{key} is not in the example"
        for index in found:
            assert lines[index - 1].startswith("#"), f"{key} has no comment above it"
    # The [[rewards]] keys repeat per reward, so they are documented once, above the first.
    first_reward = lines.index("[[rewards]]")
    rewards_comment = " ".join(lines[first_reward - 6 : first_reward])
    for key in ("id:", "name:", "cost:", "value (optional):"):
        assert key in rewards_comment, f"[[rewards]] {key} is not documented"


def test_no_file_in_the_working_directory_gives_the_built_in_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(environ={})
    assert config.path is None
    assert config.program == DEFAULT_PROGRAM
    assert config.telegram.token == ""
    assert config.staff == StaffConfig(admins=(), cashiers=())
    assert config.reports.digest_time == dt.time(9, 0)
    assert config.reports.timezone == "Europe/London"
    assert config.database_url == f"sqlite+aiosqlite:///{tmp_path / 'loyalty.db'}"


def test_config_toml_in_the_working_directory_is_used_when_no_path_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "[program]\nsignup_bonus = 50\n")
    monkeypatch.chdir(tmp_path)
    config = load_config(environ={})
    assert config.path == tmp_path / "config.toml"
    assert config.program.signup_bonus == 50


def test_an_empty_file_takes_every_default(tmp_path: Path) -> None:
    config = load(tmp_path, "")
    assert config.program == DEFAULT_PROGRAM
    assert config.telegram.base_url == "https://api.telegram.org/bot"


# --- values ----------------------------------------------------------------------------------


def test_a_multiplier_of_1_1_is_exactly_decimal_1_1(tmp_path: Path) -> None:
    config = load(tmp_path, '[[tiers]]\nname = "All"\nmin_points = 0\nmultiplier = 1.1\n')
    (tier,) = config.program.tiers
    assert isinstance(tier.multiplier, Decimal)
    assert tier.multiplier == Decimal("1.1")
    assert str(tier.multiplier) == "1.1"


@given(
    st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(1000), places=4).map(
        lambda d: format(d, "f")
    )
)
def test_any_decimal_literal_in_the_file_is_read_exactly(literal: str) -> None:
    # Written by hand, not with tmp_path: hypothesis reruns the body with one fixture value.
    config = _build_from_text(f"[program]\npoints_per_unit = {literal}\n")
    assert config.program.points_per_unit == Decimal(literal)
    assert str(config.program.points_per_unit) == literal


def test_integers_become_decimals_where_a_decimal_is_wanted(tmp_path: Path) -> None:
    config = load(tmp_path, "[program]\npoints_per_unit = 2\nmax_purchase = 500\n")
    assert config.program.points_per_unit == Decimal(2)
    assert isinstance(config.program.points_per_unit, Decimal)
    assert isinstance(config.program.max_purchase, Decimal)


def test_a_full_program_is_read_as_written(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """
        [staff]
        admins = [111]
        cashiers = [222, 333]

        [program]
        currency = "EUR"
        points_per_unit = 0.5
        signup_bonus = 25
        reset_after_redemption = true
        max_purchase = 250.50
        default_region = "IE"
        tier_basis = "calendar_year"
        tier_rate_on_crossing = "after"

        [reports]
        digest_time = "18:30"
        timezone = "Europe/Dublin"

        [[tiers]]
        name = "Member"
        min_points = 0
        multiplier = 1

        [[rewards]]
        id = "tea"
        name = "Pot of tea"
        cost = 40
        """,
    )
    assert config.staff.admins == (111,)
    assert config.staff.cashiers == (222, 333)
    assert config.program == Program(
        currency="EUR",
        points_per_unit=Decimal("0.5"),
        signup_bonus=25,
        reset_after_redemption=True,
        max_purchase=Decimal("250.50"),
        default_region="IE",
        tiers=config.program.tiers,
        rewards=config.program.rewards,
        # The shop's zone decides which year a credit is in, so the policy carries it.
        tier_policy=TierPolicy("calendar_year", "after", "Europe/Dublin"),
        timezone="Europe/Dublin",  # [reports] timezone: the clock campaigns run on
    )
    assert [t.name for t in config.program.tiers] == ["Member"]
    assert [r.id for r in config.program.rewards] == ["tea"]
    assert config.reports.digest_time == dt.time(18, 30)
    assert config.reports.timezone == "Europe/Dublin"


def test_an_explicit_empty_rewards_list_means_no_rewards(tmp_path: Path) -> None:
    assert load(tmp_path, "rewards = []\n").program.rewards == ()


def test_a_reward_value_is_an_exact_decimal_and_optional(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        '[[rewards]]\nid = "tea"\nname = "Tea"\ncost = 40\nvalue = 1.10\n'
        '[[rewards]]\nid = "mug"\nname = "Mug"\ncost = 900\nvalue = 12\n'
        '[[rewards]]\nid = "hug"\nname = "Hug"\ncost = 5\n',
    )
    tea, mug, hug = config.program.rewards
    assert isinstance(tea.value, Decimal) and str(tea.value) == "1.10"
    assert mug.value == Decimal(12)
    assert hug.value is None


def test_a_toml_local_time_is_accepted_as_the_digest_time(tmp_path: Path) -> None:
    config = load(tmp_path, "[reports]\ndigest_time = 07:15:00\n")
    assert config.reports.digest_time == dt.time(7, 15)


# --- the token -------------------------------------------------------------------------------


def test_the_environment_token_wins_over_the_file(tmp_path: Path) -> None:
    config = load(
        tmp_path, '[telegram]\ntoken = "from-file"\n', environ={"TELEGRAM_BOT_TOKEN": TOKEN}
    )
    assert config.telegram.token == TOKEN


def test_the_file_token_is_used_when_the_environment_has_none(tmp_path: Path) -> None:
    config = load(tmp_path, '[telegram]\ntoken = "from-file"\n', environ={})
    assert config.telegram.token == "from-file"


def test_the_environment_token_is_used_without_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_config(environ={"TELEGRAM_BOT_TOKEN": TOKEN}).telegram.token == TOKEN


def test_the_token_never_shows_in_the_config_repr(tmp_path: Path) -> None:
    config = load(tmp_path, "", environ={"TELEGRAM_BOT_TOKEN": TOKEN})
    assert TOKEN not in repr(config)


# --- the database URL ------------------------------------------------------------------------


def test_a_relative_sqlite_path_is_resolved_against_the_config_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    path = write(folder, '[database]\nurl = "sqlite+aiosqlite:///data/shop.db"\n')
    monkeypatch.chdir(tmp_path)  # somewhere else: the working directory must not matter
    config = load_config(path, environ={})
    assert config.database_url == f"sqlite+aiosqlite:///{folder / 'data' / 'shop.db'}"
    assert sqlite_path(config.database_url) == folder / "data" / "shop.db"


def test_the_default_database_sits_next_to_the_config_file(tmp_path: Path) -> None:
    config = load(tmp_path, "")
    assert sqlite_path(config.database_url) == tmp_path / "loyalty.db"


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:///:memory:",
        "sqlite+aiosqlite://",
        "sqlite+aiosqlite:////var/lib/loyalty/loyalty.db",
        "postgresql+asyncpg://bot:secret@db.example.com/loyalty",
    ],
)
def test_memory_absolute_and_non_sqlite_urls_are_kept_unchanged(tmp_path: Path, url: str) -> None:
    assert load(tmp_path, f'[database]\nurl = "{url}"\n').database_url == url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite+aiosqlite:///loyalty.db", Path("loyalty.db")),
        ("sqlite:////var/lib/x.db", Path("/var/lib/x.db")),
        ("sqlite+aiosqlite:////var/lib/x.db?timeout=5", Path("/var/lib/x.db")),
        ("sqlite+aiosqlite:///:memory:", None),
        ("sqlite://", None),
        ("postgresql://u@h/db", None),
    ],
)
def test_sqlite_path_names_the_database_file_or_none(url: str, expected: Path | None) -> None:
    assert sqlite_path(url) == expected


def test_a_query_string_survives_making_the_path_absolute(tmp_path: Path) -> None:
    config = load(tmp_path, '[database]\nurl = "sqlite+aiosqlite:///x.db?timeout=5"\n')
    assert config.database_url == f"sqlite+aiosqlite:///{tmp_path / 'x.db'}?timeout=5"


def test_redact_url_hides_the_password_only() -> None:
    assert redact_url("postgresql://bot:s3cret@db:5432/x") == "postgresql://bot:***@db:5432/x"
    assert redact_url("sqlite+aiosqlite:////a/b.db") == "sqlite+aiosqlite:////a/b.db"


# --- errors ----------------------------------------------------------------------------------

TIER = '[[tiers]]\nname = "{name}"\nmin_points = {min_points}\nmultiplier = {multiplier}\n'
BRONZE = TIER.format(name="Bronze", min_points=0, multiplier=1)
SILVER = TIER.format(name="Silver", min_points=500, multiplier=1.25)
REWARD = '[[rewards]]\nid = "{id}"\nname = "{name}"\ncost = {cost}\n'
COFFEE = REWARD.format(id="coffee", name="Coffee", cost=100)

ERRORS = [
    # unknown sections and keys
    ("[loyalty]\nx = 1\n", "loyalty", "unknown section"),
    ('currency = "GBP"\n', "currency", "unknown key"),
    ("[program]\npoints_per_pound = 2\n", "program.points_per_pound", "unknown key"),
    ('[telegram]\nchat = "x"\n', "telegram.chat", "unknown key"),
    (BRONZE + "colour = 'brown'\n", "tiers[0].colour", "unknown key"),
    (COFFEE + "stock = 3\n", "rewards[0].stock", "unknown key"),
    (COFFEE + "value = 0\n", "rewards[0].value", "must be greater than 0, got 0"),
    (COFFEE + "value = -2.50\n", "rewards[0].value", "must be greater than 0, got -2.50"),
    (COFFEE + 'value = "2.50"\n', "rewards[0].value", "expected a number, got string '2.50'"),
    (COFFEE + "value = nan\n", "rewards[0].value", "expected a number"),
    # wrong types
    (
        '[program]\nsignup_bonus = "abc"\n',
        "program.signup_bonus",
        "expected an integer, got string 'abc'",
    ),
    (
        "[program]\nsignup_bonus = 2.5\n",
        "program.signup_bonus",
        "expected an integer, got float 2.5",
    ),
    (
        "[program]\nsignup_bonus = true\n",
        "program.signup_bonus",
        "expected an integer, got boolean true",
    ),
    (
        '[program]\npoints_per_unit = "1"\n',
        "program.points_per_unit",
        "expected a number, got string '1'",
    ),
    (
        "[program]\npoints_per_unit = true\n",
        "program.points_per_unit",
        "expected a number, got boolean true",
    ),
    (
        "[program]\nmax_purchase = inf\n",
        "program.max_purchase",
        "expected a number, got float Infinity",
    ),
    ("[program]\nmax_purchase = nan\n", "program.max_purchase", "expected a number"),
    (
        "[program]\nreset_after_redemption = 1\n",
        "program.reset_after_redemption",
        "expected a boolean (true or false), got integer 1",
    ),
    (
        '[program]\nreset_after_redemption = "yes"\n',
        "program.reset_after_redemption",
        "expected a boolean (true or false), got string 'yes'",
    ),
    ("[database]\nurl = 5\n", "database.url", "expected a string, got integer 5"),
    ("program = 3\n", "program", "expected a [program] section, got integer 3"),
    ("[tiers]\nname = 'x'\n", "tiers", "expected [[tiers]] entries, got a table"),
    ("tiers = [1]\n", "tiers[0]", "expected a table, got integer 1"),
    ('[staff]\nadmins = "123"\n', "staff.admins", "expected an array, got string '123'"),
    # negative or zero
    (
        "[program]\npoints_per_unit = 0\n",
        "program.points_per_unit",
        "must be greater than 0, got 0",
    ),
    (
        "[program]\npoints_per_unit = -0.5\n",
        "program.points_per_unit",
        "must be greater than 0, got -0.5",
    ),
    ("[program]\nmax_purchase = 0\n", "program.max_purchase", "must be greater than 0, got 0"),
    ("[program]\nsignup_bonus = -1\n", "program.signup_bonus", "must be 0 or more, got -1"),
    (
        BRONZE + TIER.format(name="Silver", min_points=500, multiplier=0),
        "tiers[1].multiplier",
        "must be greater than 0, got 0",
    ),
    (
        REWARD.format(id="free", name="Free", cost=0),
        "rewards[0].cost",
        "must be greater than 0, got 0",
    ),
    (
        REWARD.format(id="neg", name="Neg", cost=-5),
        "rewards[0].cost",
        "must be greater than 0, got -5",
    ),
    # tiers
    ("tiers = []\n", "tiers", "at least one tier is required"),
    (SILVER, "tiers[0].min_points", "the first tier must start at 0 points, got 500"),
    (
        BRONZE + SILVER + TIER.format(name="Gold", min_points=500, multiplier=2),
        "tiers[2].min_points",
        "tiers must be ordered by min_points: 500 is not more than 500 (Silver)",
    ),
    (
        BRONZE + TIER.format(name="Silver", min_points=-1, multiplier=2),
        "tiers[1].min_points",
        "tiers must be ordered by min_points",
    ),
    (
        BRONZE + TIER.format(name="bronze", min_points=10, multiplier=2),
        "tiers[1].name",
        "duplicate tier name 'bronze' (also tiers[0])",
    ),
    (
        BRONZE + TIER.format(name="  ", min_points=10, multiplier=2),
        "tiers[1].name",
        "must not be empty",
    ),
    (
        BRONZE + '[[tiers]]\nname = "Silver"\nmin_points = 500\n',
        "tiers[1].multiplier",
        "required key is missing",
    ),
    # rewards
    (
        COFFEE + REWARD.format(id="coffee", name="Another coffee", cost=90),
        "rewards[1].id",
        "duplicate reward id 'coffee' (also rewards[0])",
    ),
    (
        REWARD.format(id="Coffee", name="Coffee", cost=1),
        "rewards[0].id",
        "expected 1-20 characters of a-z, 0-9, _ or -, got 'Coffee'",
    ),
    (
        REWARD.format(id="free coffee", name="Coffee", cost=1),
        "rewards[0].id",
        "expected 1-20 characters",
    ),
    (REWARD.format(id="", name="Coffee", cost=1), "rewards[0].id", "expected 1-20 characters"),
    (
        REWARD.format(id="a" * 21, name="Coffee", cost=1),
        "rewards[0].id",
        "expected 1-20 characters",
    ),
    ('[[rewards]]\nid = "x"\ncost = 5\n', "rewards[0].name", "required key is missing"),
    # program codes
    (
        '[program]\ncurrency = "gbp"\n',
        "program.currency",
        "expected a 3-letter upper-case code such as GBP, got 'gbp'",
    ),
    ('[program]\ncurrency = "POUND"\n', "program.currency", "expected a 3-letter upper-case code"),
    ('[program]\ndefault_region = "UK"\n', "program.default_region", "unknown phone region 'UK'"),
    (
        '[program]\ndefault_region = "gb"\n',
        "program.default_region",
        "expected a 2-letter upper-case region such as GB, got 'gb'",
    ),
    (
        '[program]\ndefault_region = "GBR"\n',
        "program.default_region",
        "expected a 2-letter upper-case region",
    ),
    # staff
    (
        "[staff]\nadmins = [1, -2]\n",
        "staff.admins[1]",
        "expected a positive Telegram user id, got -2",
    ),
    (
        "[staff]\ncashiers = [0]\n",
        "staff.cashiers[0]",
        "expected a positive Telegram user id, got 0",
    ),
    (
        '[staff]\nadmins = [1, "@alice"]\n',
        "staff.admins[1]",
        "expected a Telegram user id (an integer), got string '@alice'",
    ),
    (
        "[staff]\nadmins = [true]\n",
        "staff.admins[0]",
        "expected a Telegram user id (an integer), got boolean true",
    ),
    # reports
    (
        '[reports]\ndigest_time = "9am"\n',
        "reports.digest_time",
        'expected a time "HH:MM" such as "09:00", got string \'9am\'',
    ),
    ('[reports]\ndigest_time = "24:00"\n', "reports.digest_time", 'expected a time "HH:MM"'),
    ('[reports]\ndigest_time = "9:00"\n', "reports.digest_time", 'expected a time "HH:MM"'),
    (
        "[reports]\ndigest_time = 900\n",
        "reports.digest_time",
        'expected a time "HH:MM" such as "09:00", got integer 900',
    ),
    (
        '[reports]\ntimezone = "Mars/Olympus"\n',
        "reports.timezone",
        "unknown time zone 'Mars/Olympus'",
    ),
    ('[reports]\ntimezone = "../etc/passwd"\n', "reports.timezone", "unknown time zone"),
    ('[reports]\ntimezone = "Europe"\n', "reports.timezone", "unknown time zone"),
    # telegram
    (
        '[telegram]\nbase_url = "127.0.0.1:8081/bot"\n',
        "telegram.base_url",
        "expected an http:// or https:// URL",
    ),
    ('[database]\nurl = "loyalty.db"\n', "database.url", "expected a URL such as"),
    (
        '[[rewards]]\nid = "c"\nname = "Off"\nmoney_off = true\npoints_per_unit = 100\ncost = 5\n',
        "rewards[0].cost",
        "a money-off reward has no cost",
    ),
    (
        '[[rewards]]\nid = "c"\nname = "Off"\nmoney_off = true\npoints_per_unit = 3\nstep = 0.5\n',
        "rewards[0].step",
        "must be whole cents that cost whole points",
    ),
    (
        '[[rewards]]\nid = "c"\nname = "Off"\nmoney_off = true\npoints_per_unit = 100\n'
        "max_share = 1.5\n",
        "rewards[0].max_share",
        "must be more than 0 and at most 1",
    ),
    (
        '[[rewards]]\nid = "c"\nname = "Tea"\ncost = 5\nstep = 0.5\n',
        "rewards[0].step",
        "only a money-off reward",
    ),
    (
        '[program]\ntier_basis = "yearly"\n',
        "program.tier_basis",
        "expected one of lifetime, rolling_365, calendar_year",
    ),
    (
        '[program]\ntier_rate_on_crossing = "new"\n',
        "program.tier_rate_on_crossing",
        "expected before or after",
    ),
]


@pytest.mark.parametrize(("toml", "key", "problem"), ERRORS, ids=[key for _, key, _ in ERRORS])
def test_each_mistake_is_one_config_error_naming_the_key(
    tmp_path: Path, toml: str, key: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, toml)
    error = caught.value
    assert error.key == key
    assert error.problem.startswith(problem)
    assert str(error) == f"{key}: {error.problem}"
    assert "\n" not in str(error)


def test_a_mistyped_token_is_reported_without_echoing_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, "[telegram]\ntoken = 123456789\n")
    assert caught.value.key == "telegram.token"
    assert caught.value.problem == "expected a string, got an integer"
    assert "123456789" not in str(caught.value)


def test_the_first_mistake_is_the_one_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, "[program]\nsignup_bonus = -1\nmax_purchase = 0\n")
    assert caught.value.key == "program.signup_bonus"


def test_an_explicit_path_that_does_not_exist_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as caught:
        load_config(missing, environ={})
    assert caught.value.key == "config"
    assert caught.value.problem == f"file not found: {missing}"


def test_a_toml_syntax_error_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[program]\ncurrency = "GBP"\nsignup_bonus = \n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert caught.value.key == "config"
    assert str(path) in caught.value.problem
    assert "line 3" in caught.value.problem
    assert "\n" not in str(caught.value)


def test_a_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'[program]\ncurrency = "\xff"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path, environ={})


# --- describe --------------------------------------------------------------------------------


def test_describe_lists_the_program_tiers_and_rewards(tmp_path: Path) -> None:
    text = describe(load_config(EXAMPLE, environ={}))
    lines = text.splitlines()
    assert str(EXAMPLE) in text

    def line_with(*parts: str) -> bool:
        return any(all(part in line for part in parts) for line in lines)

    assert line_with("Bronze", "from 0 points", "x1.0")
    assert line_with("Silver", "from 500 points", "x1.25")
    assert line_with("Gold", "from 2000 points", "x1.5")
    assert line_with("coffee", "Free coffee", "100 points", "worth 2.50 GBP")
    assert line_with("cake", "Slice of cake", "250 points", "worth 3.50 GBP")
    assert line_with("tenoff", "£10 off your shop", "1000 points", "worth 10.00 GBP")
    assert "GBP" in text
    assert "0 admins, 0 cashiers" in text
    assert "bot token:      NOT SET" in text


def test_describe_says_a_token_is_set_but_never_prints_it(tmp_path: Path) -> None:
    config = load(tmp_path, '[telegram]\ntoken = "file-token-xyz"\n', {"TELEGRAM_BOT_TOKEN": TOKEN})
    text = describe(config)
    assert "bot token:      set" in text
    assert TOKEN not in text
    assert "file-token-xyz" not in text
    assert "123456" not in text


def test_describe_hides_the_database_password(tmp_path: Path) -> None:
    config = load(tmp_path, '[database]\nurl = "postgresql+asyncpg://bot:hunter2@db/loyalty"\n')
    text = describe(config)
    assert "hunter2" not in text
    assert "postgresql+asyncpg://bot:***@db/loyalty" in text


def test_describe_with_built_in_defaults_says_there_is_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text = describe(load_config(environ={}))
    assert "none (built-in defaults)" in text
    assert "reset mode:     off" in text


def test_a_webhook_and_where_to_listen_for_it(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        '[telegram]\nwebhook_url = "https://shop.example.com/hook"\n'
        'webhook_listen = "0.0.0.0:8080"\n',
    )
    assert config.telegram.webhook_url == "https://shop.example.com/hook"
    assert config.telegram.webhook_listen == ("0.0.0.0", 8080)
    assert load(tmp_path, "").telegram.webhook_url == ""  # polling by default


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            'webhook_url = "http://shop.example.com/hook"',
            "telegram.webhook_url: Telegram sends updates only to an https:// URL",
        ),
        ('webhook_url = "shop.example.com"', "telegram.webhook_url: expected an https:// URL"),
        (
            'webhook_listen = "8443"',
            "telegram.webhook_listen: expected host:port such as 127.0.0.1:8443, got '8443'",
        ),
        (
            'webhook_listen = "0.0.0.0:99999"',
            "telegram.webhook_listen: expected host:port such as 127.0.0.1:8443",
        ),
    ],
)
def test_a_webhook_setting_telegram_would_refuse_is_caught_at_load(
    tmp_path: Path, text: str, error: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, f"[telegram]\n{text}\n")
    assert str(caught.value).startswith(error)


def test_a_self_hosted_bot_api_may_post_to_plain_http(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        '[telegram]\nbase_url = "http://127.0.0.1:8081/bot"\n'
        'webhook_url = "http://127.0.0.1:8443/hook"\n',
    )
    assert config.telegram.webhook_url == "http://127.0.0.1:8443/hook"


def test_a_money_off_reward_is_read_with_its_rule_and_defaults(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """
        [[rewards]]
        id = "cash"
        name = "Money off"
        money_off = true
        points_per_unit = 100
        step = 0.50
        min_points = 500
        max_share = 0.5

        [[rewards]]
        id = "pound"
        name = "A pound off"
        money_off = true
        points_per_unit = 80
        """,
    )
    cash, pound = config.program.rewards
    assert cash == Reward(
        "cash", "Money off", 500, Decimal(5), MoneyOff(100, Decimal("0.50"), 500, Decimal("0.5"))
    )
    # Defaults: steps of 1.00, the least is one step, the whole bill may come off.
    assert pound.money_off == MoneyOff(80, Decimal("1.00"), 80, Decimal(1))
    assert (pound.cost, pound.value) == (80, Decimal(1))
