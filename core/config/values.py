"""Reading typed values out of parsed TOML, each error naming its key by its dotted path.

"expected an integer, got string 'ten'" at "tiers[2].min_points": one line that says exactly what
to fix, and never echoes a secret back.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Final, TypeVar

from core.errors import ConfigError

T = TypeVar("T")

_HH_MM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


class _Missing:
    """Marks a required key: there is no default to fall back on."""


_REQUIRED: Final = _Missing()


class Table:
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
                user_id = as_int(item)
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


def section(data: dict[str, object], name: str) -> Table:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(name, f"expected a [{name}] section, got {_describe(value)}")
    return Table(value, name)


def array_of_tables(data: dict[str, object], name: str) -> list[Table] | None:
    if name not in data:
        return None
    value = data[name]
    if not isinstance(value, list):
        raise ConfigError(name, f"expected [[{name}]] entries, got {_describe(value)}")
    tables: list[Table] = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise ConfigError(f"{name}[{index}]", f"expected a table, got {_describe(item)}")
        tables.append(Table(item, f"{name}[{index}]"))
    return tables


def as_str(value: object) -> str:
    if not isinstance(value, str):
        raise _WrongTypeError("a string")
    return value


def as_int(value: object) -> int:
    # bool is a subclass of int: `true` must not pass as 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise _WrongTypeError("an integer")
    return value


def as_bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise _WrongTypeError("a boolean (true or false)")
    return value


def as_number(value: object) -> Decimal:
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


def as_list(value: object) -> list[object]:
    return _as_list(value)


def as_date(value: object) -> dt.date:
    # A TOML local date (2026-03-01), or the same quoted; never a date-time.
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _WrongTypeError("a date such as 2026-03-01")


def as_hh_mm(value: object) -> dt.time:
    # A TOML local time (09:00:00) is accepted too; a quoted "HH:MM" is what the example uses.
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0)
    if isinstance(value, str) and (match := _HH_MM.fullmatch(value)):
        return dt.time(int(match[1]), int(match[2]))
    raise _WrongTypeError('a time "HH:MM" such as "09:00"')


def check_positive(value: Decimal, key: str) -> None:
    if value <= 0:
        raise ConfigError(key, f"must be greater than 0, got {number(value)}")


def check_name(name: str, key: str) -> str:
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
        return f"string {short(value)!r}"
    if isinstance(value, dt.date | dt.time):
        return f"{_kind(value).removeprefix('a ')} {value.isoformat()}"
    return _kind(value)


def short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def number(value: Decimal) -> str:
    # "f" keeps 1E+1 from the file readable as 10.
    return format(value, "f")
