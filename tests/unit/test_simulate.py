"""core.simulate: a small ledger replayed by hand, the replay rules, and the replay of the rules
in force giving back the ledger they wrote (a property test against core.rules itself)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from core import rules
from core.errors import InsufficientPoints, NothingToEarn, UnknownReward
from core.expiry import ExpiryPolicy, Lot, consume, due, is_expired, last_day
from core.simulate import Event, Outcome, Simulation, Start, simulate
from core.types import BillLevel, Campaign, Customer, EntryKind, Program, Reward, Tier

# Bronze x1 from 0, Silver x2 from 100 lifetime points; coffee 50 points, worth 1.00.
CURRENT = Program(
    currency="GBP",
    points_per_unit=Decimal(1),
    signup_bonus=10,
    tiers=(Tier("Bronze", 0, Decimal(1)), Tier("Silver", 100, Decimal(2))),
    rewards=(Reward("coffee", "Coffee", 50, Decimal("1.00")),),
)
# Two points per pound, Silver only from 200, no signup bonus, coffee 120 points worth 3.00.
PROPOSED = dataclasses.replace(
    CURRENT,
    points_per_unit=Decimal(2),
    signup_bonus=0,
    tiers=(Tier("Bronze", 0, Decimal(1)), Tier("Silver", 200, Decimal("1.5"))),
    rewards=(Reward("coffee", "Coffee", 120, Decimal("3.00")),),
)
ANN, BOB, CAT = 1, 2, 3


def at(day: int) -> dt.datetime:
    return dt.datetime(2026, 10, day, 12, tzinfo=dt.UTC)


def event(
    day: int, who: int, kind: EntryKind, points: int, minor: int | None = None, reward: str = ""
) -> Event:
    return Event(at(day), who, kind, points, minor, reward or None)


# Ann starts 10 points short of Silver; Bob joins in the period; Cat never comes back.
STARTS = {
    ANN: Start(balance=80, lifetime_earned=90),
    BOB: Start(joined=True),
    CAT: Start(),
}
# As the current program recorded them.
LEDGER = [
    event(1, BOB, "signup_bonus", 10),
    event(2, ANN, "earn", 25, 2550),  # Bronze: 25.50 -> 25; lifetime 115: Silver
    event(3, ANN, "earn", 20, 1000),  # Silver x2: 10.00 -> 20
    event(4, ANN, "redeem", -50, reward="coffee"),
    event(5, BOB, "earn", 9, 999),  # 9.99 -> 9
]


def run(
    ledger: list[Event], *programs: Program, starts: dict[int, Start] | None = None
) -> Simulation:
    return simulate(
        STARTS if starts is None else starts, ledger, current=CURRENT, programs=programs
    )


def figures(o: Outcome) -> dict[str, object]:
    return {
        "purchases": o.purchases,
        "sales": o.sales,
        "issued": o.points_issued,
        "purchase_points": o.purchase_points,
        "bonus_points": o.bonus_points,
        "corrections": o.correction_points,
        "redemptions": o.redemptions,
        "skipped": o.redemptions_skipped,
        "redeemed": o.points_redeemed,
        "expired": o.points_expired,
        "outstanding": o.outstanding,
        "liability": o.liability,
        "cost_per_100": o.cost_per_100,
        "tiers": o.tiers,
        "affordable": o.affordable,
    }


def test_the_ledger_as_recorded_is_the_actual_column() -> None:
    actual = run(LEDGER).actual

    assert figures(actual) == {
        "purchases": 3,
        "sales": Decimal("45.49"),
        "issued": 64,  # 25 + 20 + 9, and Bob's 10
        "purchase_points": 54,
        "bonus_points": 10,
        "corrections": 0,
        "redemptions": 1,
        "skipped": 0,
        "redeemed": 50,
        "expired": 0,
        "outstanding": 94,  # Ann 80 + 45 - 50 = 75, Bob 19, Cat 0
        "liability": Decimal("1.88"),  # 94 x 1.00/50
        "cost_per_100": Decimal("2.81"),  # 64 x 0.02 x 100 / 45.49 = 2.8138
        "tiers": {"Bronze": 2, "Silver": 1},  # Ann's lifetime 135
        "affordable": {"coffee": 1},  # Ann's 75
    }


def test_replaying_the_current_program_gives_back_the_ledger() -> None:
    sim = run(LEDGER, CURRENT)

    assert figures(sim.replays[0]) == figures(sim.actual)


def test_the_proposed_program_replayed_by_hand() -> None:
    proposed = run(LEDGER, PROPOSED).replays[0]

    assert figures(proposed) == {
        "purchases": 3,
        "sales": Decimal("45.49"),
        "issued": 90,  # 25.50 x 2 = 51; Ann's lifetime 141 < 200, so 10.00 x 2 = 20; 9.99 x 2 = 19
        "purchase_points": 90,
        "bonus_points": 0,  # no signup bonus: Bob starts at 0
        "corrections": 0,
        "redemptions": 1,
        "skipped": 0,
        "redeemed": 120,  # the coffee costs 120 now: Ann's 151 affords it
        "expired": 0,
        "outstanding": 50,  # Ann 31, Bob 19, Cat 0
        "liability": Decimal("1.25"),  # 50 x 3.00/120
        "cost_per_100": Decimal("4.95"),  # 90 x 0.025 x 100 / 45.49 = 4.9461
        "tiers": {"Bronze": 3, "Silver": 0},  # Ann's lifetime 161 < 200
        "affordable": {"coffee": 0},
    }


def test_a_redemption_the_replayed_balance_cannot_afford_is_skipped_and_counted() -> None:
    dearer = dataclasses.replace(CURRENT, rewards=(Reward("coffee", "Coffee", 200),))
    replay = run(LEDGER, dearer).replays[0]

    assert (replay.redemptions, replay.redemptions_skipped, replay.points_redeemed) == (0, 1, 0)
    assert replay.outstanding == 125 + 19  # Ann keeps her points
    assert replay.liability is None  # a reward without a value: no money figure
    assert replay.cost_per_100 is None


def test_a_skipped_redemption_leaves_its_points_for_a_later_one() -> None:
    dearer = dataclasses.replace(CURRENT, rewards=(Reward("coffee", "Coffee", 120),))
    ledger = [
        event(1, ANN, "redeem", -50, reward="coffee"),  # 80 < 120: skipped
        event(2, ANN, "earn", 60, 6000),  # 80 + 60 = 140
        event(3, ANN, "redeem", -50, reward="coffee"),  # 140 >= 120: redeemed, 20 left
    ]
    replay = run(ledger, dearer).replays[0]

    assert (replay.redemptions, replay.redemptions_skipped) == (1, 1)
    assert replay.outstanding == 20 + 10  # Ann, and Bob's signup bonus


def test_a_reward_the_program_no_longer_has_cannot_be_redeemed() -> None:
    renamed = dataclasses.replace(CURRENT, rewards=(Reward("latte", "Latte", 50),))
    replay = run(LEDGER, renamed).replays[0]

    assert (replay.redemptions, replay.redemptions_skipped) == (0, 1)
    assert replay.affordable == {"latte": 1}


def test_reset_mode_spends_the_whole_balance() -> None:
    reset = dataclasses.replace(CURRENT, reset_after_redemption=True)
    replay = run(LEDGER, reset).replays[0]

    assert replay.points_redeemed == 125  # Ann's whole balance, not the coffee's 50
    assert replay.outstanding == 19


def test_corrections_stay_in_the_actual_column_and_are_not_replayed() -> None:
    ledger = [*LEDGER, event(6, BOB, "adjust", -4), event(7, ANN, "void", -20)]
    sim = run(ledger, CURRENT)

    assert sim.actual.correction_points == -24
    assert sim.actual.outstanding == 94 - 24
    assert sim.actual.tiers == {"Bronze": 2, "Silver": 1}  # Ann's lifetime 115: still Silver
    assert sim.replays[0].outstanding == 94
    assert sim.replays[0].correction_points == 0


def test_entries_of_someone_not_yet_a_member_by_the_end_are_ignored() -> None:
    sim = run([*LEDGER, event(6, 99, "earn", 10, 1000)], CURRENT)

    assert sim.actual.purchases == sim.replays[0].purchases == 3


def test_min_purchase_and_campaigns_replayed_by_hand() -> None:
    """October 2026 in London (BST, UTC+1 until the 25th): double points on Tuesdays from
    18:00 (17:00 UTC), 5 points for a bill of 20.00 or more, 30 for a card's first purchase
    from the 3rd; nothing below 5.00."""
    program = dataclasses.replace(
        CURRENT,
        min_purchase=Decimal(5),
        campaigns=(
            Campaign(
                "Tuesday night",
                dt.date(2026, 10, 1),
                weekdays=frozenset({1}),
                hours=(dt.time(18), dt.time(23, 59)),
                multiplier=Decimal(2),
            ),
            Campaign("Basket", dt.date(2026, 10, 1), bill_bonus=(BillLevel(Decimal(20), 5),)),
            Campaign("Welcome", dt.date(2026, 10, 3), first_purchase_bonus=30),
        ),
    )
    tuesday = dt.datetime(2026, 10, 6, 17, 0, 0, tzinfo=dt.UTC)  # 18:00 in London
    ledger = [
        event(2, BOB, "earn", 4, 499),  # below 5.00: nothing, and not Bob's first purchase
        event(4, BOB, "earn", 4, 500),  # 5 + Welcome 30 = 35
        event(5, BOB, "earn", 20, 2000),  # 20 + Basket 5 = 25
        Event(tuesday - dt.timedelta(seconds=1), CAT, "earn", 20, 2000, None),  # 17:59:59: 25
        Event(tuesday, CAT, "earn", 20, 2000, None),  # 18:00: 20 x2 + 5 = 45
        event(7, ANN, "earn", 7, 700),  # Ann bought before the period: 7, no Welcome
    ]
    starts = {ANN: Start(80, 90, purchases=2), BOB: Start(joined=True), CAT: Start()}
    replay = run(ledger, program, starts=starts).replays[0]

    # Bob 10 (signup) + 35 + 25; Cat 25 + 45 (and Welcome 30: her first purchase); Ann 7
    assert replay.purchase_points == 35 + 25 + (25 + 30) + 45 + 7
    assert replay.purchases == 6  # the visits are the ledger's: sales are what they were
    assert replay.outstanding == 80 + 7 + 10 + 60 + 100


def test_a_purchase_that_earns_nothing_is_no_first_purchase() -> None:
    """0.50 earns 0 points and is refused at the till, so the next purchase is the first."""
    welcome = Campaign("Welcome", dt.date(2026, 10, 3), first_purchase_bonus=30)
    program = dataclasses.replace(CURRENT, campaigns=(welcome,))
    ledger = [event(3, CAT, "earn", 30, 50), event(4, CAT, "earn", 40, 1000)]
    replay = run(ledger, program).replays[0]

    # the 0.50 gets the Welcome bonus itself (30 points: it stands); the 10.00 is not first
    assert replay.purchase_points == 30 + 10
    early = [event(2, CAT, "earn", 0, 50), event(4, CAT, "earn", 40, 1000)]
    # before the campaign the 0.50 earns nothing and is refused: the 10.00 is the first
    assert run(early, program).replays[0].purchase_points == 10 + 30


OCTOBER = (dt.datetime(2026, 10, 1, tzinfo=dt.UTC), dt.datetime(2026, 11, 1, tzinfo=dt.UTC))


def test_points_that_would_have_expired_by_hand() -> None:
    """Points last 10 days after the (London) day they were earned, through local midnight.
    Ann's 80 at the start are one lot of 1 October: last day the 11th, gone at 23:00 UTC."""
    ten_days = ExpiryPolicy("after_days", days=10)
    starts = {**STARTS, CAT: Start(balance=40, lifetime_earned=40)}
    replay = simulate(
        starts, LEDGER, current=CURRENT, programs=(CURRENT,), expiry=(ten_days,), period=OCTOBER
    ).replays[0]

    # Ann: the coffee (4th, 12:00) takes 50 of the 80; the 30 left go on the 11th at 23:00,
    # the 25 of the 2nd a day later, the 20 of the 3rd (Silver) on the 13th: 75.
    # Bob: his 10 of the 1st and 9 of the 5th: 19. Cat, who never came: her 40.
    assert replay.points_expired == 75 + 19 + 40
    assert replay.outstanding == 0
    assert (replay.redemptions, replay.redemptions_skipped) == (1, 0)
    assert replay.tiers == {"Bronze": 2, "Silver": 1}  # expiry takes no lifetime points

    late = [*LEDGER[:3], event(12, ANN, "redeem", -50, reward="coffee"), LEDGER[4]]
    replay = simulate(
        starts, late, current=CURRENT, programs=(CURRENT,), expiry=(ten_days,), period=OCTOBER
    ).replays[0]
    # on the 12th at noon only the 20 of the 3rd is left: the coffee can't be had
    assert (replay.redemptions, replay.redemptions_skipped) == (0, 1)
    assert replay.points_expired == 80 + 25 + 20 + 19 + 40


def test_inactivity_expiry_waits_for_the_last_purchase() -> None:
    """Inactivity, 10 days: every lot goes 10 days after the card's last purchase."""
    idle = ExpiryPolicy("inactivity", days=10)
    ledger = [
        event(1, BOB, "signup_bonus", 10),
        *(event(day, ANN, "earn", 10, 1000) for day in (2, 10, 19, 28)),
        event(5, BOB, "earn", 9, 999),
    ]
    ledger.sort(key=lambda e: e.at)
    replay = simulate(
        STARTS, ledger, current=CURRENT, programs=(CURRENT,), expiry=(idle,), period=OCTOBER
    ).replays[0]

    # Ann bought on the 28th: nothing of hers goes before 8 November. Bob's last purchase was
    # on the 5th: his 19 go after the 15th.
    assert replay.points_expired == 19
    assert replay.outstanding == 80 + 10 + 20 + 20 + 20  # Silver (x2) from the 2nd: 100


# --- property: the replay of the rules in force is the ledger they wrote ----------------------

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(500), places=2) | (
    st.sampled_from(["5", "9.99", "20.50", "50", "120.50", "260"]).map(Decimal)
)
rates = st.sampled_from(["0.5", "1", "1.1", "1.25", "2", "3.333", "0.07"]).map(Decimal)
# Campaigns over October 2026, whose last Sunday ends British Summer Time: days, weekdays and
# hours on the shop's clock, each with one effect.
clock = st.builds(dt.time, st.integers(0, 23), st.sampled_from([0, 15, 30, 59]))
campaign_list = st.lists(
    st.builds(
        lambda n, start, length, weekdays, hours, effect: Campaign(
            name=f"C{n}",
            start=dt.date(2026, 10, start),
            end=None if length is None else dt.date(2026, 10, start) + dt.timedelta(length),
            weekdays=frozenset(weekdays),
            hours=None if hours is None else (min(hours), max(hours)),
            **effect,
        ),
        st.integers(0, 99),
        st.sampled_from([1, 1, 1, 3, 12, 25]),
        st.none() | st.integers(0, 10),
        st.just(set()) | st.just(set()) | st.sets(st.integers(0, 6), max_size=3),
        st.none() | st.none() | st.tuples(clock, clock).filter(lambda h: h[0] != h[1]),
        st.one_of(
            st.sampled_from(["1.5", "2", "3"]).map(lambda m: {"multiplier": Decimal(m)}),
            st.lists(st.tuples(st.sampled_from(["10", "50", "50", "120.50"]), st.integers(1, 40)))
            .filter(bool)
            .map(lambda ls: {"bill_bonus": tuple(BillLevel(Decimal(b), p) for b, p in ls)}),
            st.integers(1, 50).map(lambda p: {"first_purchase_bonus": p}),
        ),
    ),
    min_size=1,
    max_size=3,
)
programs = st.builds(
    lambda ppu, mults, bonus, reset, minimum, campaigns, zone: Program(
        points_per_unit=ppu,
        signup_bonus=bonus,
        reset_after_redemption=reset,
        tiers=tuple(
            Tier(f"T{n}", min_points, mult)
            for n, (min_points, mult) in enumerate(zip((0, 150, 600), mults, strict=False))
        ),
        rewards=(Reward("small", "Small", 60, Decimal(1)), Reward("big", "Big", 300)),
        min_purchase=minimum,
        campaigns=tuple(campaigns),
        timezone=zone,
    ),
    rates,
    st.lists(rates, min_size=1, max_size=3),
    st.integers(0, 100),
    st.booleans(),
    st.sampled_from(["0", "0", "5", "20.50"]).map(Decimal),
    st.just([]) | campaign_list,
    st.sampled_from(["Europe/London", "America/New_York", "Asia/Kolkata"]),
)
# (who, a purchase's amount or a reward's id, minutes since the entry before)
steps = st.lists(
    st.tuples(
        st.integers(1, 3),
        st.one_of(amounts, st.sampled_from(["small", "big"])),
        st.integers(0, 4000),
    ),
    min_size=3,
    max_size=40,
)


def timed(
    history: list[tuple[int, Decimal | str, int]],
) -> list[tuple[int, Decimal | str, dt.datetime]]:
    """The steps at their moments: from 1 October 2026, each so many minutes after the last."""
    moment = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    out = []
    for who, step, gap in history:
        moment += dt.timedelta(minutes=gap, seconds=gap % 7)
        out.append((who, step, moment))
    return out


@settings(max_examples=300, deadline=None)
@given(program=programs, history=steps, amount=amounts)
def test_replaying_a_ledger_written_by_core_rules_gives_it_back(
    program: Program, history: list[tuple[int, Decimal | str, int]], amount: Decimal
) -> None:
    """Customers 1-2 joined before the period (1 with points and purchases), 3 joins in it;
    the ledger is written with quote_earn (at each entry's moment, with the card's purchases
    so far: the campaigns apply) and quote_redeem, as the Store does."""
    cards: dict[int, Customer] = {
        who: _card(balance, lifetime) for who, balance, lifetime in ((1, 70, 400), (2, 0, 0))
    }
    bought = {1: 3, 2: 0, 3: 0}
    starts = {1: Start(70, 400, purchases=3), 2: Start(), 3: Start(joined=True)}
    ledger = []
    if program.signup_bonus:
        ledger.append(Event(at(1), 3, "signup_bonus", program.signup_bonus, None, None))
    cards[3] = _card(program.signup_bonus, program.signup_bonus)
    for who, step, when in timed([(1, amount, 0), *history]):
        card = cards[who]
        if isinstance(step, Decimal):
            try:
                quote = rules.quote_earn(card, step, program, at=when, purchases=bought[who])
            except NothingToEarn:
                continue  # refused before Confirm: no entry, not a visit
            minor = int(step * 100)
            ledger.append(Event(when, who, "earn", quote["points"], minor, None))
            cards[who] = _card(quote["balance_after"], card["lifetime_earned"] + quote["points"])
            bought[who] += 1
        else:
            try:
                spent = rules.quote_redeem(card, rules.find_reward(step, program), program)
            except InsufficientPoints:
                continue  # the till refused it: no entry
            ledger.append(Event(when, who, "redeem", -spent["points"], None, step))
            cards[who] = _card(spent["balance_after"], card["lifetime_earned"])

    sim = simulate(starts, ledger, current=program, programs=(program,))

    assert figures(sim.replays[0]) == figures(sim.actual)
    assert sim.actual.outstanding == sum(c["balance"] for c in cards.values())
    tiers = [rules.tier_for(c["lifetime_earned"], program.tiers).name for c in cards.values()]
    assert sim.actual.tiers == {t.name: tiers.count(t.name) for t in program.tiers}


def _card(balance: int, lifetime: int) -> Customer:
    return {
        "id": 1,
        "card_number": "48213376",
        "name": "Ann",
        "phone": "+447400123456",
        "email": None,
        "created_at": at(1),
        "balance": balance,
        "lifetime_earned": lifetime,
        "lifetime_redeemed": lifetime - balance,
        "tier": "T0",
        "telegram_user_id": None,
        "version": 0,
    }


# --- property: any program's replay is what core.rules would do, entry by entry -------------

proposals = st.builds(
    lambda program, costs, reset: dataclasses.replace(
        program,
        reset_after_redemption=reset,
        # "small" may cost more than anyone holds; "big" may be gone from the program.
        rewards=tuple(
            Reward(rid, rid, cost) for rid, cost in zip(("small", "big"), costs, strict=False)
        ),
    ),
    programs,
    st.lists(st.integers(1, 400), min_size=1, max_size=2),
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(current=programs, proposed=proposals, history=steps)
def test_a_replay_is_core_rules_applied_entry_by_entry(
    current: Program, proposed: Program, history: list[tuple[int, Decimal | str, int]]
) -> None:
    """The ledger is written under `current`; the proposed program's replay must equal an
    entry-by-entry replay with quote_earn (its min_purchase, its campaigns at the entry's
    moment, the card's purchases standing under it) and quote_redeem, a redemption the
    proposed program refuses (unknown reward, too few points) being skipped."""
    starts = {1: Start(70, 400, purchases=3), 2: Start(), 3: Start(joined=True)}
    bought = {who: s.purchases for who, s in starts.items()}
    mine_bought = dict(bought)
    written = {who: _card(s.balance, s.lifetime_earned) for who, s in starts.items()}
    replayed = {
        who: _card(s.balance + bonus, s.lifetime_earned + bonus)
        for who, s in starts.items()
        for bonus in [proposed.signup_bonus if s.joined else 0]
    }
    ledger: list[Event] = []
    skipped = redeemed = 0
    for who, step, when in timed(history):
        if isinstance(step, Decimal):
            try:
                quote = rules.quote_earn(
                    written[who], step, current, at=when, purchases=bought[who]
                )
            except NothingToEarn:
                continue  # refused at the till: not in the ledger, so not replayed either
            written[who] = _card(
                quote["balance_after"], written[who]["lifetime_earned"] + quote["points"]
            )
            bought[who] += 1
            ledger.append(Event(when, who, "earn", quote["points"], int(step * 100), None))
            try:
                mine = rules.quote_earn(
                    replayed[who], step, proposed, at=when, purchases=mine_bought[who]
                )
            except NothingToEarn:
                continue  # the proposed program would give it nothing
            replayed[who] = _card(
                mine["balance_after"], replayed[who]["lifetime_earned"] + mine["points"]
            )
            mine_bought[who] += 1
            continue
        try:
            spent = rules.quote_redeem(written[who], rules.find_reward(step, current), current)
        except InsufficientPoints:
            continue
        written[who] = _card(spent["balance_after"], written[who]["lifetime_earned"])
        ledger.append(Event(when, who, "redeem", -spent["points"], None, step))
        try:
            took = rules.quote_redeem(replayed[who], rules.find_reward(step, proposed), proposed)
        except (InsufficientPoints, UnknownReward):
            skipped += 1
            continue
        redeemed += took["points"]
        replayed[who] = _card(took["balance_after"], replayed[who]["lifetime_earned"])

    replay = simulate(starts, ledger, current=current, programs=(proposed,)).replays[0]

    assert replay.redemptions_skipped == skipped
    assert replay.points_redeemed == redeemed
    assert replay.outstanding == sum(c["balance"] for c in replayed.values())
    tiers = [rules.tier_for(c["lifetime_earned"], proposed.tiers).name for c in replayed.values()]
    assert replay.tiers == {t.name: tiers.count(t.name) for t in proposed.tiers}
    assert replay.affordable == {
        r.id: sum(c["balance"] >= r.cost for c in replayed.values())
        for r in sorted(proposed.rewards, key=lambda r: (r.cost, r.id))
    }


# --- property: expiry is core.expiry applied day by day, lot by lot ---------------------------

policies = st.one_of(
    st.integers(1, 20).map(lambda d: ExpiryPolicy("after_days", days=d)),
    st.integers(1, 20).map(lambda d: ExpiryPolicy("inactivity", days=d)),
    st.just(ExpiryPolicy("end_of_year", years=1)),
)


@settings(max_examples=150, deadline=None)
@given(
    policy=policies,
    ppu=rates,
    costs=st.lists(st.integers(1, 300), min_size=2, max_size=2),
    reset=st.booleans(),
    history=steps,
)
def test_expiry_is_core_expiry_applied_lot_by_lot(
    policy: ExpiryPolicy,
    ppu: Decimal,
    costs: list[int],
    reset: bool,
    history: list[tuple[int, Decimal | str, int]],
) -> None:
    """One tier, no campaigns: each card's lots kept by hand with core.expiry's `due` and
    `consume` (unique lot ids, every lot checked at every entry), against the engine."""
    program = Program(
        points_per_unit=ppu,
        reset_after_redemption=reset,
        tiers=(Tier("T0", 0, Decimal(1)),),
        rewards=(Reward("small", "Small", costs[0]), Reward("big", "Big", costs[1])),
        timezone="Europe/London",
    )
    tz = ZoneInfo(program.timezone)
    start = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    starts = {1: Start(70, 400), 2: Start(), 3: Start(joined=True)}
    lots: dict[int, list[Lot]] = {who: [] for who in starts}
    last: dict[int, dt.datetime | None] = {who: None for who in starts}
    made = iter(range(1, 10**6))
    expired = redeemed = 0

    def credit(who: int, points: int, at: dt.datetime) -> None:
        n = next(made)
        lots[who].append(
            {"id": n, "entry_id": n, "points": points, "remaining": points, "earned_at": at}
        )

    def expire(who: int, now: dt.datetime) -> int:
        gone = sum(p for _, p in due(policy, lots[who], now, tz=tz, last_purchase_at=last[who]))
        for lot in lots[who]:
            day = last_day(policy, lot["earned_at"], tz=tz, last_purchase_at=last[who])
            if day is not None and is_expired(day, now, tz):
                lot["remaining"] = 0
        return gone

    credit(1, 70, start)
    ledger: list[Event] = []
    moments = timed(history)
    end = (moments[-1][2] if moments else start) + dt.timedelta(days=25)
    for who, step, when in moments:
        expired += expire(who, when)
        if isinstance(step, Decimal):
            points = rules.points_for(step, ppu, Decimal(1))
            ledger.append(Event(when, who, "earn", points, int(step * 100), None))
            if points > 0:
                credit(who, points, when)
                last[who] = when
            continue
        ledger.append(Event(when, who, "redeem", -1, None, step))
        balance = sum(lot["remaining"] for lot in lots[who])
        cost = rules.find_reward(step, program).cost
        if balance >= cost:
            spend = balance if reset else cost
            redeemed += spend
            if spend:
                by_id = {lot["id"]: lot for lot in lots[who]}
                for lot_id, took in consume(lots[who], spend):
                    by_id[lot_id]["remaining"] -= took
    for who in starts:
        expired += expire(who, end)

    replay = simulate(
        starts, ledger, current=program, programs=(program,), expiry=(policy,), period=(start, end)
    ).replays[0]

    assert replay.points_expired == expired
    assert replay.points_redeemed == redeemed
    assert replay.outstanding == sum(lot["remaining"] for ls in lots.values() for lot in ls)
