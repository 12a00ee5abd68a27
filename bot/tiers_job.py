"""The daily tier job: tiers drop when their points age out (issue 13, "Tier policy").

Under [program] tier_basis = "rolling_365" a credit counts for 365 days, and under
"calendar_year" a tier is kept to the end of the next year; nothing happens at the till when
that time passes, so once a day, just after the shop's midnight ([reports] timezone), this job
moves the customers whose points aged out to the tier the policy now gives
(Store.drop_aged_tiers: core/db/tiers.py). It also runs at start-up, to catch up on days the
bot was not running. It is idempotent: the shop day it last ran is kept in the settings table,
and a second run that day does nothing; each drop is audited (`tier_drop`). Under the lifetime
basis points never age out and it does nothing. Customers are not messaged about a drop: the
card shows the tier and what keeps or wins it back.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Final

from telegram.ext import Application, ContextTypes, Job

from .daily import schedule_daily
from .services import services, services_of

log = logging.getLogger(__name__)

JOB_NAME: Final = "daily-tiers"
AT: Final = dt.time(0, 5)  # just after the shop's midnight, when a day's credits age out


def schedule_tier_job(app: Application) -> Job[Any] | None:  # type: ignore[type-arg]
    """Puts the daily tier job on the JobQueue (replacing any), and a run now to catch up;
    None under the lifetime basis, where tiers never drop with time."""
    policy = services_of(app).config.program.tier_policy
    if policy.basis == "lifetime":
        return None
    at = AT.replace(tzinfo=services_of(app).config.reports.tzinfo)
    log.info("daily tier job: %s %s, basis %s", f"{at:%H:%M}", at.tzinfo, policy.basis)
    return schedule_daily(app, JOB_NAME, daily_tiers, at, catch_up=daily_tiers)


async def daily_tiers(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Moves the customers whose points aged out since the last run to their tier now."""
    svc = services(context)
    moved = await svc.store.drop_aged_tiers(svc.clock())
    log.info("daily tier job: %d customer(s) moved to a lower tier", moved)
