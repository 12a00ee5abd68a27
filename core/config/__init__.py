"""The bot's configuration: one TOML file plus TELEGRAM_BOT_TOKEN (core/config/load.py)."""

from .load import (
    DEFAULT_BASE_URL,
    DEFAULT_DATABASE_URL,
    DEFAULT_PROGRAM,
    TOKEN_ENV_VAR,
    Config,
    ReportsConfig,
    StaffConfig,
    TelegramConfig,
    describe,
    load_config,
    redact_url,
    sqlite_path,
)

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
