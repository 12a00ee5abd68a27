"""Reply formatting: escaping user text, money and points, and splitting long messages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.format import (
    MAX_MESSAGE,
    customer_line,
    entry_line,
    entry_lines,
    esc,
    money,
    points,
    signed,
    split_message,
)
from bot.offline import parse_html
from bot.replies import friendly
from core.errors import (
    AlreadyReversed,
    LoyaltyError,
    NotAPurchase,
    NotReversible,
    ReasonRequired,
    RefundTooLarge,
    UnknownEntry,
)
from core.types import Customer, LedgerEntry

TRICKY = "<b>Zoë_O'Brien*</b> & co"


def customer(name: str = "Ann Lee") -> Customer:
    return {
        "id": 1,
        "card_number": "48213379",
        "name": name,
        "phone": "+447400123456",
        "email": None,
        "telegram_user_id": None,
        "created_at": dt.datetime(2026, 3, 14, tzinfo=dt.UTC),
        "balance": 0,
        "lifetime_earned": 0,
        "lifetime_redeemed": 0,
        "tier": "Bronze",
        "version": 0,
    }


def entry(kind: str, pts: int, **extra: object) -> LedgerEntry:
    base = {
        "id": 1,
        "customer_id": 1,
        "kind": kind,
        "points": pts,
        "amount": None,
        "reward_id": None,
        "code": None,
        "actor_id": 2002,
        "created_at": dt.datetime(2026, 3, 14, 10, 30, tzinfo=dt.UTC),
        "idempotency_key": None,
        "note": None,
        "balance_after": pts,
        "details": {},
        "reverses_id": None,
    }
    return cast(LedgerEntry, {**base, **extra})


# --- escaping -----------------------------------------------------------------------------


def test_escaped_user_text_reads_exactly_as_typed() -> None:
    assert parse_html(esc(TRICKY)) == TRICKY


def test_a_customer_line_shows_a_tricky_name_literally_in_bold() -> None:
    line = customer_line(customer(TRICKY))
    assert parse_html(line) == f"{TRICKY} · card 4821 3379"
    assert line.startswith("<b>&lt;b&gt;")


def test_an_entry_line_escapes_the_reward_name_it_quotes() -> None:
    line = entry_line(entry("redeem", -100, reward_id="x", details={"reward_name": TRICKY}), "GBP")
    assert parse_html(line) == f"14 Mar 10:30 · Reward ({TRICKY}) · -100"


def test_an_entry_line_shows_a_purchase_amount_and_signed_points() -> None:
    line = entry_line(entry("earn", 25, amount=Decimal("25.50")), "GBP")
    assert line == "14 Mar 10:30 · Purchase (25.50 GBP) · +25"


def test_corrections_on_a_card_say_what_they_were() -> None:
    lines = [
        entry_line(entry("refund", -10, amount=Decimal("10.00"), reverses_id=7), "GBP"),
        entry_line(entry("void", -25, amount=Decimal("25.50"), reverses_id=7), "GBP"),
        entry_line(entry("void", 100, reverses_id=8, details={"code": "ZW7-W83"}), "GBP"),
        entry_line(entry("void", -50, reverses_id=9), "GBP"),
        entry_line(entry("adjust", 50, note=f"goodwill {TRICKY}"), "GBP"),
    ]

    assert [parse_html(line) for line in lines] == [
        "14 Mar 10:30 · Refund (10.00 GBP) · -10",
        "14 Mar 10:30 · Void of a purchase · -25",
        "14 Mar 10:30 · Void of a reward (code ZW7-W83) · +100",
        "14 Mar 10:30 · Void · -50",
        f"14 Mar 10:30 · Adjustment: goodwill {TRICKY} · +50",
    ]


def test_an_entry_reversed_by_a_newer_one_on_the_card_is_marked_so() -> None:
    newest_first = [
        entry("void", 100, id=6, reverses_id=3, details={"code": "ZW7-W83"}),
        entry("refund", -5, id=5, amount=Decimal("5.00"), reverses_id=2),
        entry("refund", -20, id=4, amount=Decimal("20.00"), reverses_id=1),
        entry("redeem", -100, id=3, reward_id="coffee"),
        entry("earn", 30, id=2, amount=Decimal("30.00")),
        entry("earn", 20, id=1, amount=Decimal("20.00")),
    ]

    marks = [line.rsplit(" · ", 1)[-1] for line in entry_lines(newest_first, "GBP")]

    assert marks == ["+100", "-5", "-20", "voided", "part refunded", "refunded"]


# --- one-line replies for corrections --------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "reply"),
    [
        (UnknownEntry(41), "There is no entry #41. Check the number and send it again."),
        (
            AlreadyReversed(41, 57),
            "Entry #41 was already reversed in full (by #57): there is nothing left to undo. "
            "Nothing was changed.",
        ),
        (
            NotReversible("void"),
            "A void is itself a correction and can't be undone; an admin can put the card right "
            "with /adjust. Nothing was changed.",
        ),
        (
            NotReversible("refund"),
            "A refund is itself a correction and can't be undone; an admin can put the card "
            "right with /adjust. Nothing was changed.",
        ),
        (
            NotAPurchase("redeem"),
            "Only a purchase can be refunded, and that entry is a reward redemption. "
            "Nothing was changed.",
        ),
        (
            NotAPurchase("signup_bonus"),
            "Only a purchase can be refunded, and that entry is a welcome bonus. "
            "Nothing was changed.",
        ),
        (
            RefundTooLarge(Decimal("1250.5")),
            "That is more than is left of the purchase: at most 1,250.50 can still be refunded. "
            "Nothing was changed.",
        ),
        (
            ReasonRequired(),
            "Please say why in a few words (e.g. “double scan”): a correction needs a reason.",
        ),
    ],
)
def test_each_refused_correction_has_one_line_to_act_on(error: LoyaltyError, reply: str) -> None:
    assert friendly(error) == reply
    assert parse_html(reply) == reply  # plain text: nothing to escape, nothing to break


# --- money and points -----------------------------------------------------------------------


def test_money_has_two_decimals_and_thousands_separators() -> None:
    assert money(Decimal("1234.5"), "GBP") == "1,234.50 GBP"
    assert money(Decimal("0.1") + Decimal("0.2"), "EUR") == "0.30 EUR"


def test_points_are_singular_only_for_one() -> None:
    assert [points(n) for n in (0, 1, -1, 2, 1500)] == [
        "0 points",
        "1 point",
        "-1 point",
        "2 points",
        "1,500 points",
    ]


def test_signed_points_show_their_sign() -> None:
    assert [signed(n) for n in (25, 0, -1000)] == ["+25", "0", "-1,000"]


# --- splitting long messages ------------------------------------------------------------------


def test_a_short_message_is_one_chunk() -> None:
    assert split_message("Balance: <b>25 points</b>\nBronze") == [
        "Balance: <b>25 points</b>\nBronze"
    ]


def test_a_message_of_exactly_the_limit_is_one_chunk() -> None:
    text = ("x" * 99 + "\n") * 40 + "y" * 96
    assert len(text) == MAX_MESSAGE
    assert split_message(text) == [text]


def test_long_messages_split_between_lines_and_lose_nothing() -> None:
    lines = [f"{i:04} · Purchase (25.50 GBP) · +25" for i in range(600)]
    text = "\n".join(lines)

    chunks = split_message(text)

    assert len(chunks) > 1
    assert all(len(c) <= MAX_MESSAGE for c in chunks)
    assert "\n".join(chunks) == text  # every cut was at a line break


def test_a_single_over_long_line_is_cut_into_chunks_that_fit() -> None:
    text = "header\n" + "word " * 2000 + "\nfooter"

    chunks = split_message(text)

    assert all(len(c) <= MAX_MESSAGE for c in chunks)
    assert "".join(chunks).replace("\n", "") == text.replace("\n", "")
    assert chunks[0] == "header" and chunks[-1].endswith("footer")


def test_an_over_long_line_is_cut_between_words_where_it_can_be() -> None:
    chunks = split_message("word " * 2000)

    assert all(c.endswith(" ") or c is chunks[-1] for c in chunks)
    assert all(len(c) <= MAX_MESSAGE for c in chunks)


def test_an_over_long_line_of_escaped_text_is_never_cut_inside_an_entity_or_tag() -> None:
    spaced_tag = "z" * 4075 + '<i class="p q">t</i>' + "z" * 100  # its space is near the cut
    for text in (esc("<&>" * 3000), "<b>x</b>" * 1000, "&amp;" * 1000, spaced_tag):
        chunks = split_message(text)

        assert all(len(c) <= MAX_MESSAGE for c in chunks)
        assert "".join(parse_html(c) for c in chunks) == parse_html(text)


def test_a_line_with_no_safe_place_to_cut_is_still_cut_to_fit() -> None:
    chunks = split_message("<" + "b" * 5000)
    assert [len(c) for c in chunks] == [MAX_MESSAGE, 5001 - MAX_MESSAGE]


def test_nothing_to_send_is_no_chunks() -> None:
    assert split_message("") == []


@given(
    st.lists(st.text(alphabet=st.characters(blacklist_characters="\n"), max_size=300), max_size=40),
    st.integers(min_value=20, max_value=500),
)
def test_any_text_splits_into_non_empty_chunks_within_the_limit_keeping_every_character(
    lines: list[str], limit: int
) -> None:
    text = "\n".join(lines)

    chunks = split_message(text, limit)

    assert all(0 < len(c) <= limit for c in chunks)
    assert "".join(chunks).replace("\n", "") == text.replace("\n", "")
