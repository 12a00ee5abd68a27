"""The bot's configuration: one TOML file plus TELEGRAM_BOT_TOKEN, loaded into frozen dataclasses.

- model.py: what a config is (the dataclasses) and the built-in defaults;
- load.py: reading config.toml and checking every key, one ConfigError for the first mistake;
- campaigns.py: reading [[campaigns]];
- values.py: typed values out of TOML, each error naming its key by its dotted path;
- urls.py: database URLs (SQLite paths pinned to the config's folder, passwords hidden);
- summary.py: what `loyalty-bot check-config` prints.
Everyone else imports from here.
"""

from .load import load_config
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
from .summary import describe
from .urls import redact_url, sqlite_path

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_DATABASE_URL",
    "DEFAULT_PROGRAM",
    "SHIPPED_LANGUAGES",
    "TOKEN_ENV_VAR",
    "BackupConfig",
    "BirthdayConfig",
    "Config",
    "CorrectionsConfig",
    "ReportsConfig",
    "ShopConfig",
    "StaffConfig",
    "TelegramConfig",
    "describe",
    "load_config",
    "redact_url",
    "sqlite_path",
]
