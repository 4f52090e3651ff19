"""Sending asks: each delivery is written before it is sent, leased by one sender, sent with an
idempotency key, and its outcome recorded only under the lease that sent it.

A crash between writing and sending leaves a pending row the sweeper resumes; a crash after
the platform took the message but before it was recorded is resumed with `retry=True`, so
the adapter looks for the message before sending it again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from core.clock import Clock, to_datetime
from core.domain import DeliveryState, Mode
from core.faults import crash_point
from core.leases import Leases
from core.lifecycle import Event
from core.ports import DeliveryFailed, Mention, Message, Platform
from core.store.models import Delivery, Request
from core.texts.asks import ask_dm
from core.transitions import Transitions

log = logging.getLogger(__name__)

MAX_TRANSIENT_ATTEMPTS = 8


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
    everyone = ctx.mode is Mode.EVERYONE
    return ask_dm(
        ctx.requester, ctx.handle, ctx.text, everyone=everyone, link=ctx.link, did=delivery_id
    )


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


class DeliverySender:
    """Sends this platform's pending deliveries; what a send's outcome means is `transitions`'."""

    def __init__(
        self, platform: Platform, clock: Clock, transitions: Transitions, worker: str
    ) -> None:
        self.platform = platform
        self.clock = clock
        self.transitions = transitions
        self.leases = Leases(
            Delivery, DeliveryState.PENDING.value, clock, worker, "request__tenant__external_id"
        )
        self.stopping = False  # set on SIGTERM: finish the send in flight, start no other

    async def due(self) -> list[int]:
        return await self.leases.due(self.platform.name)

    async def expired(self) -> list[int]:
        """This platform's sent asks whose time is up."""
        return await self.leases.ownership.ids(
            Delivery.filter(
                platform=self.platform.name,
                state=DeliveryState.SENT,
                expires_at__lte=to_datetime(self.clock.now()),
            ).order_by("id"),
            self.leases.tenant_field,
        )

    async def dispatch(self, ids: Iterable[int]) -> None:
        """Lease the batch, then send one at a time (a crash repeats at most the one in flight)."""
        token, mine = await self.leases.claim(ids)
        if not mine:
            return
        async with self.leases.holding(token):
            rows = (
                await Delivery.filter(id__in=mine)
                .order_by("id")
                .values_list("id", "request_id", "target__user_id", "tries", "attempts")
            )
            contexts: dict[int, AskContext] = {}
            for did, rid, user_id, tries, attempts in rows:
                if self.stopping:
                    return
                if rid not in contexts:
                    contexts[rid] = await ask_context(rid)
                await self._send(token, int(did), contexts[rid], str(user_id), tries, attempts)

    async def _send(
        self, token: str, did: int, ctx: AskContext, user_id: str, tries: int, attempts: int
    ) -> None:
        if not await Delivery.filter(
            id=did, claimed_by=token, state=DeliveryState.PENDING, tries=tries
        ).update(tries=tries + 1):
            return  # answered, withdrawn, or taken over since the batch was leased
        try:
            ref = await self.platform.send_direct(
                ctx.tenant, user_id, ask_message(ctx, did), key=f"d:{did}", retry=tries > 0
            )
        except DeliveryFailed as exc:
            await self._failed(token, did, tries, attempts, exc)
            return
        crash_point("delivery.sent")
        await self.transitions.sent(did, token, ref)

    async def _failed(
        self, token: str, did: int, tries: int, attempts: int, exc: DeliveryFailed
    ) -> None:
        if exc.retry_after is not None and not exc.permanent:
            # The platform asked us to wait before it took anything: pacing, not failure.
            await self.leases.back_off(
                did, token, exc.retry_after, error=exc.reason[:255], tries=tries
            )
            return
        if exc.permanent or attempts + 1 >= MAX_TRANSIENT_ATTEMPTS:
            log.info("delivery %s failed: %s", did, exc.reason)
            await self.transitions.apply(did, Event.SEND_FAILED, fence=token, error=exc.reason)
            return
        await self.leases.back_off(
            did,
            token,
            min(300.0, 2.0 ** (attempts + 1)),
            attempts=attempts + 1,
            error=exc.reason[:255],
        )
