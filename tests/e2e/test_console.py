"""`loyalty-bot console`: the real bot in a terminal, scripted through piped stdin.

Each test starts the real command in a subprocess, in an empty folder: no config file, so the
built-in defaults apply and the database is the SQLite file loyalty.db in that folder. The tests
assert on what a person at the terminal would read and on what the database then holds.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e  # real subprocesses: skip with -m "not e2e"

_SCRIPT = Path(sys.executable).with_name("loyalty-bot")
# The installed command when there is one (what a person runs), else the same entry point.
COMMAND = (
    [str(_SCRIPT)]
    if _SCRIPT.exists()
    else [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())"]
)
# No token needed or wanted: the console must work without one.
ENV = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
TIMEOUT = 120  # seconds; a console that hangs instead of leaving fails here

NAME = "Siobhan <Shiv> O'Neil"  # looks like HTML on purpose: it must print exactly as typed
TYPED_PHONE = "07400 123456"
PHONE = "+447400123456"
CHRIS = 700003  # the console's pretend customer (bot/cli/console.py)
PROMPT = re.compile(r"^(admin|cashier|customer)> (.*)$")
HTML_TAG = re.compile(r"</?(b|i|u|s|code|pre|a|tg-spoiler|blockquote)\b[^>]*>")

SESSION = f"""\
/register
{NAME}
{TYPED_PHONE}
#1
#1
/earn {PHONE} 150
#1
/redeem {PHONE} coffee
#1
/status {PHONE}
/as customer
/start
/share {PHONE}
/status
/as cashier
/earn {PHONE} 20
#1
/as nobody
"""


@dataclass(frozen=True)
class Turn:
    who: str  # the role whose prompt it was
    typed: str
    reply: str  # everything printed after it, up to the next prompt


def run_console(folder: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, "console", *args],
        input=script,
        cwd=folder,
        env=ENV,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
    )


def turns(output: str) -> list[Turn]:
    """The transcript as (prompt, what was typed, what came back): piped input is echoed."""
    result: list[Turn] = []
    for line in output.splitlines():
        prompt = PROMPT.match(line)
        if prompt:
            result.append(Turn(prompt[1], prompt[2], ""))
        elif result:
            last = result[-1]
            result[-1] = Turn(last.who, last.typed, f"{last.reply}{line}\n")
    return result


@dataclass(frozen=True)
class Session:
    output: str
    errors: str
    returncode: int
    turns: list[Turn]
    database: Path


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Session:
    """One scripted session: register, earn, redeem, status; then the customer links and looks."""
    folder = tmp_path_factory.mktemp("console")
    done = run_console(folder, SESSION)
    return Session(
        done.stdout, done.stderr, done.returncode, turns(done.stdout), folder / "loyalty.db"
    )


@pytest.fixture
def db(session: Session) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(session.database)
    connection.row_factory = sqlite3.Row
    yield connection
    connection.close()


def test_the_session_runs_to_the_end_of_its_input_and_leaves_cleanly(session: Session) -> None:
    assert session.returncode == 0, session.errors
    assert "Traceback" not in session.errors + session.output
    assert session.output.rstrip().endswith("Bye.")
    assert [t.typed for t in session.turns] == SESSION.splitlines()


def test_a_cashier_registers_a_customer_pressing_numbered_buttons(session: Session) -> None:
    register, name, phone, skip, confirm = session.turns[:5]
    assert register.who == "cashier"
    assert "New customer. Send their name" in register.reply
    assert f"Send the phone number of {NAME}" in name.reply
    assert "[#1] ⏭ Skip (no e-mail)" in phone.reply
    assert f"Name: {NAME}" in skip.reply
    assert "E-mail: none" in skip.reply
    assert "[#1] ✅ Confirm  [#2] ✖ Cancel" in skip.reply
    assert f"✅ Registered {NAME}" in confirm.reply
    assert re.search(r"Card number: \d{4} \d{4}", confirm.reply)


def test_a_cashier_records_a_purchase_redeems_a_coffee_and_looks_up_the_card(
    session: Session,
) -> None:
    earn, earn_ok, redeem, redeem_ok, status = session.turns[5:10]
    assert "Balance 0 → 150" in earn.reply
    assert "[#1] ✅ Confirm  [#2] ✖ Cancel" in earn.reply
    assert "✅ +150 points for 150.00 GBP" in earn_ok.reply
    assert "Balance 150 → 50" in redeem.reply
    assert "Redeemed Free coffee" in redeem_ok.reply
    assert "New balance: 50 points" in redeem_ok.reply
    assert "Balance: 50 points · Bronze" in status.reply
    assert "3456" in status.reply and "7400 123456" not in status.reply  # masked for staff


def test_the_customer_links_their_telegram_by_sharing_their_phone_and_sees_their_card(
    session: Session,
) -> None:
    switch, start, share, status = session.turns[10:14]
    assert "[you are now Chris (customer)]" in switch.reply
    assert "[button: Share my phone number — type /share <your phone number>]" in start.reply
    assert share.who == "customer"
    assert "Linked!" in share.reply
    assert status.who == "customer"
    assert NAME in status.reply
    assert "Balance: 50 points · Bronze" in status.reply


def test_the_customers_notification_is_shown_labelled_with_who_got_it(session: Session) -> None:
    earn_ok = session.turns[16]
    assert earn_ok.who == "cashier"
    assert "New balance: 70 points" in earn_ok.reply
    notices = [line for line in earn_ok.reply.splitlines() if line.startswith("bot → ")]
    assert len(notices) == 1
    assert notices[0].startswith("bot → Chris (customer): ")
    assert "You earned 20 points" in notices[0]
    assert "Balance: 70 points" in notices[0]


def test_formatting_is_rendered_never_printed_as_raw_html(session: Session) -> None:
    assert not HTML_TAG.search(session.output)
    assert not re.search(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-f]+);", session.output)


def test_an_unknown_role_in_as_prints_the_usage_and_changes_nobody(session: Session) -> None:
    last = session.turns[-1]
    assert last.typed == "/as nobody"
    assert "usage: /as admin | /as cashier | /as customer" in last.reply


def test_the_database_holds_the_customer_linked_to_the_pretend_customer(
    db: sqlite3.Connection,
) -> None:
    customer = db.execute("SELECT * FROM customers").fetchone()
    assert db.execute("SELECT count(*) FROM customers").fetchone()[0] == 1
    assert (customer["name"], customer["phone"], customer["email"]) == (NAME, PHONE, None)
    assert customer["telegram_user_id"] == CHRIS
    assert customer["balance"] == 70
    entries = db.execute(
        "SELECT kind, points, reward_id FROM ledger WHERE customer_id = ? ORDER BY id",
        (customer["id"],),
    ).fetchall()
    assert [tuple(e) for e in entries] == [
        ("earn", 150, None),
        ("redeem", -100, "coffee"),
        ("earn", 20, None),
    ]
    assert customer["balance"] == sum(e["points"] for e in entries)


def test_end_of_input_at_once_leaves_with_exit_code_zero(tmp_path: Path) -> None:
    done = run_console(tmp_path, "")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout.rstrip().endswith("Bye.")


def test_the_admin_can_manage_staff_and_the_cashier_cannot(tmp_path: Path) -> None:
    done = run_console(tmp_path, "/staff\n/as cashier\n/staff\n", "--as", "admin")
    admin, _switch, cashier = turns(done.stdout)
    assert admin.who == "admin"
    assert "/staff add" in admin.reply  # the staff list, with how to add someone
    assert cashier.who == "cashier"
    assert "Only an admin" in cashier.reply


# --- button numbers: "#1" presses, a bare number is a message --------------------------------

BUTTONS = f"""\
#1
/register
Ann Lee
{TYPED_PHONE}
#1
#1
/earn {TYPED_PHONE} 20
1
#3
#1
#1
/earn {TYPED_PHONE}
1
#2
/earn {TYPED_PHONE} 12 50
12.50 GBP
#2
"""


@pytest.fixture(scope="module")
def buttons(tmp_path_factory: pytest.TempPathFactory) -> Session:
    """A session that presses buttons with "#n" and types bare numbers where they are text."""
    folder = tmp_path_factory.mktemp("buttons")
    done = run_console(folder, BUTTONS)
    assert done.returncode == 0, done.stderr
    return Session(
        done.stdout, done.stderr, done.returncode, turns(done.stdout), folder / "loyalty.db"
    )


def typed(session: Session, line: str, nth: int = 0) -> Turn:
    """The nth turn (0 = the first) where `line` was typed."""
    return [t for t in session.turns if t.typed == line][nth]


def test_the_banner_says_buttons_are_pressed_with_a_hash(buttons: Session) -> None:
    banner = buttons.output.split("cashier> ")[0]
    assert "#1, #2, ...                 press button [#1], [#2]" in banner
    assert "anything else, numbers included, is a message to the bot" in banner


def test_a_press_with_no_such_button_says_so_and_sends_nothing(buttons: Session) -> None:
    first = buttons.turns[0]
    assert first.typed == "#1"
    assert first.reply == "  [no button #1: there are no buttons to press yet]\n"
    out_of_range = typed(buttons, "#3")
    assert out_of_range.reply == "  [no button #3: the buttons are #1 to #2]\n"


def test_a_bare_number_under_buttons_is_a_message_and_the_console_says_how_to_press(
    buttons: Session,
) -> None:
    bare = buttons.turns[7]
    assert (bare.typed, buttons.turns[6].typed) == ("1", f"/earn {TYPED_PHONE} 20")
    assert "[#1] ✅ Confirm  [#2] ✖ Cancel" in buttons.turns[6].reply
    assert bare.reply == (
        "bot: Please press ✅ Confirm or ✖ Cancel above (or send /cancel).\n"
        "  [sent “1” as a message: to press [#1] ✅ Confirm, type #1]\n"
    )
    confirm, again = buttons.turns[9:11]
    assert "✅ +20 points for 20.00 GBP" in confirm.reply  # "#1" pressed it, once
    assert "[#1] ↩ Undo" in confirm.reply  # the result is now the latest message with buttons
    assert "↩ Void the purchase of 20.00 GBP" in again.reply  # so "#1" pressed Undo: a preview


def test_in_the_amount_step_a_number_is_the_amount_though_buttons_are_above(
    buttons: Session,
) -> None:
    amount = typed(buttons, "1", 1)
    assert "How much did they spend?" in buttons.turns[buttons.turns.index(amount) - 1].reply
    assert "1.00 GBP → 1 point" in amount.reply
    assert "[sent" not in amount.reply  # no hint: the bot asked for text, and got it
    assert (
        "Cancelled. Nothing was recorded." in buttons.turns[buttons.turns.index(amount) + 1].reply
    )


def test_an_amount_with_a_space_is_refused_in_one_line_and_the_customer_kept(
    buttons: Session,
) -> None:
    spaced = typed(buttons, f"/earn {TYPED_PHONE} 12 50")
    assert spaced.reply == (
        "bot:\n"
        "  That amount won't work: “12 50” has a space inside: send 12.50 or 1250, whichever "
        "you meant.\n"
        "  Send the amount again, like 25.50 (/cancel to stop).\n"
    )
    assert "Ann Lee" in typed(buttons, "12.50 GBP").reply
    assert "12.50 GBP → 12 points" in typed(buttons, "12.50 GBP").reply


def test_only_the_purchase_confirmed_with_its_button_is_recorded(buttons: Session) -> None:
    connection = sqlite3.connect(buttons.database)
    try:
        balance = connection.execute("SELECT balance FROM customers").fetchall()
        entries = connection.execute("SELECT kind, points, amount_minor FROM ledger").fetchall()
    finally:
        connection.close()
    assert balance == [(20,)]
    assert entries == [("earn", 20, 2000)]  # not the bare "1", nor the cancelled 1.00 or 12.50


def readme_example() -> list[str]:
    """The lines of the README's "Try this" session, without their prompts."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    block = re.search(r"Try this.*?```text\n(.*?)```", readme, re.DOTALL)
    assert block, "the README's console example is gone"
    return [PROMPT.sub(r"\2", line) for line in block[1].splitlines()]


def test_the_readmes_example_works_on_the_demo_data(tmp_path: Path) -> None:
    typed = readme_example()
    assert typed[0].startswith("/earn ")
    done = run_console(tmp_path, "\n".join(typed) + "\n", "--demo")
    assert done.returncode == 0, done.stderr
    assert "Demo ready: " in done.stdout  # built on first use, beside where it started
    assert (tmp_path / "loyalty-demo.db").exists()
    assert not (tmp_path / "loyalty.db").exists()  # the demo never touches the real database
    earn, confirm, _switch, status = turns(done.stdout)
    assert "Chris Taylor" in earn.reply and "[#1] ✅ Confirm" in earn.reply
    assert "✅ +" in confirm.reply
    assert "bot → Chris (customer): ⭐ You earned" in confirm.reply
    assert status.who == "customer"
    assert "Purchase (25.50 GBP)" in status.reply


@pytest.mark.skipif(os.name != "posix", reason="Ctrl-C is a signal on POSIX only")
def test_ctrl_c_while_waiting_for_input_leaves_promptly_and_cleanly(tmp_path: Path) -> None:
    console = subprocess.Popen(
        [*COMMAND, "console"],
        stdin=subprocess.PIPE,  # held open: the console sits waiting for the next line
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=ENV,
        text=True,
        encoding="utf-8",
    )
    try:
        assert console.stdout is not None
        banner = console.stdout.readline()  # printed once the bot is up and reading
        assert banner.startswith("loyalty-bot console")
        console.send_signal(signal.SIGINT)
        started = time.monotonic()
        out, err = console.communicate(timeout=TIMEOUT)
        assert time.monotonic() - started < 15
    finally:
        console.kill()
        console.wait()
    assert console.returncode == 0, err
    assert "Traceback" not in err
    assert out.rstrip().endswith("Bye.")


SAVED = re.compile(r"\[document saved to (.+?) \([\d,]+ bytes\)\]")


def test_a_csv_the_bot_sends_is_saved_to_a_temporary_folder_never_the_current_one(
    tmp_path: Path,
) -> None:
    here, temp = tmp_path / "shop", tmp_path / "temp"
    here.mkdir()
    temp.mkdir()
    done = subprocess.run(
        [*COMMAND, "console", "--as", "admin"],
        input="/report\n#11\n#1\n",  # the Summary, then 📄 CSV (its 11th button), then an export
        cwd=here,
        env={**ENV, "TMPDIR": str(temp)},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
    )

    assert done.returncode == 0, done.stderr
    saved = SAVED.search(done.stdout)
    assert saved, done.stdout
    path = Path(saved[1])
    assert path.parent.parent == temp and path.parent.name.startswith("loyalty-bot-console-")
    assert path.name == "loyalty-customers-30d.csv"
    assert path.read_text(encoding="utf-8-sig").startswith("card,name,tier,")  # the header row
    assert {p.name for p in here.iterdir()} <= {"loyalty.db", "loyalty.db-wal", "loyalty.db-shm"}


def test_downloads_go_to_the_folder_named_with_downloads(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    done = run_console(tmp_path, "/report\n#11\n#1\n", "--as", "admin", "--downloads", str(folder))

    assert done.returncode == 0, done.stderr
    saved = SAVED.search(done.stdout)
    assert saved, done.stdout
    assert Path(saved[1]).parent == folder
    assert [p.name for p in folder.iterdir()] == [Path(saved[1]).name]
