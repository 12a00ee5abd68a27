"""Builds the Application: every handler is registered here, in an order that matters.

Used by `loyalty-bot run` (real Telegram or a self-hosted Bot API), by `loyalty-bot console`
(bot/cli/console.py, Telegram replaced by the terminal) and by the tests (an offline request layer):
one wiring, so what is tested is what runs.
"""

from __future__ import annotations

import logging
import secrets
import warnings
from collections.abc import Callable
from typing import Any

from telegram import (
    Update,
)
from telegram.constants import ParseMode
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

from . import confirm, delivery, expiry, flows, i18n, languages, network
from .backups import schedule_daily_backup
from .birthdays import schedule_birthdays
from .concurrency import PerUserUpdateProcessor
from .config_audit import record_config_load
from .errors import on_error, start_counting
from .handlers import (
    adjust,
    audit,
    birthday,
    campaigns,
    card,
    digest,
    earn,
    edit,
    find,
    history,
    invite,
    language,
    link,
    privacy,
    redeem,
    refund,
    register,
    report,
    staff,
    start,
    status,
    tier,
    void,
)
from .i18n import _
from .menus import set_command_menus
from .persistence import DatabasePersistence, PersistentApplication
from .services import SERVICES_KEY, Services
from .tiers_job import schedule_tier_job

log = logging.getLogger(__name__)

# Conversations track state per user and chat, not per message, on purpose: a cashier's flow
# spans several messages (see bot/flows.py). PTB warns about that combination; it is intended.
warnings.filterwarnings("ignore", message=r"If 'per_message=False'", category=PTBUserWarning)

# Connections to the Bot API. httpcore checks every pooled connection on each request, so with
# PTB's 256 and many cashiers at once that check cost more CPU than the bot's own work
# (bench/throughput.py); 16 still carry 160 calls/s at 100 ms each, and Telegram lets a bot
# send about 30 messages/s. In a burst a call waits up to POOL_TIMEOUT s for a free connection
# (PTB's default of 1 s would turn a busy moment into errors).
BOT_API_CONNECTIONS = 16
POOL_TIMEOUT = 10.0

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
        .rate_limiter(network.rate_limiter())  # a 429 is waited out, not a lost reply
        # Open conversations and their drafts live in the database, written after each update
        # (bot/persistence.py): a restart mid-flow continues the flow.
        .persistence(DatabasePersistence(config.database_url))
        .application_class(PersistentApplication)
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
    # Before the general error handler (register_handlers): a 409 or a lost network while
    # polling is logged once (a minute), not with a traceback per poll (bot/network.py).
    application.add_error_handler(network.PollingTrouble())
    register_handlers(application, config)
    return application


def register_handlers(app: Application, config: Config) -> None:  # type: ignore[type-arg]
    """Every handler, in order. Order matters; the groups are:

    -3   the language replies to this update are written in (bot/languages.py)
    -2   count commits from here on, so the error handler can tell the truth (bot/errors.py)
    -1   private chats only: updates from groups and channels are ignored
    1..  one group per conversation (their steps stop further groups; entry commands don't,
         so each open flow sees a new command and ends itself)
    100  commands outside flows, shared contacts, stale buttons, then the catch-all hints
    """
    app.add_handler(TypeHandler(Update, languages.set_language), group=-3)
    app.add_handler(TypeHandler(Update, start_counting), group=-2)  # see bot/errors.py
    app.add_handler(TypeHandler(Update, _private_only), group=-1)

    undo = config.corrections.undo_minutes > 0
    conversations = [
        earn.conversation(undo=undo),
        status.conversation(),
        register.conversation(),
        redeem.conversation(config.program, undo=undo),
        void.conversation(),
        refund.conversation(),
        adjust.conversation(),
    ]
    for offset, conversation in enumerate(conversations):
        app.add_handler(conversation, group=CONVERSATION_GROUP_START + offset)

    g = LAST_GROUP
    # A /start deep link from `/staff invite` ("/start inv..."); any other /start greets.
    staff_invite = filters.Regex(r"^/start(@\w+)? inv\S*$")
    app.add_handler(CommandHandler("start", staff.accept_invite, filters=staff_invite), group=g)
    # A scanned QR card ("/start t_<token>") or printed card ("/start c_<card number>").
    scanned = filters.Regex(r"^/start(@\w+)? [tc]_\S*$")
    app.add_handler(CommandHandler("start", card.open_scanned, filters=scanned), group=g)
    # A customer's referral link ("/start ref_..."), from /invite (bot/handlers/invite.py).
    referral = filters.Regex(r"^/start(@\w+)? ref_\S*$")
    app.add_handler(CommandHandler("start", invite.open_referral, filters=referral), group=g)
    app.add_handler(CommandHandler("start", start.start), group=g)
    app.add_handler(CommandHandler("help", start.help_command), group=g)
    app.add_handler(CommandHandler("cancel", start.cancel_outside_flow), group=g)
    app.add_handler(CommandHandler("staff", staff.staff_command), group=g)
    app.add_handler(CommandHandler("claim", staff.claim), group=g)
    app.add_handler(CommandHandler("report", report.report_command), group=g)
    app.add_handler(CallbackQueryHandler(report.report_button, pattern=report.PATTERN), group=g)
    app.add_handler(CommandHandler("audit", audit.audit_command), group=g)
    app.add_handler(CallbackQueryHandler(audit.csv_button, pattern=audit.PATTERN), group=g)
    app.add_handler(CommandHandler("digest", digest.digest_command), group=g)
    app.add_handler(CommandHandler("language", language.language_command), group=g)
    app.add_handler(
        CallbackQueryHandler(language.language_button, pattern=language.PATTERN), group=g
    )
    app.add_handler(CommandHandler("tier", tier.tier_command), group=g)
    app.add_handler(CommandHandler("card", card.show_qr_card), group=g)
    app.add_handler(CommandHandler("find", find.find_command), group=g)
    app.add_handler(CommandHandler("history", history.history_command), group=g)
    app.add_handler(CallbackQueryHandler(history.history_button, pattern=history.PATTERN), group=g)
    app.add_handler(CommandHandler("rewards", history.rewards_command), group=g)
    # `go:` buttons (bot/flows.py): Earn and Redeem were taken by their flows' groups already;
    # Status shows the card. Before the catch-all, which would call them stale.
    app.add_handler(flows.GoButton(card.go_button), group=g)
    app.add_handler(CommandHandler("campaigns", campaigns.campaigns_command), group=g)
    app.add_handler(CommandHandler("birthday", birthday.birthday_command), group=g)
    app.add_handler(CommandHandler("invite", invite.invite_command), group=g)
    # Issue 14: the customer's data (bot/handlers/privacy.py), an admin's edit (edit.py).
    app.add_handler(CommandHandler("privacy", privacy.privacy_command), group=g)
    app.add_handler(CommandHandler("notifications", privacy.notifications_command), group=g)
    app.add_handler(CommandHandler("mydata", privacy.mydata_command), group=g)
    app.add_handler(CommandHandler("forget", privacy.forget_command), group=g)
    app.add_handler(CallbackQueryHandler(privacy.forget_button, pattern=privacy.PATTERN), group=g)
    app.add_handler(CommandHandler("edit", edit.edit_command), group=g)
    app.add_handler(link.handler(), group=g)  # a shared contact links a customer's card
    app.add_handler(CallbackQueryHandler(confirm.stale_press, pattern=confirm.pattern()), group=g)
    app.add_handler(CallbackQueryHandler(start.unknown_button), group=g)
    outside_flows = "|".join((*flows.FLOW_COMMANDS, "help", "language"))
    known = filters.Command() & filters.Regex(rf"^/({outside_flows})\b")
    app.add_handler(MessageHandler(filters.COMMAND & ~known, start.unknown_command), group=g)
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, start.free_text), group=g)
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
        await languages.load(svc)  # the /language choices, read once (bot/languages.py)
        await record_config_load(svc)  # the audit trail says which config this run uses
        await digest.restore_schedules(app)  # digests admins turned on survive restarts
        await delivery.start(app)  # what a crash or an outage left owed goes out now
        await expiry.start(app)  # [expiry]: today's expiries and reminders, then daily
        if not config.staff.admins and not svc.extra_admins and not await svc.staff.admin_count():
            svc.claim_code = secrets.token_hex(4)
            if announce is not None:
                # For whoever starts the bot: in the shop's language.
                with i18n.speaking(config.shop.language):
                    announce(
                        _(
                            "No admin yet. Send this to the bot from the owner's Telegram account "
                            "to become its first admin:  /claim {code}"
                        ).format(code=svc.claim_code)
                    )
        await set_command_menus(app)
        schedule_daily_backup(app)  # [backup]: a verified copy of the database every day
        schedule_tier_job(app)  # tiers whose points aged out drop (not under lifetime points)
        schedule_birthdays(app)  # [birthday]: the yearly bonus, checked daily and now

    return post_init


async def _post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
    svc = app.bot_data.get(SERVICES_KEY)
    if isinstance(svc, Services):
        svc.store.close()  # the Store's own SQLite connections (core/db/store.py)
        await svc.engine.dispose()
