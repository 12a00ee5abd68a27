"""What a loaded config is: frozen dataclasses, and the defaults every missing key takes.

The defaults are exactly the program in config.example.toml, so a shop can start with no file.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Final

from core.expiry import ExpiryPolicy
from core.types import Program, Reward, Tier

TOKEN_ENV_VAR: Final = "TELEGRAM_BOT_TOKEN"
DEFAULT_BASE_URL: Final = "https://api.telegram.org/bot"
DEFAULT_DATABASE_URL: Final = "sqlite+aiosqlite:///loyalty.db"

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


@dataclass(frozen=True)
class TelegramConfig:
    # "" when not set: check-config still works without one. repr=False keeps the secret out of
    # logs and tracebacks that print the config.
    token: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    # Updates pushed by Telegram to this HTTPS URL (behind the owner's reverse proxy) instead of
    # long polling; "" polls. `listen` is where the bot itself takes them: "host:port".
    webhook_url: str = ""
    webhook_listen: tuple[str, int] = ("127.0.0.1", 8443)


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
class BackupConfig:
    """The daily backup `loyalty-bot run` makes (bot/backups.py); off when folder is ""."""

    # Relative to the database's own folder, so "backups" sits beside loyalty.db.
    folder: str = "backups"
    keep: int = 7  # the newest daily copies kept; older ones are deleted
    time: dt.time = dt.time(3, 0)  # in [reports] timezone, the shop's

    def folder_for(self, database: Path) -> Path | None:
        """Where the backups of the SQLite file `database` go; None when backups are off."""
        if not self.folder:
            return None
        return database.parent / Path(self.folder).expanduser()


@dataclass(frozen=True)
class CorrectionsConfig:
    """Fixing mistakes (bot/handlers/void.py): how long a cashier may undo their own entry."""

    # Minutes after an earn or a redemption during which its "↩ Undo" button works for the
    # cashier who recorded it; after that an admin voids it with /void.
    undo_minutes: int = 10


# Languages the bot ships complete catalogs for (bot/locale/); `[shop] language` must be one.
SHIPPED_LANGUAGES: Final = ("en", "es", "ru")


@dataclass(frozen=True)
class ShopConfig:
    """The shop itself: the language its people read when the bot knows nothing better."""

    # Replies go out in the language a person chose with /language, else their Telegram app's
    # language when it is shipped, else this one (bot/i18n.py).
    language: str = "en"


@dataclass(frozen=True)
class BirthdayConfig:
    """The yearly birthday bonus (bot/birthdays.py): points, and when the daily job runs."""

    bonus: int = 0  # points credited in the birthday week, once a year; 0: no bonus
    time: dt.time = dt.time(9, 0)  # the daily run, in [reports] timezone


@dataclass(frozen=True)
class Config:
    telegram: TelegramConfig
    database_url: str  # SQLite paths are already absolute
    staff: StaffConfig = field(default_factory=StaffConfig)
    program: Program = DEFAULT_PROGRAM
    reports: ReportsConfig = field(default_factory=ReportsConfig)
    backup: BackupConfig = field(default_factory=BackupConfig)
    corrections: CorrectionsConfig = field(default_factory=CorrectionsConfig)
    shop: ShopConfig = field(default_factory=ShopConfig)
    expiry: ExpiryPolicy = field(default_factory=ExpiryPolicy)  # [expiry]: off by default
    birthday: BirthdayConfig = field(default_factory=BirthdayConfig)
    path: Path | None = None  # the file it came from; None for built-in defaults
