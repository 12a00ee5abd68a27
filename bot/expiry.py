"""Points expiry: the daily job `loyalty-bot run` runs, and the /status line (issue "Expiry").

Once a day just after the shop's midnight ([reports] timezone), and once in the background
right after start-up to catch up after downtime, the job (1) writes an `expire` entry for every
card with points whose last day has passed, one per card per last day (its idempotency key),
and (2) queues a reminder to every linked customer whose points expire within [expiry]
remind_days, once per card and day, held back until REMIND_AT so nobody is woken at midnight.
Running it twice changes nothing the second time. The rules are core/expiry.py; the
transactions core/db/lots.py.

Switching on safely: the first start with a policy (or a changed one) records when it took
effect (`settings`, key "expiry"); no lot earned before then expires sooner than remind_days
after it, so every customer can be told first.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from dataclasses import dataclass
from typing import Any, Final

from babel.dates import format_date
from telegram.ext import Application, ContextTypes, Job

from core import expiry
from core.db import lots
from core.db.statements import utc
from core.types import Customer

from . import i18n
from .daily import schedule_daily
from .format import card, points
from .i18n import _
from .languages import language_for
from .services import Services, services, services_of

log = logging.getLogger(__name__)

JOB_NAME: Final = "daily-expiry"
RUN_AT: Final = dt.time(0, 5)  # just after the local midnight lots expire at
REMIND_AT: Final = dt.time(10, 0)  # reminders wait for a decent hour
SETTING: Final = "expiry"  # {"policy": fingerprint, "since": ISO time}
SINCE_NOTE: Final = "expiry_since"  # Services.notes: when the policy took effect
CATCH_UP_NOTE: Final = "expiry_catch_up"  # Services.notes: set when the start-up run is done
STATUS_WITHIN_DAYS: Final = 60  # /status mentions an expiry this close (or within remind_days)
MAX_ATTEMPTS: Final = 20


@dataclass(frozen=True)
class Run:
    """What one run did."""

    cards: int  # cards that had points expire
    expired: int  # points
    reminders: int


async def start(app: Application) -> Job[Any] | None:  # type: ignore[type-arg]
    """At start-up: records when the policy took effect, schedules the daily job and runs it
    once now (catching up after downtime). None when expiry is off."""
    svc = services_of(app)
    policy = svc.config.expiry
    svc.notes[SINCE_NOTE] = await policy_since(svc, svc.clock())
    if not policy.on:
        log.info("points expiry: off")
        return None
    log.info(
        "points expiry: %s, reminders %d days before", policy.fingerprint(), policy.remind_days
    )
    # Catch up in the background as soon as the bot runs: after days of downtime, or on the
    # first start with a policy (when every linked customer with points is told), there can be
    # many cards to go through, and the bot serves meanwhile. Everything it does is safe to
    # repeat.
    svc.notes[CATCH_UP_NOTE] = asyncio.Event()
    at = RUN_AT.replace(tzinfo=svc.config.reports.tzinfo)
    return schedule_daily(app, JOB_NAME, daily_expiry, at, catch_up=catch_up)


async def catch_up(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The start-up run; sets the CATCH_UP_NOTE event when done (tests wait for it)."""
    try:
        await daily_expiry(context)
    finally:
        done = services(context).notes.get(CATCH_UP_NOTE)
        if isinstance(done, asyncio.Event):
            done.set()


async def policy_since(svc: Services, now: dt.datetime) -> dt.datetime | None:
    """When the policy in force took effect: recorded the first time the bot runs with it, and
    again whenever it changes (turning expiry off forgets it, so turning it on again warns
    everyone again). None when expiry is off."""
    policy = svc.config.expiry
    stored = await svc.staff.get_setting(SETTING)
    fingerprint = policy.fingerprint()
    if isinstance(stored, dict) and stored.get("policy") == fingerprint:
        since = stored.get("since")
        return None if not isinstance(since, str) else dt.datetime.fromisoformat(since)
    value: dict[str, object] = {"policy": fingerprint}
    if policy.on:
        value["since"] = now.astimezone(dt.UTC).isoformat()
        log.info(
            "points expiry: %s takes effect now; nothing earned before expires sooner than "
            "%d days from today",
            fingerprint,
            policy.remind_days,
        )
    await svc.staff.set_setting(SETTING, value)
    return now.astimezone(dt.UTC) if policy.on else None


async def daily_expiry(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The daily run."""
    svc = services(context)
    await run(svc, svc.clock())


async def run(svc: Services, now: dt.datetime) -> Run:
    """Writes what has expired by `now` and queues the reminders due; safe to repeat."""
    policy = svc.config.expiry
    tz = svc.config.reports.tzinfo
    since = _since(svc)
    expired = cards = reminders = 0
    before = expiry.scan_before(policy, now, tz=tz)
    if before is not None:
        idle = policy.policy == "inactivity"
        for customer_id in await svc.store.unit.read(lots.cards_with_lots_before, before, idle):
            written = await _expire(svc, customer_id, now)
            cards += bool(written)
            expired += sum(p for _, p in written)
    ahead = expiry.scan_before(policy, now + dt.timedelta(days=policy.remind_days), tz=tz)
    if ahead is not None and policy.remind_days > 0:
        due_at = _remind_at(now, tz)
        idle = policy.policy == "inactivity"
        for customer_id in await svc.store.unit.read(lots.cards_with_lots_before, ahead, idle):
            owed = await svc.store.unit.write(
                lots.remind_once,
                customer_id,
                policy,
                tz=tz,
                since=since,
                now=now,
                due_at=due_at,
                text=functools.partial(_reminder_to, svc),
            )
            reminders += len(owed)
    if cards or reminders:
        log.info(
            "points expiry: %d points expired on %d cards, %d reminders queued",
            expired,
            cards,
            reminders,
        )
    return Run(cards=cards, expired=expired, reminders=reminders)


async def _expire(svc: Services, customer_id: int, now: dt.datetime) -> list[tuple[dt.date, int]]:
    for _attempt in range(MAX_ATTEMPTS):
        written = await svc.store.unit.write(
            lots.expire_once,
            customer_id,
            svc.config.expiry,
            tz=svc.config.reports.tzinfo,
            since=_since(svc),
            now=now,
        )
        if written is not None:
            return written
    log.warning("points expiry: card %d kept changing; tomorrow's run tries again", customer_id)
    return []


def _since(svc: Services) -> dt.datetime | None:
    since = svc.notes.get(SINCE_NOTE)
    return since if isinstance(since, dt.datetime) else None


def _remind_at(now: dt.datetime, tz: Any) -> dt.datetime:
    """Today's REMIND_AT in the shop's zone, or now if that has passed."""
    local = now.astimezone(tz)
    at = dt.datetime.combine(local.date(), REMIND_AT, tzinfo=tz)
    return max(at, now)


def day_text(day: dt.date, today: dt.date) -> str:
    """'31 Jan', with the year when it is not this one ('31 Dec 2027'), the reader's way."""
    if i18n.current() == i18n.SOURCE:
        text = f"{day.day} {day:%b}"
        return text if day.year == today.year else f"{text} {day.year}"
    pattern = "d MMM" if day.year == today.year else "d MMM y"
    return format_date(day, pattern, locale=i18n.current())


def full_day(day: dt.date) -> str:
    """'31 Jan 2027', the reader's way."""
    if i18n.current() == i18n.SOURCE:
        return f"{day.day} {day:%b} {day.year}"
    return format_date(day, "d MMM y", locale=i18n.current())


def reminder_text(card_number: str, day: dt.date, expiring: int) -> str:
    """The customer's reminder in the current language (HTML; nothing in it is user text)."""
    return _(
        "⏳ <b>{points}</b> on your card {card} expire on <b>{day}</b>. "
        "Use them before then: /status shows your rewards."
    ).format(points=points(expiring), card=card(card_number), day=full_day(day))


def _reminder_to(svc: Services, chat_id: int, card_number: str, day: dt.date, n: int) -> str:
    """The reminder in the language of the customer it goes to (queued by the daily job, which
    serves nobody in particular)."""
    with i18n.speaking(language_for(svc, chat_id)):
        return reminder_text(card_number, day, n)


async def status_line(svc: Services, customer: Customer) -> str | None:
    """'120 points expire on 31 Jan' for the card's soonest expiry within STATUS_WITHIN_DAYS
    (or remind_days, if longer); None when nothing expires that soon or expiry is off."""
    policy = svc.config.expiry
    if not policy.on or customer["balance"] <= 0:
        return None
    tz = svc.config.reports.tzinfo
    now = svc.clock()
    held, row = await svc.store.unit.read(_lots_and_card, customer["id"])
    last_purchase = None if row.last_purchase_at is None else row.last_purchase_at
    soonest = expiry.upcoming(
        policy,
        held,
        now,
        tz=tz,
        within_days=max(STATUS_WITHIN_DAYS, policy.remind_days),
        last_purchase_at=None if last_purchase is None else utc(last_purchase),
        since=_since(svc),
    )
    if soonest is None:
        return None
    day, expiring = soonest
    return _("⏳ {points} expire on {day}").format(
        points=points(expiring), day=day_text(day, now.astimezone(tz).date())
    )


def _lots_and_card(conn: Any, customer_id: int) -> tuple[list[expiry.Lot], Any]:
    return lots.open_lots(conn, customer_id), lots.card(conn, customer_id)
