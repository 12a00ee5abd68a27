"""/digest: a short Summary sent to an admin on a schedule (issue "Reports").

    /digest            says what is set
    /digest daily      every day at [reports] digest_time (shop's time zone), covering yesterday
    /digest weekly     Mondays at that time, covering the seven days up to yesterday
    /digest off        stops it

The choice is stored per admin in the settings table ("digest:<telegram id>"), so it survives
restarts: the Application's post_init calls `restore_schedules`, which puts every admin's job
back on the JobQueue. Each run checks again that its admin is still an admin before sending.
What a digest covers: core/reports/periods.digest_period; its text: core/reports text.summary_text.
"""

from __future__ import annotations

import logging
from typing import Any, Final, Literal, cast

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes, Job

from core.marks import Words
from core.reports import queries, text
from core.reports.periods import digest_period

from ..format import split_message
from ..i18n import N_, _, ngettext, speaking
from ..languages import language_for
from ..roles import requires, role_of
from ..services import Services, services, services_of

log = logging.getLogger(__name__)

Kind = Literal["daily", "weekly"]
CHOICES: Final = ("daily", "weekly", "off")
EVERY_DAY: Final = tuple(range(7))
MONDAY: Final = 1  # PTB counts days from Sunday = 0, like cron
USAGE: Final = N_("Send /digest daily, /digest weekly or /digest off.")
_SAYS: Final = {
    "daily": N_("every day at {time}, covering the day before"),
    "weekly": N_("on Mondays at {time}, covering the seven days before"),
}
_HEADING: Final = {
    "daily": N_("📬 Your daily digest (/digest off to stop)"),
    "weekly": N_("📬 Your weekly digest (/digest off to stop)"),
}
WORDS: Final = Words(gettext=_, ngettext=ngettext)  # the language in force when a text is written


def setting_key(user_id: int) -> str:
    return f"digest:{user_id}"


def job_name(user_id: int) -> str:
    return f"digest:{user_id}"


@requires("admin")
async def digest_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Shows the admin's digest setting, or changes it to daily, weekly or off."""
    assert update.effective_user is not None and update.effective_message is not None
    svc = services(context)
    user_id = update.effective_user.id
    args = [a.lower() for a in context.args or []]
    if not args:
        current = await _setting(svc, user_id)
        if current is None:
            await update.effective_message.reply_text(
                _("Your digest is off. {usage}").format(usage=_(USAGE))
            )
        else:
            await update.effective_message.reply_text(
                _("Your digest comes {when}. {usage}").format(
                    when=_when(svc, current), usage=_(USAGE)
                )
            )
        return
    if len(args) != 1 or args[0] not in CHOICES:
        await update.effective_message.reply_text(
            _("I didn't understand that. {usage}").format(usage=_(USAGE))
        )
        return
    choice = args[0]
    await svc.staff.set_setting(setting_key(user_id), choice)
    schedule(context.application, user_id, None if choice == "off" else cast(Kind, choice))
    if choice == "off":
        await update.effective_message.reply_text(_("Digest off: I won't send it any more."))
    else:
        await update.effective_message.reply_text(
            _("✅ Digest on: I'll send a short summary {when}. /report shows it any time.").format(
                when=_when(svc, cast(Kind, choice))
            )
        )


def _when(svc: Services, kind: Kind) -> str:
    reports = svc.config.reports
    return _(_SAYS[kind]).format(time=f"{reports.digest_time:%H:%M} ({reports.timezone})")


async def _setting(svc: Services, user_id: int) -> Kind | None:
    value = await svc.staff.get_setting(setting_key(user_id))
    return cast(Kind, value) if value in ("daily", "weekly") else None


# --- the schedule -----------------------------------------------------------------------------


def schedule(
    app: Application,  # type: ignore[type-arg]
    user_id: int,
    kind: Kind | None,
) -> Job[Any] | None:
    """Replaces `user_id`'s digest job with one for `kind` (None: no job)."""
    queue = app.job_queue
    if queue is None:  # python-telegram-bot installed without its [job-queue] extra
        log.warning("no job queue: digests can't be scheduled")
        return None
    for job in queue.get_jobs_by_name(job_name(user_id)):
        job.schedule_removal()
    if kind is None:
        return None
    reports = services_of(app).config.reports
    return queue.run_daily(
        send_digest,
        reports.digest_time.replace(tzinfo=reports.tzinfo),
        days=EVERY_DAY if kind == "daily" else (MONDAY,),
        data=kind,
        name=job_name(user_id),
        chat_id=user_id,
        user_id=user_id,
    )


async def restore_schedules(app: Application) -> int:  # type: ignore[type-arg]
    """Schedules again every admin's digest from the settings table (at start-up); the count."""
    svc = services_of(app)
    admins = {
        *svc.config.staff.admins,
        *svc.extra_admins,
        *(m["telegram_user_id"] for m in await svc.staff.members() if m["role"] == "admin"),
    }
    count = 0
    for user_id in sorted(admins):
        kind = await _setting(svc, user_id)
        if kind is not None and schedule(app, user_id, kind) is not None:
            count += 1
    return count


async def send_digest(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Sends one admin their digest: the Summary of yesterday, or of the last seven days."""
    job = context.job
    assert job is not None and job.user_id is not None
    svc = services(context)
    user_id, kind = job.user_id, cast(Kind, job.data)
    if await role_of(svc, user_id) != "admin":  # removed as admin since: stop for good
        log.info("digest for user %s stopped: no longer an admin", user_id)
        job.schedule_removal()
        return
    now = svc.clock()
    program = svc.config.program
    period = digest_period(kind, now=now, tz=svc.config.reports.tzinfo)
    summary = await queries.summary(
        svc.engine, period, program, now=now, point_value=queries.assumed_point_value(program)
    )
    with speaking(language_for(svc, user_id)):  # a job has no sender: the admin's language
        heading = _(_HEADING[kind])
        body = text.summary_text(summary, program, words=WORDS)
    for chunk in split_message("\n".join([heading, *body])):
        try:
            await context.bot.send_message(user_id, chunk)
        except TelegramError as exc:  # e.g. they blocked the bot: try again next time
            log.warning("could not send the digest to user %s: %s", user_id, exc)
            return
