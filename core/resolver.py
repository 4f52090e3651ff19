"""Choosing targets: the roster in strategy order, availability from the monitor, a check with
the platform for members unknown or stale, and a reason for every member not chosen."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from core.clock import Clock
from core.directory import Directory, Roster
from core.domain import Mode
from core.freshness import PresenceCheck
from core.grouping import Member, Resolution, resolve
from core.ports import Platform
from core.presence.monitor import PresenceMonitor
from core.roster_walk import roster_walk, walk_resolve
from core.store.models import Community
from core.texts import availability as texts
from core.texts.replies import EXPLAINED_REST


class Resolver:
    """Resolves a request against a community; shared by new asks and re-asks."""

    def __init__(
        self,
        directory: Directory,
        monitor: PresenceMonitor,
        platform: Platform,
        clock: Clock,
        rng: random.Random,
    ) -> None:
        self.directory = directory
        self.monitor = monitor
        self.platform = platform
        self.clock = clock
        self.rng = rng

    def explainer(self, tz: str) -> Callable[[Member], str]:
        """Skip reasons as the requester reads them, times in their own zone."""

        def explain(member: Member) -> str:
            return texts.describe(self.monitor.verdict(member.key), tz, self.clock.now())

        return explain

    async def roster(self, community: Community, tenant: str) -> Roster:
        return await self.directory.roster(community, self.platform.name, tenant, rng=self.rng)

    async def pick(
        self,
        community: Community,
        tenant: str,
        requester_id: int,
        mode: Mode,
        wanted: int,
        exclude: set[int],
        tz: str,
    ) -> Resolution:
        """Walk the roster (already in strategy order) only as far as the request needs, in
        pages (core.roster_walk), asking the platform about members it knows nothing fresh
        about (core.freshness); another page is read only while the checked picks fall short."""
        walk = roster_walk(community, self.platform.name, tenant, mode, self.rng)
        explain = self.explainer(tz)

        def run(members: Sequence[Member]) -> Resolution:
            return resolve(
                members,
                mode,
                wanted=wanted,
                requester_id=requester_id,
                availability=self.monitor.availability,
                explain=explain,
                capacity=community.capacity,
                exclude=exclude,
            )

        check = PresenceCheck(self.platform, self.monitor)
        while True:
            await walk_resolve(walk, run, self.monitor.load, wanted, EXPLAINED_REST)
            res = await check.resolve(
                tenant,
                lambda: run(walk),
                mode,
                wanted=wanted,
                requester_id=requester_id,
                exclude=exclude,
            )
            if len(res.targets) >= wanted or walk.complete:
                return res
            await self.monitor.load(await walk.more())
