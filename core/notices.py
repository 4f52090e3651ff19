"""Notices: messages the core owes (follow-ups to a requester, edits of answered DMs, pushes to
subscribers). Written as rows (inside the transition that owes them), sent after commit by the
process that serves their platform, each on its own, so one failing recipient blocks nobody.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core.clock import Clock, to_datetime
from core.domain import NoticeKind, NoticeState
from core.faults import crash_point
from core.leases import Leases
from core.ports import Button, DeliveryFailed, Mention, Message, Platform
from core.store.models import Notice, Subscription

log = logging.getLogger(__name__)

MAX_TRANSIENT_ATTEMPTS = 8


def encode(message: Message) -> dict[str, Any]:
    """A neutral message as JSON for the notice row."""
    return {
        "parts": [p if isinstance(p, str) else [p.user_id, p.name] for p in message.parts],
        "buttons": [[b.action, b.value, b.label] for b in message.buttons],
    }


def decode(body: dict[str, Any]) -> Message:
    parts = tuple(p if isinstance(p, str) else Mention(str(p[0]), str(p[1])) for p in body["parts"])
    buttons = tuple(Button(str(a), str(v), str(label)) for a, v, label in body.get("buttons", []))
    return Message(parts, buttons)


def notice(
    key: str,
    platform: str,
    tenant_id: int,
    kind: NoticeKind,
    recipient: str,
    message: Message,
    now: float,
    **extra: Any,
) -> Notice:
    """An unsaved notice row; the caller saves it inside its own transaction."""
    return Notice(
        key=key[:96],
        platform=platform,
        tenant_id=tenant_id,
        kind=kind,
        recipient=recipient,
        body=encode(message),
        created_at=to_datetime(now),
        **extra,
    )


async def owe_once(row: Notice) -> bool:
    """Save a notice unless one with its key exists (a repeat of the same promise)."""
    try:
        async with in_transaction(Notice._meta.default_connection):
            await row.save()
    except IntegrityError:
        return False
    return True


class NoticeSender:
    """Sends this platform's pending notices, one lease per batch, each notice isolated."""

    def __init__(self, platform: Platform, clock: Clock, worker: str) -> None:
        self.platform = platform
        self.clock = clock
        self.leases = Leases(Notice, NoticeState.PENDING.value, clock, worker)
        self.stopping = False

    async def due(self) -> list[int]:
        return await self.leases.due(self.platform.name)

    async def dispatch(self, ids: Iterable[int]) -> None:
        token, mine = await self.leases.claim(ids)
        if not mine:
            return
        async with self.leases.holding(token):
            rows = await Notice.filter(id__in=mine).select_related("tenant").order_by("id")
            for row in rows:
                if self.stopping:
                    return
                await self._send(token, row)

    async def _send(self, token: str, row: Notice) -> None:
        if not await Notice.filter(id=row.id, claimed_by=token, tries=row.tries).update(
            tries=row.tries + 1
        ):
            return  # taken by another sender after our lease ran out
        retry = row.tries > 0
        try:
            await self._deliver(row, retry)
        except DeliveryFailed as exc:
            await self._failed(token, row, exc)
            return
        crash_point(f"{row.kind.value}.sent")
        async with in_transaction(Notice._meta.default_connection):
            done = await Notice.filter(id=row.id, claimed_by=token).update(
                state=NoticeState.SENT,
                sent_at=to_datetime(self.clock.now()),
                claimed_by=None,
                claimed_until=None,
            )
            if done and row.subscription_id is not None:
                await Subscription.filter(id=row.subscription_id).delete()  # once: now told

    async def _deliver(self, row: Notice, retry: bool) -> None:
        tenant, message, key = row.tenant.external_id, decode(row.body), f"n:{row.id}"
        if row.kind is NoticeKind.EDIT:
            if row.ref:
                await self.platform.update(tenant, row.ref, message)
            return
        # A TELL goes to its requester privately even when the ask was a channel mention
        # (rows written before that rule carry the thread: it is no longer posted in).
        await self.platform.send_direct(tenant, row.recipient, message, key=key, retry=retry)

    async def _failed(self, token: str, row: Notice, exc: DeliveryFailed) -> None:
        if exc.retry_after is not None and not exc.permanent:
            await self.leases.back_off(
                row.id, token, exc.retry_after, error=exc.reason[:255], tries=row.tries
            )
            return
        if exc.permanent or row.attempts + 1 >= MAX_TRANSIENT_ATTEMPTS:
            await Notice.filter(id=row.id, claimed_by=token).update(
                state=NoticeState.FAILED, error=exc.reason[:255], claimed_by=None
            )
            log.warning("notice %s (%s) could not be sent: %s", row.id, row.key, exc.reason)
            return
        await self.leases.back_off(
            row.id,
            token,
            min(300.0, 2.0 ** (row.attempts + 1)),
            attempts=row.attempts + 1,
            error=exc.reason[:255],
        )
