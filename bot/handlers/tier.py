"""/tier: an admin pins a customer's tier, or unpins it (issue 13, "Tier policy").

    /tier <card or phone> <tier> <reason>   pins the tier: the policy leaves it alone
    /tier <card or phone> auto <reason>     unpins: the tier policy decides again
    /tier                                   says how, and lists the tiers

One line, no Confirm step: a pin moves no points, is undone by `auto`, and its reply names the
tier it set. A tier name is matched forgivingly ("gld", "GOLD" are Gold); a word close to no
tier is refused with the list. The reason is required and goes into the audit trail
(`tier_pin` / `tier_unpin`), with phone numbers, e-mails and tokens taken out. The customer is
not told (the card shows the tier, "set by the shop"). Rules: core/tiers.py; storage:
core/db/tiers.py.
"""

from __future__ import annotations

import difflib
import re
from typing import Final

from telegram import Update
from telegram.ext import ContextTypes

from core.errors import LoyaltyError
from core.types import Tier

from ..format import customer_line, esc
from ..i18n import _
from ..logs import redact
from ..replies import friendly
from ..roles import requires
from ..services import services

UNPIN: Final = ("auto", "unpin", "policy")
REASON_LENGTH: Final = 200
# A card or phone number is digits with "+", "(", ")", "-" or "." between: the words before
# the tier name.
_REFERENCE_WORD = re.compile(r"[+(]?[\d().\-]+")


def usage(tiers: tuple[Tier, ...]) -> str:
    names = ", ".join(esc(t.name) for t in tiers)
    return _(
        "Send <code>/tier &lt;card or phone&gt; &lt;tier&gt; &lt;reason&gt;</code>, e.g. "
        "<code>/tier 4821 3379 {tier} founding member</code>; "
        "<code>auto</code> instead of a tier unpins it. Tiers: {tiers}."
    ).format(tier=esc(tiers[-1].name), tiers=names)


def match_tier(word: str, tiers: tuple[Tier, ...]) -> Tier | None:
    """The tier `word` names, forgiving case and a small typo ("gld" is Gold); None if none."""
    by_name = {t.name.casefold(): t for t in tiers}
    folded = word.casefold()
    if folded in by_name:
        return by_name[folded]
    close = difflib.get_close_matches(folded, list(by_name), n=1, cutoff=0.6)
    return by_name[close[0]] if close else None


@requires("admin")
async def tier_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Pins or unpins a customer's tier, with the reason in the audit trail."""
    assert update.effective_user is not None and update.effective_message is not None
    svc = services(context)
    program = svc.config.program
    reply = update.effective_message.reply_text
    words = list(context.args or [])
    split = next((i for i, w in enumerate(words) if not _REFERENCE_WORD.fullmatch(w)), None)
    if not words or split is None or split == 0:
        await reply(usage(program.tiers))
        return
    reference, wanted, reason = " ".join(words[:split]), words[split], " ".join(words[split + 1 :])
    unpin = wanted.casefold() in UNPIN
    tier = None if unpin else match_tier(wanted, program.tiers)
    if not unpin and tier is None:
        names = ", ".join(esc(t.name) for t in program.tiers)
        await reply(
            _("“{word}” is not a tier here: the tiers are {tiers} (or auto).").format(
                word=esc(wanted[:30]), tiers=names
            )
        )
        return
    reason = redact(" ".join(reason.split()))[:REASON_LENGTH]
    if not reason:
        await reply(
            _(
                "Say why, after the tier: it goes into the audit trail. "
                "E.g. <code>/tier {reference} {tier} founding member</code>"
            ).format(reference=esc(reference), tier=esc(wanted))
        )
        return
    try:
        customer = await svc.store.find_customer(reference)
    except LoyaltyError as exc:
        await reply(friendly(exc))
        return
    if unpin and customer.get("pinned_tier") is None:
        await reply(
            _("{customer} isn't pinned: the tier policy already decides.").format(
                customer=customer_line(customer)
            )
        )
        return
    before, after = await svc.store.pin_tier(
        customer["id"],
        None if tier is None else tier.name,
        reason=reason,
        actor_id=update.effective_user.id,
        now=svc.clock(),
    )
    was = esc(before["tier"])
    if tier is None:
        await reply(
            _(
                "✅ {customer} follows the tier policy again: <b>{tier}</b> (was {was}, pinned)."
            ).format(customer=customer_line(after), tier=esc(after["tier"]), was=was)
        )
        return
    await reply(
        _(
            "📌 {customer} is now <b>{tier}</b>, pinned (was {was}). The tier policy leaves it "
            "until <code>/tier {reference} auto &lt;reason&gt;</code>."
        ).format(
            customer=customer_line(after), tier=esc(tier.name), was=was, reference=esc(reference)
        )
    )
