"""Load and validate the bot's TOML config into frozen dataclasses.

Everything the bot needs to run comes from one file (config.example.toml documents every key)
plus the TELEGRAM_BOT_TOKEN environment variable. A bad file is one ConfigError naming the key by
its dotted path ("tiers[2].multiplier") so `loyalty-bot check-config` can say exactly what to fix
in a single line. Every key is optional; missing ones take the built-in defaults below, which are
exactly the program in config.example.toml.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Final, TypeVar

import phonenumbers

from core.errors import ConfigError
from core.types import Program, Reward, Tier

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_DATABASE_URL",
    "DEFAULT_PROGRAM",
    "TOKEN_ENV_VAR",
    "Config",
    "ReportsConfig",
    "StaffConfig",
    "TelegramConfig",
    "describe",
    "load_config",
    "redact_url",
    "sqlite_path",
]

T = TypeVar("T")

TOKEN_ENV_VAR: Final = "TELEGRAM_BOT_TOKEN"
DEFAULT_BASE_URL: Final = "https://api.telegram.org/bot"
DEFAULT_DATABASE_URL: Final = "sqlite+aiosqlite:///loyalty.db"
DEFAULT_CONFIG_FILE: Final = Path("config.toml")

DEFAULT_PROGRAM: Final = Program(
    currency="GBP",
    points_per_unit=Decimal(1),
    signup_bonus=0,
    reset_after_redemption=False,
    max_purchase=Decimal(10000),
    default_region="GB",
    tiers=(
        Tier("Bronze", 0, Decimal("1.0")),
        Tier("Silver", 500, Decimal("1.25")),
        Tier("Gold", 2000, Decimal("1.5")),
    ),
    rewards=(
        Reward("coffee", "Free coffee", 100, Decimal("2.50")),
        Reward("cake", "Slice of cake", 250, Decimal("3.50")),
        Reward("tenoff", "£10 off your shop", 1000, Decimal("10.00")),
    ),
)

# Reward ids travel in Telegram callback data (64 bytes at most), so keep them short and plain.
_REWARD_ID = re.compile(r"[a-z0-9_-]{1,20}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_REGION = re.compile(r"[A-Z]{2}")
_HH_MM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
# user:password@ in a URL; the password must never reach logs or check-config output.
_URL_PASSWORD = re.compile(r"(?P<head>://[^/@:]*:)[^/@]*(?P<tail>@)")


# --- the config ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TelegramConfig:
    # "" when not set: check-config still works without one. repr=False keeps the secret out of
    # logs and tracebacks that print the config.
    token: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL


@dataclass(frozen=True)
class StaffConfig:
    admins: tuple[int, ...] = ()  # Telegram user ids
    cashiers: tuple[int, ...] = ()


@dataclass(frozen=True)
class ReportsConfig:
    digest_time: dt.time = dt.time(9, 0)
    timezone: str = "Europe/London"  # an IANA name, checked with zoneinfo at load time

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Config:
    telegram: TelegramConfig
    database_url: str  # SQLite paths are already absolute
    staff: StaffConfig = field(default_factory=StaffConfig)
    program: Program = DEFAULT_PROGRAM
    reports: ReportsConfig = field(default_factory=ReportsConfig)
    path: Path | None = None  # the file it came from; None for built-in defaults


# --- loading ---------------------------------------------------------------------------------


def load_config(path: Path | None = None, *, environ: Mapping[str, str] | None = None) -> Config:
    """Read, validate and return the config; raise one ConfigError for the first problem.

    With no path, ./config.toml is used when it exists, else the built-in defaults.
    """
    env = os.environ if environ is None else environ
    if path is None:
        path = DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.exists() else None
    elif not path.exists():
        raise ConfigError("config", f"file not found: {path}")

    if path is None:
        data: dict[str, object] = {}
        base_dir = Path.cwd()
    else:
        path = path.absolute()
        data = _read_toml(path)
        base_dir = path.parent
    return _build(data, path=path, base_dir=base_dir, environ=env)


def _read_toml(path: Path) -> dict[str, object]:
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError("config", f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError("config", f"{path} is not UTF-8 text") from exc
    try:
        # Decimal, not float: 1.1 in the file must be exactly 1.1 when points are computed.
        return tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        # The message already ends "(at line N, column M)".
        raise ConfigError("config", f"invalid TOML in {path}: {exc}") from exc


_SECTIONS: Final = ("telegram", "database", "staff", "program", "reports", "tiers", "rewards")


def _build(
    data: dict[str, object], *, path: Path | None, base_dir: Path, environ: Mapping[str, str]
) -> Config:
    for key, value in data.items():
        if key not in _SECTIONS:
            kind = "section" if isinstance(value, dict) else "key"
            raise ConfigError(key, f"unknown {kind} (sections are: {', '.join(_SECTIONS)})")

    telegram = _telegram(_section(data, "telegram"), environ)
    database_url = _database_url(_section(data, "database"), base_dir)
    staff = _staff(_section(data, "staff"))
    program = _program(_section(data, "program"), data)
    reports = _reports(_section(data, "reports"))
    return Config(
        telegram=telegram,
        database_url=database_url,
        staff=staff,
        program=program,
        reports=reports,
        path=path,
    )


def _telegram(t: _Table, environ: Mapping[str, str]) -> TelegramConfig:
    t.only("token", "base_url")
    file_token = t.get("token", _as_str, "", secret=True).strip()
    env_token = environ.get(TOKEN_ENV_VAR, "").strip()
    base_url = t.get("base_url", _as_str, DEFAULT_BASE_URL).strip()
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(t.path("base_url"), "expected an http:// or https:// URL")
    # The environment wins so a deployment can keep the secret out of the file.
    return TelegramConfig(token=env_token or file_token, base_url=base_url)


def _database_url(t: _Table, base_dir: Path) -> str:
    t.only("url")
    url = t.get("url", _as_str, DEFAULT_DATABASE_URL).strip()
    if "://" not in url:
        raise ConfigError(t.path("url"), f"expected a URL such as {DEFAULT_DATABASE_URL!r}")
    return _absolute_sqlite_url(url, base_dir)


def _staff(t: _Table) -> StaffConfig:
    t.only("admins", "cashiers")
    return StaffConfig(admins=t.get_ids("admins"), cashiers=t.get_ids("cashiers"))


def _program(t: _Table, data: dict[str, object]) -> Program:
    d = DEFAULT_PROGRAM
    t.only(
        "currency",
        "points_per_unit",
        "signup_bonus",
        "reset_after_redemption",
        "max_purchase",
        "default_region",
    )
    currency = t.get("currency", _as_str, d.currency)
    if not _CURRENCY.fullmatch(currency):
        raise ConfigError(
            t.path("currency"),
            f"expected a 3-letter upper-case code such as GBP, got {_short(currency)!r}",
        )
    points_per_unit = t.get("points_per_unit", _as_number, d.points_per_unit)
    _check_positive(points_per_unit, t.path("points_per_unit"))
    signup_bonus = t.get("signup_bonus", _as_int, d.signup_bonus)
    if signup_bonus < 0:
        raise ConfigError(t.path("signup_bonus"), f"must be 0 or more, got {signup_bonus}")
    reset = t.get("reset_after_redemption", _as_bool, d.reset_after_redemption)
    max_purchase = t.get("max_purchase", _as_number, d.max_purchase)
    _check_positive(max_purchase, t.path("max_purchase"))
    region = t.get("default_region", _as_str, d.default_region)
    if not _REGION.fullmatch(region):
        raise ConfigError(
            t.path("default_region"),
            f"expected a 2-letter upper-case region such as GB, got {_short(region)!r}",
        )
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(t.path("default_region"), f"unknown phone region {region!r}")
    return Program(
        currency=currency,
        points_per_unit=points_per_unit,
        signup_bonus=signup_bonus,
        reset_after_redemption=reset,
        max_purchase=max_purchase,
        default_region=region,
        tiers=_tiers(data),
        rewards=_rewards(data),
    )


def _tiers(data: dict[str, object]) -> tuple[Tier, ...]:
    items = _array_of_tables(data, "tiers")
    if items is None:
        return DEFAULT_PROGRAM.tiers
    if not items:
        raise ConfigError("tiers", "at least one tier is required")
    tiers: list[Tier] = []
    seen: dict[str, str] = {}  # casefolded name -> where it was first seen
    for t in items:
        t.only("name", "min_points", "multiplier")
        name = _check_name(t.get("name", _as_str), t.path("name"))
        min_points = t.get("min_points", _as_int)
        multiplier = t.get("multiplier", _as_number)
        if (first := seen.setdefault(name.casefold(), t.prefix)) != t.prefix:
            raise ConfigError(t.path("name"), f"duplicate tier name {name!r} (also {first})")
        if not tiers and min_points != 0:
            raise ConfigError(
                t.path("min_points"), f"the first tier must start at 0 points, got {min_points}"
            )
        if tiers and min_points <= tiers[-1].min_points:
            raise ConfigError(
                t.path("min_points"),
                f"tiers must be ordered by min_points: {min_points} is not more than "
                f"{tiers[-1].min_points} ({tiers[-1].name})",
            )
        _check_positive(multiplier, t.path("multiplier"))
        tiers.append(Tier(name=name, min_points=min_points, multiplier=multiplier))
    return tuple(tiers)


def _rewards(data: dict[str, object]) -> tuple[Reward, ...]:
    items = _array_of_tables(data, "rewards")
    if items is None:
        return DEFAULT_PROGRAM.rewards
    # An explicit empty list is allowed: a shop may run points before deciding on rewards.
    rewards: list[Reward] = []
    seen: dict[str, str] = {}
    for t in items:
        t.only("id", "name", "cost", "value")
        reward_id = t.get("id", _as_str)
        if not _REWARD_ID.fullmatch(reward_id):
            raise ConfigError(
                t.path("id"),
                f"expected 1-20 characters of a-z, 0-9, _ or -, got {_short(reward_id)!r}",
            )
        if (first := seen.setdefault(reward_id, t.prefix)) != t.prefix:
            raise ConfigError(t.path("id"), f"duplicate reward id {reward_id!r} (also {first})")
        name = _check_name(t.get("name", _as_str), t.path("name"))
        cost = t.get("cost", _as_int)
        if cost <= 0:
            raise ConfigError(t.path("cost"), f"must be greater than 0, got {cost}")
        value: Decimal | None = t.get("value", _as_number, None)
        if value is not None:
            _check_positive(value, t.path("value"))
        rewards.append(Reward(id=reward_id, name=name, cost=cost, value=value))
    return tuple(rewards)


def _reports(t: _Table) -> ReportsConfig:
    d = ReportsConfig()
    t.only("digest_time", "timezone")
    digest_time = t.get("digest_time", _as_hh_mm, d.digest_time)
    timezone = t.get("timezone", _as_str, d.timezone)
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ConfigError(
            t.path("timezone"),
            f"unknown time zone {_short(timezone)!r} (expected a name such as Europe/London)",
        ) from exc
    return ReportsConfig(digest_time=digest_time, timezone=timezone)


# --- reading typed values --------------------------------------------------------------------


class _Missing:
    """Marks a required key: there is no default to fall back on."""


_REQUIRED: Final = _Missing()


class _Table:
    """One TOML table plus its dotted path, so every error can name the exact key."""

    def __init__(self, values: dict[str, object], prefix: str) -> None:
        self.values = values
        self.prefix = prefix

    def path(self, key: str) -> str:
        return f"{self.prefix}.{key}"

    def only(self, *allowed: str) -> None:
        for key in self.values:
            if key not in allowed:
                raise ConfigError(
                    self.path(key), f"unknown key (expected one of: {', '.join(allowed)})"
                )

    def get(
        self,
        key: str,
        convert: Callable[[object], T],
        default: T | _Missing = _REQUIRED,
        *,
        secret: bool = False,
    ) -> T:
        if key not in self.values:
            if isinstance(default, _Missing):
                raise ConfigError(self.path(key), "required key is missing")
            return default
        value = self.values[key]
        try:
            return convert(value)
        except _WrongTypeError as exc:
            # Never echo a secret back, even a mistyped one.
            got = _kind(value) if secret else _describe(value)
            raise ConfigError(self.path(key), f"expected {exc.expected}, got {got}") from None

    def get_ids(self, key: str) -> tuple[int, ...]:
        no_ids: list[object] = []
        items = self.get(key, _as_list, no_ids)
        ids: list[int] = []
        for index, item in enumerate(items):
            where = f"{self.path(key)}[{index}]"
            try:
                user_id = _as_int(item)
            except _WrongTypeError:
                raise ConfigError(
                    where, f"expected a Telegram user id (an integer), got {_describe(item)}"
                ) from None
            if user_id <= 0:
                raise ConfigError(where, f"expected a positive Telegram user id, got {user_id}")
            ids.append(user_id)
        return tuple(ids)


class _WrongTypeError(Exception):
    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


def _section(data: dict[str, object], name: str) -> _Table:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(name, f"expected a [{name}] section, got {_describe(value)}")
    return _Table(value, name)


def _array_of_tables(data: dict[str, object], name: str) -> list[_Table] | None:
    if name not in data:
        return None
    value = data[name]
    if not isinstance(value, list):
        raise ConfigError(name, f"expected [[{name}]] entries, got {_describe(value)}")
    tables: list[_Table] = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise ConfigError(f"{name}[{index}]", f"expected a table, got {_describe(item)}")
        tables.append(_Table(item, f"{name}[{index}]"))
    return tables


def _as_str(value: object) -> str:
    if not isinstance(value, str):
        raise _WrongTypeError("a string")
    return value


def _as_int(value: object) -> int:
    # bool is a subclass of int: `true` must not pass as 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise _WrongTypeError("an integer")
    return value


def _as_bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise _WrongTypeError("a boolean (true or false)")
    return value


def _as_number(value: object) -> Decimal:
    if isinstance(value, bool):
        raise _WrongTypeError("a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal) and value.is_finite():
        return value
    raise _WrongTypeError("a number")


def _as_list(value: object) -> list[object]:
    if not isinstance(value, list):
        raise _WrongTypeError("an array")
    return value


def _as_hh_mm(value: object) -> dt.time:
    # A TOML local time (09:00:00) is accepted too; a quoted "HH:MM" is what the example uses.
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0)
    if isinstance(value, str) and (match := _HH_MM.fullmatch(value)):
        return dt.time(int(match[1]), int(match[2]))
    raise _WrongTypeError('a time "HH:MM" such as "09:00"')


def _check_positive(value: Decimal, key: str) -> None:
    if value <= 0:
        raise ConfigError(key, f"must be greater than 0, got {_number(value)}")


def _check_name(name: str, key: str) -> str:
    name = name.strip()
    if not name:
        raise ConfigError(key, "must not be empty")
    return name


# Checked in order: bool before int (a subclass), datetime before date (a subclass).
_KINDS: Final[tuple[tuple[type, str], ...]] = (
    (bool, "a boolean"),
    (int, "an integer"),
    (Decimal, "a float"),
    (str, "a string"),
    (dict, "a table"),
    (list, "an array"),
    (dt.datetime, "a date-time"),
    (dt.date, "a date"),
    (dt.time, "a time"),
)


def _kind(value: object) -> str:
    """The TOML name of a value's type, for "expected X, got Y"."""
    for python_type, name in _KINDS:
        if isinstance(value, python_type):
            return name
    return type(value).__name__


def _describe(value: object) -> str:
    """'string 'abc'', 'integer 3', 'boolean true': the kind plus the value, kept short."""
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, Decimal):
        return f"float {value}"
    if isinstance(value, str):
        return f"string {_short(value)!r}"
    if isinstance(value, dt.date | dt.time):
        return f"{_kind(value).removeprefix('a ')} {value.isoformat()}"
    return _kind(value)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- database URLs ---------------------------------------------------------------------------


def _split_sqlite(url: str) -> tuple[str, str, str] | None:
    """(scheme://, database, ?query) for a SQLite URL; None for any other database."""
    scheme, sep, rest = url.partition("://")
    if not sep or not (scheme == "sqlite" or scheme.startswith("sqlite+")):
        return None
    # sqlite:///relative.db -> "/relative.db"; sqlite:////abs.db -> "//abs.db"; sqlite:// -> "".
    database, qmark, query = rest.partition("?")
    return scheme + sep, database.removeprefix("/"), qmark + query


def sqlite_path(url: str) -> Path | None:
    """The database file a SQLite URL points at, or None (in-memory, URI mode, not SQLite)."""
    parts = _split_sqlite(url)
    if parts is None:
        return None
    _, database, query = parts
    if database in ("", ":memory:") or "uri=true" in query.lower():
        return None
    return Path(database)


def _absolute_sqlite_url(url: str, base_dir: Path) -> str:
    """Pin a relative SQLite path to base_dir, so the bot finds its data from any working dir."""
    parts = _split_sqlite(url)
    path = sqlite_path(url)
    if parts is None or path is None:
        return url
    path = path.expanduser()
    if path.is_absolute():
        return url
    # normpath, not resolve(): keep symlinked folders as the operator wrote them.
    absolute = Path(os.path.normpath(base_dir.absolute() / path))
    scheme, _, query = parts
    return f"{scheme}/{absolute}{query}"


def redact_url(url: str) -> str:
    """The URL with any password replaced by ***."""
    return _URL_PASSWORD.sub(r"\g<head>***\g<tail>", url)


# --- check-config ----------------------------------------------------------------------------


def describe(config: Config) -> str:
    """A human summary for `loyalty-bot check-config`; never shows the token or a password."""
    p = config.program
    r = config.reports
    s = config.staff
    source = str(config.path) if config.path else "none (built-in defaults)"
    token = "set" if config.telegram.token else f"NOT SET (set {TOKEN_ENV_VAR} or [telegram] token)"
    reset = (
        "on: a redemption spends the whole balance"
        if p.reset_after_redemption
        else "off: a redemption spends the reward's cost"
    )
    lines = [
        f"config file:    {source}",
        f"database:       {redact_url(config.database_url)}",
        f"bot token:      {token}",
        f"bot API:        {redact_url(config.telegram.base_url)}",
        f"staff:          {_plural(len(s.admins), 'admin')}, {_plural(len(s.cashiers), 'cashier')}",
        f"currency:       {p.currency}",
        f"points:         {_number(p.points_per_unit)} per 1 {p.currency} spent",
        f"signup bonus:   {_plural(p.signup_bonus, 'point')}",
        f"reset mode:     {reset}",
        f"max purchase:   {_number(p.max_purchase)} {p.currency}",
        f"phone region:   {p.default_region}",
        f"daily digest:   {r.digest_time:%H:%M} {r.timezone}",
        f"tiers ({len(p.tiers)}):",
    ]
    name_width = max((len(t.name) for t in p.tiers), default=0)
    for tier in p.tiers:
        multiplier = _number(tier.multiplier)
        lines.append(f"  {tier.name:<{name_width}}  from {tier.min_points} points  x{multiplier}")
    lines.append(f"rewards ({len(p.rewards)}):" if p.rewards else "rewards: none")
    id_width = max((len(w.id) for w in p.rewards), default=0)
    name_width = max((len(w.name) for w in p.rewards), default=0)
    for reward in p.rewards:
        worth = "" if reward.value is None else f"  worth {_number(reward.value)} {p.currency}"
        lines.append(
            f"  {reward.id:<{id_width}}  {reward.name:<{name_width}}  {reward.cost} points{worth}"
        )
    return "\n".join(lines)


def _number(value: Decimal) -> str:
    # "f" keeps 1E+1 from the file readable as 10.
    return format(value, "f")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
