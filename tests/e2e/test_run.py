"""`loyalty-bot run` as a real process, talking HTTP to a fake Bot API on 127.0.0.1.

Everything between the fake server and the SQLite file is what production runs: the CLI, config
loading, python-telegram-bot's HTTP client and long polling, signal handling and logging. The
fake refuses what Telegram refuses (over-long texts, callback data over 64 bytes, broken HTML),
so `fake.bad_requests == []` means Telegram would have accepted every call.

Starting the process costs seconds (imports, migrations), so besides the journey, which has a
bot to itself, two bots are shared per module: each serves the tests that need it running, then
is stopped once for the tests that examine how it stopped. The running-bot tests come first in
this file; the `running` guard says so plainly if the order is ever broken.
"""

from __future__ import annotations

import importlib.util
import re
import signal
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.chat import REPLY_TIMEOUT, Chat
from tests.support.fake_bot_api import FakeBotApi
from tests.support.process import DATABASE_FILE, TOKEN, BotProcess, Exited, write_config

pytestmark = pytest.mark.e2e

ADMIN, CASHIER, CASHIER_2, CUSTOMER, STRANGER, OWNER, LATECOMER = (
    1001,
    2002,
    2003,
    3003,
    4004,
    5005,
    6006,
)
TRICKY_NAME = "<b>Zoë_O'Brien*"  # HTML, an apostrophe, Markdown: must all arrive literally
PHONE, PHONE_TYPED = "+447911123456", "07911 123456"
OTHER_PHONE, OTHER_PHONE_TYPED = "+447823456789", "07823 456789"
UNKNOWN_PHONE, UNKNOWN_PHONE_TYPED = "+447400555012", "07400 555012"
STOP_LIMIT = 5.0  # seconds from the signal to the exit: "stops cleanly within a few seconds"


@dataclass
class Bot:
    """A running `loyalty-bot run`, the fake Telegram it polls, and its database file."""

    fake: FakeBotApi
    process: BotProcess
    directory: Path

    def chat(self, user_id: int) -> Chat:
        return Chat(self.fake, user_id)

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows from the bot's SQLite file, opened read-only: what the database really holds."""
        uri = f"file:{self.directory / DATABASE_FILE}?mode=ro"
        with sqlite3.connect(uri, uri=True) as db:
            return db.execute(sql, params).fetchall()


@contextmanager
def running_bot(directory: Path, *, admins: list[int], cashiers: list[int]) -> Iterator[Bot]:
    with FakeBotApi() as fake:
        config = write_config(directory, base_url=fake.base_url, admins=admins, cashiers=cashiers)
        with BotProcess(config) as process:
            yield Bot(fake, process, directory)


def running(bot: Bot) -> Bot:
    assert bot.process.running, "a test stopped this shared bot before a test that needs it"
    return bot


def register(cashier: Chat, name: str, phone: str) -> str:
    """Registers a customer through /register (no e-mail); returns their card as shown."""
    cashier.send("/register")
    cashier.send(name)
    cashier.send(phone)
    cashier.press("Skip")
    match = re.search(r"Card number: (\d{4} \d{4})", cashier.press("Confirm"))
    assert match is not None, "no card number in the reply to Confirm"
    return match.group(1)


def written_forms(e164: str) -> list[str]:
    """The ways a UK number may be written: +447911123456, 447911123456, 07911 123456, ..."""
    national = "0" + e164[3:]
    spaced = f"{national[:5]} {national[5:]}"
    return [e164, e164[1:], f"+44 {spaced[1:]}", national, spaced]


def stop_after_a_reply(bot: Bot, sig: signal.Signals) -> Exited:
    """Stops the bot while it waits in a long poll, the state it spends its life in."""
    assert bot.chat(ADMIN).send("/help")  # the bot is up and polling
    time.sleep(0.5)  # the next getUpdates (10 s) is in flight: stopping must not wait for it
    return bot.process.stop(sig)


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Bot]:
    """A bot of its own, with one admin and one cashier in its config file."""
    with running_bot(tmp_path, admins=[ADMIN], cashiers=[CASHIER]) as bot:
        yield bot


@pytest.fixture(scope="module")
def shared_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    directory = tmp_path_factory.mktemp("shared_shop")
    with running_bot(directory, admins=[ADMIN], cashiers=[CASHIER, CASHIER_2]) as bot:
        yield bot


@pytest.fixture(scope="module")
def stopped_shop(shared_shop: Bot) -> tuple[Bot, Exited]:
    """The shared shop after a few sales involving phone numbers, stopped with SIGTERM."""
    bot = running(shared_shop)
    cashier, customer = bot.chat(CASHIER_2), bot.chat(CUSTOMER)
    register(cashier, "Ann Lee", PHONE_TYPED)
    cashier.send(f"/earn {PHONE_TYPED} 12")
    cashier.press("Confirm")
    assert "/register" in cashier.send(f"/earn {UNKNOWN_PHONE_TYPED} 5")  # not a customer
    assert "Only shop staff" in bot.chat(STRANGER).send(f"/earn {PHONE_TYPED} 5")
    assert "Linked" in customer.share_own_contact(PHONE)
    assert "12 points" in customer.send(f"/status {PHONE}")
    return bot, stop_after_a_reply(bot, signal.SIGTERM)


@pytest.fixture(scope="module")
def unclaimed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    """A bot whose config names no staff at all."""
    with running_bot(tmp_path_factory.mktemp("unclaimed"), admins=[], cashiers=[]) as bot:
        yield bot


# --- the bot at work ---------------------------------------------------------------------------


def test_a_customer_is_registered_earns_redeems_and_follows_their_card(shop: Bot) -> None:
    cashier, customer = shop.chat(CASHIER), shop.chat(CUSTOMER)

    assert "name" in cashier.send("/register")
    assert f"phone number of {TRICKY_NAME}" in cashier.send(TRICKY_NAME)
    assert "e-mail" in cashier.send(PHONE_TYPED)
    summary = cashier.press("Skip")
    assert f"Name: {TRICKY_NAME}" in summary and "E-mail: none" in summary
    registered = cashier.press("Confirm")
    assert f"Registered {TRICKY_NAME}" in registered
    found = re.search(r"Card number: (\d{4} \d{4})", registered)
    assert found is not None
    card = found.group(1)

    assert "150.00 GBP → 150 points" in cashier.send(f"/earn {card} 150")
    assert "+150 points for 150.00 GBP" in cashier.press("Confirm")

    assert "Redeem Free coffee (100 points)?" in cashier.send(f"/redeem {card} coffee")
    redeemed = cashier.press("Confirm")
    assert "Redeemed Free coffee" in redeemed and "New balance: 50 points" in redeemed
    code = re.search(r"Code: (\S+)", redeemed)
    assert code is not None

    looked_up = cashier.send(f"/status {card}")
    assert TRICKY_NAME in looked_up and "Balance: 50 points · Bronze" in looked_up

    linked = customer.share_own_contact(PHONE)
    assert "Linked" in linked and card in linked and "Balance: 50 points" in linked

    mark = len(shop.fake.calls)
    cashier.send(f"/earn {card} 20")
    assert "+20 points" in cashier.press("Confirm")
    notice = customer.next_message(after=mark)
    assert "You earned 20 points" in notice and "Balance: 70 points" in notice
    own_card = customer.send("/status")
    assert TRICKY_NAME in own_card and card in own_card and "70 points" in own_card
    assert shop.fake.bad_requests == []

    assert shop.process.stop().returncode == 0
    [(customer_id, name, phone, email, linked_to, balance)] = shop.query(
        "SELECT id, name, phone, email, telegram_user_id, balance FROM customers"
    )
    assert (name, phone, email, linked_to, balance) == (TRICKY_NAME, PHONE, None, CUSTOMER, 70)
    ledger = shop.query(
        "SELECT kind, points, code FROM ledger WHERE customer_id = ? ORDER BY id", customer_id
    )
    assert [(kind, points) for kind, points, _ in ledger] == [
        ("earn", 150),
        ("redeem", -100),
        ("earn", 20),
    ]
    assert sum(points for _, points, _ in ledger) == balance
    assert ledger[1][2] == code.group(1)  # the code the cashier read out is the stored one


def test_a_confirm_delivered_twice_records_the_purchase_once(shared_shop: Bot) -> None:
    bot = running(shared_shop)
    cashier = bot.chat(CASHIER)
    register(cashier, "Bob Ray", OTHER_PHONE_TYPED)
    cashier.send(f"/earn {OTHER_PHONE_TYPED} 40")
    data, message_id = cashier.button("Confirm")

    mark = len(bot.fake.calls)
    # A double tap, or Telegram redelivering: the same button data under two update ids.
    bot.fake.push_callback(CASHIER, data, message_id)
    bot.fake.push_callback(CASHIER, data, message_id)
    bot.fake.wait_for(
        lambda c: c.method == "answerCallbackQuery" and "Already done" in str(c.params.get("text")),
        REPLY_TIMEOUT,
        after=mark,
    )

    assert sum("+40 points" in text for text in cashier.messages(after=mark)) == 1
    [(customer_id, balance)] = bot.query(
        "SELECT id, balance FROM customers WHERE phone = ?", OTHER_PHONE
    )
    entries = bot.query("SELECT kind, points FROM ledger WHERE customer_id = ?", customer_id)
    assert entries == [("earn", 40)] and balance == 40
    assert bot.fake.bad_requests == []


def test_with_no_admin_the_printed_code_makes_its_sender_the_first_admin(unclaimed: Bot) -> None:
    bot = running(unclaimed)
    code = bot.process.wait_for_stdout(r"/claim ([0-9a-f]+)").group(1)
    owner, latecomer = bot.chat(OWNER), bot.chat(LATECOMER)

    welcome = owner.send(f"/claim {code}")

    assert "You're the admin now" in welcome and "/staff" in welcome
    menu = bot.fake.wait_for(
        lambda c: (
            c.method == "setMyCommands"
            and c.params.get("scope") == {"type": "chat", "chat_id": OWNER}
        ),
        REPLY_TIMEOUT,
    )
    assert {"staff", "report"} <= {command["command"] for command in menu.params["commands"]}
    assert bot.query("SELECT telegram_user_id, role FROM staff") == [(OWNER, "admin")]
    assert latecomer.send(f"/claim {code}") == "This bot already has an admin."
    assert bot.query("SELECT telegram_user_id FROM staff") == [(OWNER,)]
    assert bot.fake.bad_requests == []


# --- starting and stopping ---------------------------------------------------------------------


def test_without_a_token_run_says_how_to_get_one_and_fails(tmp_path: Path) -> None:
    config = write_config(tmp_path, base_url=None, token="")
    with BotProcess(config) as process:
        exited = process.wait()

    assert exited.returncode != 0
    assert "@BotFather" in exited.stderr and "TELEGRAM_BOT_TOKEN" in exited.stderr
    assert "Traceback" not in exited.stderr
    assert not (tmp_path / DATABASE_FILE).exists()  # refused before touching anything


def test_sigterm_ends_the_bot_cleanly_within_seconds(stopped_shop: tuple[Bot, Exited]) -> None:
    _, exited = stopped_shop
    assert exited.returncode == 0, exited.stderr
    assert exited.seconds < STOP_LIMIT, f"took {exited.seconds:.1f}s to stop"
    assert "Traceback" not in exited.stderr


def test_sigint_ends_the_bot_cleanly_within_seconds(unclaimed: Bot) -> None:
    exited = stop_after_a_reply(unclaimed, signal.SIGINT)
    assert exited.returncode == 0, exited.stderr
    assert exited.seconds < STOP_LIMIT, f"took {exited.seconds:.1f}s to stop"
    assert "Traceback" not in exited.stderr


def test_the_bot_runs_on_uvloop_where_it_is_installed(stopped_shop: tuple[Bot, Exited]) -> None:
    # The faster loop is what keeps the bot's CPU per Bot API call near the echo bot's
    # (bench/README.md); where uvloop can't be installed (Windows) asyncio's own loop runs.
    _, exited = stopped_shop
    expected = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    assert f"(event loop: {expected})" in exited.stderr


def test_logs_never_show_the_token_or_a_customers_phone_number(
    stopped_shop: tuple[Bot, Exited],
) -> None:
    _, exited = stopped_shop
    assert f"telegram user {CUSTOMER} linked" in exited.stderr  # the scan reads real log lines
    secrets = [TOKEN, TOKEN.split(":")[1]]
    for phone in (PHONE, OTHER_PHONE, UNKNOWN_PHONE):
        secrets += written_forms(phone)
    leaks = [line for line in exited.output.splitlines() if any(s in line for s in secrets)]
    assert leaks == []


def test_stopping_loses_nothing_every_balance_is_its_ledger_sum(
    stopped_shop: tuple[Bot, Exited],
) -> None:
    bot, _ = stopped_shop
    balances = bot.query(
        "SELECT c.phone, c.balance, SUM(l.points) FROM customers c "
        "LEFT JOIN ledger l ON l.customer_id = c.id GROUP BY c.id"
    )
    assert (PHONE, 12, 12) in balances  # the sale made just before SIGTERM is on disk
    assert all(balance == total for _, balance, total in balances)
