"""The audit trail as people read it: one line per record (/audit, `loyalty-bot audit`) and a CSV.

Each record (core/db/audit.py, read with Store.audit_log) becomes an AuditLine: when, in the
shop's time zone; who (the staff member's name and Telegram id, or "system" for the bot itself);
what (a label per action); which card; the ledger entry (#id); and the details that matter
(points, amounts, the reason, the role given, the config's hash). Details are written from
known keys only, never a dump of the record, and records hold no phone numbers, e-mails or
tokens, so neither the lines nor the CSV do.

    lines, more = await read_trail(store, AuditFilter(...), limit=..., tz=..., words=...)
    text_lines(lines, html=True)   # for Telegram (split by the caller); html=False: a terminal
    audit_csv(lines)               # UTF-8 with a byte-order mark, formula-safe cells

In the reader's language: the words of the lines and details (labels, "card", "reason") come
from `words` (core/marks.py: bot/ passes the admin's language, the CLI English) and numbers
from `number` ("1,250"; bot/ passes its own, "1 250" in Russian). What the records hold (names,
reasons, tier names, paths) is shown as written; the CSV's header and action column stay the
stored English keys, for scripts.

How many: a bare /audit shows the NEWEST records; a filtered one up to TEXT_LIMIT in chat; a
CSV up to CSV_LIMIT. Whoever shows them says when there were more.
"""

from __future__ import annotations

import csv
import datetime as dt
import html as html_lib
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.cards import format_card
from core.db.store import Store
from core.db.tables import customers, staff
from core.marks import ENGLISH, N_, Words
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
    "english_number",
    "read_trail",
    "text_lines",
]

NEWEST: Final = 20  # records shown by a bare /audit
TEXT_LIMIT: Final = 200  # records shown in chat for a filter; more are in the CSV
CSV_LIMIT: Final = 100_000  # records in one CSV (a month of a busy shop; a bot may send 50 MB)

ACTION_LABELS: Final = {
    "register": N_("Registered"),
    "earn": N_("Purchase"),
    "redeem": N_("Reward"),
    "void": N_("Void"),
    "refund": N_("Refund"),
    "adjust": N_("Adjustment"),
    "expire": N_("Points expired"),
    "expiry_reminder": N_("Expiry reminder"),
    "staff_add": N_("Staff added"),
    "staff_remove": N_("Staff removed"),
    "staff_invite": N_("Invite made"),
    "invite_use": N_("Invite used"),
    "contacts_export": N_("Contacts exported"),
    "config_load": N_("Config loaded"),
    "tier_pin": N_("Tier pinned"),
    "tier_unpin": N_("Tier unpinned"),
    "tier_drop": N_("Tier dropped"),
    "birthday": N_("Birthday changed"),
    "bonus": N_("Bonus"),
}
# The roles a record names ("staff_add": "as cashier"), and the sources of a config that was not
# read from a file (bot/config_audit.py): stored in English, shown in the reader's language.
ROLE_NAMES: Final = {"admin": N_("admin"), "cashier": N_("cashier")}
CONFIG_SOURCES: Final = {
    "built-in defaults": N_("built-in defaults"),
    "file unreadable at start": N_("file unreadable at start"),
}
CSV_COLUMNS: Final = (
    "record", "time", "actor_id", "actor", "action", "card", "entry", "details",
)  # fmt: skip
_BOM: Final = "\ufeff"
_DOT: Final = " · "


def english_number(n: int) -> str:
    """'1,250': how the CLI and the English bot write a count."""
    return f"{n:,}"


Number = Callable[[int], str]


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
    store: Store,
    which: AuditFilter,
    *,
    limit: int,
    tz: ZoneInfo,
    words: Words = ENGLISH,
    number: Number = english_number,
) -> tuple[list[AuditLine], bool]:
    """The newest `limit` records `which` selects, as lines in `words`, and whether there
    were more."""
    records = await store.audit_log(
        customer_id=which.customer_id,
        actor_id=which.actor_id,
        since=which.since,
        until=which.until,
        limit=limit + 1,
    )
    lines = await audit_lines(
        store.engine, records[:limit], program=store.program, tz=tz, words=words, number=number
    )
    return lines, len(records) > limit


async def audit_lines(
    engine: AsyncEngine,
    records: Sequence[AuditRecord],
    *,
    program: Program,
    tz: ZoneInfo,
    words: Words = ENGLISH,
    number: Number = english_number,
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
    said = _Said(words, number, names, program)
    return [_line(r, cards, said, tz) for r in records]


def text_lines(lines: Iterable[AuditLine], *, html: bool, words: Words = ENGLISH) -> list[str]:
    """'2026-11-23 15:10 · Alex (2002) · Adjustment · card 4821 3379 · #57 · +50 points: …'."""
    esc = (lambda text: html_lib.escape(text, quote=False)) if html else (lambda text: text)
    shown = []
    for line in lines:
        what = f"<b>{esc(line.what)}</b>" if html else line.what
        parts = [line.at.strftime("%Y-%m-%d %H:%M"), esc(line.who), what]
        if line.card:
            parts.append(words.gettext("card {card}").format(card=line.card))
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


@dataclass(frozen=True)
class _Said:
    """How the lines are worded: the language, the numbers, staff names and the program."""

    words: Words
    number: Number
    names: Mapping[int, str]
    program: Program

    def _(self, message: str) -> str:
        return self.words.gettext(message)

    def points(self, n: int) -> str:
        """'1 point', '1,250 points' ('1 250 баллов')."""
        return self.words.ngettext("{n} point", "{n} points", abs(n)).format(n=self.number(n))

    def signed(self, n: int) -> str:
        return ("+" if n > 0 else "") + self.points(n)

    def owed_paid(self, n: int) -> str:
        """'12 of them paid points owed': what a purchase or a correction paid back."""
        return self.words.ngettext(
            "{n} of them paid points owed", "{n} of them paid points owed", n
        ).format(n=self.number(n))

    def role(self, value: object) -> str:
        role = _text(value)
        return self._(ROLE_NAMES[role]) if role in ROLE_NAMES else role

    def person(self, user_id: int | None, *, nobody: str) -> str:
        if user_id is None:
            return nobody
        name = self.names.get(user_id)
        return f"{name} ({user_id})" if name else str(user_id)


def _line(record: AuditRecord, cards: Mapping[int, str], said: _Said, tz: ZoneInfo) -> AuditLine:
    details = record["details"]
    number = None if record["customer_id"] is None else cards.get(record["customer_id"])
    number = number or _text(details.get("card_number"))
    label = ACTION_LABELS.get(record["action"])
    return AuditLine(
        record_id=record["id"],
        at=record["at"].astimezone(tz),
        actor_id=record["actor_id"],
        who=said.person(record["actor_id"], nobody=said._("system")),
        action=record["action"],
        what=said._(label) if label else record["action"],
        card=format_card(number) if number else "",
        entry=record["entry_id"],
        details=_details(record["action"], details, said),
    )


def _details(action: str, d: Mapping[str, object], said: _Said) -> str:
    """What a record says beyond who, what and which card, from the keys each action writes."""
    _ = said._
    currency = said.program.currency
    if action == "register":
        bonus = _int(d.get("signup_bonus"))
        return _("welcome bonus {points}").format(points=said.points(bonus)) if bonus else ""
    if action == "earn":
        amount = _text(d.get("amount"))
        text = _("{points} for {amount} {currency}").format(
            points=said.signed(_int(d.get("points"))), amount=amount, currency=currency
        )
        paid = _int(d.get("owed_paid"))
        return text + (", " + said.owed_paid(paid) if paid else "")
    if action == "redeem":
        reward = _text(d.get("reward_id"))
        name = next((r.name for r in said.program.rewards if r.id == reward), reward)
        return _("{points} for {reward}").format(
            points=said.signed(-_int(d.get("points"))), reward=name
        )
    if action in ("void", "refund", "adjust"):
        return _correction(action, d, said)
    if action in ("expire", "expiry_reminder"):  # core/expiry.py: the lots whose last day it is
        points = said.points(_int(d.get("points")))
        day = _text(d.get("day"))
        if action == "expire":
            return _("{points}, last day {day}").format(points=points, day=day)
        return _("{points} told, last day {day}").format(points=points, day=day)
    if action in ("staff_add", "staff_remove"):
        who = said.person(_int(d.get("user_id")), nobody="?")
        role = said.role(d.get("role"))
        if action == "staff_remove":
            return _("{who}, was {role}").format(who=who, role=role)
        if d.get("via") == "claim":
            return _("{who} as {role} (the first admin, by /claim)").format(who=who, role=role)
        return _("{who} as {role}").format(who=who, role=role)
    if action == "staff_invite":
        return _("a one-time link for a new {role}").format(role=said.role(d.get("role")))
    if action == "invite_use":
        return _("joined as {role}").format(role=said.role(d.get("role")))
    if action == "contacts_export":
        parts = [_("period {period}").format(period=_text(d.get("period")))]
        if "rows" in d:
            rows = _int(d.get("rows"))
            parts.append(
                said.words.ngettext("{n} row", "{n} rows", rows).format(n=said.number(rows))
            )
        if d.get("via") == "cli":
            if d.get("os_user"):
                parts.append(_("on the server by {user}").format(user=_text(d.get("os_user"))))
            else:
                parts.append(_("on the server"))
        return ", ".join(parts)
    if action == "config_load":
        where = _text(d.get("path") or d.get("source"))
        where = _(CONFIG_SOURCES[where]) if where in CONFIG_SOURCES else where
        return f"sha256 {_text(d.get('sha256'))}" + (f", {where}" if where else "")
    if action == "tier_pin":
        return _("{tier} (was {was}), reason: {reason}").format(
            tier=_text(d.get("tier")),
            was=_text(d.get("tier_before")),
            reason=_text(d.get("reason")),
        )
    if action == "tier_unpin":
        return _("{before} → {after}, reason: {reason}").format(
            before=_text(d.get("tier_before")),
            after=_text(d.get("tier_after")),
            reason=_text(d.get("reason")),
        )
    if action == "tier_drop":
        return _("{before} → {after}, points aged out").format(
            before=_text(d.get("tier_before")), after=_text(d.get("tier_after"))
        )
    # An action a newer version recorded: its keys and values, plainly.
    return ", ".join(f"{key} {_text(value)}" for key, value in sorted(d.items()))


def _correction(action: str, d: Mapping[str, object], said: _Said) -> str:
    """'reverses #41, -25 points, reason: wrong card'; what could not move is said too."""
    _ = said._
    parts = []
    if d.get("reverses_id") is not None:
        parts.append(_("reverses #{entry}").format(entry=_int(d.get("reverses_id"))))
    if action == "refund" and d.get("amount") is not None:
        parts.append(
            _("{amount} {currency} back").format(
                amount=_text(d.get("amount")), currency=said.program.currency
            )
        )
    gross, moved, owed = _int(d.get("gross")), _int(d.get("points")), _int(d.get("owed_added"))
    change = said.signed(gross)
    if owed:
        change = _("{change} ({moved} on the card, {owed} owed)").format(
            change=change, moved=said.signed(moved), owed=said.points(owed)
        )
    elif gross > moved:
        change = f"{change} ({said.owed_paid(gross - moved)})"
    parts.append(change)
    reason = _text(d.get("reason"))
    if reason:
        if action == "adjust":
            return ", ".join(parts) + f": {reason}"
        parts.append(_("reason: {reason}").format(reason=reason))
    return ", ".join(parts)


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
