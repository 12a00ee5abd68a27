"""Report periods: what a manager types after /report, as a half-open [start, end) range in UTC.

    ""  or "30d"               the last 30 days, up to now (any "Nd", 1 to 3660 days)
    "today", "yesterday"       local calendar days
    "2026-10"                  a local calendar month
    "2026-10-05"               one local calendar day
    "2026-10-01..2026-10-31"   local calendar days, both ends included
    "all"                      everything recorded

Calendar periods start and end at local midnight in the shop's time zone ([reports] timezone),
so "2026-10" in London is 2026-09-30 23:00 UTC to 2026-10-31 24:00 UTC (the clocks change in
between). Half-open means an entry stamped exactly at `end` belongs to the next period, never
to both. The ledger stores UTC, so `start`/`end` are always UTC and can be compared directly.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Final, Literal
from zoneinfo import ZoneInfo

from core.errors import InvalidPeriod, Reason
from core.marks import N_

__all__ = [
    "DEFAULT_PERIOD",
    "EXAMPLES",
    "SHORT_MONTHS",
    "Period",
    "digest_period",
    "parse_period",
    "quick_periods",
]

DEFAULT_PERIOD: Final = "30d"
# Marked: a reply translates it (its "or"); the CLI shows it as it is.
EXAMPLES: Final = N_("30d, 7d, 2026-10, 2026-10-01..2026-10-31 or all")
MAX_DAYS: Final = 3660  # ten years: anything longer is "all"
# "all" starts here rather than at datetime.min, which can't be converted to every time zone.
ALL_TIME_START: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

# English names, not strftime("%B"), which follows the process locale.
_MONTHS: Final = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
SHORT_MONTHS: Final = tuple(name[:3] for name in _MONTHS)  # "Oct": for dates in reports
_DAYS = re.compile(r"(\d{1,5})d")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC, plus how to name it to people and how to ask for it again."""

    start: dt.datetime  # UTC, included
    end: dt.datetime  # UTC, excluded
    key: str  # canonical text that parses back to this period: fits in callback data
    label: str  # "last 30 days", "October 2026", "1 Oct – 31 Oct 2026", "all time"
    tz: ZoneInfo  # the shop's zone: how dates in this period's reports are shown

    def __contains__(self, when: dt.datetime) -> bool:
        return self.start <= when < self.end

    @property
    def days(self) -> int:
        """Whole days covered (rounded up), e.g. for "per day" figures."""
        return -(-(self.end - self.start) // dt.timedelta(days=1))


def parse_period(text: str | None, *, now: dt.datetime, tz: ZoneInfo) -> Period:
    """The period `text` names, relative to `now` (aware) in zone `tz`; InvalidPeriod says why."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(dt.UTC)
    cleaned = (text or DEFAULT_PERIOD).strip().lower()
    if cleaned == "all":
        return Period(ALL_TIME_START, now, "all", "all time", tz)
    if cleaned in ("today", "yesterday"):
        today = now.astimezone(tz).date()
        day = today if cleaned == "today" else today - dt.timedelta(days=1)
        return _days(day, day, tz, key=cleaned)
    if match := _DAYS.fullmatch(cleaned):
        count = int(match[1])
        if not 1 <= count <= MAX_DAYS:
            raise InvalidPeriod(
                text or "", Reason(N_("choose 1 to {most} days, or all"), {"most": str(MAX_DAYS)})
            )
        label = "last 24 hours" if count == 1 else f"last {count} days"
        return Period(now - dt.timedelta(days=count), now, f"{count}d", label, tz)
    if match := _MONTH.fullmatch(cleaned):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise InvalidPeriod(
                text or "",
                Reason(N_("{typed} is not a month: use YYYY-MM, like 2026-10"), {"typed": cleaned}),
            )
        first = _date(f"{year}-{month}-1", text or "")
        following = dt.date(year + month // 12, month % 12 + 1, 1)
        return Period(
            _midnight(first, tz),
            _midnight(following, tz),
            f"{year:04d}-{month:02d}",
            f"{_MONTHS[month - 1]} {year}",
            tz,
        )
    first_text, dots, last_text = cleaned.partition("..")
    if _DATE.fullmatch(first_text) and (not dots or _DATE.fullmatch(last_text)):
        first = _date(first_text, text or "")
        last = _date(last_text, text or "") if dots else first
        if last < first:
            raise InvalidPeriod(
                text or "",
                Reason(
                    N_("{last} is before {first}: put the earlier day first"),
                    {"last": str(last), "first": str(first)},
                ),
            )
        return _days(first, last, tz)
    raise InvalidPeriod(
        text or "",
        Reason(
            N_("can't read {typed} as a period: try {examples}"),
            {"typed": repr(_short(text or "")), "examples": Reason(EXAMPLES)},
        ),
    )


def quick_periods(*, now: dt.datetime, tz: ZoneInfo) -> list[Period]:
    """The periods offered as buttons under a report: 7 and 30 days, this and last month, all."""
    this_month = now.astimezone(tz).date().replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    keys = ["7d", "30d", f"{this_month:%Y-%m}", f"{last_month:%Y-%m}", "all"]
    return [parse_period(key, now=now, tz=tz) for key in keys]


def digest_period(kind: Literal["daily", "weekly"], *, now: dt.datetime, tz: ZoneInfo) -> Period:
    """What a scheduled digest covers: yesterday, or the seven local days up to yesterday."""
    yesterday = now.astimezone(tz).date() - dt.timedelta(days=1)
    if kind == "daily":
        return _days(yesterday, yesterday, tz)
    return _days(yesterday - dt.timedelta(days=6), yesterday, tz)


def _days(first: dt.date, last: dt.date, tz: ZoneInfo, *, key: str | None = None) -> Period:
    """Local calendar days first..last, both included."""
    if key is None:
        key = first.isoformat() if first == last else f"{first.isoformat()}..{last.isoformat()}"
    if first == last:
        label = _day(first, year=True)
    else:
        label = f"{_day(first, year=first.year != last.year)} – {_day(last, year=True)}"
    start = _midnight(first, tz)
    return Period(start, _midnight(last + dt.timedelta(days=1), tz), key, label, tz)


def _date(text: str, original: str) -> dt.date:
    year, month, day = (int(part) for part in text.split("-"))
    if not 1970 <= year <= 9998:
        raise InvalidPeriod(
            original,
            Reason(N_("{year} is out of range: use a year from 1970"), {"year": str(year)}),
        )
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise InvalidPeriod(
            original, Reason(N_("{typed} is not a date: use YYYY-MM-DD"), {"typed": text})
        ) from None


def _midnight(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant a local day starts (DST-aware)."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.UTC)


def _day(day: dt.date, *, year: bool) -> str:
    text = f"{day.day} {SHORT_MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if year else text


def _short(text: str, limit: int = 30) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
