"""Pinned availability messages: one per community and channel, refreshed behind the sweeper.

Presence changes only mark communities dirty; one background task per process waits a
quiet moment so a burst of changes becomes one edit per view, then edits each view once.
The sweeper never waits on a chat.update, and a hundred changes in a second cost each
pinned message one edit, not a hundred.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from tortoise.exceptions import IntegrityError

from core import views
from core.ports import Actor, DeliveryFailed, Message, Platform
from core.store.models import Community, LiveView
from core.tasks import Tasks
from core.texts import community as texts

log = logging.getLogger(__name__)

QUIET_SECONDS = 2.0  # changes within this window are shown by one edit


class LiveViews:
    """Posts, moves and refreshes the live availability message of a community in a channel."""

    def __init__(
        self,
        platform: Platform,
        reads: views.Reads,
        tasks: Tasks,
        *,
        quiet: float = QUIET_SECONDS,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.platform = platform
        self.reads = reads
        self.tasks = tasks
        self.quiet = quiet
        self.sleep = sleep
        self._dirty: set[int] = set()
        self._running = False

    async def changed(self, community_ids: set[int]) -> None:
        """Availability in these communities moved: refresh their views soon, in the background.

        Most communities have no live view: they cost one indexed query and no task.
        """
        if not community_ids or not await LiveView.exists(community_id__in=sorted(community_ids)):
            return
        self._dirty |= community_ids
        if not self._running:
            self._running = True
            self.tasks.spawn(self._refresher())

    async def _refresher(self) -> None:
        try:
            while self._dirty:
                await self.sleep(self.quiet)  # let the rest of a burst arrive
                dirty, self._dirty = self._dirty, set()
                for view in await LiveView.filter(community_id__in=sorted(dirty)):
                    try:
                        await self.refresh(view)
                    except DeliveryFailed as exc:
                        log.info("pinned view %s not refreshed: %s", view.id, exc.reason)
        finally:
            self._running = False

    async def pin(self, community: Community, channel: str) -> bool:
        """Post the view in this channel; a view already there moves (its old message goes).
        Returns whether an earlier pin was moved."""
        tenant = await self._tenant(community)
        ref = await self.platform.post(tenant, channel, await self.render(community, tenant))
        old = await LiveView.get_or_none(community_id=community.id, channel=channel)
        if old is None:
            try:
                await LiveView.create(community_id=community.id, channel=channel, message_ref=ref)
                return False
            except IntegrityError:  # someone pinned it here at the same moment: theirs moves
                old = await LiveView.get(community_id=community.id, channel=channel)
        previous, old.message_ref = old.message_ref, ref
        await old.save(update_fields=["message_ref"])
        if previous:
            try:
                await self.platform.delete(tenant, previous)
            except DeliveryFailed as exc:
                log.info("old pinned view %s not deleted: %s", previous, exc.reason)
        return True

    async def refresh(self, view: LiveView) -> None:
        """Edit the view's message to the community's availability now (post it if missing)."""
        community = await Community.get(id=view.community_id)
        tenant = await self._tenant(community)
        message = await self.render(community, tenant)
        if view.message_ref is None:
            view.message_ref = await self.platform.post(tenant, view.channel, message)
            await view.save(update_fields=["message_ref"])
        else:
            await self.platform.update(tenant, view.message_ref, message)

    async def render(self, community: Community, tenant: str) -> Message:
        """A community's availability as a standing message (no mentions: it must not ping)."""
        reader = Actor(self.platform.name, tenant, "", "", "UTC")
        c = await views.card(self.reads, community, reader, limit=40)
        members = [(m.name, m.verdict) for m in c.members]
        return texts.standing_view(c.handle, c.available, c.total, members, self.reads.clock.now())

    @staticmethod
    async def _tenant(community: Community) -> str:
        await community.fetch_related("tenant")
        return str(community.tenant.external_id)
