"""The birthday bonus: a daily job on python-telegram-bot's JobQueue, like bot/backups.py.

Once a day at [birthday] time in the shop's time zone ([reports] timezone), and once at
start-up to catch up on days the bot was down, every card whose birthday falls in the current
week (Monday to Sunday: core/birthdays.py due_year) gets [birthday] bonus points as a `bonus`
entry, and a linked customer is told through the outbox. The entry's idempotency key,
birthday:<customer>:<year>, makes it once a year: the job can run any number of times.
Off when [birthday] bonus is 0.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from telegram.ext import Application, ContextTypes, Job

from core.birthdays import due_year
from core.types import BonusResult, Outgoing

from . import delivery
from .daily import schedule_daily
from .format import points
from .i18n import _, speaking
from .languages import language_for
from .services import Services, services, services_of

log = logging.getLogger(__name__)

JOB_NAME: Final = "daily-birthdays"


def schedule_birthdays(app: Application) -> Job[Any] | None:  # type: ignore[type-arg]
    """Puts the daily run on the JobQueue (replacing any), and one run now to catch up; None
    when the bonus is off."""
    config = services_of(app).config
    if not config.birthday.bonus:
        log.info("birthday bonus: off")
        return None
    at = config.birthday.time.replace(tzinfo=config.reports.tzinfo)
    log.info(
        "birthday bonus: %d points, checked daily at %s %s",
        config.birthday.bonus,
        f"{at:%H:%M}",
        at.tzinfo,
    )
    # Also once now: catching up on days the bot was down.
    return schedule_daily(app, JOB_NAME, birthday_job, at, catch_up=birthday_job)


async def birthday_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The JobQueue's entry point."""
    await credit_birthdays(services(context), context.application)


async def credit_birthdays(svc: Services, app: Application) -> int:  # type: ignore[type-arg]
    """Credits this week's birthdays not yet credited this year; returns how many were new."""
    bonus = svc.config.birthday.bonus
    if not bonus:
        return 0
    now = svc.clock()
    today = now.astimezone(svc.config.reports.tzinfo).date()
    credited = 0
    for customer_id, birthday in await svc.store.birthdays():
        year = due_year(birthday, today)
        if year is None:
            continue
        result = await svc.store.bonus(
            customer_id,
            bonus,
            reason="birthday",
            key=f"birthday:{customer_id}:{year}",
            now=now,
            details={"year": year},
            tell=lambda result: _tell(svc, result),
        )
        if not result["replayed"]:
            credited += 1
            await delivery.send_now(app, result["queued"])
    if credited:
        log.info("birthday bonus: credited %d card(s)", credited)
    return credited


def _tell(svc: Services, result: BonusResult) -> list[Outgoing]:
    """'🎂 Happy birthday!' to a linked customer, in their language; nothing for a card not
    linked to Telegram."""
    chat = result["notify_user_id"]
    if chat is None:
        return []
    with speaking(language_for(svc, chat)):
        text = _(
            "🎂 Happy birthday! We've added <b>{points}</b> to your card. "
            "Balance: <b>{balance}</b>."
        ).format(points=points(result["gross"]), balance=points(result["balance_after"]))
    return [
        {
            "chat_id": chat,
            "text": text,
            "notice": True,  # /notifications off: not sent (core/db/outbox.py)
        }
    ]
