"""What every conversation shares, through the real Application: /help, /cancel, hints, idle
timeouts, roles re-checked on every update, and private chats only.

"Never silence, never twice": each message or button press gets exactly one answer, so these
tests count the Bot API calls an update caused, not just the last text.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bot import flows, menus
from bot.handlers.adjust import parse_points
from bot.offline import SentCall, keyboard_rows, make_callback_update, make_message_update
from core import rules
from core.lookup import parse_reference
from core.types import Customer
from tests.support.harness import ADMIN, CASHIER, CUSTOMER, STRANGER, BotHarness, make_config

pytestmark = pytest.mark.asyncio

PHONE = "+447400123456"
ADDED_ADMIN = 5005  # an admin added from Telegram, so removable (config admins are not)
HINT_STAFF = "Send /earn, /redeem, /register or /status to start"
HINT_CUSTOMER = "Send /status to see your points"


async def register(bot: BotHarness, points: int = 0) -> Customer:
    now = bot.services.clock()
    result = await bot.store.register(
        {"name": "Ann Lee", "phone": PHONE, "email": None}, actor_id=CASHIER, now=now
    )
    customer = result["customer"]
    if points:
        # Bronze earns 1 point per GBP, so this many GBP make this many points.
        await bot.store.earn(customer["id"], Decimal(points), actor_id=CASHIER, now=now)
    return await bot.store.get_customer(customer["id"])


def messages(calls: list[SentCall]) -> list[SentCall]:
    return [c for c in calls if c.method == "sendMessage"]


def answers(calls: list[SentCall]) -> list[SentCall]:
    return [c for c in calls if c.method == "answerCallbackQuery"]


def commands_in(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w<])/([a-z]+)", text))


# --- /help ----------------------------------------------------------------------------------


def _menu(commands: list[tuple[str, str]]) -> set[str]:
    return {command for command, _ in commands}


@pytest.mark.parametrize(
    ("user_id", "menu"),
    [
        (STRANGER, menus.CUSTOMER_COMMANDS),
        (CASHIER, menus.CASHIER_COMMANDS),
        (ADMIN, menus.ADMIN_COMMANDS),
    ],
    ids=["customer", "cashier", "admin"],
)
async def test_help_lists_exactly_the_commands_of_the_askers_role(
    bot: BotHarness, user_id: int, menu: list[tuple[str, str]]
) -> None:
    calls = await bot.send(user_id, "/help")

    assert len(messages(calls)) == 1
    assert commands_in(bot.last_text(user_id)) == _menu(menu)
    assert not bot.bad_requests()


async def test_every_example_in_staff_help_would_be_understood(bot: BotHarness) -> None:
    await bot.send(ADMIN, "/help")

    sent = bot.said_to(ADMIN)[-1].text or ""
    examples = {e.split()[0]: e.split()[1:] for e in re.findall(r"<code>(/[^<]+)</code>", sent)}
    program, region = bot.config.program, bot.config.program.default_region
    *customer, amount = examples["/earn"]
    assert parse_reference(" ".join(customer), region)[0] == "phone"
    assert rules.parse_amount(amount, program) == Decimal("25.50")
    *customer, reward = examples["/redeem"]
    assert parse_reference(" ".join(customer), region)[0] == "card"
    assert rules.find_reward(reward, program).id == reward
    assert parse_reference(" ".join(examples["/status"]), region)[0] == "card"
    assert examples["/report"] and examples["/staff"]
    first, second, change, *reason = examples["/adjust"]
    assert parse_reference(f"{first} {second}", region)[0] == "card"
    assert parse_points(change) == 50 and reason


async def test_customer_help_never_mentions_staff_commands(bot: BotHarness) -> None:
    await bot.send(CUSTOMER, "/help")

    assert not commands_in(bot.last_text(CUSTOMER)) & {"earn", "redeem", "register", "staff"}


async def test_help_in_the_middle_of_a_flow_keeps_the_flow_open(bot: BotHarness) -> None:
    customer = await register(bot)
    await bot.send(CASHIER, "/earn 07400123456 12")

    await bot.send(CASHIER, "/help")
    await bot.press(CASHIER, "Confirm")

    assert "+12 points" in bot.last_text(CASHIER)
    assert (await bot.store.get_customer(customer["id"]))["balance"] == 12


# --- /cancel --------------------------------------------------------------------------------


async def test_cancel_outside_a_flow_says_there_is_nothing_to_cancel(bot: BotHarness) -> None:
    calls = await bot.send(CASHIER, "/cancel")

    assert len(messages(calls)) == 1
    assert "Nothing to cancel" in bot.last_text(CASHIER)


# Each flow, driven to each of its steps: /cancel must end it from anywhere.
FLOW_STEPS: dict[str, list[str]] = {
    "earn asks whose card": ["/earn"],
    "earn asks the amount": ["/earn", "07400123456"],
    "earn shows the preview": ["/earn 07400123456 20"],
    "redeem asks whose card": ["/redeem"],
    "redeem shows the rewards": ["/redeem 07400123456"],
    "redeem shows the preview": ["/redeem 07400123456 coffee"],
    "register asks the name": ["/register"],
    "register asks the phone": ["/register", "Bo Chen"],
    "register asks the e-mail": ["/register", "Bo Chen", "07400 999888"],
    "register shows the summary": ["/register", "Bo Chen", "07400 999888", "-"],
    "status asks whose card": ["/status"],
}


@pytest.mark.parametrize("steps", FLOW_STEPS.values(), ids=FLOW_STEPS.keys())
async def test_cancel_ends_the_flow_at_any_step_with_one_reply(
    bot: BotHarness, steps: list[str]
) -> None:
    customer = await register(bot, points=300)
    for step in steps:
        await bot.send(CASHIER, step)

    calls = await bot.send(CASHIER, "/cancel")

    assert [bot.last_text(CASHIER)] == ["Cancelled. Nothing was recorded."]
    assert len(messages(calls)) == 1
    await bot.send(CASHIER, "/cancel")  # the flow really ended: nothing left to cancel
    assert "Nothing to cancel" in bot.last_text(CASHIER)
    assert (await bot.store.get_customer(customer["id"]))["balance"] == 300
    assert await bot.store.customer_by_phone("+447400999888") is None


# --- hints: never silence, never twice ------------------------------------------------------


@pytest.mark.parametrize(
    ("user_id", "hint"),
    [(CUSTOMER, HINT_CUSTOMER), (CASHIER, HINT_STAFF), (ADMIN, HINT_STAFF)],
    ids=["customer", "cashier", "admin"],
)
async def test_free_text_outside_a_flow_gets_a_one_line_hint_for_the_role(
    bot: BotHarness, user_id: int, hint: str
) -> None:
    calls = await bot.send(user_id, "hello?")

    assert len(messages(calls)) == 1
    assert hint in bot.last_text(user_id)
    assert "\n" not in bot.last_text(user_id)


@pytest.mark.parametrize("user_id", [CUSTOMER, CASHIER, ADMIN])
async def test_an_unknown_command_gets_a_one_line_hint(bot: BotHarness, user_id: int) -> None:
    calls = await bot.send(user_id, "/ear <b>5</b>")

    assert len(messages(calls)) == 1
    assert bot.last_text(user_id) == "I don't know /ear. Send /help to see the commands."
    assert not bot.bad_requests()


async def test_an_unknown_command_mid_flow_is_answered_and_the_flow_carries_on(
    bot: BotHarness,
) -> None:
    customer = await register(bot)
    await bot.send(CASHIER, "/earn 07400123456")

    calls = await bot.send(CASHIER, "/ear")
    assert len(messages(calls)) == 1
    assert "I don't know /ear" in bot.last_text(CASHIER)

    await bot.send(CASHIER, "8")  # still in the amount step
    await bot.press(CASHIER, "Confirm")
    assert (await bot.store.get_customer(customer["id"]))["balance"] == 8


@pytest.mark.parametrize("steps", FLOW_STEPS.values(), ids=FLOW_STEPS.keys())
async def test_text_inside_a_flow_gets_exactly_one_reply_and_never_the_hint(
    bot: BotHarness, steps: list[str]
) -> None:
    await register(bot, points=300)
    for step in steps[:-1]:
        await bot.send(CASHIER, step)

    calls = [await bot.send(CASHIER, steps[-1]), await bot.send(CASHIER, "what now?")]

    for caused in calls:
        assert len(messages(caused)) == 1
        assert all(HINT_STAFF not in (c.visible_text or "") for c in caused)
    assert not bot.bad_requests()


@pytest.mark.parametrize("user_id", [CUSTOMER, CASHIER, ADMIN])
@pytest.mark.parametrize("command", ["/start", "/status", "/help", "/cancel"])
async def test_every_command_anyone_may_send_gets_exactly_one_reply(
    bot: BotHarness, user_id: int, command: str
) -> None:
    calls = await bot.send(user_id, command)

    assert len(messages(calls)) == 1
    assert not bot.bad_requests()


@pytest.mark.parametrize(
    "command",
    ["/earn", "/redeem", "/register", "/staff", "/report", "/digest", "/adjust", "/audit"],
)
async def test_a_customer_sending_a_staff_command_is_refused_in_one_line(
    bot: BotHarness, command: str
) -> None:
    calls = await bot.send(CUSTOMER, command)

    assert len(messages(calls)) == 1
    assert "Only" in bot.last_text(CUSTOMER)


# --- idle flows end themselves ---------------------------------------------------------------


@pytest.fixture
async def impatient_bot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[BotHarness]:
    """A bot whose flows time out after a fraction of a second (read when flows are built)."""
    monkeypatch.setattr(flows, "IDLE_TIMEOUT", 0.3)
    async with BotHarness(make_config(tmp_path)) as harness:
        yield harness


async def said(bot: BotHarness, chat_id: int, words: str) -> str:
    """Waits (up to 5 s) for a message to `chat_id` containing `words`, and returns it."""

    def probe() -> str | None:
        return next((t for t in bot.texts_to(chat_id) if words in t), None)

    async with asyncio.timeout(5):
        return await bot.emulator.until(probe)


async def test_a_flow_left_idle_ends_with_a_message_and_its_preview_expires(
    impatient_bot: BotHarness,
) -> None:
    bot = impatient_bot
    customer = await register(bot)
    await bot.send(CASHIER, "/earn 07400123456 30")
    assert "30 points" in bot.last_text(CASHIER)

    notice = await said(bot, CASHIER, "idle")

    assert "Nothing was recorded" in notice
    await bot.press(CASHIER, "Confirm")
    assert any("expired" in alert for alert in bot.alerts())
    assert (await bot.store.get_customer(customer["id"]))["balance"] == 0
    await bot.send(CASHIER, "/cancel")
    assert "Nothing to cancel" in bot.last_text(CASHIER)


async def test_an_idle_step_without_a_preview_also_ends(impatient_bot: BotHarness) -> None:
    bot = impatient_bot
    await bot.send(CASHIER, "/register")
    await bot.send(CASHIER, "Bo Chen")

    await said(bot, CASHIER, "idle")

    calls = await bot.send(CASHIER, "07400 999888")  # no longer a phone step: just a hint
    assert HINT_STAFF in bot.last_text(CASHIER)
    assert len(messages(calls)) == 1
    assert await bot.store.customer_by_phone("+447400999888") is None


async def test_a_flow_in_use_does_not_time_out(impatient_bot: BotHarness) -> None:
    bot = impatient_bot
    customer = await register(bot)
    await bot.send(CASHIER, "/earn")
    for _ in range(3):  # each step restarts the clock
        await asyncio.sleep(0.15)
        await bot.send(CASHIER, "07400 12345")  # a typo: asks again, stays in the step
    await bot.send(CASHIER, "07400123456")
    await bot.send(CASHIER, "5")
    await bot.press(CASHIER, "Confirm")

    assert (await bot.store.get_customer(customer["id"]))["balance"] == 5
    assert not any("idle" in text for text in bot.texts_to(CASHIER))


# --- roles on every update, button presses included ----------------------------------------


FORGED = [
    "earn:ok:0123456789abcdef",
    "earn:no:0123456789abcdef",
    "redeem:ok:0123456789abcdef",
    "reg:ok:0123456789abcdef",
    "redeem:pick:coffee",
    "reg:skip_email",
    "x" * 64,
    "earn:ok:' OR 1=1 --",
]


@pytest.mark.parametrize("data", FORGED)
async def test_a_forged_button_from_a_customer_changes_nothing_and_gets_one_line(
    bot: BotHarness, data: str
) -> None:
    customer = await register(bot, points=300)
    entries = await bot.store.recent_entries(customer["id"], 50)

    calls = await bot.press_data(CUSTOMER, data)

    assert len(answers(calls)) == 1
    assert answers(calls)[0].params.get("text")
    assert not messages(calls)
    assert await bot.store.recent_entries(customer["id"], 50) == entries
    assert await bot.store.get_customer(customer["id"]) == customer
    assert await bot.store.customer_by_telegram(CUSTOMER) is None


@pytest.mark.parametrize("data", FORGED)
async def test_a_forged_button_mid_flow_changes_nothing_and_the_flow_carries_on(
    bot: BotHarness, data: str
) -> None:
    customer = await register(bot, points=300)
    await bot.send(CASHIER, "/earn 07400123456 10")

    calls = await bot.press_data(CASHIER, data)

    assert len(answers(calls)) == 1
    assert (await bot.store.get_customer(customer["id"]))["balance"] == 300
    await bot.press(CASHIER, "Confirm")
    assert (await bot.store.get_customer(customer["id"]))["balance"] == 310


async def test_cancel_under_an_older_preview_leaves_the_newer_one_open(bot: BotHarness) -> None:
    customer = await register(bot)
    await bot.send(CASHIER, "/earn 07400123456 10")
    older = next(c for c in bot.said_to(CASHIER) if keyboard_rows(c.params))
    await bot.send(CASHIER, "/earn 07400123456 20")
    cancel = keyboard_rows(older.params)[0][1]
    assert "Cancel" in cancel["text"]

    calls = await bot.press_data(CASHIER, cancel["callback_data"])

    assert [str(a.params.get("text")) for a in answers(calls)] == [
        "That is already closed; nothing to cancel."
    ]
    await bot.press(CASHIER, "Confirm")
    assert (await bot.store.get_customer(customer["id"]))["balance"] == 20


Step = Callable[[BotHarness], Awaitable[list[SentCall]]]


async def _type_card(bot: BotHarness) -> list[SentCall]:
    return await bot.send(ADDED_ADMIN, "07400123456")


async def _press_confirm(bot: BotHarness) -> list[SentCall]:
    return await bot.press(ADDED_ADMIN, "Confirm")


async def _pick_coffee(bot: BotHarness) -> list[SentCall]:
    return await bot.press(ADDED_ADMIN, "Free coffee")


async def _type_phone(bot: BotHarness) -> list[SentCall]:
    return await bot.send(ADDED_ADMIN, "07400 999888")


REMOVED_MID_FLOW: dict[str, tuple[list[str], Step]] = {
    "earn, at the customer step": (["/earn"], _type_card),
    "earn, at Confirm": (["/earn 07400123456 10"], _press_confirm),
    "redeem, at the reward buttons": (["/redeem 07400123456"], _pick_coffee),
    "redeem, at Confirm": (["/redeem 07400123456 coffee"], _press_confirm),
    "register, at the phone step": (["/register", "Bo Chen"], _type_phone),
    "register, at Confirm": (["/register", "Bo Chen", "07400 999888", "-"], _press_confirm),
    "status, at the customer step": (["/status"], _type_card),
}


@pytest.mark.parametrize(("steps", "next_step"), REMOVED_MID_FLOW.values(), ids=REMOVED_MID_FLOW)
async def test_an_admin_removed_mid_flow_is_refused_at_the_next_step(
    bot: BotHarness, steps: list[str], next_step: Step
) -> None:
    customer = await register(bot, points=300)
    await bot.send(ADMIN, f"/staff add {ADDED_ADMIN} admin")
    for step in steps:
        await bot.send(ADDED_ADMIN, step)
    await bot.send(ADMIN, f"/staff remove {ADDED_ADMIN}")

    calls = await next_step(bot)

    refusals = [str(c.params.get("text", "")) for c in answers(calls)] + [
        c.visible_text or "" for c in messages(calls)
    ]
    assert len(refusals) == 1 and "Only shop staff" in refusals[0]
    assert (await bot.store.get_customer(customer["id"])) == customer
    assert await bot.store.customer_by_phone("+447400999888") is None


# --- private chats only ----------------------------------------------------------------------


GROUP = -1001234567890


def _in_group(update: dict[str, Any]) -> dict[str, Any]:
    """The same update, but in a group the bot was added to."""
    part = update.get("message") or update["callback_query"]["message"]
    part["chat"] = {"id": GROUP, "type": "supergroup", "title": "Shop staff"}
    return update


@pytest.mark.parametrize(
    ("user_id", "text"),
    [
        (CASHIER, "/earn 07400123456 25"),
        (CASHIER, "/help"),
        (CUSTOMER, "/status"),
        (CUSTOMER, "/ear"),
        (CUSTOMER, "hello bot"),
        (ADMIN, f"/staff add {STRANGER}"),
    ],
)
async def test_messages_in_a_group_chat_get_no_reply_and_change_nothing(
    bot: BotHarness, user_id: int, text: str
) -> None:
    customer = await register(bot)
    before = len(bot.emulator.calls)

    update = _in_group(make_message_update(900, user_id=user_id, text=text))
    await bot.app.process_update(Update.de_json(update, bot.app.bot))

    assert bot.emulator.calls[before:] == []
    assert (await bot.store.get_customer(customer["id"]))["balance"] == 0
    assert await bot.staff.role_of(STRANGER) is None


async def test_a_button_pressed_in_a_group_chat_is_ignored(bot: BotHarness) -> None:
    customer = await register(bot)
    await bot.send(CASHIER, "/earn 07400123456 25")
    _, button = bot.find_button(CASHIER, "Confirm")
    before = len(bot.emulator.calls)

    update = make_callback_update(901, user_id=CASHIER, data=button["callback_data"], message_id=1)
    await bot.app.process_update(Update.de_json(_in_group(update), bot.app.bot))

    assert bot.emulator.calls[before:] == []
    assert (await bot.store.get_customer(customer["id"]))["balance"] == 0
    await bot.press(CASHIER, "Confirm")  # the private flow is untouched
    assert (await bot.store.get_customer(customer["id"]))["balance"] == 25
