"""Leases on outbox rows (deliveries, notices): one sender at a time, and a fence for its writes.

A claim stamps the rows with a fresh token in `claimed_by` and a time in `claimed_until`. The
token is also the fence: a sender writes a row's outcome only `WHERE claimed_by = token`, so a
sender whose lease ran out (and whose rows another process took) cannot record over the new
owner. Leases are renewed in the background while a send is in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator, Iterable
from typing import Any

from tortoise.expressions import Q
from tortoise.models import Model

from core.clock import Clock, to_datetime
from core.store.queries import column_ints
from core.tenancy import Ownership

LEASE_SECONDS = 60.0


class Leases:
    """Claims, renews and releases rows of one outbox table for one process."""

    def __init__(
        self,
        model: type[Model],
        open_state: str,
        clock: Clock,
        worker: str,
        tenant_field: str = "tenant__external_id",
    ) -> None:
        self.model = model
        self.tenant_field = tenant_field  # where a row's tenant is, for `ownership`
        self.ownership = Ownership()  # the engine shares its own (Discord shards)
        self.open_state = open_state
        self.clock = clock
        self.worker = worker
        self._tokens = itertools.count(1)

    def _free(self) -> Q:
        now = to_datetime(self.clock.now())
        return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)

    async def due(self, platform: str, limit: int = 1000) -> list[int]:
        """Open rows of this platform that nobody holds: new, resumed, or past a backoff."""
        return await self.ownership.ids(
            self.model.filter(self._free(), platform=platform, state=self.open_state)
            .order_by("id")
            .limit(limit),
            self.tenant_field,
        )

    async def claim(self, ids: Iterable[int]) -> tuple[str, list[int]]:
        """Take every free open row of `ids`; returns the lease token and the ids now ours."""
        ids = list(ids)
        token = f"{self.worker}.{next(self._tokens)}.{uuid.uuid4().hex[:6]}"
        if not ids:
            return token, []
        await self.model.filter(self._free(), id__in=ids, state=self.open_state).update(
            claimed_by=token, claimed_until=to_datetime(self.clock.now() + LEASE_SECONDS)
        )
        return token, await column_ints(self.model.filter(claimed_by=token), "id")

    async def renew(self, token: str) -> int:
        return await self.model.filter(claimed_by=token, state=self.open_state).update(
            claimed_until=to_datetime(self.clock.now() + LEASE_SECONDS)
        )

    async def release(self, token: str) -> int:
        """Hand back what this lease still holds, so the sweeper may take it at once."""
        return await self.model.filter(claimed_by=token, state=self.open_state).update(
            claimed_by=None, claimed_until=None
        )

    async def hand_back(self) -> int:
        """Release every lease of this process (SIGTERM), so no other waits out the lease."""
        return await self.model.filter(
            claimed_by__startswith=f"{self.worker}.", state=self.open_state
        ).update(claimed_by=None, claimed_until=None)

    async def back_off(self, did: int, token: str, seconds: float, **values: Any) -> int:
        """Let go of one row until `seconds` from now (a 429's wait, or a transient failure)."""
        return await self.model.filter(id=did, claimed_by=token).update(
            claimed_by=None, claimed_until=to_datetime(self.clock.now() + seconds), **values
        )

    @contextlib.asynccontextmanager
    async def holding(self, token: str) -> AsyncIterator[None]:
        """Renew the lease every third of its length while the body runs; release after."""

        async def renewing() -> None:
            while True:
                await asyncio.sleep(LEASE_SECONDS / 3)
                with contextlib.suppress(Exception):  # a missed renewal only shortens the lease
                    await self.renew(token)

        task = asyncio.create_task(renewing())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await self.release(token)
