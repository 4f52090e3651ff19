"""Presence the gateway has not pushed yet: asked for once per member and guild session, paced.

Once a guild is available Discord pushes every presence change of its members, so a member
heard from (a PRESENCE_UPDATE, or an earlier op 8 answer) needs no question until the guild
arrives again (a new session may have missed changes). The others are asked for over the
gateway (op 8, REQUEST_GUILD_MEMBERS with presences), which Discord limits to about 120 sends a
minute per shard (discord.py keeps to 110). Guilds arriving at start-up are therefore primed
one at a time per shard, PRIME_EVERY apart, leaving most of the budget to asks, instead of
hundreds of requests queued ahead of them for minutes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any

log = logging.getLogger(__name__)

PRIME_EVERY = 1.0
"""Seconds between one shard's priming requests: 60 a minute of discord.py's 110."""

Query = Callable[[str, list[str]], Awaitable[int]]
Spawn = Callable[[Coroutine[Any, Any, Any]], None]


class Priming:
    """Whom this process has heard from, per guild, and the paced queue of guilds to prime."""

    def __init__(
        self,
        query: Query,
        tracked: Callable[[], dict[str, list[str]]],
        spawn: Spawn,
        *,
        every: float = PRIME_EVERY,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.query = query  # op 8 for one guild's members (the bot's query_presences)
        self.tracked = tracked  # tracked members by guild (`Tracking.by_tenant`)
        self.spawn = spawn
        self.every = every
        self.sleep = sleep
        self._heard: dict[str, set[str]] = {}
        self._queues: dict[int, asyncio.Queue[str]] = {}

    def heard(self, tenant: str, user: str) -> None:
        """A presence came from the gateway (the hot path: a dict get and a set add)."""
        users = self._heard.get(tenant)
        if users is None:
            users = self._heard[tenant] = set()
        users.add(user)

    def unheard(self, tenant: str, users: Iterable[str]) -> list[str]:
        """Those of `users` this process has no presence for from this guild's session."""
        known = self._heard.get(tenant, ())
        return [u for u in users if u not in known]

    def forget(self, tenant: str, users: Iterable[str]) -> None:
        """A question about these members failed: ask again next time."""
        self._heard.get(tenant, set()).difference_update(users)

    def arrived(self, tenant: str, shard: int) -> None:
        """The guild is available (start-up or a new session): prime it in its shard's turn."""
        self._heard[tenant] = set()
        queue = self._queues.get(shard)
        if queue is None:
            queue = self._queues[shard] = asyncio.Queue()
            self.spawn(self._work(queue))
        queue.put_nowait(tenant)

    async def _work(self, queue: asyncio.Queue[str]) -> None:
        members: dict[str, list[str]] | None = None  # tracked members by guild, per burst
        while True:
            tenant = await queue.get()
            if members is None:
                members = self.tracked()
            wanted = self.unheard(tenant, members.get(tenant, ()))
            if wanted:
                try:
                    await self.query(tenant, sorted(wanted))
                except Exception:
                    log.exception("priming presence for guild %s failed", tenant)
                await self.sleep(self.every)
            if queue.empty():
                members = None
