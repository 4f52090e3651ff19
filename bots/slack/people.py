"""Who is who in a workspace, without a Web API call per person in front of a reply.

users.list, paged, fills a per-workspace table of names and time zones that lives for a
TTL; `user_change` events keep it current in between. Commands take names from their own
`<@U…|name>` escapes and this table; profile details (time zone, real name) are filled in
behind the reply, and users.info is only the last resort for someone the list missed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache

from core.ports import DeliveryFailed

log = logging.getLogger(__name__)

PAGE = 200  # Slack recommends no more than 200 members a users.list page
MAX_PAGES = 500  # 100,000 people: a loop guard against a cursor that never ends

Call = Callable[..., Awaitable[Any]]  # SlackPlatform.call: a response read like a dict


@dataclass(frozen=True, slots=True)
class Profile:
    """What the directory keeps about a person: the name others see and their time zone."""

    name: str
    tz: str | None
    real_name: str = ""


def profile_of(user: Mapping[str, Any]) -> Profile:
    """A users.list / users.info / user_change `user` object to a Profile."""
    prof = user.get("profile") or {}
    real = str(prof.get("real_name") or user.get("real_name") or "")
    name = prof.get("display_name") or real or user.get("name") or user.get("id") or ""
    return Profile(str(name), str(user.get("tz") or "") or None, real)


class People:
    """Per-workspace profiles from users.list, cached with a TTL and refreshed on user_change."""

    def __init__(
        self,
        call: Call,
        *,
        ttl: float = 3600.0,
        teams: int = 1000,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.call = call
        self._tables: TTLCache[str, dict[str, Profile]] = TTLCache(teams, ttl, timer=timer)
        self._warming: dict[str, asyncio.Future[dict[str, Profile]]] = {}

    def known(self, team: str, user_id: str) -> Profile | None:
        """A cached profile, or None: never a call."""
        table = self._tables.get(team)
        return table.get(user_id) if table is not None else None

    def changed(self, team: str, user: Mapping[str, Any]) -> Profile | None:
        """A `user_change` event: its profile, which replaces the cached one if the table is live."""
        uid = str(user.get("id") or "")
        if not uid:
            return None
        got = profile_of(user)
        table = self._tables.get(team)
        if table is not None:
            table[uid] = got
        return got

    async def warm(self, team: str) -> dict[str, Profile]:
        """The workspace's table, listing it (paged) when absent or expired; one listing at a
        time per workspace, however many callers wait for it."""
        table = self._tables.get(team)
        if table is not None:
            return table
        pending = self._warming.get(team)
        if pending is None:
            pending = asyncio.ensure_future(self._list(team))
            self._warming[team] = pending
            pending.add_done_callback(lambda _: self._warming.pop(team, None))
        return await asyncio.shield(pending)

    async def lookup(self, team: str, user_id: str) -> Profile | None:
        """From the table; users.info only for someone the listing missed (joined since)."""
        got = (await self.warm(team)).get(user_id)
        if got is not None:
            return got
        try:
            resp = await self.call("users.info", user=user_id)
        except DeliveryFailed as exc:
            log.info("users.info %s: %s", user_id, exc.reason)
            return None
        user = resp.get("user") or {}
        got = profile_of(user)
        table = self._tables.get(team)
        if table is not None:
            table[user_id] = got
        return got

    async def _list(self, team: str) -> dict[str, Profile]:
        table: dict[str, Profile] = {}
        cursor = ""
        for _ in range(MAX_PAGES):
            args: dict[str, Any] = {"limit": PAGE}
            if cursor:
                args["cursor"] = cursor
            try:
                resp = await self.call("users.list", **args)
            except DeliveryFailed as exc:
                log.info("users.list stopped after %d people: %s", len(table), exc.reason)
                break
            for user in resp.get("members") or []:
                if isinstance(user, Mapping) and user.get("id") and not user.get("deleted"):
                    table[str(user["id"])] = profile_of(user)
            cursor = str((resp.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                break
        self._tables[team] = table
        return table
