"""`loyalty-bot simulate` on the known ledger of tests/support/report_ledger.py, October 2026.

The story's October, by hand (Europe/London: [2026-09-30 23:00, 2026-11-01 00:00) UTC). Cards at
the start: Dan 110, Ann 150, Eve 100 (lifetime the same). In it: Ann buys 400.00 (Bronze, +400:
Silver) and 80.00 (x1.25, +100), redeems a cake and a coffee; Eve redeems a coffee and buys
30.00; Bob joins (+50) and buys 25.50 (+25); Cat joins (+50) in the last second.

The proposed program: 2 points per pound, no signup bonus, a coffee at 150 points worth 3.00
(so a point is worth 0.02), a cake at 250 worth 3.50, no £10-off reward. Replayed:
    Ann  150: 400.00 x2 = 800 -> 950 (Silver); cake -250 -> 700; 80.00 x2 x1.25 = 200 -> 900;
         coffee -150 -> 750 (lifetime 1150)
    Eve  100: coffee at 150 is out of reach: skipped; 30.00 x2 = 60 -> 160
    Bob  0 (no bonus): 25.50 x2 = 51;  Cat 0;  Dan 110
"""

from __future__ import annotations

import asyncio
import csv
import gc
import hashlib
import io
import sqlite3
from contextlib import closing
from decimal import Decimal
from pathlib import Path

import pytest

from bot.cli import main
from core.config import load_config
from core.db.engine import open_engine
from core.reports.periods import parse_period
from core.reports.simulation import open_read_only, simulate_period
from core.simulate import Outcome
from tests.support.report_ledger import NOW, PROGRAM, build_file, correct

PROPOSED_TOML = """\
[program]
points_per_unit = 2
signup_bonus = 0

[[rewards]]
id = "coffee"
name = "Free coffee"
cost = 150
value = 3.00

[[rewards]]
id = "cake"
name = "Slice of cake"
cost = 250
value = 3.50
"""


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The story's database (its config.toml beside it) and proposed.toml; never written to."""
    folder = tmp_path_factory.mktemp("simulate")
    build_file(folder / "loyalty.db")
    settle(folder / "loyalty.db")
    (folder / "proposed.toml").write_text(PROPOSED_TOML, encoding="utf-8")
    return folder


def settle(database: Path) -> None:
    """Everything the builder wrote moved from the WAL into the file itself. Otherwise the
    builder's last pooled connection, closed whenever it is collected, checkpoints later and
    changes the file while a test is watching it."""
    gc.collect()
    with closing(sqlite3.connect(database)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def october(shop: Path) -> tuple[Outcome, Outcome, Outcome]:
    config = load_config(shop / "config.toml")
    proposed = load_config(shop / "proposed.toml").program
    period = parse_period("2026-10", now=NOW, tz=config.reports.tzinfo)
    sim = simulate_period(shop / "loyalty.db", period, current=config.program, proposed=proposed)
    return sim.actual, *sim.replays  # type: ignore[return-value]


def test_the_actual_column_is_the_ledger_of_the_period(shop: Path) -> None:
    actual, replayed, _ = october(shop)

    assert actual.program == PROGRAM
    assert (actual.purchases, actual.sales) == (4, Decimal("535.50"))
    assert (actual.purchase_points, actual.bonus_points) == (555, 100)  # Bob and Cat joined
    assert (actual.redemptions, actual.points_redeemed) == (3, 450)
    assert actual.outstanding == 110 + 300 + 30 + 75 + 50
    assert actual.liability == Decimal("14.13")  # 565 x 0.025 = 14.125
    assert actual.cost_per_100 == Decimal("3.06")  # 655 x 0.025 x 100 / 535.50 = 3.0578
    assert actual.tiers == {"Bronze": 4, "Silver": 1, "Gold": 0}
    assert actual.affordable == {"coffee": 2, "cake": 1, "tenoff": 0}  # Dan 110, Ann 300
    # No corrections, no change of rules: the replay of the program is the ledger.
    assert vars(replayed) == vars(actual)


def test_the_proposed_column_is_the_story_replayed_by_hand(shop: Path) -> None:
    _, _, proposed = october(shop)

    assert proposed.purchase_points == 800 + 200 + 60 + 51
    assert proposed.bonus_points == 0
    assert (proposed.redemptions, proposed.redemptions_skipped) == (2, 1)  # Eve's coffee
    assert proposed.points_redeemed == 250 + 150
    assert proposed.outstanding == 110 + 750 + 160 + 51 + 0
    assert proposed.liability == Decimal("21.42")  # 1071 x 0.02
    assert proposed.cost_per_100 == Decimal("4.15")  # 1111 x 0.02 x 100 / 535.50 = 4.1494
    assert proposed.tiers == {"Bronze": 4, "Silver": 1, "Gold": 0}
    assert proposed.affordable == {"coffee": 2, "cake": 1}  # Ann 750, Eve 160


def test_corrections_show_in_the_actual_column_only(tmp_path: Path) -> None:
    build_file(tmp_path / "loyalty.db")

    async def fix() -> None:
        engine = open_engine(f"sqlite+aiosqlite:///{tmp_path / 'loyalty.db'}")
        try:
            await correct(engine)  # an October refund (-30) and adjustment (-5), two in November
        finally:
            await engine.dispose()

    asyncio.run(fix())
    (tmp_path / "proposed.toml").write_text(PROPOSED_TOML, encoding="utf-8")
    actual, replayed, _ = october(tmp_path)

    assert actual.correction_points == -35
    assert actual.outstanding == 565 - 35
    assert replayed.outstanding == 565  # corrections are not replayed


def test_the_proposed_files_min_purchase_and_expiry_are_replayed(shop: Path) -> None:
    """The proposed file's [program] min_purchase and [expiry] are read: nothing for Bob's
    25.50 below 30.00, and points that last a day after the day they were earned: Dan's 110,
    untouched since before October, are gone on its 3rd."""
    config = load_config(shop / "config.toml")
    (shop.parent / "strict").mkdir(exist_ok=True)
    strict = shop.parent / "strict" / "proposed.toml"
    strict.write_text(
        PROPOSED_TOML.replace("signup_bonus = 0", "signup_bonus = 0\nmin_purchase = 30")
        + '\n[expiry]\npolicy = "after_days"\ndays = 1\n',
        encoding="utf-8",
    )
    proposed_config = load_config(strict)
    period = parse_period("2026-10", now=NOW, tz=config.reports.tzinfo)
    sim = simulate_period(
        shop / "loyalty.db",
        period,
        current=config.program,
        proposed=proposed_config.program,
        expiry=(config.expiry, proposed_config.expiry),
    )
    proposed = sim.replays[1]

    assert proposed.purchase_points == 800 + 200 + 60  # Bob's 25.50 earns nothing now
    assert sim.replays[0].points_expired == sim.actual.points_expired == 0  # the shop's: off
    opening = 110 + 150 + 100
    assert proposed.points_expired >= 110
    assert (
        proposed.outstanding + proposed.points_expired + proposed.points_redeemed
        == opening + proposed.points_issued
    )


# --- the command ------------------------------------------------------------------------------


def simulate(shop: Path, *extra: str) -> list[str]:
    return [
        "simulate",
        "--config",
        str(shop / "config.toml"),
        "--proposed",
        str(shop / "proposed.toml"),
        "--now",
        NOW.isoformat(),
        *extra,
    ]


def digest(database: Path) -> str:
    """The file and its write-ahead log: a write would change one of them."""
    wal = database.with_name(database.name + "-wal")
    logged = wal.read_bytes() if wal.exists() else b""
    return hashlib.sha256(database.read_bytes() + b"|" + logged).hexdigest()


def test_the_command_prints_the_table_side_by_side_and_writes_nothing(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = digest(shop / "loyalty.db")

    assert main(simulate(shop, "--period", "2026-10")) == 0

    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "What if: proposed.toml, over October 2026 "
        "(2026-10-01 00:00 to 2026-11-01 00:00, Europe/London)"
    )
    assert out[2].split() == ["actual", "replayed", "proposed", "difference"]
    table = {line[:28].strip(): line[28:].split() for line in out[3:] if line[:1] not in ("", " ")}
    assert table["points issued"] == ["655", "655", "1,111", "+456"]
    assert table["redemptions not affordable"] == ["-", "0", "1", "-"]
    assert table["points outstanding at end"] == ["565", "565", "1,071", "+506"]
    assert table["liability at end (GBP)"] == ["14.13", "14.13", "21.42", "+7.29"]
    assert table["cost per 100 GBP spent"] == ["3.06", "3.06", "4.15", "+1.09"]
    assert table["members in Silver"] == ["1", "1", "1", "0"]
    assert table["can afford tenoff"] == ["0", "0", "-", "-"]
    assert out[-1] == "Check: replaying the current program gives exactly the ledger's figures."
    assert digest(shop / "loyalty.db") == before


def test_the_command_writes_csv_with_plain_numbers(shop: Path, tmp_path: Path) -> None:
    out = tmp_path / "whatif.csv"
    chart = tmp_path / "whatif.png"
    before = digest(shop / "loyalty.db")

    period = ("--from", "2026-10-01", "--to", "2026-10-31")
    code = main(
        simulate(shop, *period, "--format", "csv", "--out", str(out), "--chart", str(chart))
    )

    assert code == 0
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["figure", "actual", "replayed", "proposed", "difference"]
    by_figure = {row[0]: row[1:] for row in rows[1:]}
    assert by_figure["points issued"] == ["655", "655", "1111", "456"]
    assert by_figure["for purchases"] == ["555", "555", "1111", "556"]
    assert by_figure["corrections (net points)"] == ["0", "", "", ""]
    assert by_figure["liability at end (GBP)"] == ["14.13", "14.13", "21.42", "7.29"]
    assert by_figure["can afford coffee"] == ["2", "2", "2", "0"]
    assert chart.read_bytes().startswith(b"\x89PNG")
    assert digest(shop / "loyalty.db") == before


def test_a_proposed_program_in_another_currency_is_refused(
    shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    euros = tmp_path / "euros.toml"
    euros.write_text('[program]\ncurrency = "EUR"\n', encoding="utf-8")
    args = simulate(shop)
    args[args.index("--proposed") + 1] = str(euros)

    assert main(args) == 2

    err = capsys.readouterr().err
    assert err == (
        "loyalty-bot simulate: the proposed program counts in EUR, the shop's ledger in GBP: "
        "amounts can't be replayed in another currency\n"
    )


def test_without_a_database_it_says_where_it_looked_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "proposed.toml").write_text(PROPOSED_TOML, encoding="utf-8")

    assert main(["simulate", "--proposed", "proposed.toml"]) == 2

    assert f"no database at {tmp_path / 'loyalty.db'}" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proposed.toml"]


def test_period_and_from_together_are_refused(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(simulate(shop, "--period", "90d", "--from", "2026-10-01")) == 2

    assert capsys.readouterr().err == (
        "loyalty-bot simulate: give --period or --from/--to, not both\n"
    )


def test_the_simulators_connection_cannot_write(shop: Path) -> None:
    with (
        closing(open_read_only(shop / "loyalty.db")) as conn,
        pytest.raises(sqlite3.OperationalError, match="readonly"),
    ):
        conn.execute("DELETE FROM ledger")
