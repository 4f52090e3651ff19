"""`/ask-available cancel [N]`: a requester calls off one of their open asks, in one transaction.

The request moves by the lifecycle's table (`lifecycle.cancelled`: only an open ask can be
cancelled, and `Event.CANCEL` withdraws its open deliveries) from the version it was read at,
so a cancel racing an accept, a timeout or an escalation step either wins whole or finds the
ask ended and changes nothing. The asked people's DMs are edited, anyone who had already
accepted is told, and the requester's one outcome is the command's reply (a REPLY notice,
recorded as told, like an ask nobody could take).
"""

from __future__ import annotations

from collections import defaultdict

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from core import owed
from core.clock import to_datetime
from core.directory import Who
from core.domain import DeliveryState, NoticeKind, NoticeState, RequestState
from core.faults import crash_point
from core.lifecycle import Event, after, cancelled
from core.notices import notice
from core.ports import Mention, Message
from core.store.models import Delivery, Notice, Request
from core.texts import cancel as texts
from core.transitions import RACE_RETRIES, Transitions

GIST = 60  # characters of the ask's text echoed in the reply
_CANCELLABLE = tuple(s for s in RequestState if cancelled(s) is not None)  # (open,)


class _Raced(Exception):
    """Something moved the request or one of its deliveries first: re-read and decide again."""


async def cancel(t: Transitions, who: Who, request_id: int | None) -> Message:
    """Cancel the caller's ask `request_id` (None: their latest open one); the reply says how."""
    if request_id is None:
        latest = (
            await Request.filter(
                tenant_id=who.tenant_id, requester_id=who.contact_id, state__in=_CANCELLABLE
            )
            .order_by("-id")
            .first()
        )
        if latest is None:
            return texts.nothing_to_cancel()
        request_id = latest.id  # fixed now: a retry must not slide on to an older ask
    for _ in range(RACE_RETRIES):
        request = await Request.get_or_none(id=request_id, tenant_id=who.tenant_id).select_related(
            "community", "requester", "tenant"
        )
        if request is None or request.requester_id != who.contact_id:
            return texts.not_yours_to_cancel(request_id)
        if cancelled(request.state) is None:
            return texts.already_ended(request_id, request.community.handle, request.state.value)
        try:
            return await _cancel(t, request)
        except _Raced:
            continue
    return texts.cancel_kept_racing(request_id)


async def _cancel(t: Transitions, request: Request) -> Message:
    """Withdraw the open deliveries, close the request, owe the edits and DMs: one commit."""
    now = t.clock.now()
    new_state = cancelled(request.state)
    assert new_state is not None
    rows = await Delivery.filter(request_id=request.id).select_related("target").order_by("id")
    moving: dict[DeliveryState, list[Delivery]] = defaultdict(list)
    for d in rows:
        if after(d.state, Event.CANCEL) is not None:
            moving[d.state].append(d)
    withdrawn = [d for ds in moving.values() for d in ds]
    accepted = [d for d in rows if d.state is DeliveryState.ACCEPTED]
    gist = " ".join(request.text.split())
    gist = gist if len(gist) <= GIST else gist[: GIST - 1] + "…"
    told = [d.target.display_name for d in sorted(withdrawn + accepted, key=lambda d: d.id)]
    reply = texts.cancelled(
        request.id, request.community.handle, gist, told, request.next_step_at is not None
    )
    async with in_transaction(Request._meta.default_connection):
        for old, ds in moving.items():  # deliveries first, then the request: apply's lock order
            new = after(old, Event.CANCEL)
            moved = await Delivery.filter(id__in=[d.id for d in ds], state=old).update(
                state=new, answered_at=to_datetime(now), claimed_by=None, claimed_until=None
            )
            if moved != len(ds):
                raise _Raced  # one was answered, sent or timed out since we read it
        if not await Request.filter(
            id=request.id, version=request.version, state=request.state
        ).update(
            state=new_state,
            closed_at=to_datetime(now),
            next_step_at=None,
            version=F("version") + 1,
        ):
            raise _Raced
        for row in _owed(t, request, withdrawn, accepted, reply, now):
            await row.save()
        crash_point("cancel.before-commit")
    crash_point("cancel.after-commit")
    return Message.of(reply)


def _owed(
    t: Transitions,
    request: Request,
    withdrawn: list[Delivery],
    accepted: list[Delivery],
    reply: str,
    now: float,
) -> list[Notice]:
    """The DMs of withdrawn asks edited, those who had accepted told, the requester's reply."""
    note = texts.cancel_note(request.requester.display_name)
    rows = [owed.edit(request, d, d.message_ref, note, now) for d in withdrawn if d.message_ref]
    requester = Mention(request.requester.user_id, request.requester.display_name)
    for d in accepted:
        message = texts.cancelled_after_accept(requester, request.community.handle, request.text)
        rows.append(
            notice(
                f"cancel:{request.id}:{d.id}",
                request.platform,
                request.tenant_id,
                NoticeKind.DM,
                d.target.user_id,
                message,
                now,
                request_id=request.id,
            )
        )
    rows.append(
        notice(
            f"outcome:{request.id}",
            request.platform,
            request.tenant_id,
            NoticeKind.REPLY,
            request.requester.user_id,
            Message.of(reply),
            now,
            request_id=request.id,
            outcome=True,
            state=NoticeState.SENT,
            sent_at=to_datetime(now),
        )
    )
    return rows
