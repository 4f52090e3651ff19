"""The core's Platform port over the Slack Web API: DMs, thread replies, edits, probes, home tabs."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bots.slack import render
from bots.slack.pacing import Pacer
from bots.slack.workspaces import REVOKED, current_team, team_scope
from core.ports import KEY_MAX, DeliveryFailed, Message
from core.ratelimit import retry_after

log = logging.getLogger(__name__)

# Errors that mean this person cannot be reached by DM (or this channel by post), whatever we retry.
PERMANENT_ERRORS = frozenset(
    {
        "user_not_found",
        "users_not_found",
        "cannot_dm_bot",
        "account_inactive",
        "user_disabled",
        "user_is_bot",
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "messages_tab_disabled",
        "restricted_action",
        "team_access_not_granted",
        "invalid_blocks",
        "msg_too_long",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
    }
)

# Slack accepts JSON bodies for write methods; read methods take form fields.
JSON_METHODS = frozenset(
    {
        "chat.postMessage",
        "chat.update",
        "chat.delete",
        "chat.postEphemeral",
        "views.publish",
        "conversations.open",
    }
)

# A keyed post carries the key in its message metadata, so after an ambiguous failure (or when
# the core says an earlier attempt may have landed) we can find it in the recent history.
METADATA_EVENT = "groupcast_send"
HISTORY_LIMIT = 50  # recent messages searched for a keyed post; one page, newest first

PublishHome = Callable[[str, str], Awaitable[None]]
Check = Callable[[str, list[str]], Awaitable[int]]
Viewers = Callable[[str, set[int]], Awaitable[set[str]]]


class Teams(Protocol):
    """Per-workspace clients for OAuth installs (bots.slack.workspaces.Workspaces)."""

    async def route(self, team: str) -> tuple[AsyncWebClient, Pacer]: ...

    def forget(self, team: str) -> None: ...


class _Lru(OrderedDict[tuple[str, str], str]):
    """A bounded map: memory stays proportional to the people we actually talk to."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def put(self, key: tuple[str, str], value: str) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


class SlackPlatform:
    """Implements core.ports.Platform for one workspace token, or, with `teams`, for every
    workspace that installed the app (each call goes out with its own team's token)."""

    name = "slack"

    def __init__(self, client: AsyncWebClient, pacer: Pacer, *, cache_size: int = 50_000) -> None:
        self.client = client
        self.pacer = pacer
        self._dms = _Lru(cache_size)
        # Wired after the engine exists (bootstrap builds the engine from this platform).
        self.checker: Check | None = None
        self.publish_home: PublishHome | None = None
        self.viewers: Viewers | None = None
        self.home_seen: OrderedDict[tuple[str, str], float] = OrderedDict()
        self.home_window = 3600.0
        self.monotonic = pacer.monotonic
        self.teams: Teams | None = None  # set for OAuth installs; None: the one token above

    # -- calls ------------------------------------------------------------------------

    async def call(self, method: str, /, **args: Any) -> AsyncSlackResponse:
        """One paced Web API call; Slack's failures become DeliveryFailed."""
        got = await self._call(method, args, wait_turn=True)
        assert got is not None
        return got

    async def call_now(self, method: str, /, **args: Any) -> AsyncSlackResponse | None:
        """The call if its turn under the pacing is now; None, without calling, if it would have
        to wait (someone waits on the answer, and the limit would make them wait long)."""
        return await self._call(method, args, wait_turn=False)

    async def _call(
        self, method: str, args: dict[str, Any], *, wait_turn: bool
    ) -> AsyncSlackResponse | None:
        channel = args.get("channel")
        team = current_team()
        client, pacer = await self._route(method, team)
        where = channel if isinstance(channel, str) else None
        if not wait_turn and not pacer.take_now(method, where):
            return None
        if wait_turn:
            await pacer.acquire(method, where)
        try:
            if method in JSON_METHODS:
                resp = await client.api_call(method, json=args)
            else:
                resp = await client.api_call(method, data=args)
            pacer.learn(method, resp.headers)  # the limiter's real shape, when it says
            return resp
        except SlackApiError as exc:
            error = str(exc.response.get("error", "")) if exc.response is not None else ""
            status = exc.response.status_code if exc.response is not None else 0
            if error in REVOKED and self.teams is not None and team is not None:
                self.teams.forget(team)  # uninstalled elsewhere: look it up before the next call
            permanent = error in PERMANENT_ERRORS
            wait = None
            if status == 429 and exc.response is not None:
                wait = retry_after(exc.response.headers)
                pacer.hold(method, wait)  # every sender waits it out, not just this one
            raise DeliveryFailed(
                f"{method}: {error or status}",
                permanent=permanent,
                retry_after=wait,
                ambiguous=status >= 500,  # Slack may have acted before its edge failed
            ) from exc
        except (SlackClientError, aiohttp.ClientError, TimeoutError, ValueError) as exc:
            # A timeout or a broken connection: the request may have been carried out.
            raise DeliveryFailed(
                f"{method}: {type(exc).__name__}", permanent=False, ambiguous=True
            ) from exc

    async def _route(self, method: str, team: str | None) -> tuple[AsyncWebClient, Pacer]:
        """The client and pacer for this call: the workspace's own, or the single token's."""
        if self.teams is None:
            return self.client, self.pacer
        if not team:
            raise DeliveryFailed(f"{method}: no workspace to call it for", permanent=True)
        return await self.teams.route(team)

    async def dm_channel(self, tenant: str, user_id: str) -> str:
        """The app's DM channel with this person, opened once and cached."""
        cached = self._dms.get((tenant, user_id))
        if cached is not None:
            return cached
        resp = await self.call("conversations.open", users=user_id)
        channel = str(resp["channel"]["id"])
        self._dms.put((tenant, user_id), channel)
        return channel

    # -- Platform ---------------------------------------------------------------------

    async def send_direct(
        self,
        tenant: str,
        user_id: str,
        message: Message,
        *,
        key: str | None = None,
        retry: bool = False,
    ) -> str:
        # chat.postMessage takes a user id as `channel` and posts in the app's DM with them:
        # one call per person, no conversations.open (Tier 3, ~50/min) throttling a fan-out.
        with team_scope(tenant):
            return await self._post(tenant, user_id, message, None, key, retry, dm_of=user_id)

    async def post(
        self,
        tenant: str,
        channel: str,
        message: Message,
        thread: str | None = None,
        *,
        key: str | None = None,
        retry: bool = False,
    ) -> str:
        with team_scope(tenant):
            return await self._post(tenant, channel, message, thread, key, retry)

    async def _post(
        self,
        tenant: str,
        channel: str,
        message: Message,
        thread: str | None,
        key: str | None,
        retry: bool,
        *,
        dm_of: str | None = None,
    ) -> str:
        """Long messages go as several posts (buttons on the last); the reference is the last.

        Each part carries its own key (`key`, or `key.N` for part N of several), so a retry
        sends only the parts that did not land.
        """
        parts = render.payloads(message)
        ref = ""
        for i, args in enumerate(parts):
            part_key = key if key is None or len(parts) == 1 else f"{key}.{i}"
            ref = await self._post_one(tenant, channel, args, thread, part_key, retry, dm_of)
        return ref

    async def _post_one(
        self,
        tenant: str,
        channel: str,
        args: dict[str, Any],
        thread: str | None,
        key: str | None,
        retry: bool,
        dm_of: str | None,
    ) -> str:
        """chat.postMessage, once: a keyed post that may already exist is looked for first."""
        if thread:
            args["thread_ts"] = thread
        if key is not None:
            if not 0 < len(key) <= KEY_MAX:
                raise DeliveryFailed(
                    f"idempotency key {key!r} is not 1-{KEY_MAX} chars", permanent=True
                )
            args["metadata"] = {"event_type": METADATA_EVENT, "event_payload": {"key": key}}
            if retry:
                found = await self._find(tenant, channel, thread, key, dm_of)
                if found is not None:
                    return found
        try:
            resp = await self.call("chat.postMessage", channel=channel, **args)
        except DeliveryFailed as exc:
            if key is None or not exc.ambiguous:
                raise
            found = await self._find(tenant, channel, thread, key, dm_of)
            if found is not None:
                log.info("post %s failed ambiguously (%s) but had landed", key, exc.reason)
                return found
            raise DeliveryFailed(
                f"{exc.reason}; no message with key {key} in the history yet",
                permanent=False,
                ambiguous=True,
            ) from exc
        where = str(resp["channel"])
        if dm_of is not None:
            self._dms.put((tenant, dm_of), where)
        return f"{where}:{resp['ts']}"

    async def _find(
        self, tenant: str, channel: str, thread: str | None, key: str, dm_of: str | None
    ) -> str | None:
        """The reference of our message carrying `key` among the conversation's recent ones."""
        try:
            where = await self.dm_channel(tenant, dm_of) if dm_of is not None else channel
            if thread:
                resp = await self.call(
                    "conversations.replies",
                    channel=where,
                    ts=thread,
                    limit=str(HISTORY_LIMIT),
                    include_all_metadata="true",
                )
            else:
                resp = await self.call(
                    "conversations.history",
                    channel=where,
                    limit=str(HISTORY_LIMIT),
                    include_all_metadata="true",
                )
        except DeliveryFailed as exc:
            if exc.permanent:
                raise
            raise DeliveryFailed(
                f"looking for {key}: {exc.reason}", permanent=False, ambiguous=True
            ) from exc
        for found in resp.get("messages") or []:
            meta = found.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if meta.get("event_type") == METADATA_EVENT and payload.get("key") == key:
                return f"{where}:{found['ts']}"
        return None

    async def update(self, tenant: str, ref: str, message: Message) -> None:
        channel, _, ts = ref.partition(":")
        if not ts:
            raise DeliveryFailed(f"not a Slack message reference: {ref}", permanent=True)
        first, *more = render.payloads(message)
        with team_scope(tenant):
            await self.call("chat.update", channel=channel, ts=ts, **first)
            for args in more:  # an edit that outgrew one message continues below it, never cut
                await self.call("chat.postMessage", channel=channel, **args)

    async def ephemeral(self, tenant: str, channel: str, user_id: str, message: Message) -> None:
        """An answer only the caller sees (needs the bot in the channel; callers fall back)."""
        with team_scope(tenant):
            for args in render.payloads(message):
                await self.call("chat.postEphemeral", channel=channel, user=user_id, **args)

    async def check_presence(self, tenant: str, user_ids: list[str]) -> int:
        """Probed within the workspace's presence budget (bots.slack.prober); 0 if none is wired."""
        if self.checker is None or not user_ids:
            return 0
        with team_scope(tenant):
            return await self.checker(tenant, user_ids)

    async def delete(self, tenant: str, ref: str) -> None:
        channel, _, ts = ref.partition(":")
        if not ts:
            raise DeliveryFailed(f"not a Slack message reference: {ref}", permanent=True)
        with team_scope(tenant):
            await self.call("chat.delete", channel=channel, ts=ts)

    async def views_changed(self, tenant: str, user_ids: set[str], community_ids: set[int]) -> None:
        """Republish the home tabs of people who looked at theirs lately and can see a change."""
        if self.publish_home is None or self.viewers is None:
            return
        recent = self.recent_home_viewers(tenant)
        if not recent:
            return
        for uid in sorted(recent & await self.viewers(tenant, community_ids)):
            try:
                with team_scope(tenant):
                    await self.publish_home(tenant, uid)
            except DeliveryFailed as exc:
                log.info("home tab of %s not refreshed: %s", uid, exc.reason)

    # -- home tab bookkeeping ---------------------------------------------------------

    def saw_home(self, tenant: str, user_id: str) -> None:
        """Remember who opened the home tab, bounded, so refreshes go only to recent viewers."""
        key = (tenant, user_id)
        self.home_seen[key] = self.monotonic()
        self.home_seen.move_to_end(key)
        while len(self.home_seen) > 10_000:
            self.home_seen.popitem(last=False)

    def recent_home_viewers(self, tenant: str) -> set[str]:
        cutoff = self.monotonic() - self.home_window
        return {u for (t, u), at in self.home_seen.items() if t == tenant and at >= cutoff}
