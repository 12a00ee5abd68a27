"""Cells for spreadsheets: formula-safe text, local times, amounts (used by csv_export).

A spreadsheet runs a cell that starts with =, +, -, @ (or a tab or carriage return) as a
formula, so such text gets a leading apostrophe and shows as typed. Times are shown in the
shop's zone as "YYYY-MM-DD HH:MM:SS", which spreadsheets read as a date and time; amounts as
"12.50". Each is called once per cell of a million-row export, so each is kept cheap.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo

__all__ = ["LocalTimes", "money", "neutralise", "text_cell"]

_FORMULA_STARTS: Final = "=+-@\t\r"
_HOUR: Final = dt.timedelta(hours=1)


def neutralise(value: str) -> str:
    """Text that a spreadsheet would read as a formula gets a leading apostrophe."""
    return "'" + value if value and value[0] in _FORMULA_STARTS else value


def text_cell(value: str) -> str:
    """A text cell ready for a CSV line: neutralised, then quoted as csv.writer's excel dialect
    quotes (only when it holds a comma, a double quote or a line break; quotes doubled)."""
    if value and value[0] in _FORMULA_STARTS:
        value = "'" + value
    if "," in value or '"' in value or "\n" in value or "\r" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def money(minor: int | Decimal) -> str:
    """Pence to "12.50", in exact integer arithmetic. (PostgreSQL's SUM of integers is a
    numeric, which arrives as a whole Decimal: made an int first, as SQLite's already is.)"""
    minor = int(minor)
    sign = "-" if minor < 0 else ""
    whole, pence = divmod(abs(minor), 100)
    return f"{sign}{whole}.{pence:02d}"


class LocalTimes:
    """Stored UTC times -> "YYYY-MM-DD HH:MM:SS" in the shop's zone, which spreadsheets read.

    Built for a million rows: the local hour is worked out once per UTC hour of data, and each
    time just swaps its "YYYY-MM-DD HH" prefix (minutes and seconds don't change when the
    offset is whole hours). An hour in which the clocks change, or a zone with a half-hour
    offset, takes the slower exact conversion for every time in it.
    """

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.hours: dict[str, str | None] = {}  # UTC "2026-10-21 10" -> local "2026-10-21 11"

    def __call__(self, value: object) -> str:
        # The fast path, taken for nearly every cell: SQLite's text, from an hour already seen.
        if isinstance(value, str) and (prefix := self.hours.get(value[:13])):
            return prefix + value[13:19]
        if value is None:
            return ""
        return self._first_of_hour(value)

    def _first_of_hour(self, value: object) -> str:
        """A datetime (databases other than SQLite), text from an hour not yet seen, or from
        an hour that takes the exact conversion."""
        if isinstance(value, dt.datetime):
            utc = value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value
            value = utc.isoformat(" ")
        if not isinstance(value, str):
            raise TypeError(f"not a time: {value!r}")
        # SQLite hands over the stored text: "2026-10-21 10:00:00.000000", in UTC.
        key = value[:13]
        if key in self.hours:
            prefix = self.hours[key]
        else:
            prefix = self.hours[key] = self._local_hour(key)
        if prefix is None:
            return self._exact(value)
        return prefix + value[13:19]

    def _exact(self, value: str) -> str:
        """An hour in which the clocks change, or a zone whose offset is not whole hours."""
        moment = dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC).astimezone(self.tz)
        return moment.replace(tzinfo=None).isoformat(" ", "seconds")

    def _local_hour(self, key: str) -> str | None:
        """The local "YYYY-MM-DD HH" for a UTC hour, or None if minutes would not carry over."""
        start = dt.datetime.fromisoformat(key + ":00").replace(tzinfo=dt.UTC)
        offset = start.astimezone(self.tz).utcoffset()
        if offset is None or offset != (start + _HOUR).astimezone(self.tz).utcoffset():
            return None  # the clocks change during this hour
        if offset % _HOUR:
            return None  # e.g. UTC+5:30: the minutes change too
        return (start + offset).isoformat(" ")[:13]
