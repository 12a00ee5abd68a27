"""Loading config.toml: read the file, check every key, build the Config (core/config/model.py).

Everything the bot needs to run comes from one file (config.example.toml documents every key)
plus the TELEGRAM_BOT_TOKEN environment variable. A bad file is one ConfigError naming the key by
its dotted path ("tiers[2].multiplier") so `loyalty-bot check-config` can say exactly what to fix
in a single line. Every key is optional; missing ones take the built-in defaults of model.py,
which are exactly the program in config.example.toml.
"""

from __future__ import annotations

import os
import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Final, cast, get_args

import phonenumbers

from core.errors import ConfigError
from core.expiry import POLICIES, ExpiryPolicy
from core.types import CrossingRate, MoneyOff, Program, Reward, Tier, TierBasis, TierPolicy

from .campaigns import campaigns
from .model import (
    DEFAULT_BASE_URL,
    DEFAULT_DATABASE_URL,
    DEFAULT_PROGRAM,
    SHIPPED_LANGUAGES,
    TOKEN_ENV_VAR,
    BackupConfig,
    BirthdayConfig,
    Config,
    CorrectionsConfig,
    ReportsConfig,
    ShopConfig,
    StaffConfig,
    TelegramConfig,
)
from .urls import absolute_sqlite_url
from .values import (
    Table,
    array_of_tables,
    as_bool,
    as_hh_mm,
    as_int,
    as_number,
    as_str,
    check_name,
    check_positive,
    section,
    short,
)

DEFAULT_CONFIG_FILE: Final = Path("config.toml")

# Reward ids travel in Telegram callback data (64 bytes at most), so keep them short and plain.
_REWARD_ID = re.compile(r"[a-z0-9_-]{1,20}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_REGION = re.compile(r"[A-Z]{2}")


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


_SECTIONS: Final = (
    "telegram",
    "database",
    "staff",
    "program",
    "reports",
    "backup",
    "corrections",
    "shop",
    "expiry",
    "tiers",
    "rewards",
    "campaigns",
    "birthday",
    "referral",
)


def _build(
    data: dict[str, object], *, path: Path | None, base_dir: Path, environ: Mapping[str, str]
) -> Config:
    for key, value in data.items():
        if key not in _SECTIONS:
            kind = "section" if isinstance(value, dict) else "key"
            raise ConfigError(key, f"unknown {kind} (sections are: {', '.join(_SECTIONS)})")

    telegram = _telegram(section(data, "telegram"), environ)
    database_url = _database_url(section(data, "database"), base_dir)
    staff = _staff(section(data, "staff"))
    program = _program(section(data, "program"), data)
    reports = _reports(section(data, "reports"))
    # The shop's day decides which year a credit counts in: the tier policy keeps its zone.
    policy = replace(program.tier_policy, timezone=reports.timezone)
    # Campaigns run on the shop's clock, [reports] timezone: the program carries both, so the
    # rules that price a purchase (core.rules.quote_earn) need nothing else.
    bonus, limit = _referral(section(data, "referral"))
    program = replace(
        program,
        tier_policy=policy,
        campaigns=campaigns(data),
        timezone=reports.timezone,
        referral_bonus=bonus,
        referral_monthly_limit=limit,
    )
    backup = _backup(section(data, "backup"))
    corrections = _corrections(section(data, "corrections"))
    shop = _shop(section(data, "shop"))
    expiry = _expiry(section(data, "expiry"))
    birthday = _birthday(section(data, "birthday"))
    return Config(
        telegram=telegram,
        database_url=database_url,
        staff=staff,
        program=program,
        reports=reports,
        backup=backup,
        corrections=corrections,
        shop=shop,
        expiry=expiry,
        birthday=birthday,
        path=path,
    )


def _telegram(t: Table, environ: Mapping[str, str]) -> TelegramConfig:
    t.only("token", "base_url", "webhook_url", "webhook_listen")
    file_token = t.get("token", as_str, "", secret=True).strip()
    env_token = environ.get(TOKEN_ENV_VAR, "").strip()
    base_url = t.get("base_url", as_str, DEFAULT_BASE_URL).strip()
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(t.path("base_url"), "expected an http:// or https:// URL")
    webhook_url = t.get("webhook_url", as_str, "").strip()
    if webhook_url and not webhook_url.startswith(("https://", "http://")):
        raise ConfigError(t.path("webhook_url"), "expected an https:// URL")
    if webhook_url.startswith("http://") and base_url == DEFAULT_BASE_URL:
        # Only a self-hosted Bot API server (base_url) posts to plain http.
        raise ConfigError(t.path("webhook_url"), "Telegram sends updates only to an https:// URL")
    listen = t.get("webhook_listen", as_str, "127.0.0.1:8443").strip()
    try:
        webhook_listen = parse_listen(listen)
    except ValueError as exc:
        raise ConfigError(t.path("webhook_listen"), str(exc)) from None
    # The environment wins so a deployment can keep the secret out of the file.
    return TelegramConfig(
        token=env_token or file_token,
        base_url=base_url,
        webhook_url=webhook_url,
        webhook_listen=webhook_listen,
    )


def parse_listen(text: str) -> tuple[str, int]:
    """'0.0.0.0:8443' -> ('0.0.0.0', 8443); ValueError saying what is expected."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port such as 127.0.0.1:8443, got {short(text)!r}")
    return host.strip("[]"), int(port)


def _database_url(t: Table, base_dir: Path) -> str:
    t.only("url")
    url = t.get("url", as_str, DEFAULT_DATABASE_URL).strip()
    if "://" not in url:
        raise ConfigError(t.path("url"), f"expected a URL such as {DEFAULT_DATABASE_URL!r}")
    return absolute_sqlite_url(url, base_dir)


def _staff(t: Table) -> StaffConfig:
    t.only("admins", "cashiers")
    return StaffConfig(admins=t.get_ids("admins"), cashiers=t.get_ids("cashiers"))


def _program(t: Table, data: dict[str, object]) -> Program:
    d = DEFAULT_PROGRAM
    t.only(
        "currency",
        "points_per_unit",
        "signup_bonus",
        "reset_after_redemption",
        "max_purchase",
        "min_purchase",
        "default_region",
        "tier_basis",
        "tier_rate_on_crossing",
    )
    currency = t.get("currency", as_str, d.currency)
    if not _CURRENCY.fullmatch(currency):
        raise ConfigError(
            t.path("currency"),
            f"expected a 3-letter upper-case code such as GBP, got {short(currency)!r}",
        )
    points_per_unit = t.get("points_per_unit", as_number, d.points_per_unit)
    check_positive(points_per_unit, t.path("points_per_unit"))
    signup_bonus = t.get("signup_bonus", as_int, d.signup_bonus)
    if signup_bonus < 0:
        raise ConfigError(t.path("signup_bonus"), f"must be 0 or more, got {signup_bonus}")
    reset = t.get("reset_after_redemption", as_bool, d.reset_after_redemption)
    max_purchase = t.get("max_purchase", as_number, d.max_purchase)
    check_positive(max_purchase, t.path("max_purchase"))
    min_purchase = t.get("min_purchase", as_number, d.min_purchase)
    if min_purchase < 0 or min_purchase >= max_purchase:
        raise ConfigError(
            t.path("min_purchase"), f"must be 0 or more and below max_purchase, got {min_purchase}"
        )
    region = t.get("default_region", as_str, d.default_region)
    if not _REGION.fullmatch(region):
        raise ConfigError(
            t.path("default_region"),
            f"expected a 2-letter upper-case region such as GB, got {short(region)!r}",
        )
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(t.path("default_region"), f"unknown phone region {region!r}")
    basis = t.get("tier_basis", as_str, d.tier_policy.basis)
    if basis not in get_args(TierBasis):
        raise ConfigError(
            t.path("tier_basis"),
            f"expected one of {', '.join(get_args(TierBasis))}, got {short(basis)!r}",
        )
    crossing = t.get("tier_rate_on_crossing", as_str, d.tier_policy.crossing)
    if crossing not in get_args(CrossingRate):
        raise ConfigError(
            t.path("tier_rate_on_crossing"),
            f"expected before or after (which tier's multiplier the purchase that crosses a "
            f"threshold earns at), got {short(crossing)!r}",
        )
    return Program(
        currency=currency,
        points_per_unit=points_per_unit,
        signup_bonus=signup_bonus,
        reset_after_redemption=reset,
        max_purchase=max_purchase,
        min_purchase=min_purchase,
        default_region=region,
        tiers=_tiers(data),
        rewards=_rewards(data),
        tier_policy=TierPolicy(basis=cast(TierBasis, basis), crossing=cast(CrossingRate, crossing)),
    )


def _tiers(data: dict[str, object]) -> tuple[Tier, ...]:
    items = array_of_tables(data, "tiers")
    if items is None:
        return DEFAULT_PROGRAM.tiers
    if not items:
        raise ConfigError("tiers", "at least one tier is required")
    tiers: list[Tier] = []
    seen: dict[str, str] = {}  # casefolded name -> where it was first seen
    for t in items:
        t.only("name", "min_points", "multiplier")
        name = check_name(t.get("name", as_str), t.path("name"))
        min_points = t.get("min_points", as_int)
        multiplier = t.get("multiplier", as_number)
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
        check_positive(multiplier, t.path("multiplier"))
        tiers.append(Tier(name=name, min_points=min_points, multiplier=multiplier))
    return tuple(tiers)


def _rewards(data: dict[str, object]) -> tuple[Reward, ...]:
    items = array_of_tables(data, "rewards")
    if items is None:
        return DEFAULT_PROGRAM.rewards
    # An explicit empty list is allowed: a shop may run points before deciding on rewards.
    rewards: list[Reward] = []
    seen: dict[str, str] = {}
    for t in items:
        t.only(
            "id", "name", "cost", "value",
            "money_off", "points_per_unit", "step", "min_points", "max_share",
        )  # fmt: skip
        reward_id = t.get("id", as_str)
        if not _REWARD_ID.fullmatch(reward_id):
            raise ConfigError(
                t.path("id"),
                f"expected 1-20 characters of a-z, 0-9, _ or -, got {short(reward_id)!r}",
            )
        if (first := seen.setdefault(reward_id, t.prefix)) != t.prefix:
            raise ConfigError(t.path("id"), f"duplicate reward id {reward_id!r} (also {first})")
        name = check_name(t.get("name", as_str), t.path("name"))
        if t.get("money_off", as_bool, False):
            rewards.append(_money_off(t, reward_id, name))
            continue
        for key in ("points_per_unit", "step", "min_points", "max_share"):
            if key in t.values:
                raise ConfigError(t.path(key), "only a money-off reward (money_off = true) has it")
        cost = t.get("cost", as_int)
        if cost <= 0:
            raise ConfigError(t.path("cost"), f"must be greater than 0, got {cost}")
        value: Decimal | None = t.get("value", as_number, None)
        if value is not None:
            check_positive(value, t.path("value"))
        rewards.append(Reward(id=reward_id, name=name, cost=cost, value=value))
    return tuple(rewards)


def _money_off(t: Table, reward_id: str, name: str) -> Reward:
    """A money-off reward (core/money_off.py): points_per_unit points take 1.00 off the bill."""
    if "cost" in t.values:
        raise ConfigError(
            t.path("cost"), "a money-off reward has no cost: its min_points is the least it takes"
        )
    per_unit = t.get("points_per_unit", as_int)
    if per_unit <= 0:
        raise ConfigError(t.path("points_per_unit"), f"must be greater than 0, got {per_unit}")
    step = t.get("step", as_number, Decimal("1.00"))
    check_positive(step, t.path("step"))
    if step % Decimal("0.01") != 0 or (step * per_unit) % 1 != 0:
        raise ConfigError(
            t.path("step"),
            f"must be whole cents that cost whole points ({step} x {per_unit} points)",
        )
    min_points = t.get("min_points", as_int, int(step * per_unit))
    if min_points <= 0:
        raise ConfigError(t.path("min_points"), f"must be greater than 0, got {min_points}")
    max_share = t.get("max_share", as_number, Decimal(1))
    if not Decimal(0) < max_share <= 1:
        raise ConfigError(
            t.path("max_share"),
            f"must be more than 0 and at most 1 (all the bill), got {max_share}",
        )
    value: Decimal | None = t.get("value", as_number, None)
    if value is not None:
        check_positive(value, t.path("value"))
    rule = MoneyOff(per_unit, step, min_points, max_share)
    # Its worth is exact: what its least redemption takes off, so reports can value points.
    worth = value if value is not None else Decimal(min_points) / per_unit
    return Reward(reward_id, name, min_points, worth, money_off=rule)


def _reports(t: Table) -> ReportsConfig:
    d = ReportsConfig()
    t.only("digest_time", "timezone")
    digest_time = t.get("digest_time", as_hh_mm, d.digest_time)
    timezone = t.get("timezone", as_str, d.timezone)
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ConfigError(
            t.path("timezone"),
            f"unknown time zone {short(timezone)!r} (expected a name such as Europe/London)",
        ) from exc
    return ReportsConfig(digest_time=digest_time, timezone=timezone)


def _corrections(t: Table) -> CorrectionsConfig:
    d = CorrectionsConfig()
    t.only("undo_minutes")
    minutes = t.get("undo_minutes", as_int, d.undo_minutes)
    if not 0 <= minutes <= 24 * 60:
        raise ConfigError(t.path("undo_minutes"), f"must be 0 (no Undo) to 1440, got {minutes}")
    return CorrectionsConfig(undo_minutes=minutes)


def _backup(t: Table) -> BackupConfig:
    d = BackupConfig()
    t.only("folder", "keep", "time")
    folder = t.get("folder", as_str, d.folder).strip()
    keep = t.get("keep", as_int, d.keep)
    if keep < 1:
        raise ConfigError(t.path("keep"), f"must be 1 or more, got {keep}")
    return BackupConfig(folder=folder, keep=keep, time=t.get("time", as_hh_mm, d.time))


def _shop(t: Table) -> ShopConfig:
    t.only("language")
    language = t.get("language", as_str, ShopConfig().language).strip().lower()
    if language not in SHIPPED_LANGUAGES:
        raise ConfigError(
            t.path("language"),
            f"{short(language)!r} is not a language the bot speaks "
            f"(choose one of: {', '.join(SHIPPED_LANGUAGES)})",
        )
    return ShopConfig(language=language)


def _expiry(t: Table) -> ExpiryPolicy:
    d = ExpiryPolicy()
    t.only("policy", "days", "years", "remind_days")
    policy = t.get("policy", as_str, d.policy)
    if policy not in POLICIES:
        raise ConfigError(
            t.path("policy"), f"must be one of {', '.join(POLICIES)}, got {short(policy)!r}"
        )
    days = t.get("days", as_int, d.days)
    years = t.get("years", as_int, d.years)
    remind_days = t.get("remind_days", as_int, d.remind_days)
    if not 1 <= days <= 36500:
        raise ConfigError(t.path("days"), f"must be 1 to 36500, got {days}")
    if not 0 <= years <= 100:
        raise ConfigError(
            t.path("years"), f"must be 0 (the end of the year earned) to 100, got {years}"
        )
    if not 0 <= remind_days <= 365:
        raise ConfigError(
            t.path("remind_days"), f"must be 0 (no reminder) to 365, got {remind_days}"
        )
    return ExpiryPolicy(policy=policy, days=days, years=years, remind_days=remind_days)


def _birthday(t: Table) -> BirthdayConfig:
    d = BirthdayConfig()
    t.only("bonus", "time")
    bonus = t.get("bonus", as_int, d.bonus)
    if not 0 <= bonus <= 1_000_000:
        raise ConfigError(t.path("bonus"), f"must be 0 (no bonus) to 1000000, got {bonus}")
    return BirthdayConfig(bonus=bonus, time=t.get("time", as_hh_mm, d.time))


def _referral(t: Table) -> tuple[int, int]:
    """([referral] bonus, monthly_limit): both 0 or more."""
    t.only("bonus", "monthly_limit")
    d = DEFAULT_PROGRAM
    bonus = t.get("bonus", as_int, d.referral_bonus)
    limit = t.get("monthly_limit", as_int, d.referral_monthly_limit)
    for key, value in (("bonus", bonus), ("monthly_limit", limit)):
        if not 0 <= value <= 1_000_000:
            raise ConfigError(t.path(key), f"must be 0 to 1000000, got {value}")
    return bonus, limit
