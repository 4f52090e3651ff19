"""Taking escalation steps (`core.escalation`): each due step once, in one transaction."""

from __future__ import annotations

import logging

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from core import owed
from core.clock import Clock, to_datetime
from core.domain import DeliveryState, Mode, RequestState
from core.escalation import WIDE, EscalationStep, steps_of
from core.faults import crash_point
from core.grouping import Resolution
from core.lifecycle import Tally
from core.ports import Mention, Message
from core.store.models import Community, Delivery, Request
from core.tenancy import Ownership
from core.texts import asks as texts
from core.transitions import RACE_RETRIES, Transitions

log = logging.getLogger(__name__)


class Escalations:
    """Finds this platform's due steps and takes each once."""

    def __init__(self, transitions: Transitions, clock: Clock, platform: str) -> None:
        self.transitions = transitions
        self.clock = clock
        self.platform = platform
        self.ownership = Ownership()  # the engine shares its own (Discord shards)

    async def due(self) -> list[int]:
        return await self.ownership.ids(
            Request.filter(
                platform=self.platform,
                state=RequestState.OPEN,
                next_step_at__lte=to_datetime(self.clock.now()),
            ).order_by("id"),
            "tenant__external_id",
        )

    async def run_due(self) -> int:
        """Take every due step; the number taken by this process."""
        taken = 0
        for rid in await self.due():
            taken += await self.widen(rid)
        return taken

    async def widen(self, rid: int) -> bool:
        for _ in range(RACE_RETRIES):
            try:
                return await self._widen(rid)
            except _Raced:
                continue
        log.warning("request %s: escalation kept losing races; the sweeper will retry", rid)
        return False

    async def _widen(self, rid: int) -> bool:
        request = await Request.get_or_none(id=rid).select_related(
            "community", "requester", "tenant"
        )
        now = self.clock.now()
        if (
            request is None
            or request.state is not RequestState.OPEN
            or request.next_step_at is None
            or request.next_step_at.timestamp() > now
        ):
            return False  # another process took it, or it closed
        steps = steps_of(request.community)
        rows = await Delivery.filter(request_id=rid).values_list("target_id", "state")
        asked = {int(t) for t, _ in rows}
        tally = Tally.of(DeliveryState(s) for _, s in rows)
        need = max(1, request.wanted - tally.accepted)
        k, res, tried = request.step, Resolution([], [], []), []
        scope = request.community
        while k < len(steps) and not res.targets:
            step = steps[k]
            k += 1
            scope, res = await self._pick(request, step, need, asked)
            tried.append((step, scope))
        if tried and not res.targets:
            scope = request.community
        nxt = now + steps[k].after if res.targets and k < len(steps) else None
        close = not res.targets and tally.open == 0
        async with in_transaction(Request._meta.default_connection):
            changes: dict[str, object] = {
                "step": k,
                "next_step_at": to_datetime(nxt) if nxt is not None else None,
                "version": F("version") + 1,
            }
            if close:
                changes.update(state=RequestState.EXHAUSTED, closed_at=to_datetime(now))
            if not await Request.filter(
                id=rid, version=request.version, step=request.step, state=RequestState.OPEN
            ).update(**changes):
                raise _Raced
            t = self.transitions
            if res.targets:
                note = f"step {k}: {steps[k - 1].target}"
                await t.audit(rid, scope, res, now, note=note)
                await t.record(request, scope, res.targets, now)
            message = _told(request, tried, res, tally, close)
            key = f"outcome:{rid}" if close else f"step:{rid}:{k}"
            await owed.tell(request, key, message, now, outcome=close).save()
            crash_point("escalate.before-commit")
        crash_point("escalate.after-commit")
        return True

    async def _pick(
        self, request: Request, step: EscalationStep, need: int, asked: set[int]
    ) -> tuple[Community, Resolution]:
        """Who a step asks: another community's next available, or this one's widest circle."""
        scope = request.community
        mode, wanted = request.mode, need
        if step.target in WIDE:
            mode = Mode.AVAILABLE if step.target == "all" else Mode.EVERYONE
        else:
            other = await Community.get_or_none(
                tenant_id=request.tenant_id, handle=step.target.removeprefix("@")
            )
            if other is None:  # deleted since the step was set: nobody to ask there
                return scope, Resolution([], [], [])
            scope = other
        res = await self.transitions.resolver.pick(
            scope,
            request.tenant.external_id,
            request.requester_id,
            mode,
            wanted,
            asked,
            request.requester.tz,
        )
        return scope, res


class _Raced(Exception):
    """Another process moved the request first: re-read and decide again."""


def _told(
    request: Request,
    tried: list[tuple[EscalationStep, Community]],
    res: Resolution,
    tally: Tally,
    closed: bool,
) -> Message:
    """What the requester hears about a step: where it widened, who was asked, or the end."""
    return texts.widened(
        request.community.handle,
        [texts.scope(step.target, scope.handle) for step, scope in tried],
        [Mention(m.user_id, m.name) for m in res.targets],
        closed=closed,
        waiting=bool(tally.open),
    )
