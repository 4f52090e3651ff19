"""The messages a request owes, as notices: the requester told, a target's DM settled.

Written in the same transaction as the move that owes them (core.transitions, core.cancel,
core.widen, core.outside) and sent after commit by core.notices.
"""

from __future__ import annotations

from core.domain import NoticeKind
from core.notices import notice
from core.ports import Mention, Message
from core.store.models import Delivery, Notice, Request
from core.texts import asks as texts


def tell(request: Request, key: str, message: Message, now: float, *, outcome: bool) -> Notice:
    """To the requester, privately: by DM, also when they asked with a mention in a channel,
    where answers and timeouts are nobody else's business (the DM links back to it)."""
    if request.origin_thread and request.origin_link:
        message = Message(
            (*message.parts, texts.from_channel(request.origin_link)), message.buttons
        )
    return notice(
        key,
        request.platform,
        request.tenant_id,
        NoticeKind.TELL,
        request.requester.user_id,
        message,
        now,
        request_id=request.id,
        outcome=outcome,
    )


def edit(request: Request, d: Delivery, ref: str, note: str, now: float) -> Notice:
    """The target's DM rewritten without buttons: it needs no answer any more."""
    requester = Mention(request.requester.user_id, request.requester.display_name)
    message = texts.settled_dm(requester, request.community.handle, request.text, note)
    return notice(
        f"edit:{d.id}",
        request.platform,
        request.tenant_id,
        NoticeKind.EDIT,
        d.target.user_id,
        message,
        now,
        request_id=request.id,
        ref=ref,
    )
