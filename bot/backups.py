"""The daily backup `loyalty-bot run` makes, on python-telegram-bot's JobQueue.

Once a day at [backup] time in the shop's time zone ([reports] timezone), the database is copied
into [backup] folder with SQLite's online backup, checked, and only the newest [backup] keep
daily copies are kept (core/db/backup.py does the work, in a worker thread: the bot goes on
serving meanwhile). A day's copy is made once: if today's file is there (a restart after the
job ran), the run changes nothing. Off when the folder is "" or the database is not a SQLite
file. A failure is logged in one line and the bot goes on; tomorrow's run tries again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final

from telegram.ext import Application, ContextTypes, Job

from core.db import backup
from core.db.engine import sqlite_file
from core.db.faults import StorageFault, diagnose

from .daily import schedule_daily
from .services import services, services_of

log = logging.getLogger(__name__)

JOB_NAME: Final = "daily-backup"


def schedule_daily_backup(app: Application) -> Job[Any] | None:  # type: ignore[type-arg]
    """Puts the daily backup on the JobQueue (replacing any); None when backups are off."""
    config = services_of(app).config
    database = sqlite_file(config.database_url)
    folder = config.backup.folder_for(database) if database is not None else None
    if folder is None:
        log.info("daily backup: off")
        return None
    at = config.backup.time.replace(tzinfo=config.reports.tzinfo)
    log.info(
        "daily backup: %s %s into %s, keeping %d",
        f"{at:%H:%M}",
        at.tzinfo,
        folder,
        config.backup.keep,
    )
    return schedule_daily(app, JOB_NAME, daily_backup, at)


async def daily_backup(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Today's backup (in the shop's time zone), unless it was made already; then pruning."""
    svc = services(context)
    config = svc.config
    database = sqlite_file(config.database_url)
    folder = config.backup.folder_for(database) if database is not None else None
    if database is None or folder is None:
        return
    today = svc.clock().astimezone(config.reports.tzinfo).date()
    try:
        health = await asyncio.to_thread(
            backup.daily, database, folder, keep=config.backup.keep, today=today
        )
    except Exception as exc:
        fault = exc if isinstance(exc, StorageFault) else diagnose(exc, database)
        if fault is None:
            raise
        log.error("daily backup failed: %s", fault)
        return
    if health is None:
        log.info("daily backup: today's is already in %s", folder)
    else:
        log.info(
            "daily backup written to %s (%d customers, %d entries), verified",
            health.path,
            health.customers,
            health.entries,
        )
