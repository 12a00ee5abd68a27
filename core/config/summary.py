"""What `loyalty-bot check-config` prints: the config in plain words, with no secret in it."""

from __future__ import annotations

from .model import TOKEN_ENV_VAR, Config
from .urls import redact_url, sqlite_path
from .values import number


def describe(config: Config) -> str:
    """A human summary for `loyalty-bot check-config`; never shows the token or a password."""
    p = config.program
    r = config.reports
    s = config.staff
    source = str(config.path) if config.path else "none (built-in defaults)"
    token = "set" if config.telegram.token else f"NOT SET (set {TOKEN_ENV_VAR} or [telegram] token)"
    reset = (
        "on: a redemption spends the whole balance"
        if p.reset_after_redemption
        else "off: a redemption spends the reward's cost"
    )
    lines = [
        f"config file:    {source}",
        f"database:       {redact_url(config.database_url)}",
        f"bot token:      {token}",
        f"bot API:        {redact_url(config.telegram.base_url)}",
        f"staff:          {_plural(len(s.admins), 'admin')}, {_plural(len(s.cashiers), 'cashier')}",
        f"currency:       {p.currency}",
        f"points:         {number(p.points_per_unit)} per 1 {p.currency} spent",
        f"signup bonus:   {_plural(p.signup_bonus, 'point')}",
        f"reset mode:     {reset}",
        f"max purchase:   {number(p.max_purchase)} {p.currency}",
        f"min purchase:   {number(p.min_purchase)} {p.currency}"
        if p.min_purchase
        else "min purchase:   none",
        f"phone region:   {p.default_region}",
        f"daily digest:   {r.digest_time:%H:%M} {r.timezone}",
        f"daily backup:   {_backup(config)}",
        f"undo:           {_undo(config)}",
        f"language:       {config.shop.language} (unless a person chose another or their app's "
        "is one the bot speaks)",
        f"expiry:         {_expiry(config)}",
        f"birthday bonus: {_birthday(config)}",
        f"referral bonus: {_referral(config)}",
        f"tiers ({len(p.tiers)}):",
    ]
    name_width = max((len(t.name) for t in p.tiers), default=0)
    for tier in p.tiers:
        multiplier = number(tier.multiplier)
        lines.append(f"  {tier.name:<{name_width}}  from {tier.min_points} points  x{multiplier}")
    lines.append(f"rewards ({len(p.rewards)}):" if p.rewards else "rewards: none")
    id_width = max((len(w.id) for w in p.rewards), default=0)
    name_width = max((len(w.name) for w in p.rewards), default=0)
    for reward in p.rewards:
        worth = "" if reward.value is None else f"  worth {number(reward.value)} {p.currency}"
        lines.append(
            f"  {reward.id:<{id_width}}  {reward.name:<{name_width}}  {reward.cost} points{worth}"
        )
    lines.append(f"campaigns ({len(p.campaigns)}):" if p.campaigns else "campaigns: none")
    for c in p.campaigns:
        until = f" to {c.end}" if c.end else ""
        shown = "" if c.public else " (staff only)"
        lines.append(f"  {c.name}{shown}: {c.effect}, from {c.start}{until}")
    return "\n".join(lines)


def _birthday(config: Config) -> str:
    b = config.birthday
    return f"{_plural(b.bonus, 'point')}, daily check {b.time:%H:%M}" if b.bonus else "off"


def _referral(config: Config) -> str:
    p = config.program
    if not p.referral_bonus:
        return "off"
    limit = f", at most {p.referral_monthly_limit} a month per referrer"
    return f"{_plural(p.referral_bonus, 'point')} each{limit if p.referral_monthly_limit else ''}"


def _undo(config: Config) -> str:
    minutes = config.corrections.undo_minutes
    return f"for {minutes} min after an earn or a redemption" if minutes else "off"


def _expiry(config: Config) -> str:
    e = config.expiry
    if e.policy == "after_days":
        rule = f"{e.days} days after they are earned"
    elif e.policy == "end_of_year":
        rule = f"at the end of the calendar year {e.years} year(s) after they are earned"
    elif e.policy == "inactivity":
        rule = f"after {e.days} days without a purchase"
    else:
        return "off: points never expire"
    return f"points expire {rule}; reminder {e.remind_days} days before"


def _backup(config: Config) -> str:
    b = config.backup
    if not b.folder:
        return "off ([backup] folder is empty)"
    database = sqlite_path(config.database_url)
    where = b.folder_for(database) if database is not None else None
    if where is None:
        return "off (only a SQLite file is backed up this way)"
    return f"{b.time:%H:%M} {config.reports.timezone} into {where}, keeping the newest {b.keep}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
