"""A customer's data under their control (issue 14): /notifications, /mydata, /forget, /privacy,
and an admin's /forget and /edit, through the real Application: what people saw, what the
database holds afterwards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.offline import SentCall, parse_html
from core.cards import format_card
from core.db import outbox
from core.db.tables import metadata
from tests.support.harness import ADMIN, CASHIER, CUSTOMER, STRANGER, BotHarness

pytestmark = pytest.mark.asyncio

PHONE = "+447400123456"
SHOWN_PHONE = "+44 7400 123456"
EMAIL = "ann@example.org"
NAME = "Ann Lee"


async def register(
    bot: BotHarness, phone: str = PHONE, name: str = NAME, email: str | None = EMAIL
) -> dict[str, Any]:
    result = await bot.store.register(
        {"name": name, "phone": phone, "email": email}, actor_id=CASHIER, now=bot.services.clock()
    )
    return dict(result["customer"])


async def earn_at_till(bot: BotHarness, reference: str, amount: str) -> None:
    await bot.send(CASHIER, f"/earn {reference} {amount}")
    await bot.press(CASHIER, "Confirm")


def documents(calls: list[SentCall]) -> list[SentCall]:
    return [c for c in calls if c.method == "sendDocument"]


async def database_text(bot: BotHarness) -> str:
    """Every value in every table of the bot's database, as one text to search (SQLite or
    PostgreSQL alike)."""
    rows: list[str] = []
    async with bot.services.engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows += [repr(tuple(row)) for row in await conn.execute(select(table))]
    return "\n".join(rows)


# --- /privacy and the notice on linking ---


async def test_privacy_says_what_is_stored_why_and_how_to_get_or_erase_it(bot: BotHarness) -> None:
    await bot.send(STRANGER, "/privacy")
    text = bot.last_text(STRANGER)
    assert "What we store" in text and "Why" in text and "Who sees it" in text
    assert "/mydata" in text and "/forget" in text and "/notifications off" in text


async def test_linking_shows_a_one_line_notice_pointing_to_privacy(bot: BotHarness) -> None:
    await register(bot)
    await bot.share_contact(CUSTOMER, PHONE)
    text = bot.last_text(CUSTOMER)
    assert "Linked" in text
    assert "We keep your name, phone number and points history" in text and "/privacy" in text


# --- /notifications ---


async def test_notifications_off_stops_notices_but_never_the_cashiers_reply(
    bot: BotHarness,
) -> None:
    ann = await register(bot)
    await bot.share_contact(CUSTOMER, PHONE)

    await bot.send(CUSTOMER, "/notifications off")
    assert "Notifications are off" in bot.last_text(CUSTOMER)
    await earn_at_till(bot, PHONE, "25")

    assert "+25 points" in bot.last_text(CASHIER)
    assert not any("You earned" in t for t in bot.texts_to(CUSTOMER))
    queued = await bot.store.unit.read(outbox.owed_count)
    assert queued == 0
    assert (await bot.store.get_customer(ann["id"]))["balance"] == 25

    await bot.send(CUSTOMER, "/notifications")
    assert "are off" in bot.last_text(CUSTOMER) and "/notifications on" in bot.last_text(CUSTOMER)
    await bot.send(CUSTOMER, "/notifications on")
    await earn_at_till(bot, PHONE, "10")
    assert "You earned 10 points" in bot.last_text(CUSTOMER)
    actions = [(r["action"], r["details"]) for r in await bot.store.audit_log(ann["id"])]
    assert ("notifications", {"on": False}) in actions and (
        "notifications",
        {"on": True},
    ) in actions


async def test_notifications_need_a_linked_card_and_a_known_word(bot: BotHarness) -> None:
    await bot.send(STRANGER, "/notifications off")
    assert "No loyalty card is linked" in bot.last_text(STRANGER)
    await register(bot)
    await bot.share_contact(CUSTOMER, PHONE)
    await bot.send(CUSTOMER, "/notifications sometimes")
    assert bot.last_text(CUSTOMER) == "Send /notifications on or /notifications off."


# --- /mydata ---


async def test_mydata_shows_everything_held_and_sends_it_as_json(bot: BotHarness) -> None:
    ann = await register(bot)
    await bot.share_contact(CUSTOMER, PHONE)
    await earn_at_till(bot, PHONE, "30")
    await bot.store.adjust(
        ann["id"], 5, "sorry for the wait", actor_id=ADMIN, now=bot.services.clock(), key=None
    )

    calls = await bot.send(CUSTOMER, "/mydata")

    text = "\n".join(parse_html(c.text) for c in calls if c.text)
    assert f"Card: {format_card(ann['card_number'])}" in text
    assert f"Name: {NAME}" in text and f"Phone: {SHOWN_PHONE}" in text
    assert f"E-mail: {EMAIL}" in text
    assert "Balance: 35 points" in text and "Notifications: on" in text
    assert "Every points entry (2)" in text and "Purchase (30.00 GBP) · +30" in text
    (doc,) = documents(calls)
    assert doc.result["document"]["file_name"] == f"my-loyalty-data-{ann['card_number']}.json"
    data = json.loads(doc.files["document"])
    assert data["contact"] == {
        "name": NAME,
        "phone": PHONE,
        "email": EMAIL,
        "telegram_user_id": CUSTOMER,
    }
    assert data["card"]["balance"] == 35 and data["notifications"] == "on"
    assert [(e["kind"], e["points"]) for e in data["ledger"]] == [("earn", 30), ("adjust", 5)]
    assert data["ledger"][1]["note"] == "sorry for the wait"
    assert [r["action"] for r in data["audit"]] == ["register", "earn", "adjust"]
    assert not bot.bad_requests()


async def test_mydata_shows_only_the_askers_own_card(bot: BotHarness) -> None:
    await register(bot)
    await register(bot, phone="+447400999888", name="Bob Stone", email=None)
    await bot.share_contact(STRANGER, "+447400999888")

    calls = await bot.send(STRANGER, "/mydata")

    everything = " ".join(parse_html(c.text) for c in calls if c.text)
    everything += documents(calls)[0].files["document"].decode()
    assert "Bob Stone" in everything
    assert NAME not in everything and PHONE not in everything and EMAIL not in everything


async def test_mydata_without_a_linked_card_says_how_to_link(bot: BotHarness) -> None:
    await register(bot)
    calls = await bot.send(CUSTOMER, "/mydata")
    assert "No loyalty card is linked" in bot.last_text(CUSTOMER)
    assert "Share my phone number" in bot.last_text(CUSTOMER)
    assert not documents(calls)


# --- /forget by the customer ---


async def test_forget_explains_what_is_erased_and_kept_before_asking(bot: BotHarness) -> None:
    ann = await register(bot)
    await bot.share_contact(CUSTOMER, PHONE)
    await earn_at_till(bot, PHONE, "40")

    await bot.send(CUSTOMER, "/forget")

    question = bot.last_text(CUSTOMER)
    assert "Erased: your name, phone number, e-mail address and the link to Telegram" in question
    assert "the card number with its 40 points" in question
    assert "cannot be undone" in question
    await bot.press(CUSTOMER, "Keep my card")
    assert "Nothing was erased" in bot.last_text(CUSTOMER)
    kept = await bot.store.get_customer(ann["id"])
    assert (kept["name"], kept["phone"], kept["telegram_user_id"]) == (NAME, PHONE, CUSTOMER)


async def test_forget_erases_personal_data_everywhere_and_keeps_the_books(
    bot: BotHarness, tmp_path: Path
) -> None:
    # Registered at the till (the cashier's receipt names her), linked, a purchase with its
    # notice, an adjustment whose reason names her, and a notice still owed to her chat.
    await bot.send(CASHIER, "/register")
    for answer in (NAME, "07400 123456", EMAIL):
        await bot.send(CASHIER, answer)
    await bot.press(CASHIER, "Confirm")
    ann = await bot.store.find_customer(PHONE)
    await bot.share_contact(CUSTOMER, PHONE)
    await earn_at_till(bot, PHONE, "30")
    await bot.store.adjust(
        ann["id"],
        5,
        f"goodwill for {NAME} ({EMAIL})",
        actor_id=ADMIN,
        now=bot.services.clock(),
        key=None,
    )
    await bot.store.unit.write(
        outbox.enqueue,
        None,
        [{"chat_id": CUSTOMER, "text": f"Hello {NAME}", "notice": True}],
        now=bot.services.clock(),
    )
    await bot.send(ADMIN, "/report all")
    report_before = bot.last_text(ADMIN)
    assert NAME in await database_text(bot) and PHONE in await database_text(bot)

    await bot.send(CUSTOMER, "/forget")
    await bot.press(CUSTOMER, "Forget me")

    assert "your personal details are erased" in bot.last_text(CUSTOMER)
    assert "keeps its 35 points" in bot.last_text(CUSTOMER)
    stored = await database_text(bot)
    for personal in (NAME, "Ann", PHONE, SHOWN_PHONE, "7400 123456", EMAIL, "ann@"):
        assert personal not in stored, personal
    assert NAME.casefold() not in stored  # /find's folded copy (search_key) is erased too
    forgotten = await bot.store.get_customer(ann["id"])
    assert forgotten["name"] == "Forgotten customer"
    assert (forgotten["phone"], forgotten["email"], forgotten["telegram_user_id"]) == (
        None,
        None,
        None,
    )
    # The books: the balance, the ledger and the report are as they were.
    assert forgotten["balance"] == 35 == await bot.store.ledger_sum(ann["id"])
    assert [e["points"] for e in await bot.store.recent_entries(ann["id"], 10)] == [5, 30]
    await bot.send(ADMIN, "/report all")
    assert bot.last_text(ADMIN) == report_before
    # The notice owed to her chat is never sent; her account is no longer linked.
    assert await bot.store.unit.read(outbox.owed_count) == 0
    await bot.send(CUSTOMER, "/mydata")
    assert "No loyalty card is linked" in bot.last_text(CUSTOMER)
    # The card still works by its number, no longer by her phone.
    await bot.send(CASHIER, f"/status {ann['card_number']}")
    assert "Forgotten customer" in bot.last_text(CASHIER)
    assert "35 points" in bot.last_text(CASHIER)
    await bot.send(CASHIER, "/status 07400 123456")
    assert "can't find a customer" in bot.last_text(CASHIER)
    record = (await bot.store.audit_log(ann["id"], limit=1))[0]
    assert record["action"] == "forget" and record["actor_id"] == CUSTOMER
    assert record["details"] == {
        "by": "customer",
        "erased": ["name", "phone", "email", "telegram_user_id", "birthday", "search_key"],
    }
    assert not bot.bad_requests()


async def test_the_contacts_export_lists_a_forgotten_customer_without_contacts(
    bot: BotHarness,
) -> None:
    await register(bot)
    await bot.share_contact(CUSTOMER, PHONE)
    await earn_at_till(bot, PHONE, "20")
    await bot.send(CUSTOMER, "/forget")
    await bot.press(CUSTOMER, "Forget me")

    await bot.send(ADMIN, "/report all")
    await bot.press(ADMIN, "CSV")
    calls = await bot.press(ADMIN, "Customers + contacts")

    (doc,) = documents(calls)
    content = doc.files["document"].decode("utf-8-sig")
    assert "Forgotten customer,,," in content
    assert "Ann" not in content and "7400" not in content and "example.org" not in content
    assert ",20," in content  # her balance is still in the books


async def test_a_forged_forget_button_erases_nothing(bot: BotHarness) -> None:
    ann = await register(bot)
    await bot.share_contact(CUSTOMER, PHONE)
    await bot.send(CUSTOMER, "/forget")
    _, button = bot.find_button(CUSTOMER, "Forget me")

    await bot.press_data(STRANGER, button["callback_data"])

    assert any("expired" in alert for alert in bot.alerts())
    assert (await bot.store.get_customer(ann["id"]))["name"] == NAME


async def test_a_card_forgotten_at_the_till_meanwhile_is_not_forgotten_twice(
    bot: BotHarness,
) -> None:
    ann = await register(bot)
    await bot.share_contact(CUSTOMER, PHONE)
    await bot.send(CUSTOMER, "/forget")
    await bot.send(ADMIN, "/forget 07400 123456")
    await bot.press(ADMIN, "Forget")

    await bot.press(CUSTOMER, "Forget me")

    assert "no longer linked to this account. Nothing was erased." in bot.last_text(CUSTOMER)
    forgets = [r for r in await bot.store.audit_log(ann["id"]) if r["action"] == "forget"]
    assert len(forgets) == 1


# --- an admin's /forget and /edit ---


async def test_an_admin_forgets_a_customer_who_asks_at_the_till(bot: BotHarness) -> None:
    ann = await register(bot)
    await bot.send(ADMIN, f"/forget {format_card(ann['card_number'])}")
    assert f"Forget {NAME}" in bot.last_text(ADMIN)
    assert "the customer's name" in bot.last_text(ADMIN)

    await bot.press(ADMIN, "Forget")

    assert "Forgotten: personal details erased" in bot.last_text(ADMIN)
    assert (await bot.store.get_customer(ann["id"]))["phone"] is None
    record = (await bot.store.audit_log(ann["id"], limit=1))[0]
    assert (record["action"], record["actor_id"], record["details"]["by"]) == (
        "forget",
        ADMIN,
        "admin",
    )
    await bot.send(ADMIN, f"/forget {ann['card_number']}")
    assert "already forgotten" in bot.last_text(ADMIN)


async def test_only_an_admin_can_forget_someone_else(bot: BotHarness) -> None:
    ann = await register(bot)
    await bot.send(CASHIER, "/forget 07400 123456")
    assert "Only an admin can forget another customer" in bot.last_text(CASHIER)
    await bot.send(CUSTOMER, "/forget 07400 123456")
    assert "Only an admin" in bot.last_text(CUSTOMER)
    assert (await bot.store.get_customer(ann["id"]))["name"] == NAME


async def test_an_admin_demoted_before_pressing_forget_is_refused(bot: BotHarness) -> None:
    ann = await register(bot)
    await bot.staff.add(7007, "admin", by=ADMIN, now=bot.services.clock())
    await bot.send(7007, "/forget 07400 123456")
    await bot.staff.remove(7007)

    await bot.press(7007, "Forget")

    assert any("Only an admin" in alert for alert in bot.alerts())
    assert (await bot.store.get_customer(ann["id"]))["name"] == NAME


async def test_an_admin_edits_a_phone_checked_and_audited_without_the_values(
    bot: BotHarness,
) -> None:
    ann = await register(bot)
    card = format_card(ann["card_number"])

    await bot.send(ADMIN, f"/edit {card} phone 07400 123457")

    assert f"Card {card}: phone is now +44 7400 123457" in bot.last_text(ADMIN)
    assert (await bot.store.get_customer(ann["id"]))["phone"] == "+447400123457"
    record = (await bot.store.audit_log(ann["id"], limit=1))[0]
    assert (record["action"], record["actor_id"], record["details"]) == (
        "customer_edit",
        ADMIN,
        {"fields": ["phone"]},
    )
    await bot.send(CASHIER, "/status 07400 123457")
    assert NAME in bot.last_text(CASHIER)


async def test_edit_names_and_e_mails_forgivingly(bot: BotHarness) -> None:
    ann = await register(bot)
    await bot.send(ADMIN, f"/edit {ann['card_number']} NAME   Ann   Lee-Smith ")
    assert "name is now Ann Lee-Smith" in bot.last_text(ADMIN)
    await bot.send(ADMIN, "/edit 07400 123456 e-mail none")
    assert "e-mail is now none" in bot.last_text(ADMIN)
    stored = await bot.store.get_customer(ann["id"])
    assert (stored["name"], stored["email"]) == ("Ann Lee-Smith", None)


async def test_edit_refuses_what_would_not_work_in_one_line(bot: BotHarness) -> None:
    ann = await register(bot)
    await register(bot, phone="+447400999888", name="Bob Stone")
    card = ann["card_number"]

    await bot.send(ADMIN, f"/edit {card} phone 123")
    assert "That phone won't work" in bot.last_text(ADMIN)
    await bot.send(ADMIN, f"/edit {card} phone 07400 999888")
    assert "already registered on card" in bot.last_text(ADMIN)
    await bot.send(ADMIN, f"/edit {card} email not-an-address")
    assert "That e-mail won't work" in bot.last_text(ADMIN)
    await bot.send(ADMIN, f"/edit {card} birthday 1 May")
    assert "/edit &lt;card" not in bot.last_text(ADMIN) and "Send /edit" in bot.last_text(ADMIN)
    await bot.send(ADMIN, f"/edit {card} name {NAME}")
    assert "Nothing to change" in bot.last_text(ADMIN)
    await bot.send(CASHIER, f"/edit {card} name Someone Else")
    assert "Only an admin" in bot.last_text(CASHIER)
    stored = await bot.store.get_customer(ann["id"])
    assert (stored["name"], stored["phone"], stored["email"]) == (NAME, PHONE, EMAIL)
    assert [r["action"] for r in await bot.store.audit_log(ann["id"])] == ["register"]


async def test_a_forgotten_customer_cannot_be_edited_back(bot: BotHarness) -> None:
    ann = await register(bot)
    await bot.send(ADMIN, f"/forget {ann['card_number']}")
    await bot.press(ADMIN, "Forget")
    await bot.send(ADMIN, f"/edit {ann['card_number']} name {NAME}")
    assert "asked to be forgotten" in bot.last_text(ADMIN)
    assert (await bot.store.get_customer(ann["id"]))["name"] == "Forgotten customer"


async def test_earning_on_a_forgotten_card_still_works_by_card_number(bot: BotHarness) -> None:
    ann = await register(bot)
    await bot.send(ADMIN, f"/forget {ann['card_number']}")
    await bot.press(ADMIN, "Forget")
    await earn_at_till(bot, ann["card_number"], "12")
    stored = await bot.store.get_customer(ann["id"])
    assert stored["balance"] == 12 == await bot.store.ledger_sum(ann["id"])
