"""What a referral bonus tells people, and giving it at the invited card's purchase.

/earn (bot/handlers/earn.py) calls `after_purchase` once its purchase is committed; the rules
are core/referrals.py, the storage Store.reward_referral. The messages go through the outbox:
the background worker (bot/delivery.py) sends them within seconds, after the cashier's reply.
"""

from __future__ import annotations

from core.types import BonusResult, Outgoing

from .format import points
from .services import Services


async def after_purchase(svc: Services, customer_id: int) -> None:
    """Gives a waiting referral's bonuses (nothing when the card has none, or it was given)."""
    if svc.config.program.referral_bonus:
        await svc.store.reward_referral(customer_id, now=svc.clock(), tell=tell)


def tell(result: BonusResult) -> list[Outgoing]:
    """One line to each linked side; a card not linked to Telegram hears nothing."""
    chat = result["notify_user_id"]
    if chat is None:
        return []
    return [
        {
            "chat_id": chat,
            "text": f"🤝 Referral bonus: <b>+{points(result['gross'])}</b>, thanks to an invite "
            f"that led to a first purchase. Balance: <b>{points(result['balance_after'])}</b>.",
            "notice": True,  # /notifications off: not sent (core/db/outbox.py)
        }
    ]
