"""Staff management (/staff), invite links (/start inv...) and the first admin (/claim).

    /staff                       list admins and cashiers (admins only)
    /staff add <id> [admin]      make someone a cashier (or an admin)
    /staff remove <id>           remove someone added here (config-listed staff stay in the file)
    /staff invite [admin]        a one-time t.me link; whoever opens it first becomes staff
    /claim <code>                the first admin, with the code printed at start-up

Roles are worked out afresh on every update (bot/roles.py), so a change here takes effect at
once; the person's command menu is refreshed too (bot/menus.py refresh_menu). Storage:
core/db/staff.py StaffStore. Each change leaves an audit record (Store.record_audit): staff
added (also the first admin, "via": "claim") or removed, an invite made or used; never the
invite's code, which is a credential until used.
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import cast

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from core.db.staff import INVITE_TTL
from core.types import AuditAction, Role

from .. import confirm
from ..format import esc, split_message
from ..i18n import N_, _, speaking
from ..languages import language_for
from ..menus import refresh_menu
from ..roles import requires, role_of
from ..services import Services, services
from ..texts import help_for

log = logging.getLogger(__name__)

USAGE = N_(
    "Usage: /staff · /staff add &lt;telegram id&gt; [admin] · /staff remove &lt;telegram id&gt; · "
    "/staff invite [admin]"
)
ONLY_ADMIN = N_("You're the only admin: add another admin first, or the bot would have none.")
# Whole sentences per role, so each language words the role its own way. Marked with N_ and
# translated where sent.
ALREADY: dict[Role, str] = {
    "admin": N_("<code>{user}</code> is already admin."),
    "cashier": N_("<code>{user}</code> is already cashier."),
}
NOW: dict[Role, str] = {
    "admin": N_("✅ <code>{user}</code> is now admin."),
    "cashier": N_("✅ <code>{user}</code> is now cashier."),
}
YOU_ARE_NOW: dict[Role, str] = {
    "admin": N_("You're now admin here."),
    "cashier": N_("You're now cashier here."),
}
IN_CONFIG: dict[Role, str] = {
    "admin": N_(
        "<code>{user}</code> is admin in the config file: remove them from its [staff] section "
        "and restart the bot."
    ),
    "cashier": N_(
        "<code>{user}</code> is cashier in the config file: remove them from its [staff] "
        "section and restart the bot."
    ),
}
STILL: dict[Role, str] = {
    "admin": N_("They are still admin from the config file."),
    "cashier": N_("They are still cashier from the config file."),
}
INVITE: dict[Role, str] = {
    "admin": N_(
        "One-time invite for a new <b>admin</b>, valid for {days} days:\n{link}\n"
        "Send it privately: the first person to open it becomes admin."
    ),
    "cashier": N_(
        "One-time invite for a new <b>cashier</b>, valid for {days} days:\n{link}\n"
        "Send it privately: the first person to open it becomes cashier."
    ),
}
ALREADY_STAFF: dict[Role, str] = {
    "admin": N_("You're already admin here, so I left that invite unused for someone new."),
    "cashier": N_("You're already cashier here, so I left that invite unused for someone new."),
}
WELCOME: dict[Role, str] = {
    "admin": N_("Welcome to the team, {name}! You're now admin here."),
    "cashier": N_("Welcome to the team, {name}! You're now cashier here."),
}
# Telegram user ids are positive integers below 2**52; anything else is a typo.
_ID = re.compile(r"[0-9]{1,16}")
# What StaffStore.create_invite makes ("inv" + url-safe letters and digits); anything else is
# refused before it reaches the database.
INVITE_CODE = re.compile(r"inv[A-Za-z0-9]{1,60}")
# Guessing the 8-hex-digit claim code is already hopeless over Telegram, but a cap makes it
# pointless: after this many wrong codes from one account, /claim refuses it until a restart
# (which prints a new code anyway). Kept in memory only, on purpose: it is per run.
MAX_CLAIM_FAILURES = 5
_CLAIM_FAILURES = "claim_failures"
_ROLES: dict[str, Role] = {"admin": "admin", "cashier": "cashier"}


async def _tell(context: ContextTypes.DEFAULT_TYPE, user_id: int, role: Role) -> None:
    """A courtesy note to the person whose role changed, in their language; they may never
    have opened the bot."""
    with speaking(language_for(services(context), user_id)):
        text = f"{_(YOU_ARE_NOW[role])}\n\n{help_for(role)}"
    try:
        await context.bot.send_message(user_id, text)
    except TelegramError as exc:
        log.info("could not tell user %s about their role: %s", user_id, exc)


async def _audit(svc: Services, action: AuditAction, actor_id: int, **details: object) -> None:
    """The audit record of a staff change (ids and roles only)."""
    await svc.store.record_audit(action, actor_id=actor_id, now=svc.clock(), details=details)


def _parse_id(text: str) -> int | None:
    return int(text) if _ID.fullmatch(text) and int(text) > 0 else None


def _in_config(svc: Services, user_id: int) -> Role | None:
    """The role the config file (or the console) gives `user_id`, if any."""
    if user_id in svc.config.staff.admins or user_id in svc.extra_admins:
        return "admin"
    if user_id in svc.config.staff.cashiers or user_id in svc.extra_cashiers:
        return "cashier"
    return None


async def _last_admin(svc: Services, user_id: int) -> bool:
    """True if `user_id` is the only admin, so removing or demoting them would leave none."""
    if _in_config(svc, user_id) == "admin":
        return False  # the file keeps them admin whatever happens here
    admins = {*svc.config.staff.admins, *svc.extra_admins}
    admins |= {m["telegram_user_id"] for m in await svc.staff.members() if m["role"] == "admin"}
    return admins == {user_id}


# --- /staff ---------------------------------------------------------------------------------


@requires("admin")
async def staff_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Lists staff, or adds, removes or invites one (see the module docstring)."""
    assert update.effective_message is not None
    args = context.args or []
    action = args[0].lower() if args else "list"
    if action == "list" and len(args) <= 1:
        await list_staff(update, context)
    elif action == "add" and len(args) in (2, 3):
        await add_staff(update, context, args[1], args[2] if len(args) == 3 else "cashier")
    elif action == "remove" and len(args) == 2:
        await remove_staff(update, context, args[1])
    elif action == "invite" and len(args) <= 2:
        await invite_staff(update, context, args[1] if len(args) == 2 else "cashier")
    else:
        await update.effective_message.reply_text(_(USAGE))


async def list_staff(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Admins, then cashiers: id, name if known, and whether the config file lists them."""
    assert update.effective_message is not None
    svc = services(context)
    names = {m["telegram_user_id"]: m["name"] for m in await svc.staff.members()}
    ids = {*svc.config.staff.admins, *svc.config.staff.cashiers, *names}
    lines: dict[Role, list[str]] = {"admin": [], "cashier": []}
    for user_id in sorted(ids):
        role = await role_of(svc, user_id)
        if role == "customer":
            continue
        known = names.get(user_id)
        name = f" {esc(known)}" if known else ""
        source = " · " + _("from config file") if _in_config(svc, user_id) else ""
        lines[role].append(f"• <code>{user_id}</code>{name}{source}")
    text = (
        _("<b>Admins</b>")
        + "\n"
        + ("\n".join(lines["admin"]) or _("none"))
        + "\n\n"
        + _("<b>Cashiers</b>")
        + "\n"
        + ("\n".join(lines["cashier"]) or _("none"))
        + "\n\n"
        + _("Add: <code>/staff add 123456789</code> · invite link: <code>/staff invite</code>")
    )
    for chunk in split_message(text):
        await update.effective_message.reply_text(chunk)


async def add_staff(
    update: Update, context: ContextTypes.DEFAULT_TYPE, id_text: str, role_text: str
) -> None:
    """Makes the given Telegram id a cashier or an admin."""
    assert update.effective_message is not None and update.effective_user is not None
    svc = services(context)
    user_id, role = _parse_id(id_text), _ROLES.get(role_text.lower())
    if user_id is None or role is None:
        await update.effective_message.reply_text(_(USAGE))
        return
    current = await role_of(svc, user_id)
    if current == role:
        await update.effective_message.reply_text(_(ALREADY[role]).format(user=user_id))
        return
    if _in_config(svc, user_id) == "admin":  # the file wins over the database (bot/roles.py)
        await update.effective_message.reply_text(
            _("<code>{user}</code> is an admin in the config file; change it there.").format(
                user=user_id
            )
        )
        return
    if role == "cashier" and await _last_admin(svc, user_id):
        await update.effective_message.reply_text(_(ONLY_ADMIN))
        return
    await svc.staff.add(user_id, role, by=update.effective_user.id, now=svc.clock())
    await _audit(svc, "staff_add", update.effective_user.id, user_id=user_id, role=role)
    log.info("user %s made user %s %s", update.effective_user.id, user_id, role)
    await refresh_menu(context.application, user_id)
    await update.effective_message.reply_text(_(NOW[role]).format(user=user_id))
    if user_id != update.effective_user.id:
        await _tell(context, user_id, role)


async def remove_staff(update: Update, context: ContextTypes.DEFAULT_TYPE, id_text: str) -> None:
    """Removes someone added from Telegram; config-listed staff are removed in the file."""
    assert update.effective_message is not None and update.effective_user is not None
    svc = services(context)
    user_id = _parse_id(id_text)
    if user_id is None:
        await update.effective_message.reply_text(_(USAGE))
        return
    stored = await svc.staff.role_of(user_id)
    in_config = _in_config(svc, user_id)
    if stored is None:
        await update.effective_message.reply_text(
            _(IN_CONFIG[in_config]).format(user=user_id)
            if in_config
            else _("<code>{user}</code> isn't staff.").format(user=user_id)
        )
        return
    if await _last_admin(svc, user_id):
        await update.effective_message.reply_text(_(ONLY_ADMIN))
        return
    await svc.staff.remove(user_id)
    await _audit(svc, "staff_remove", update.effective_user.id, user_id=user_id, role=stored)
    log.info("user %s removed staff member %s", update.effective_user.id, user_id)
    await refresh_menu(context.application, user_id)
    still = f" {_(STILL[in_config])}" if in_config else ""
    await update.effective_message.reply_text(
        _("✅ Removed <code>{user}</code>.").format(user=user_id) + still
    )


async def invite_staff(update: Update, context: ContextTypes.DEFAULT_TYPE, role_text: str) -> None:
    """Replies with a one-time deep link that makes whoever opens it first a cashier/admin."""
    assert update.effective_message is not None and update.effective_user is not None
    role = _ROLES.get(role_text.lower())
    if role is None:
        await update.effective_message.reply_text(_(USAGE))
        return
    svc = services(context)
    code = await svc.staff.create_invite(role, by=update.effective_user.id, now=svc.clock())
    await _audit(svc, "staff_invite", update.effective_user.id, role=role)
    link = f"https://t.me/{context.bot.username}?start={code}"
    await update.effective_message.reply_text(
        _(INVITE[role]).format(days=INVITE_TTL.days, link=link)
    )


async def accept_invite(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start <invite code>: makes the sender staff, once; a bad or used code says so."""
    confirm.drop(context)
    code = (context.args or [""])[0]
    assert update.effective_message is not None and update.effective_user is not None
    svc = services(context)
    user = update.effective_user
    current = await role_of(svc, user.id)
    if current != "customer":
        # Using it would only burn the link (or demote an admin who opened a cashier invite).
        await update.effective_message.reply_text(_(ALREADY_STAFF[current]))
        return
    role = None
    if INVITE_CODE.fullmatch(code):
        role = await svc.staff.use_invite(code, user.id, now=svc.clock(), name=user.full_name)
    if role is None:
        await update.effective_message.reply_text(
            _(
                "That invite link isn't valid (already used, expired or mistyped): ask an admin "
                "for a new one."
            )
        )
        return
    await _audit(svc, "invite_use", user.id, role=role)
    log.info("user %s joined as %s through an invite", user.id, role)
    await refresh_menu(context.application, user.id)
    await update.effective_message.reply_text(
        f"{_(WELCOME[role]).format(name=esc(user.first_name))}\n\n{help_for(role)}"
    )


# --- /claim: the first admin ----------------------------------------------------------------


async def claim(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Makes the sender admin if they send the one-time code printed at start-up."""
    assert update.effective_message is not None and update.effective_user is not None
    svc = services(context)
    user_id = update.effective_user.id
    expected = svc.claim_code
    if expected is None:
        await update.effective_message.reply_text(_("This bot already has an admin."))
        return
    failures = cast(dict[int, int], svc.notes.setdefault(_CLAIM_FAILURES, {}))
    if failures.get(user_id, 0) >= MAX_CLAIM_FAILURES:
        await update.effective_message.reply_text(
            _("Too many wrong codes from this account. Restart the bot to get a new code.")
        )
        return
    args = context.args or []
    sent = args[0] if len(args) == 1 else ""
    # Bytes, because compare_digest refuses non-ASCII str (and anyone can type anything).
    if not sent or not secrets.compare_digest(sent.encode(), expected.encode()):
        failures[user_id] = failures.get(user_id, 0) + 1
        log.warning("wrong /claim code from user %s", user_id)
        await update.effective_message.reply_text(_("That code isn't valid."))
        return
    # Cleared before the first await, so two people racing with the code can't both win.
    svc.claim_code = None
    try:
        await svc.staff.add(user_id, "admin", by=None, now=svc.clock())
    except Exception:
        svc.claim_code = expected  # nothing was stored: the code still works
        raise
    await _audit(svc, "staff_add", user_id, user_id=user_id, role="admin", via="claim")
    log.info("user %s claimed the bot as its first admin", user_id)
    await refresh_menu(context.application, user_id)
    now_admin = _("✅ You're the admin now.")
    await update.effective_message.reply_text(f"{now_admin}\n\n{help_for('admin')}")
