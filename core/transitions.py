"""Applying the lifecycle (`core.lifecycle`) to the database: each transition is one transaction.

A transition changes a delivery only from the state it was read in, bumps its request's
version (so two answers racing on one request serialise), and writes in the same commit the
deliveries it starts and the notices it owes. Nothing a transition promises lives in memory.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from core import escalation, owed
from core.clock import Clock, to_datetime
from core.directory import Who
from core.domain import OPEN_DELIVERY, DeliveryState, Mode, NoticeKind, NoticeState, RequestState
from core.faults import crash_point
from core.grouping import Member, Resolution
from core.lifecycle import CLOSED_NOTE, Event, Step, Tally, after, step
from core.notices import notice, owe_once
from core.ports import Mention, Message, Place
from core.presence.availability import Availability
from core.resolver import Resolver
from core.store.models import (
    Community,
    Delivery,
    Membership,
    Notice,
    Request,
)
from core.store.models import Resolution as ResolutionAudit
from core.store.queries import column_ints
from core.strategies import strategy_for
from core.tasks import Turns
from core.texts import asks as texts
from core.texts import cancel as cancel_texts
from core.texts import replies
from core.texts.reasons import NOT_NEEDED

log = logging.getLogger(__name__)
AVAILABLE = Availability.AVAILABLE

RACE_RETRIES = 8  # a transition that lost a race re-reads and tries again this often


class _Raced(Exception):
    """Another transition changed the row first: roll back, re-read, decide again."""


@dataclass(frozen=True, slots=True)
class Opened:
    request: Request
    resolution: Resolution
    deliveries: list[int]


@dataclass(frozen=True, slots=True)
class Applied:
    """What became of an event: the delivery's state after it, and whether this event moved it."""

    state: DeliveryState | None
    moved: bool
    requester: str = ""
    request_state: RequestState | None = None  # the request's, when the event found it closed


class Transitions:
    """Creates requests and moves them on; the only writer of request and delivery states."""

    def __init__(
        self,
        clock: Clock,
        resolver: Resolver,
        platform: str,
        *,
        ask_timeout: float,
        max_attempts: int,
    ) -> None:
        self.clock = clock
        self.resolver = resolver
        self.platform = platform
        self.ask_timeout = ask_timeout
        self.max_attempts = max_attempts
        # Concurrent asks to one community (a burst through the command workers) would all
        # read the roster before any committed and pick the same least-recently-asked member.
        self.resolving = Turns()

    # -- a new request ----------------------------------------------------------------

    async def open(
        self, who: Who, community: Community, mode: Mode, wanted: int, text: str, place: Place
    ) -> Opened:
        """Resolve, then record the request, its audit and its deliveries in one commit; asks
        to one community take turns, so each resolves after the one before it committed."""
        async with self.resolving.turn(community.id):
            return await self._open(who, community, mode, wanted, text, place)

    async def _open(
        self, who: Who, community: Community, mode: Mode, wanted: int, text: str, place: Place
    ) -> Opened:
        res = await self.resolver.pick(
            community, who.actor.tenant, who.contact_id, mode, wanted, set(), who.actor.tz or "UTC"
        )
        now = self.clock.now()
        step_at = escalation.first_due(community, mode, bool(res.targets), now)
        async with in_transaction(Request._meta.default_connection):
            request = await Request.create(
                tenant_id=who.tenant_id,
                community_id=community.id,
                requester_id=who.contact_id,
                platform=who.actor.platform,
                mode=mode,
                wanted=wanted,
                text=text,
                origin_channel=place.channel,
                origin_thread=place.thread,
                origin_link=place.link,
                state=RequestState.OPEN if res.targets or step_at else RequestState.EXHAUSTED,
                closed_at=None if res.targets or step_at else to_datetime(now),
                next_step_at=None if step_at is None else to_datetime(step_at),
                created_at=to_datetime(now),  # the engine's clock, which stats and audits read
            )
            await self.audit(request.id, community, res, now)
            ids = await self.record(request, community, res.targets, now)
            if not res.targets and step_at is None:  # told in the reply: recorded as told once
                row = notice(
                    f"outcome:{request.id}",
                    who.actor.platform,
                    who.tenant_id,
                    NoticeKind.REPLY,
                    who.actor.user_id,
                    Message.of("(told in the reply)"),
                    now,
                    request_id=request.id,
                    outcome=True,
                    state=NoticeState.SENT,
                    sent_at=to_datetime(now),
                )
                await row.save()
            crash_point("ask.before-commit")
        crash_point("ask.after-commit")
        return Opened(request, res, ids)

    async def record(
        self, request: Request, community: Community, targets: list[Member], now: float
    ) -> list[int]:
        """Pending deliveries for targets, the fairness counters a directed ask moves, and what
        the community's strategy moves besides (round robin's cursor)."""
        if not targets:
            return []
        expires = to_datetime(now + self.ask_timeout)
        await Delivery.bulk_create(
            [
                Delivery(
                    request_id=request.id,
                    target_id=m.contact_id,
                    platform=request.platform,
                    created_at=to_datetime(now),
                    expires_at=expires,
                )
                for m in targets
            ]
        )
        if request.mode in (Mode.ONE, Mode.SOME):
            await Membership.filter(
                community_id=community.id, contact_id__in=[m.contact_id for m in targets]
            ).update(last_asked_at=to_datetime(now), asks=F("asks") + 1)
            moved = strategy_for(community.strategy).after_ask(targets)
            if moved.cursor is not None:
                await Community.filter(id=community.id).update(rr_cursor=moved.cursor)
        return sorted(
            await column_ints(
                Delivery.filter(
                    request_id=request.id, target_id__in=[m.contact_id for m in targets]
                ),
                "id",
            )
        )

    async def audit(
        self, request_id: int, community: Community, res: Resolution, now: float, note: str = ""
    ) -> None:
        await ResolutionAudit.create(
            request_id=request_id,
            created_at=to_datetime(now),
            strategy=community.strategy.value,
            note=(note or f"@{community.handle}")[:128],
            chosen=[m.contact_id for m in res.targets],
            skipped=[[s.member.contact_id, s.reason] for s in res.skipped[:200]] + self._rest(res),
        )

    def _rest(self, res: Resolution) -> list[list[object]]:
        """Members the walk never needed, with why they were not picked (a few only)."""
        if len(res.rest) > replies.EXPLAINED_REST:
            return []
        explain, free = self.resolver.explainer("UTC"), self.resolver.monitor.availability
        return [
            [m.contact_id, NOT_NEEDED if free(m.key) is AVAILABLE else explain(m)]
            for m in res.spare()
        ]

    # -- a send finished --------------------------------------------------------------

    async def sent(self, did: int, token: str, ref: str) -> bool:
        """Record a finished send, unless the delivery moved on or our lease was lost.

        An answer that landed while the send was in flight stays; the DM's reference is kept
        so its buttons can still be taken away.
        """
        now = self.clock.now()
        if await Delivery.filter(id=did, state=DeliveryState.PENDING, claimed_by=token).update(
            state=DeliveryState.SENT,
            sent_at=to_datetime(now),
            expires_at=to_datetime(now + self.ask_timeout),
            message_ref=ref,
            claimed_by=None,
            claimed_until=None,
        ):
            return True
        await Delivery.filter(id=did, message_ref__isnull=True).update(message_ref=ref)
        row = await Delivery.get(id=did).select_related("target")
        if row.state in CLOSED_NOTE:
            request = await Request.get(id=row.request_id).select_related("community", "requester")
            note = CLOSED_NOTE[row.state]
            if request.state is RequestState.CANCELLED and row.state is DeliveryState.WITHDRAWN:
                note = cancel_texts.cancel_note(request.requester.display_name)
            await owe_once(owed.edit(request, row, ref, note, now))
        return False

    # -- an event on a delivery -------------------------------------------------------

    async def apply(
        self, did: int, event: Event, *, fence: str | None = None, error: str | None = None
    ) -> Applied:
        """Move one delivery on and its request with it, in one commit; retried if raced."""
        for _ in range(RACE_RETRIES):
            try:
                return await self._apply(did, event, fence, error)
            except _Raced:
                continue
        log.warning("delivery %s: %s kept losing races; the sweeper will retry", did, event)
        return Applied(None, False)

    async def _apply(self, did: int, event: Event, fence: str | None, error: str | None) -> Applied:
        d = await Delivery.get_or_none(id=did).select_related("target")
        if d is None:
            return Applied(None, False)
        new = after(d.state, event)
        request = await Request.get(id=d.request_id).select_related(
            "community", "requester", "tenant"
        )
        if new is None or (fence is not None and d.claimed_by != fence):
            return Applied(d.state, False, request.requester.display_name, request.state)
        others = (
            await Delivery.filter(request_id=request.id)
            .exclude(id=did)
            .values_list("target_id", "state")
        )
        tally = Tally.of([DeliveryState(s) for _, s in others] + [new])
        plan = step(request.mode, request.wanted, tally, self.max_attempts)
        if request.state is not RequestState.OPEN:
            plan = Step()
        res = Resolution([], [], [])
        if plan.more:
            res = await self.resolver.pick(
                request.community,
                request.tenant.external_id,
                request.requester_id,
                request.mode,
                plan.more,
                {int(t) for t, _ in others} | {d.target_id},
                request.requester.tz,
            )
        close = plan.close or (plan.close_if_none if plan.more and not res.targets else None)
        widen = close is RequestState.EXHAUSTED and escalation.has_next(request)
        close = None if widen else close  # nobody left here: the next step is due now
        now = self.clock.now()
        async with in_transaction(Request._meta.default_connection):
            q = Delivery.filter(id=did, state=d.state)
            if fence is not None:
                q = q.filter(claimed_by=fence)
            changes: dict[str, object] = {"state": new, "claimed_by": None, "claimed_until": None}
            if new is not DeliveryState.FAILED:
                changes["answered_at"] = to_datetime(now)
            if error:
                changes["error"] = error[:255]
            if not await q.update(**changes):
                raise _Raced
            bump: dict[str, object] = {"version": F("version") + 1}
            if close is not None:
                bump.update(state=close, closed_at=to_datetime(now))
            if widen:
                bump.update(next_step_at=to_datetime(now))
            if not await Request.filter(id=request.id, version=request.version).update(**bump):
                raise _Raced
            if event is Event.ACCEPT:
                await Membership.filter(
                    community_id=request.community_id, contact_id=d.target_id
                ).update(accepts=F("accepts") + 1, last_accepted_at=to_datetime(now))
            if res.targets:
                await self.audit(request.id, request.community, res, now, f"after {event.value}")
                await self.record(request, request.community, res.targets, now)
            for row in await self._owed(request, d, new, event, res, close, now):
                await row.save()
            crash_point(f"{event.value}.before-commit")
        crash_point(f"{event.value}.after-commit")
        return Applied(new, True, request.requester.display_name)

    async def _owed(
        self,
        request: Request,
        d: Delivery,
        new: DeliveryState,
        event: Event,
        res: Resolution,
        close: RequestState | None,
        now: float,
    ) -> list[Notice]:
        """The notices a transition owes: the target's DM edited, the requester told."""
        rows: list[Notice] = []
        if d.message_ref and new in CLOSED_NOTE:
            rows.append(owed.edit(request, d, d.message_ref, CLOSED_NOTE[new], now))
        person = Mention(d.target.user_id, d.target.display_name)
        if close is not None:
            rows += await self.withdraw(request, person, now)
        handle, reason = request.community.handle, texts.why(event.value, self.ask_timeout)
        message: Message | None
        if event is Event.ACCEPT:
            message = texts.accepted(person, handle, request.text)
        elif request.mode not in (Mode.ONE, Mode.SOME):
            message = await self._wrap_up(request, handle) if close else None
        elif res.targets:
            asked = [Mention(m.user_id, m.name) for m in res.targets]
            message = texts.asking_next(person, reason, asked, handle)
        elif close is not None:
            message = texts.nobody_else(person, reason, handle)
        else:
            message = texts.just(person, reason)
        if message is not None:
            key = f"outcome:{request.id}" if close else f"tell:{d.id}:{event.value}"
            rows.append(owed.tell(request, key, message, now, outcome=close is not None))
        return rows

    async def withdraw(self, request: Request, taker: Mention | None, now: float) -> list[Notice]:
        """Close the request's other open deliveries; their DMs lose their buttons."""
        rows = await Delivery.filter(request_id=request.id, state__in=OPEN_DELIVERY).select_related(
            "target"
        )
        if not rows:
            return []
        await Delivery.filter(id__in=[r.id for r in rows], state__in=OPEN_DELIVERY).update(
            state=DeliveryState.WITHDRAWN, answered_at=to_datetime(now), claimed_by=None
        )
        note = texts.taken_by(taker.name if taker else None)
        return [owed.edit(request, r, r.message_ref, note, now) for r in rows if r.message_ref]

    async def _wrap_up(self, request: Request, handle: str) -> Message:
        rows = await Delivery.filter(request_id=request.id).select_related("target")
        outcomes = [
            (Mention(r.target.user_id, r.target.display_name), _DONE[r.state])
            for r in sorted(rows, key=lambda r: r.id)
            if r.state in _DONE
        ]
        return texts.ran_its_course(handle, outcomes)


_DONE = {
    DeliveryState.ACCEPTED: "accepted",
    DeliveryState.DECLINED: "declined",
    DeliveryState.EXPIRED: "did not answer",
    DeliveryState.FAILED: "could not be reached",
}
