"""What a referral bonus tells people, and giving it at the invited card's purchase.

/earn (bot/handlers/earn.py) calls `after_purchase` once its purchase is committed; the rules
are core/referrals.py, the storage Store.reward_referral. The messages go through the outbox:
the background worker (bot/delivery.py) sends them within seconds, after the cashier's reply.
"""

from __future__ import annotations

from core.types import BonusResult, Outgoing

from .format import points
from .i18n import _, speaking
from .languages import language_for
from .services import Services


async def after_purchase(svc: Services, customer_id: int) -> None:
    """Gives a waiting referral's bonuses (nothing when the card has none, or it was given)."""
    if svc.config.program.referral_bonus:

        def told(result: BonusResult) -> list[Outgoing]:
            return tell(svc, result)

        await svc.store.reward_referral(customer_id, now=svc.clock(), tell=told)


def tell(svc: Services, result: BonusResult) -> list[Outgoing]:
    """One line to each linked side, in that customer's language; a card not linked to
    Telegram hears nothing."""
    chat = result["notify_user_id"]
    if chat is None:
        return []
    with speaking(language_for(svc, chat)):
        text = _(
            "🤝 Referral bonus: <b>+{points}</b>, thanks to an invite that led to a first "
            "purchase. Balance: <b>{balance}</b>."
        ).format(points=points(result["gross"]), balance=points(result["balance_after"]))
    return [
        {
            "chat_id": chat,
            "text": text,
            "notice": True,  # /notifications off: not sent (core/db/outbox.py)
        }
    ]
