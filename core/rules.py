"""The loyalty rules: pure functions over plain dicts. No I/O; rules and `now` are passed in.

- parse_amount: what a cashier typed -> a Decimal purchase amount (or InvalidAmount, with why)
- points_for:   THE rounding rule: floor(amount x points_per_unit x multiplier)
- tier_for / tier_progress: tiers by lifetime points earned, never by balance
- quote_earn / quote_redeem: what an earn or a redemption would do, shown before Confirm
  (quote_earn with the campaigns running at the moment, core/campaigns.py)
- reward_options: which rewards a balance affords, and the shortfall for the rest
- settle / lifetime_change: how any change of points meets the card (points owed first) and
  which lifetime total it moves; core/corrections.py builds voids, refunds and adjustments on them
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import unicodedata
from decimal import ROUND_FLOOR, Decimal

from core import campaigns, tiers
from core.errors import InsufficientPoints, InvalidAmount, NothingToEarn, Reason, UnknownReward
from core.marks import N_
from core.tiers import Standing, by_points
from core.types import (
    AppliedCampaign,
    Customer,
    EarnQuote,
    Program,
    RedeemQuote,
    Reward,
    RewardOption,
    Settlement,
    Tier,
    TierProgress,
)

CENT = Decimal("0.01")
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read over a counter


# --- purchase amounts ------------------------------------------------------------------------
#
# What a cashier types is read one way or refused with what to send instead: never guessed.
# Accepted: digits with a decimal point or a decimal comma ("25.50", "25,50", "12.", ".5"),
# thousands separators where they can't be decimals ("1,250", "1,250.00", "1.250,00"), and the
# shop's own currency, by its sign or its code, before or after ("£25.50", "25.50 GBP", "gbp25").
# Refused, each with its own line: a space or a symbol between digits ("12 50", "1£2"), another
# currency ("$12", "12 EUR"), and "1.250", which is 1.25 to some and 1250 to others.

# Signs of the currencies a shop may count in; the config names only the code. A currency
# missing here is typed by its code, which works for every currency. "$" is several currencies'
# own sign, so a dollar shop takes it; elsewhere it is someone else's money.
_SIGNS: dict[str, tuple[str, ...]] = {
    "GBP": ("£",),
    "EUR": ("€",),
    "USD": ("$", "US$"),
    "AUD": ("$", "A$", "AU$"),
    "CAD": ("$", "C$", "CA$"),
    "NZD": ("$", "NZ$"),
    "HKD": ("$", "HK$"),
    "SGD": ("$", "S$"),
    "MXN": ("$", "MX$"),
    "BRL": ("R$",),
    "JPY": ("¥", "円"),
    "CNY": ("¥", "元"),
    "INR": ("₹",),
    "KRW": ("₩",),
    "RUB": ("₽",),
    "UAH": ("₴",),
    "TRY": ("₺",),
    "ILS": ("₪",),
    "NGN": ("₦",),
    "PHP": ("₱",),
    "VND": ("₫",),
    "THB": ("฿",),
    "PLN": ("zł",),
    "CZK": ("Kč",),
    "SEK": ("kr",),
    "NOK": ("kr",),
    "DKK": ("kr",),
}
# ISO 4217's codes in use: "12 EUR" is someone else's money, "12 abc" is not an amount at all.
_CODES = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD
    BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD
    EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR
    ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD
    MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR
    PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL
    THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF
    XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL""".split()
)
_ANY_SIGN = frozenset(sign.casefold() for signs in _SIGNS.values() for sign in signs)
_MINUS = ("-", "\u2212")
# What comes before the number, the number, what comes after: currency marks live outside it.
_PARTS = re.compile(
    r"""(?P<before>.*?)
        (?P<number>[-\u2212]?\s*[.,]?\d(?:.*\d)?[.,]?)  # first digit to last, "-", ".5", "12."
        (?P<after>.*)""",
    re.S | re.X,
)
_POINT = re.compile(r"\d+(?:\.\d*)?|\.\d+")  # "25.50", "12.", ".5"
_COMMA = re.compile(r"\d+,\d{0,2}|,\d{1,2}")  # "25,50", "12,", ",5": a decimal comma
_COMMA_THOUSANDS = re.compile(r"[1-9]\d{0,2}(?:,\d{3})+(?:\.\d*)?")  # "1,250", "1,250.00"
_POINT_THOUSANDS = re.compile(r"[1-9]\d{0,2}(?:\.\d{3})+(?:,\d{0,2})?")  # "1.250,00"
_EITHER = re.compile(r"[1-9]\d{0,2}\.\d{2}0")  # "1.250": 1.25 here, 1250 in much of Europe
# Reasons an amount is refused, shared with core/corrections.py (marked: bot/ translates them).
NOT_A_NUMBER = N_("that is not a number")
TWO_DECIMALS = N_("use at most two decimal places, like 12.34")


def currency_signs(currency: str) -> tuple[str, ...]:
    """The signs a cashier may type for `currency` ('GBP' -> ('£',)); () if it has none here."""
    return _SIGNS.get(currency.upper(), ())


def parse_amount(text: str, program: Program) -> Decimal:
    """Turns '25.50', '£25.50', '25,50' or '25.50 GBP' into Decimal('25.50'), or says why not.

    Refuses, with the reason and what to send instead, anything that could be read two ways.
    """
    shown = f"“{text.strip()[:20]}”"
    typed = _plain(text)
    parts = _PARTS.fullmatch(typed)
    if parts is None:  # no digit at all: "abc", "NaN", ""
        raise InvalidAmount(_not_an_amount(shown))
    before, number, after = parts["before"].strip(), parts["number"].strip(), parts["after"]
    negative = before.startswith(_MINUS) or number.startswith(_MINUS)
    before, number = before.lstrip("".join(_MINUS)).strip(), number.lstrip("".join(_MINUS))
    marks = (before + " " + after).split()
    foreign = [m for m in marks if _mark(m, program) == "foreign"]
    if foreign:
        mark = foreign[0].upper() if _is_code(foreign[0]) else foreign[0]
        raise InvalidAmount(
            Reason(
                N_(
                    "this shop counts in {currency}, not {mark}: "
                    "send the amount in {currency}, like 25.50"
                ),
                {"currency": program.currency, "mark": mark},
            )
        )
    if any(_mark(m, program) is None for m in marks):  # "12 pounds", "12p", "+12"
        raise InvalidAmount(_not_an_amount(shown))
    number = number.strip()
    symbol = next((c for c in number if not (c.isalnum() or c.isspace() or c in ".,")), None)
    if symbol is not None:  # "1£2", "12-50", "12'50"
        raise InvalidAmount(
            Reason(
                N_(
                    "{shown} has “{symbol}” between its digits: "
                    "send only digits and a decimal point, like 25.50"
                ),
                {"shown": shown, "symbol": symbol},
            )
        )
    if any(c.isalpha() for c in number):  # "1e309", "1o0"
        raise InvalidAmount(_not_an_amount(shown))
    if any(c.isspace() for c in number):  # "12 50": 12.50 or 1250?
        raise InvalidAmount(_spaced(shown, number, program))
    amount = _number(number, shown)
    return validate_amount(-amount if negative else amount, program)


def _plain(text: str) -> str:
    """Full-width and other look-alike characters as their plain selves, digits as 0-9.

    Not superscripts, fractions or circled numbers ("²", "½", "①"): NFKC would make "1²" 12.
    """
    plain = (
        c if unicodedata.category(c) == "No" else unicodedata.normalize("NFKC", c) for c in text
    )
    text = "".join(plain).strip()  # "１２", no-break spaces, "￡"
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)


def _mark(word: str, program: Program) -> str | None:
    """'own' for the shop's currency sign or code, 'foreign' for another's, None if neither."""
    folded = word.casefold()
    if folded == program.currency.casefold() or folded in (
        s.casefold() for s in currency_signs(program.currency)
    ):
        return "own"
    if _is_code(word) or folded in _ANY_SIGN:
        return "foreign"  # a code ("EUR", "usd") or a sign from the table ("US$", "zł")
    if any(unicodedata.category(c) == "Sc" for c in word):
        return "foreign"  # any other currency sign: "$", "€", "₿"
    return None


def _is_code(word: str) -> bool:
    return word.upper() in _CODES


def _number(number: str, shown: str) -> Decimal:
    """The value of digits with at most one kind of decimal mark, or InvalidAmount."""
    if _EITHER.fullmatch(number):
        whole, _, part = number.partition(".")
        raise InvalidAmount(
            Reason(
                N_("{shown} could mean {one} or {other}: send the one you meant"),
                {"shown": shown, "one": f"{whole}.{part[:2]}", "other": f"{whole}{part}"},
            )
        )
    if _POINT.fullmatch(number):
        cleaned = number
    elif _COMMA.fullmatch(number):
        cleaned = number.replace(",", ".")  # "25,50": a decimal comma, as typed in much of Europe
    elif _COMMA_THOUSANDS.fullmatch(number):
        cleaned = number.replace(",", "")  # "1,250.00": thousands separators
    elif _POINT_THOUSANDS.fullmatch(number):
        cleaned = number.replace(".", "").replace(",", ".")  # "1.250,00": the European way
    else:
        raise InvalidAmount(_not_an_amount(shown))
    return Decimal(cleaned)


def _not_an_amount(shown: str) -> Reason:
    return Reason(N_("{shown} is not an amount: send digits like 25.50"), {"shown": shown})


def _spaced(shown: str, number: str, program: Program) -> Reason:
    """Why "12 50" is refused, with the readings that would be accepted."""
    groups = number.split()
    readings = []
    whole, part = groups if len(groups) == 2 else ("", "")
    if whole.isdecimal() and part.isdecimal() and len(part) <= 2:
        readings.append(f"{whole}.{part}")  # "12 50": twelve fifty, or 1250 (below)
    readings.append("".join(groups))
    valid = []
    for reading in readings:
        try:
            validate_amount(_number(reading, shown), program)
        except InvalidAmount:
            continue
        valid.append(reading)
    if len(valid) == 2:
        return Reason(
            N_("{shown} has a space inside: send {one} or {other}, whichever you meant"),
            {"shown": shown, "one": valid[0], "other": valid[1]},
        )
    if valid:
        return Reason(
            N_("{shown} has a space inside: send {one} if that is what you meant"),
            {"shown": shown, "one": valid[0]},
        )
    return Reason(
        N_("{shown} has a space inside: send the amount without spaces, like 25.50"),
        {"shown": shown},
    )


def validate_amount(amount: Decimal, program: Program) -> Decimal:
    """Refuses NaN/Infinity, zero, negative, more than two decimals, or above max_purchase."""
    if not amount.is_finite():
        raise InvalidAmount(Reason(NOT_A_NUMBER))
    if amount < 0:
        raise InvalidAmount(Reason(N_("the amount can't be negative")))
    if amount == 0:
        raise InvalidAmount(Reason(N_("the amount must be more than zero")))
    if amount > program.max_purchase:
        limit = program.max_purchase
        if len(f"{amount:,.2f} {program.currency}") > 40:
            # A pasted wall of digits: quoted back whole it made the reply longer than Telegram
            # takes (4096 characters), so the cashier got an apology instead of the reason.
            raise InvalidAmount(
                Reason(
                    N_("that amount is above the {limit} limit (probably a typo)"), {"limit": limit}
                )
            )
        raise InvalidAmount(
            Reason(
                N_("{amount} {currency} is above the {limit} limit (probably a typo)"),
                {"amount": amount, "currency": program.currency, "limit": limit},
            )
        )
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:  # "12.3400" is fine, "12.345" is not
        raise InvalidAmount(Reason(TWO_DECIMALS))
    return amount.quantize(CENT)


def points_for(amount: Decimal, points_per_unit: Decimal, multiplier: Decimal) -> int:
    """The one rounding rule: points are always rounded down, so 0.99 spent earns 0 points."""
    return int((amount * points_per_unit * multiplier).to_integral_value(rounding=ROUND_FLOOR))


# --- tiers -----------------------------------------------------------------------------------


def tier_for(lifetime_earned: int, tiers: tuple[Tier, ...]) -> Tier:
    """The highest tier whose threshold the lifetime points reach (redeeming never demotes).

    The lifetime basis; core/tiers.py has the other bases, pins, and what /status says.
    """
    return by_points(lifetime_earned, tiers)


def tier_progress(lifetime_earned: int, tiers: tuple[Tier, ...]) -> TierProgress:
    """The current tier and the points still needed for the next one."""
    current = tier_for(lifetime_earned, tiers)
    for tier in tiers:
        if tier.min_points > lifetime_earned:
            return {
                "tier": current.name,
                "next_tier": tier.name,
                "points_to_next": tier.min_points - lifetime_earned,
            }
    return {"tier": current.name, "next_tier": None, "points_to_next": None}


# --- earning ---------------------------------------------------------------------------------


def quote_earn(
    customer: Customer,
    amount: Decimal,
    program: Program,
    standing: Standing | None = None,
    *,
    at: dt.datetime | None = None,
    purchases: int | None = None,
) -> EarnQuote:
    """What a purchase earns: the preview a cashier confirms, and the record kept with the entry.

    `standing` is the customer's dated credits for a tier policy that counts a window
    (core/tiers.py); without one, the tier follows lifetime points (and any pin). `at` is the
    moment of the purchase (aware): the campaigns running then (core/campaigns.py, in the
    shop's time zone) apply; None leaves campaigns out. `purchases` is how many of the card's
    purchases stand before this one, for first-purchase bonuses (None: unknown).
    A purchase below min_purchase, or one whose points round to 0, is refused (NothingToEarn):
    it would record a visit that earned nothing.
    """
    amount = validate_amount(amount, program)
    if amount < program.min_purchase:
        raise NothingToEarn(amount, program.currency, minimum=program.min_purchase)
    if standing is None:
        standing = tiers.standing_of(customer, dt.date.min)
    tier = tiers.held(standing, program)
    base = points_for(amount, program.points_per_unit, Decimal(1))
    on = [] if at is None else campaigns.running(program.campaigns, at, program.timezone)
    boost = campaigns.boost(on, amount=amount, purchases=purchases)

    def priced(rate: Tier) -> tuple[int, list[AppliedCampaign]]:
        """The purchase's points at `rate`'s multiplier, with the campaigns' (documented rule:
        the best multiplier times the tier's, then fixed bonuses added)."""
        plain = points_for(amount, program.points_per_unit, rate.multiplier)
        points = points_for(amount, program.points_per_unit, rate.multiplier * boost.multiplier)
        applied: list[AppliedCampaign] = []
        if boost.best is not None:
            applied.append(
                {
                    "name": boost.best.name,
                    "effect": "multiplier",
                    "points": points - plain,
                    "multiplier": boost.multiplier,
                }
            )
        applied += boost.bonuses
        return points + sum(b["points"] for b in boost.bonuses), applied

    points, applied = priced(tier)
    if points == 0:
        raise NothingToEarn(amount, program.currency, minimum=None)
    # Points the card owes (a correction took back points already spent) are paid first: the
    # entry records the purchase's points, and how many of them reached the balance.
    settled = settle(customer["balance"], customer.get("points_owed", 0), points)
    after = tiers.held(tiers.credited(standing, settled["points"]), program)
    rate = tiers.rate_tier(tier, after, program.tier_policy)
    if rate != tier:  # [program] tier_rate_on_crossing = "after": the new tier's multiplier
        points, applied = priced(rate)
        settled = settle(customer["balance"], customer.get("points_owed", 0), points)
        after = tiers.held(tiers.credited(standing, settled["points"]), program)
    quote: EarnQuote = {
        "amount": amount,
        "currency": program.currency,
        "points_per_unit": program.points_per_unit,
        "base_points": base,
        "multiplier": rate.multiplier,
        "points": points,
        "balance_before": customer["balance"],
        "balance_after": settled["balance_after"],
        "tier_before": tier.name,
        "tier_after": after.name,
    }
    if settled["owed_paid"]:
        quote["owed_paid"] = settled["owed_paid"]
    if applied:
        quote["campaigns"] = applied
    if boost.best is not None:
        quote["campaign_multiplier"] = boost.multiplier
    return quote


# --- any change of points --------------------------------------------------------------------


def settle(balance: int, owed: int, change: int) -> Settlement:
    """How a change of `change` points meets a card holding `balance` and owing `owed`.

    The policy for points already spent (docs/decisions.md): a change that takes points takes
    what the card holds and records the rest as owed; a change that gives points pays what is
    owed first. So the card's worth, balance - owed, always moves by exactly `change`, the
    balance never goes below zero, and while anything is owed the balance is zero.
    """
    worth = balance - owed + change
    balance_after, owed_after = max(worth, 0), max(-worth, 0)
    return {
        "points": balance_after - balance,
        "owed_added": max(owed_after - owed, 0),
        "owed_paid": max(owed - owed_after, 0),
        "balance_after": balance_after,
        "owed_after": owed_after,
    }


def lifetime_change(kind: str, points: int) -> tuple[int, int]:
    """(to lifetime_earned, to lifetime_redeemed) for an entry that moved the balance `points`.

    Credits (earn, signup_bonus, a positive adjustment) count toward lifetime_earned, and so
    decide the tier; spending (redeem, a negative adjustment) counts toward lifetime_redeemed.
    A void or a refund moves the total of what it reverses back: taking back an earn's points
    lowers lifetime_earned (the tier follows), giving back a redemption's lowers
    lifetime_redeemed. Either way balance == lifetime_earned - lifetime_redeemed.
    """
    if kind in ("void", "refund"):
        return min(points, 0), -max(points, 0)
    return max(points, 0), max(-points, 0)


# --- rewards ---------------------------------------------------------------------------------


def find_reward(reward_id: str, program: Program) -> Reward:
    """The reward with this id (case-insensitive), or UnknownReward listing the ids that exist."""
    wanted = reward_id.strip().lower()
    for reward in program.rewards:
        if reward.id == wanted:
            return reward
    raise UnknownReward(reward_id, [r.id for r in program.rewards])


def reward_options(balance: int, program: Program) -> list[RewardOption]:
    """Every reward, cheapest first, with whether `balance` affords it and the shortfall."""
    return [
        {
            "id": r.id,
            "name": r.name,
            "cost": r.cost,
            "affordable": balance >= r.cost,
            "shortfall": max(r.cost - balance, 0),
        }
        for r in sorted(program.rewards, key=lambda r: (r.cost, r.id))
    ]


def quote_redeem(customer: Customer, reward: Reward, program: Program) -> RedeemQuote:
    """What redeeming `reward` would do; InsufficientPoints (with the shortfall) if it can't.

    With reset_after_redemption (punch-card style) the whole balance is spent, not just the cost.
    """
    balance = customer["balance"]
    if balance < reward.cost:
        raise InsufficientPoints(balance=balance, cost=reward.cost)
    spent = balance if program.reset_after_redemption else reward.cost
    return {
        "reward_id": reward.id,
        "reward_name": reward.name,
        "cost": reward.cost,
        "points": spent,
        "balance_before": balance,
        "balance_after": balance - spent,
    }


def new_redemption_code() -> str:
    """A short code the customer can show at the till, e.g. 'K7M-3QD'."""
    chars = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))
    return f"{chars[:3]}-{chars[3:]}"
