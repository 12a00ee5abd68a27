"""The audit trail as people read it: one line per record (/audit, `loyalty-bot audit`) and a CSV.

Each record (core/db/audit.py, read with Store.audit_log) becomes an AuditLine: when, in the
shop's time zone; who (the staff member's name and Telegram id, or "system" for the bot itself);
what (a label per action); which card; the ledger entry (#id); and the details that matter
(points, amounts, the reason, the role given, the config's hash). Details are written from
known keys only, never a dump of the record, and records hold no phone numbers, e-mails or
tokens, so neither the lines nor the CSV do.

    lines, more = await read_trail(store, AuditFilter(...), limit=..., tz=...)
    text_lines(lines, html=True)   # for Telegram (split by the caller); html=False: a terminal
    audit_csv(lines)               # UTF-8 with a byte-order mark, formula-safe cells

How many: a bare /audit shows the NEWEST records; a filtered one up to TEXT_LIMIT in chat; a
CSV up to CSV_LIMIT. Whoever shows them says when there were more.
"""

from __future__ import annotations

import csv
import datetime as dt
import html as html_lib
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.cards import format_card
from core.db.store import Store
from core.db.tables import customers, staff
from core.types import AuditRecord, Program

from .cells import neutralise

__all__ = [
    "ACTION_LABELS",
    "CSV_COLUMNS",
    "CSV_LIMIT",
    "NEWEST",
    "TEXT_LIMIT",
    "AuditFilter",
    "AuditLine",
    "audit_csv",
    "audit_lines",
    "read_trail",
    "text_lines",
]

NEWEST: Final = 20  # records shown by a bare /audit
TEXT_LIMIT: Final = 200  # records shown in chat for a filter; more are in the CSV
CSV_LIMIT: Final = 100_000  # records in one CSV (a month of a busy shop; a bot may send 50 MB)

ACTION_LABELS: Final = {
    "register": "Registered",
    "earn": "Purchase",
    "redeem": "Reward",
    "void": "Void",
    "refund": "Refund",
    "adjust": "Adjustment",
    "expire": "Points expired",
    "expiry_reminder": "Expiry reminder",
    "staff_add": "Staff added",
    "staff_remove": "Staff removed",
    "staff_invite": "Invite made",
    "invite_use": "Invite used",
    "contacts_export": "Contacts exported",
    "config_load": "Config loaded",
    "tier_pin": "Tier pinned",
    "tier_unpin": "Tier unpinned",
    "tier_drop": "Tier dropped",
    "birthday": "Birthday changed",
    "bonus": "Bonus",
}
CSV_COLUMNS: Final = (
    "record", "time", "actor_id", "actor", "action", "card", "entry", "details",
)  # fmt: skip
_BOM: Final = "\ufeff"
_DOT: Final = " · "


@dataclass(frozen=True)
class AuditFilter:
    """Which records: about one customer, by one staff member, in [since, until); all given
    filters at once. `label` names it for people ("card 4821 3379", "October 2026")."""

    label: str
    customer_id: int | None = None
    actor_id: int | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    @property
    def narrowed(self) -> bool:
        return (self.customer_id, self.actor_id, self.since, self.until) != (None,) * 4


@dataclass(frozen=True)
class AuditLine:
    """One record as people read it; plain text (escape it for HTML)."""

    record_id: int
    at: dt.datetime  # in the shop's zone
    actor_id: int | None
    who: str  # "Alex (2002)", "2002", or "system"
    action: str  # the record's action as stored ("adjust")
    what: str  # its label ("Adjustment")
    card: str  # "4821 3379", or "" when no customer
    entry: int | None  # the ledger entry
    details: str


async def read_trail(
    store: Store, which: AuditFilter, *, limit: int, tz: ZoneInfo
) -> tuple[list[AuditLine], bool]:
    """The newest `limit` records `which` selects, as lines, and whether there were more."""
    records = await store.audit_log(
        customer_id=which.customer_id,
        actor_id=which.actor_id,
        since=which.since,
        until=which.until,
        limit=limit + 1,
    )
    lines = await audit_lines(store.engine, records[:limit], program=store.program, tz=tz)
    return lines, len(records) > limit


async def audit_lines(
    engine: AsyncEngine, records: Sequence[AuditRecord], *, program: Program, tz: ZoneInfo
) -> list[AuditLine]:
    """The records as lines, with card numbers and staff names looked up in one query each."""
    customer_ids = {r["customer_id"] for r in records if r["customer_id"] is not None}
    people = {r["actor_id"] for r in records if r["actor_id"] is not None}
    people |= {_int(r["details"].get("user_id")) for r in records if "user_id" in r["details"]}
    async with engine.connect() as conn:
        cards: dict[int, str] = {}
        if customer_ids:
            query = select(customers.c.id, customers.c.card_number).where(
                customers.c.id.in_(sorted(customer_ids))
            )
            cards = {row.id: row.card_number for row in await conn.execute(query)}
        names: dict[int, str] = {}
        if people:
            query = select(staff.c.telegram_user_id, staff.c.name).where(
                staff.c.telegram_user_id.in_(sorted(people)), staff.c.name.is_not(None)
            )
            names = {row.telegram_user_id: row.name for row in await conn.execute(query)}
    return [_line(r, cards, names, program, tz) for r in records]


def text_lines(lines: Iterable[AuditLine], *, html: bool) -> list[str]:
    """'2026-11-23 15:10 · Alex (2002) · Adjustment · card 4821 3379 · #57 · +50 points: …'."""
    esc = (lambda text: html_lib.escape(text, quote=False)) if html else (lambda text: text)
    shown = []
    for line in lines:
        what = f"<b>{esc(line.what)}</b>" if html else line.what
        parts = [line.at.strftime("%Y-%m-%d %H:%M"), esc(line.who), what]
        if line.card:
            parts.append(f"card {line.card}")
        if line.entry is not None:
            parts.append(f"#{line.entry}")
        if line.details:
            parts.append(esc(line.details))
        shown.append(_DOT.join(parts))
    return shown


def audit_csv(lines: Iterable[AuditLine]) -> bytes:
    """The lines as a spreadsheet: a byte-order mark, a header, one row per record; any text
    a spreadsheet would run as a formula starts with an apostrophe (core/reports/cells.py)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # the excel dialect, as the other exports
    writer.writerow(CSV_COLUMNS)
    for line in lines:
        writer.writerow(
            (
                line.record_id,
                line.at.strftime("%Y-%m-%d %H:%M:%S"),
                "" if line.actor_id is None else line.actor_id,
                neutralise(line.who),
                line.action,
                line.card,
                "" if line.entry is None else line.entry,
                neutralise(line.details),
            )
        )
    return (_BOM + buffer.getvalue()).encode("utf-8")


# --- one record --------------------------------------------------------------------------------


def _line(
    record: AuditRecord,
    cards: Mapping[int, str],
    names: Mapping[int, str],
    program: Program,
    tz: ZoneInfo,
) -> AuditLine:
    details = record["details"]
    number = None if record["customer_id"] is None else cards.get(record["customer_id"])
    number = number or _text(details.get("card_number"))
    return AuditLine(
        record_id=record["id"],
        at=record["at"].astimezone(tz),
        actor_id=record["actor_id"],
        who=_person(record["actor_id"], names, nobody="system"),
        action=record["action"],
        what=ACTION_LABELS.get(record["action"], record["action"]),
        card=format_card(number) if number else "",
        entry=record["entry_id"],
        details=_details(record["action"], details, names, program),
    )


def _details(
    action: str, d: Mapping[str, object], names: Mapping[int, str], program: Program
) -> str:
    """What a record says beyond who, what and which card, from the keys each action writes."""
    currency = program.currency
    if action == "register":
        bonus = _int(d.get("signup_bonus"))
        return f"welcome bonus {_points(bonus)}" if bonus else ""
    if action == "earn":
        said = f"{_signed(_int(d.get('points')))} for {_text(d.get('amount'))} {currency}"
        paid = _int(d.get("owed_paid"))
        return said + (f", {paid:,} of them paid points owed" if paid else "")
    if action == "redeem":
        reward = _text(d.get("reward_id"))
        name = next((r.name for r in program.rewards if r.id == reward), reward)
        return f"{_signed(-_int(d.get('points')))} for {name}"
    if action in ("void", "refund", "adjust"):
        return _correction(action, d, currency)
    if action in ("expire", "expiry_reminder"):  # core/expiry.py: the lots whose last day it is
        points = _points(_int(d.get("points")))
        day = _text(d.get("day"))
        return (
            f"{points}, last day {day}" if action == "expire" else f"{points} told, last day {day}"
        )
    if action in ("staff_add", "staff_remove"):
        who = _person(_int(d.get("user_id")), names, nobody="?")
        role = _text(d.get("role"))
        claimed = " (the first admin, by /claim)" if d.get("via") == "claim" else ""
        return f"{who} as {role}{claimed}" if action == "staff_add" else f"{who}, was {role}"
    if action == "staff_invite":
        return f"a one-time link for a new {_text(d.get('role'))}"
    if action == "invite_use":
        return f"joined as {_text(d.get('role'))}"
    if action == "contacts_export":
        parts = [f"period {_text(d.get('period'))}"]
        if "rows" in d:
            parts.append(f"{_int(d.get('rows')):,} rows")
        if d.get("via") == "cli":
            user = f" by {_text(d.get('os_user'))}" if d.get("os_user") else ""
            parts.append(f"on the server{user}")
        return ", ".join(parts)
    if action == "config_load":
        where = _text(d.get("path") or d.get("source"))
        return f"sha256 {_text(d.get('sha256'))}" + (f", {where}" if where else "")
    if action == "tier_pin":
        was = _text(d.get("tier_before"))
        return f"{_text(d.get('tier'))} (was {was}), reason: {_text(d.get('reason'))}"
    if action == "tier_unpin":
        moved = f"{_text(d.get('tier_before'))} → {_text(d.get('tier_after'))}"
        return f"{moved}, reason: {_text(d.get('reason'))}"
    if action == "tier_drop":
        return f"{_text(d.get('tier_before'))} → {_text(d.get('tier_after'))}, points aged out"
    # An action a newer version recorded: its keys and values, plainly.
    return ", ".join(f"{key} {_text(value)}" for key, value in sorted(d.items()))


def _correction(action: str, d: Mapping[str, object], currency: str) -> str:
    """'reverses #41, -25 points, reason: wrong card'; what could not move is said too."""
    parts = []
    if d.get("reverses_id") is not None:
        parts.append(f"reverses #{_int(d.get('reverses_id'))}")
    if action == "refund" and d.get("amount") is not None:
        parts.append(f"{_text(d.get('amount'))} {currency} back")
    gross, moved, owed = _int(d.get("gross")), _int(d.get("points")), _int(d.get("owed_added"))
    change = _signed(gross)
    if owed:
        change += f" ({_signed(moved)} on the card, {_points(owed)} owed)"
    elif gross > moved:
        change += f" ({gross - moved:,} of them paid points owed)"
    parts.append(change)
    reason = _text(d.get("reason"))
    if reason:
        if action == "adjust":
            return ", ".join(parts) + f": {reason}"
        parts.append(f"reason: {reason}")
    return ", ".join(parts)


def _person(user_id: int | None, names: Mapping[int, str], *, nobody: str) -> str:
    if user_id is None:
        return nobody
    name = names.get(user_id)
    return f"{name} ({user_id})" if name else str(user_id)


def _points(n: int) -> str:
    return f"{n:,} point" + ("" if abs(n) == 1 else "s")


def _signed(n: int) -> str:
    return ("+" if n > 0 else "") + _points(n)


def _int(value: object) -> int:
    """A number stored in a record's JSON (0 when missing or not a number)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError:
        return 0


def _text(value: object) -> str:
    return "" if value is None else str(value)
