"""The bot's daily jobs (backup, birthdays, tiers, expiry) go on the JobQueue one way.

Each is named, so scheduling again (a second post_init in tests, a restart) replaces it rather
than adding a second; `at` carries the shop's time zone ([reports] timezone); and a job that
catches up on days the bot was down also runs once as soon as the bot runs, as a job of its
own (`<name>-catch-up`), so stopping the bot waits for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.ext import Application, ContextTypes, Job

Callback = Callable[[ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


def schedule_daily(
    app: Application,  # type: ignore[type-arg]
    name: str,
    callback: Callback,
    at: dt.time,
    *,
    catch_up: Callback | None = None,
) -> Job[Any] | None:
    """Runs `callback` every day at `at` (replacing any job called `name`), and `catch_up`
    once now if given; None when the Application has no JobQueue."""
    queue = app.job_queue
    if queue is None:
        return None
    for job in (*queue.get_jobs_by_name(name), *queue.get_jobs_by_name(f"{name}-catch-up")):
        job.schedule_removal()
    if catch_up is not None:
        queue.run_once(catch_up, 0, name=f"{name}-catch-up")
    return queue.run_daily(callback, at, name=name)
