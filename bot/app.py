"""Builds the Application: every handler is registered here, in an order that matters.

Used by `loyalty-bot run` (real Telegram or a self-hosted Bot API), by `loyalty-bot console`
(bot/console.py, Telegram replaced by the terminal) and by the tests (an offline request layer):
one wiring, so what is tested is what runs.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import warnings
from collections.abc import Callable
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest
from telegram.warnings import PTBUserWarning

from core.config import Config
from core.db.engine import open_engine
from core.db.migrate import upgrade
from core.db.staff import StaffStore
from core.db.store import Store
from core.types import Role

from . import common, digest, earn, flows, link, redeem, register, report, staff, status
from .concurrency import PerUserUpdateProcessor
from .errors import on_error
from .roles import role_of
from .services import SERVICES_KEY, Services, services_of

log = logging.getLogger(__name__)

# Conversations track state per user and chat, not per message, on purpose: a cashier's flow
# spans several messages (see bot/flows.py). PTB warns about that combination; it is intended.
warnings.filterwarnings("ignore", message=r"If 'per_message=False'", category=PTBUserWarning)

CUSTOMER_COMMANDS = [
    BotCommand("status", "My points, tier and rewards"),
    BotCommand("start", "Link my card"),
    BotCommand("help", "What I can do"),
]
CASHIER_COMMANDS = [
    BotCommand("earn", "Record a purchase"),
    BotCommand("redeem", "Redeem a reward"),
    BotCommand("register", "Register a new customer"),
    BotCommand("status", "Look up a card"),
    BotCommand("cancel", "Stop what I'm doing"),
    BotCommand("help", "Commands and examples"),
]
ADMIN_COMMANDS = [
    *CASHIER_COMMANDS[:-2],
    BotCommand("report", "How the program is doing"),
    BotCommand("digest", "A daily or weekly summary"),
    BotCommand("staff", "Manage staff"),
    *CASHIER_COMMANDS[-2:],
]

# Connections to the Bot API. httpcore checks every pooled connection on each request, so with
# PTB's 256 and many cashiers at once that check cost more CPU than the bot's own work
# (bench/throughput.py); 16 still carry 160 calls/s at 100 ms each, and Telegram lets a bot
# send about 30 messages/s. In a burst a call waits up to POOL_TIMEOUT s for a free connection
# (PTB's default of 1 s would turn a busy moment into errors).
BOT_API_CONNECTIONS = 16
POOL_TIMEOUT = 10.0
MENU_CALLS_AT_ONCE = 8  # staff command menus set at start-up in parallel
MENUS_SETTING = "command_menus"  # the fingerprint of the menus last set in full

# Each conversation gets its own handler group: see bot/flows.py for why.
CONVERSATION_GROUP_START = 1
LAST_GROUP = 100


def build_application(
    config: Config,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    token: str | None = None,
    announce: Callable[[str], None] | None = None,
    customize: Callable[[Services], None] | None = None,
) -> Application:  # type: ignore[type-arg]
    """The bot, wired. `request` swaps the network layer (tests, console); `announce` receives
    start-up notices such as the first-admin claim code; `customize` adjusts Services (console).
    """
    builder = (
        ApplicationBuilder()
        .token(token or config.telegram.token)
        .defaults(Defaults(parse_mode=ParseMode.HTML, block=True))
        .concurrent_updates(PerUserUpdateProcessor(256))
        .post_init(_post_init(config, announce, customize))
        .post_shutdown(_post_shutdown)
    )
    if config.telegram.base_url:
        builder = builder.base_url(config.telegram.base_url)
    if request is not None:
        builder = builder.request(request)
    else:
        builder = builder.connection_pool_size(BOT_API_CONNECTIONS).pool_timeout(POOL_TIMEOUT)
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    application = builder.build()
    register_handlers(application)
    return application


def register_handlers(app: Application) -> None:  # type: ignore[type-arg]
    """Every handler, in order. Order matters; the groups are:

    -1   private chats only: updates from groups and channels are ignored
    1..  one group per conversation (their steps stop further groups; entry commands don't,
         so each open flow sees a new command and ends itself)
    100  commands outside flows, shared contacts, stale buttons, then the catch-all hints
    """
    app.add_handler(TypeHandler(Update, _private_only), group=-1)

    conversations = [
        earn.conversation(),
        status.conversation(),
        register.conversation(),
        redeem.conversation(),
    ]
    for offset, conversation in enumerate(conversations):
        app.add_handler(conversation, group=CONVERSATION_GROUP_START + offset)

    g = LAST_GROUP
    app.add_handler(CommandHandler("start", common.start), group=g)
    app.add_handler(CommandHandler("help", common.help_command), group=g)
    app.add_handler(CommandHandler("cancel", common.cancel_outside_flow), group=g)
    app.add_handler(CommandHandler("staff", staff.staff_command), group=g)
    app.add_handler(CommandHandler("claim", staff.claim), group=g)
    app.add_handler(CommandHandler("report", report.report_command), group=g)
    app.add_handler(CallbackQueryHandler(report.report_button, pattern=report.PATTERN), group=g)
    app.add_handler(CommandHandler("digest", digest.digest_command), group=g)
    app.add_handler(link.handler(), group=g)  # a shared contact links a customer's card
    kinds = "|".join(flows.KINDS)
    app.add_handler(
        CallbackQueryHandler(
            common.stale_confirmation, pattern=rf"^({kinds}):(ok|no):{flows.KEY_PATTERN}$"
        ),
        group=g,
    )
    app.add_handler(CallbackQueryHandler(common.unknown_button), group=g)
    known = filters.Command() & filters.Regex(rf"^/({'|'.join(flows.FLOW_COMMANDS)}|help)\b")
    app.add_handler(MessageHandler(filters.COMMAND & ~known, common.unknown_command), group=g)
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, common.free_text), group=g)
    app.add_error_handler(on_error)


async def _private_only(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A loyalty card is personal: the bot works in private chats only."""
    chat = update.effective_chat
    if chat is not None and chat.type != "private":
        raise ApplicationHandlerStop


def _post_init(
    config: Config,
    announce: Callable[[str], None] | None,
    customize: Callable[[Services], None] | None,
) -> Callable[[Application], Any]:  # type: ignore[type-arg]
    async def post_init(app: Application) -> None:  # type: ignore[type-arg]
        """Opens the database (upgrading its schema), then sets the command menus."""
        engine = open_engine(config.database_url)
        await upgrade(engine)
        svc = Services(
            config=config,
            engine=engine,
            store=Store(engine, config.program),
            staff=StaffStore(engine),
        )
        if customize is not None:
            customize(svc)
        app.bot_data[SERVICES_KEY] = svc
        await digest.restore_schedules(app)  # digests admins turned on survive restarts
        if not config.staff.admins and not svc.extra_admins and not await svc.staff.admin_count():
            svc.claim_code = secrets.token_hex(4)
            if announce is not None:
                announce(
                    f"No admin yet. Send this to the bot from the owner's Telegram account "
                    f"to become its first admin:  /claim {svc.claim_code}"
                )
        await set_command_menus(app)

    return post_init


async def _post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
    svc = app.bot_data.get(SERVICES_KEY)
    if isinstance(svc, Services):
        svc.store.close()  # the Store's own SQLite connections (core/db/store.py)
        await svc.engine.dispose()


async def set_command_menus(app: Application) -> None:  # type: ignore[type-arg]
    """Each person sees only the commands they can use (command scopes).

    Telegram keeps menus across restarts, so they are set only when what they depend on (the
    bot, the command lists, who is staff in which role) changed since they were last all set.
    """
    svc = services_of(app)
    staff_ids = {
        *svc.config.staff.admins,
        *svc.config.staff.cashiers,
        *(m["telegram_user_id"] for m in await svc.staff.members()),
    }
    roles = {user_id: await role_of(svc, user_id) for user_id in sorted(staff_ids)}
    fingerprint = _menus_fingerprint(app.bot.id, roles)
    if await svc.staff.get_setting(MENUS_SETTING) == fingerprint:
        return
    try:
        await app.bot.set_my_commands(CUSTOMER_COMMANDS, scope=BotCommandScopeAllPrivateChats())
    except TelegramError as exc:  # menus are a convenience: never a reason not to start
        log.warning("could not set the command menus: %s", exc)
        return
    # One call per staff member, a few at a time: one after another, 50 staff at 100 ms a call
    # held start-up for 5 s (bench/throughput.py).
    turns = asyncio.Semaphore(MENU_CALLS_AT_ONCE)

    async def menu_for(user_id: int) -> None:
        async with turns:
            await _set_menu(app, user_id)

    results = await asyncio.gather(*map(menu_for, roles), return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    for failure in failures:
        if not isinstance(failure, TelegramError):
            raise failure
    if failures:  # not remembered: the next start tries them all again
        log.warning("could not set %d staff command menus: %s", len(failures), failures[0])
    else:
        await svc.staff.set_setting(MENUS_SETTING, fingerprint)


async def set_menu_for(app: Application, user_id: int) -> None:  # type: ignore[type-arg]
    """The menu for one person, by their current role (called when staff change)."""
    # Forget what the menus were last set to: if this call fails, the next start sets them all.
    await services_of(app).staff.set_setting(MENUS_SETTING, None)
    await _set_menu(app, user_id)


async def _set_menu(app: Application, user_id: int) -> None:  # type: ignore[type-arg]
    role = await role_of(services_of(app), user_id)
    commands = {"admin": ADMIN_COMMANDS, "cashier": CASHIER_COMMANDS}.get(role)
    scope = BotCommandScopeChat(user_id)
    if commands is None:
        await app.bot.delete_my_commands(scope=scope)
    else:
        await app.bot.set_my_commands(commands, scope=scope)


def _menus_fingerprint(bot_id: int, roles: dict[int, Role]) -> str:
    """A digest of everything the command menus depend on."""
    menus = [
        [(c.command, c.description) for c in commands]
        for commands in (CUSTOMER_COMMANDS, CASHIER_COMMANDS, ADMIN_COMMANDS)
    ]
    facts = json.dumps([bot_id, menus, sorted(roles.items())])
    return hashlib.sha256(facts.encode()).hexdigest()
