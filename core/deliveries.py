"""The outbox: each delivery is written before it is sent, claimed by one worker, retried.

A crash between writing and sending leaves a pending row that `resume` picks up, so a
fan-out interrupted by SIGKILL completes after restart with at most the in-flight
message repeated.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q

from core.clock import Clock, to_datetime
from core.grouping import Member
from core.ports import Button, DeliveryFailed, Mention, Message, Platform
from core.store.models import Delivery, DeliveryState, Mode, Request
from core.store.queries import column_ints

log = logging.getLogger(__name__)

LEASE_SECONDS = 60.0
MAX_TRANSIENT_ATTEMPTS = 8
# Sends in flight per fan-out. One, so a crash repeats at most the one message that was
# on the wire; throughput comes from the platform's pacer, and fan-outs run side by side.
CONCURRENCY = 1


@dataclass(frozen=True, slots=True)
class AskContext:
    """What an ask DM says: loaded once per request, not once per target."""

    request_id: int
    tenant: str
    requester: Mention
    handle: str
    text: str
    link: str | None
    mode: Mode


def ask_message(ctx: AskContext, delivery_id: int) -> Message:
    """The DM a target sees: who asks, which community, what, and two buttons."""
    via = f"@{ctx.handle}" + (" (everyone)" if ctx.mode is Mode.EVERYONE else "")
    parts: list[str | Mention] = [ctx.requester, f" asks {via}: ", ctx.text]
    if ctx.link:
        parts.append(f"\n{ctx.link}")
    buttons = (
        Button("accept", str(delivery_id), "Accept"),
        Button("decline", str(delivery_id), "Decline"),
    )
    return Message(tuple(parts), buttons)


def closed_message(ctx: AskContext, note: str) -> Message:
    """The same DM after it stops needing an answer; buttons gone."""
    return Message((ctx.requester, f" asked @{ctx.handle}: ", ctx.text, f"\n{note}"))


async def ask_context(request_id: int) -> AskContext:
    req = await Request.get(id=request_id).select_related("requester", "community", "tenant")
    return AskContext(
        request_id=req.id,
        tenant=req.tenant.external_id,
        requester=Mention(req.requester.user_id, req.requester.display_name),
        handle=req.community.handle,
        text=req.text,
        link=req.origin_link,
        mode=req.mode,
    )


class Outbox:
    """Persist, claim, send, record the outcome; the engine decides what outcomes mean."""

    def __init__(self, platform: Platform, clock: Clock, timeout: float) -> None:
        self.platform = platform
        self.clock = clock
        self.timeout = timeout
        self.worker = uuid.uuid4().hex[:16]
        self.stopping = False  # set on SIGTERM: finish what is claimed, claim nothing new
        # Deliveries a dispatch of this process is working through: every dispatch here
        # shares `worker`, so the lease alone cannot keep two of them off the same rows.
        self._inflight: set[int] = set()

    async def record(self, request: Request, targets: Sequence[Member]) -> list[int]:
        """Write one pending delivery per target (inside the caller's transaction)."""
        now = to_datetime(self.clock.now())
        expires = to_datetime(self.clock.now() + self.timeout)
        rows = [
            Delivery(
                request_id=request.id, target_id=m.contact_id, created_at=now, expires_at=expires
            )
            for m in targets
        ]
        await Delivery.bulk_create(rows)
        return await column_ints(
            Delivery.filter(
                request_id=request.id,
                target_id__in=[m.contact_id for m in targets],
                state=DeliveryState.PENDING,
            ),
            "id",
        )

    async def dispatch(self, ids: Iterable[int]) -> list[int]:
        """Send these pending deliveries; returns the ids that failed for good.

        The whole batch is leased first and the lease renewed as sending goes on, so the
        sweeper (`due`) leaves a running fan-out alone instead of sending beside it and
        sharing its rate limit; a crashed worker's lease runs out and another resumes.
        """
        ids = [i for i in ids if i not in self._inflight]
        if not ids:
            return []
        self._inflight.update(ids)  # before the first await: no other dispatch can take them
        try:
            return await self._dispatch(ids)
        finally:
            self._inflight.difference_update(ids)

    async def _dispatch(self, ids: list[int]) -> list[int]:
        mine = set(await self._lease(ids))
        rows = (
            await Delivery.filter(id__in=sorted(mine))
            .order_by("id")
            .values_list("id", "request_id", "target__user_id")
        )
        contexts: dict[int, AskContext] = {}
        failed: list[int] = []
        renew_at = self.clock.now() + LEASE_SECONDS / 3
        for i, (did, rid, user_id) in enumerate(rows):
            if self.clock.now() >= renew_at:
                await self._lease([int(r[0]) for r in rows[i:]])
                renew_at = self.clock.now() + LEASE_SECONDS / 3
            if rid not in contexts:
                contexts[rid] = await ask_context(rid)
            if await self._send(int(did), contexts[rid], user_id) is False:
                failed.append(int(did))
        return sorted(failed)

    async def _lease(self, ids: list[int]) -> list[int]:
        """Claim every pending delivery of `ids` that is free or already ours; returns ours."""
        await self._take(id__in=ids)
        return await column_ints(
            Delivery.filter(id__in=ids, claimed_by=self.worker, state=DeliveryState.PENDING), "id"
        )

    async def _claim(self, did: int) -> bool:
        """Take one delivery just before sending it: ours by lease, or free."""
        return await self._take(id=did) == 1

    async def _take(self, **which: Any) -> int:
        """Claim (or renew) pending deliveries that are free, expired or already ours."""
        now = self.clock.now()
        return await Delivery.filter(
            Q(claimed_until__isnull=True)
            | Q(claimed_until__lt=to_datetime(now))
            | Q(claimed_by=self.worker),
            state=DeliveryState.PENDING,
            **which,
        ).update(claimed_by=self.worker, claimed_until=to_datetime(now + LEASE_SECONDS))

    async def _send(self, did: int, ctx: AskContext, user_id: str) -> bool | None:
        """True sent, False failed for good, None not ours or to retry later."""
        if self.stopping or not await self._claim(did):
            return None
        try:
            ref = await self.platform.send_direct(ctx.tenant, user_id, ask_message(ctx, did))
        except DeliveryFailed as exc:
            return await self._failed(did, exc)
        now = self.clock.now()
        await Delivery.filter(id=did, claimed_by=self.worker).update(
            state=DeliveryState.SENT,
            sent_at=to_datetime(now),
            expires_at=to_datetime(now + self.timeout),
            message_ref=ref,
            claimed_by=None,
            claimed_until=None,
        )
        return True

    async def _failed(self, did: int, exc: DeliveryFailed) -> bool | None:
        row = await Delivery.get(id=did)
        if exc.retry_after is not None and not exc.permanent:
            # The platform asked us to wait: that is pacing, not this delivery failing.
            await Delivery.filter(id=did).update(
                error=exc.reason[:255],
                claimed_by=None,
                claimed_until=to_datetime(self.clock.now() + exc.retry_after),
            )
            return None
        if exc.permanent or row.attempts + 1 >= MAX_TRANSIENT_ATTEMPTS:
            await Delivery.filter(id=did).update(
                state=DeliveryState.FAILED,
                error=exc.reason[:255],
                claimed_by=None,
                claimed_until=None,
            )
            log.info("delivery %s failed: %s", did, exc.reason)
            return False
        backoff = min(300.0, 2.0 ** (row.attempts + 1))
        await Delivery.filter(id=did).update(
            attempts=row.attempts + 1,
            error=exc.reason[:255],
            claimed_by=None,
            claimed_until=to_datetime(self.clock.now() + backoff),
        )
        return None

    async def hand_back(self) -> int:
        """Release this worker's unsent claims so another process need not wait out the lease."""
        return await Delivery.filter(claimed_by=self.worker, state=DeliveryState.PENDING).update(
            claimed_by=None, claimed_until=None
        )

    async def due(self) -> list[int]:
        """Pending deliveries nobody holds: new after a crash, or waiting out a backoff."""
        now = to_datetime(self.clock.now())
        ids = await column_ints(
            Delivery.filter(
                Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
                state=DeliveryState.PENDING,
            ),
            "id",
        )
        return [int(i) for i in ids]

    async def expired(self) -> list[int]:
        """Sent asks whose time is up; each is claimed by flipping its state, so one worker wins."""
        now = to_datetime(self.clock.now())
        ids = await column_ints(
            Delivery.filter(state=DeliveryState.SENT, expires_at__lte=now), "id"
        )
        won = []
        for did in ids:
            if await Delivery.filter(id=did, state=DeliveryState.SENT).update(
                state=DeliveryState.EXPIRED, answered_at=now
            ):
                won.append(int(did))
        return won

    async def settle(self, did: int, state: DeliveryState) -> bool:
        """Accept, decline or withdraw an open delivery; False if it was no longer open."""
        got = await Delivery.filter(
            id=did, state__in=(DeliveryState.PENDING, DeliveryState.SENT)
        ).update(state=state, answered_at=to_datetime(self.clock.now()))
        return got == 1

    async def retitle(self, did: int, note: str) -> None:
        """Edit a sent DM to say what became of it; best effort."""
        row = await Delivery.get_or_none(id=did)
        if row is None or row.message_ref is None:
            return
        ctx = await ask_context(row.request_id)
        try:
            await self.platform.update(ctx.tenant, row.message_ref, closed_message(ctx, note))
        except DeliveryFailed as exc:
            log.info("could not update delivery %s: %s", did, exc.reason)
