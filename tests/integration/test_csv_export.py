"""CSV exports of the story's ledger: they parse back to the report's numbers, safely.

On both engines (tests/support/report_ledger.py: the story on SQLite and on PostgreSQL),
the `loyalty-bot report` command line included."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli import report as report_cli
from core.db.engine import open_engine
from core.reports import csv_export, queries
from core.reports.cells import LocalTimes, neutralise, text_cell
from core.reports.periods import ALL_TIME_START, Period, parse_period
from tests.support.report_ledger import (
    ENGINES,
    EVE_NAME,
    NOW,
    PHONES,
    PROGRAM,
    SAM_NAME,
    Story,
    at,
    story_databases,
)

LONDON = ZoneInfo("Europe/London")


def month(key: str) -> Period:
    return parse_period(key, now=NOW, tz=LONDON)


@pytest.fixture(scope="module", params=ENGINES)
def stories(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Story]]:
    """The story, and the story with its corrections, on SQLite or on PostgreSQL."""
    yield from story_databases(request, tmp_path_factory.mktemp("story"), "story", "corrected")


@pytest.fixture
def story(stories: dict[str, Story]) -> Story:
    return stories["story"]


@pytest.fixture
async def engine(story: Story) -> AsyncIterator[AsyncEngine]:
    engine = open_engine(story.url)
    yield engine
    await engine.dispose()


async def collect(chunks: AsyncIterator[bytes]) -> bytes:
    buffer = io.BytesIO()
    await csv_export.write_csv(chunks, buffer)
    return buffer.getvalue()


def parse(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM that makes spreadsheets read UTF-8
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


# --- customers -------------------------------------------------------------------------------


async def test_the_customers_export_parses_back_to_the_reports_totals(
    engine: AsyncEngine,
) -> None:
    october = month("2026-10")
    rows = parse(await collect(csv_export.customers_csv(engine, october, include_contacts=False)))
    summary = await queries.summary(engine, october, PROGRAM, now=NOW)
    assert len(rows) == summary["members"] == 5
    assert sum(int(r["earned_in_period"]) for r in rows) == summary["points_issued"]
    assert sum(int(r["redeemed_in_period"]) for r in rows) == summary["points_redeemed"]
    assert sum(int(r["purchases_in_period"]) for r in rows) == summary["purchases"]
    assert sum(Decimal(r["spent_in_period"]) for r in rows) == summary["sales"]
    assert sum(int(r["balance"]) for r in rows) == 575  # balances today


async def test_each_customer_row_carries_their_totals(engine: AsyncEngine) -> None:
    rows = parse(
        await collect(csv_export.customers_csv(engine, month("2026-10"), include_contacts=False))
    )
    ann = next(r for r in rows if r["name"] == "Ann")
    assert ann == {
        "card": ann["card"],
        "name": "Ann",
        "tier": "Silver",
        "joined": "2026-09-10 11:00:00",  # local time: BST
        "balance": "300",
        "lifetime_earned": "650",
        "lifetime_redeemed": "350",
        "earned_in_period": "500",
        "redeemed_in_period": "350",
        "purchases_in_period": "2",
        "spent_in_period": "480.00",
        "last_visit": "2026-10-21 11:00:00",
    }
    assert len(ann["card"]) == 9 and ann["card"][4] == " "  # "1234 5678" stays text in Excel
    cat = next(r for r in rows if r["name"] == "Cat")
    assert cat["last_visit"] == ""  # registered, never bought


async def test_a_name_that_looks_like_a_formula_is_neutralised(engine: AsyncEngine) -> None:
    data = await collect(csv_export.customers_csv(engine, month("2026-10"), include_contacts=False))
    names = [r["name"] for r in parse(data)]
    assert "'" + EVE_NAME in names
    assert not any(name.startswith(("=", "+", "-", "@")) for name in names)


@given(st.lists(st.text(), min_size=2, max_size=5))
def test_a_text_cell_is_quoted_exactly_as_csv_writer_quotes_it(texts: list[str]) -> None:
    # The customers export writes its lines itself (a million rows: 40% faster than csv.writer);
    # its text cells must come out byte for byte as csv.writer's, and parse back to the text.
    line = ",".join(text_cell(t) for t in texts) + "\r\n"
    expected = io.StringIO()
    csv.writer(expected).writerow([neutralise(t) for t in texts])
    assert line == expected.getvalue()
    assert next(csv.reader(io.StringIO(line, newline=""))) == [neutralise(t) for t in texts]


async def test_contacts_are_left_out_unless_asked_for(engine: AsyncEngine) -> None:
    october = month("2026-10")
    without = await collect(csv_export.customers_csv(engine, october, include_contacts=False))
    assert b"+44" not in without and b"@example.org" not in without
    assert "phone" not in parse(without)[0]
    with_contacts = parse(
        await collect(csv_export.customers_csv(engine, october, include_contacts=True))
    )
    ann = next(r for r in with_contacts if r["name"] == "Ann")
    # A leading + would make a spreadsheet compute the number; the apostrophe keeps it text.
    assert (ann["phone"], ann["email"]) == ("'" + PHONES["Ann"], "ann@example.org")


async def test_customers_who_joined_after_the_period_are_not_in_its_export(
    engine: AsyncEngine,
) -> None:
    rows = parse(
        await collect(csv_export.customers_csv(engine, month("2026-09"), include_contacts=False))
    )
    assert sorted(r["name"] for r in rows) == sorted(["Dan", "Ann", "'" + EVE_NAME])


async def test_the_export_comes_in_batches_that_all_add_up(engine: AsyncEngine) -> None:
    chunks = [
        c
        async for c in csv_export.customers_csv(
            engine, month("2026-10"), include_contacts=False, batch=2
        )
    ]
    assert len(chunks) == 1 + 3  # header, then 2 + 2 + 1 customers
    assert len(parse(b"".join(chunks))) == 5


# --- ledger and redemptions ------------------------------------------------------------------


async def test_the_ledger_export_holds_exactly_the_periods_entries(engine: AsyncEngine) -> None:
    rows = parse(await collect(csv_export.ledger_csv(engine, month("2026-10"), PROGRAM)))
    assert len(rows) == 9
    assert sum(int(r["points"]) for r in rows) == 655 - 450
    assert rows[0]["time"] == "2026-10-01 00:00:00"  # stamped exactly at the start: included
    assert rows[-1]["time"] == "2026-10-31 23:59:59"  # 1 November 00:00 belongs to November
    assert [r["kind"] for r in rows].count("redeem") == 3
    assert sum(Decimal(r["amount"]) for r in rows if r["amount"]) == Decimal("535.50")
    assert int(rows[0]["points"]) == 400 and rows[0]["reward"] == ""


async def test_negative_points_stay_numbers_not_neutralised_text(engine: AsyncEngine) -> None:
    rows = parse(await collect(csv_export.ledger_csv(engine, month("2026-10"), PROGRAM)))
    assert {r["points"] for r in rows if r["kind"] == "redeem"} == {"-250", "-100"}


async def test_the_redemption_history_export_says_who_what_when_and_by_whom(
    engine: AsyncEngine,
) -> None:
    rows = parse(await collect(csv_export.redemptions_csv(engine, month("2026-10"), PROGRAM)))
    assert [(r["time"], r["customer"], r["reward"], r["points"], r["cashier"]) for r in rows] == [
        ("2026-10-10 10:00:00", "Ann", "Slice of cake", "250", SAM_NAME),
        ("2026-10-15 13:00:00", "'" + EVE_NAME, "Free coffee", "100", ""),
        ("2026-10-21 11:00:00", "Ann", "Free coffee", "100", ""),
    ]
    assert all(len(r["code"]) == 7 for r in rows)


async def test_an_empty_period_exports_just_the_header(engine: AsyncEngine) -> None:
    data = await collect(csv_export.ledger_csv(engine, month("2026-06"), PROGRAM))
    assert data.decode("utf-8-sig").splitlines() == [",".join(csv_export.LEDGER_COLUMNS)]


# --- from the command line -------------------------------------------------------------------


@pytest.mark.parametrize(("data", "rows"), [("customers", 5), ("ledger", 9), ("redemptions", 3)])
def test_loyalty_bot_report_writes_each_csv_to_a_file(
    story: Story, tmp_path: Path, capsys: pytest.CaptureFixture[str], data: str, rows: int
) -> None:
    out = tmp_path / f"{data}.csv"
    args = argparse.Namespace(
        config=story.config,
        period="2026-10",
        format="csv",
        data=data,
        contacts=False,
        out=out,
        now=NOW,
    )
    assert report_cli.run(args) == 0
    assert len(parse(out.read_bytes())) == rows
    assert capsys.readouterr().err == f"wrote the report for October 2026 to {out}\n"


def test_loyalty_bot_report_includes_contacts_only_with_the_flag(
    story: Story, tmp_path: Path
) -> None:
    out = tmp_path / "customers.csv"
    args = argparse.Namespace(
        config=story.config,
        period="all",
        format="csv",
        data="customers",
        contacts=True,
        out=out,
        now=NOW,
    )
    assert report_cli.run(args) == 0
    phones = {r["phone"] for r in parse(out.read_bytes())}
    assert phones == {"'" + phone for phone in PHONES.values()}


def test_the_report_sub_command_parses_its_options_and_runs(story: Story, tmp_path: Path) -> None:
    # As bot/cli wires it: a main parser with --config, and `report` added to its commands.
    parser = argparse.ArgumentParser(prog="loyalty-bot")
    parser.add_argument("--config", type=Path)
    report_cli.add_parser(parser.add_subparsers(dest="command"))
    out = tmp_path / "redemptions.csv"
    config = str(story.config)
    command = f"--config {config} report --period 2026-10 --format csv --data redemptions"
    args = parser.parse_args([*command.split(), "--out", str(out), "--now", NOW.isoformat()])
    assert report_cli.run(args) == 0
    assert sum(int(r["points"]) for r in parse(out.read_bytes())) == 450


# --- times in the shop's zone ----------------------------------------------------------------

ZONES = [
    "Europe/London",
    "America/New_York",
    "Asia/Kolkata",  # +5:30: minutes shift too
    "Asia/Kathmandu",  # +5:45
    "Australia/Lord_Howe",  # a half-hour daylight-saving change
    "UTC",
]


@given(
    moment=st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2037, 12, 31)),
    zone=st.sampled_from(ZONES),
)
def test_export_times_are_the_exact_local_time_in_any_zone(moment: dt.datetime, zone: str) -> None:
    tz = ZoneInfo(zone)
    expected = moment.replace(tzinfo=dt.UTC).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    local = LocalTimes(tz)
    stored = moment.isoformat(" ", "microseconds")  # how SQLite keeps a UTC time
    assert local(stored) == expected
    assert local(stored) == expected  # again, from the per-hour cache
    assert local(moment.replace(tzinfo=dt.UTC)) == expected  # as other databases hand it over


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("2026-03-29 00:59:59.000000", "2026-03-29 00:59:59"),  # last second of GMT
        ("2026-03-29 01:00:00.000000", "2026-03-29 02:00:00"),  # clocks go forward
        ("2026-10-25 00:59:59.999999", "2026-10-25 01:59:59"),  # last second of BST
        ("2026-10-25 01:00:00.000000", "2026-10-25 01:00:00"),  # clocks go back: 01:00 again
    ],
)
def test_export_times_follow_londons_clock_changes(stored: str, shown: str) -> None:
    assert LocalTimes(LONDON)(stored) == shown


# --- all time, from the customers' running totals (issue "Scale") -----------------------------


async def scanned_csv(
    engine: AsyncEngine, period: Period, monkeypatch: pytest.MonkeyPatch
) -> bytes:
    """The customers export as grouping the period's entries gives it: the truth."""
    with monkeypatch.context() as patched:

        async def never(*_: object) -> bool:
            return False

        patched.setattr(csv_export, "starts_before_history", never)
        return await collect(csv_export.customers_csv(engine, period, include_contacts=True))


# Now; exactly at Bob's 1 November purchase (the one entry after the end); between Ann's
# redemptions; before anything happened.
@pytest.mark.parametrize("end", [NOW, at(11, 1, 0), at(10, 15, 12), at(6, 1, 0)])
async def test_the_customers_export_since_the_start_equals_grouping_the_ledger(
    engine: AsyncEngine, end: dt.datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    period = Period(ALL_TIME_START, end, "all", "all time", LONDON)
    fast = await collect(csv_export.customers_csv(engine, period, include_contacts=True))
    assert fast == await scanned_csv(engine, period, monkeypatch)


async def test_the_all_time_export_holds_bobs_purchase_after_octobers_end(
    engine: AsyncEngine,
) -> None:
    rows = parse(
        await collect(csv_export.customers_csv(engine, month("all"), include_contacts=False))
    )
    bob = next(r for r in rows if r["name"] == "Bob")
    assert (bob["earned_in_period"], bob["purchases_in_period"], bob["spent_in_period"]) == (
        "85",
        "2",
        "35.50",
    )
    october = parse(
        await collect(csv_export.customers_csv(engine, month("2026-10"), include_contacts=False))
    )
    assert next(r for r in october if r["name"] == "Bob")["purchases_in_period"] == "1"


@pytest.fixture
async def corrected(stories: dict[str, Story]) -> AsyncIterator[AsyncEngine]:
    """The story with its corrections (report_ledger.correct)."""
    engine = open_engine(stories["corrected"].url)
    yield engine
    await engine.dispose()


@pytest.mark.parametrize(
    "end", [NOW, at(11, 3, 10), at(11, 2, 10), at(11, 1, 0), at(10, 2, 9), at(6, 1, 0)]
)
async def test_with_corrections_the_export_since_the_start_equals_grouping_the_ledger(
    corrected: AsyncEngine, end: dt.datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    period = Period(ALL_TIME_START, end, "all", "all time", LONDON)
    fast = await collect(csv_export.customers_csv(corrected, period, include_contacts=True))
    assert fast == await scanned_csv(corrected, period, monkeypatch)


async def test_the_customers_export_counts_corrections_as_the_cards_do(
    corrected: AsyncEngine,
) -> None:
    everyone = parse(
        await collect(csv_export.customers_csv(corrected, month("all"), include_contacts=False))
    )
    rows = {r["name"]: r for r in everyone}
    # All time, earned - redeemed is the balance, as for the lifetime totals.
    for row in everyone:
        assert int(row["earned_in_period"]) - int(row["redeemed_in_period"]) == int(row["balance"])
    # Dan's refund: the visit stays, 30.00 of the 60.00 and 30 of its points come off.
    dan = rows["Dan"]
    assert (dan["earned_in_period"], dan["purchases_in_period"], dan["spent_in_period"]) == (
        "80",
        "1",
        "30.00",
    )
    # Eve's voided purchase is no purchase; Ann's voided coffee is no longer spent.
    eve = rows["'" + EVE_NAME]
    assert (eve["purchases_in_period"], eve["spent_in_period"], eve["balance"]) == (
        "1",
        "50.00",
        "0",
    )
    assert (rows["Ann"]["redeemed_in_period"], rows["Ann"]["balance"]) == ("250", "400")
    # October as it stands: Eve's purchase of 16 October is gone from it, the points
    # moved in October stay (the void was in November).
    october = {
        r["name"]: r
        for r in parse(
            await collect(
                csv_export.customers_csv(corrected, month("2026-10"), include_contacts=False)
            )
        )
    }
    eve = october["'" + EVE_NAME]
    assert (eve["purchases_in_period"], eve["spent_in_period"], eve["earned_in_period"]) == (
        "0",
        "0.00",
        "30",
    )
    assert (october["Bob"]["redeemed_in_period"], october["Dan"]["earned_in_period"]) == (
        "5",
        "-30",
    )


async def test_the_ledger_export_shows_corrections_and_what_they_reverse(
    corrected: AsyncEngine,
) -> None:
    rows = parse(await collect(csv_export.ledger_csv(corrected, month("2026-11"), PROGRAM)))
    voids = [(r["points"], r["reverses_id"] != "") for r in rows if r["kind"] == "void"]
    assert voids == [("-30", True), ("100", True)]
    october = parse(await collect(csv_export.ledger_csv(corrected, month("2026-10"), PROGRAM)))
    fixes = [
        (r["kind"], r["points"], r["amount"], r["note"])
        for r in october
        if r["kind"] in ("refund", "adjust")
    ]
    assert fixes == [("refund", "-30", "30.00", ""), ("adjust", "-5", "", "double scan")]
    assert all(r["reverses_id"] == "" for r in october if r["kind"] in ("earn", "redeem"))
    # The redemption history keeps only redemptions that stand.
    history = parse(await collect(csv_export.redemptions_csv(corrected, month("2026-10"), PROGRAM)))
    assert [r["reward"] for r in history] == ["Slice of cake", "Free coffee"]
