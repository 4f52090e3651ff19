"""Many workspaces in one process: each served with its own token, pacer and prober budget.

With OAuth installs, SlackPlatform asks `Workspaces.route(team)` for the team's Web API client
and pacer (built from the installation store on first use, re-checked every `ttl` seconds so an
uninstall seen by another process stops this one too). The team comes from the call's tenant,
or, for a bolt listener, from `team_scope`, which a global middleware sets per request.
`app_uninstalled` and `tokens_revoked` delete the workspace's tokens and forget its routes;
its communities stay in the database.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.installs import DbInstallationStore, DbOAuthStateStore
from bots.slack.pacing import Pacer
from core.ports import DeliveryFailed

log = logging.getLogger(__name__)

# The bot scopes an install asks for: the same list as manifests/slack.yaml.
SCOPES = (
    "chat:write",
    "commands",
    "im:write",
    "users:read",
    "users.profile:read",
    "dnd:read",
    "channels:history",
    "groups:history",
    "im:history",
    "reactions:read",
)
# Slack's answers that mean the token no longer works: forget the route, look it up again.
REVOKED = frozenset({"invalid_auth", "token_revoked", "account_inactive", "not_authed"})

_TEAM: ContextVar[str | None] = ContextVar("groupcast_slack_team", default=None)
Route = tuple[AsyncWebClient, Pacer]
MakeRoute = Callable[[str], Route]


def current_team() -> str | None:
    """The workspace the running code works for, if a scope or middleware set one."""
    return _TEAM.get()


@contextmanager
def team_scope(team: str) -> Iterator[None]:
    """Calls made inside go out with this workspace's token."""
    token = _TEAM.set(team)
    try:
        yield
    finally:
        _TEAM.reset(token)


@dataclass(slots=True)
class _Entry:
    route: Route | None  # None: not installed (a negative answer, cached like a positive one)
    token: str
    checked: float


class Workspaces:
    """Team → (client, pacer), from the installation store; a team not installed has none."""

    def __init__(
        self,
        store: DbInstallationStore,
        make: MakeRoute,
        *,
        ttl: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.make = make
        self.ttl = ttl
        self.monotonic = monotonic
        self._entries: dict[str, _Entry] = {}

    async def route(self, team: str) -> Route:
        """The team's client and pacer; DeliveryFailed (permanent) if it is not installed."""
        now = self.monotonic()
        entry = self._entries.get(team)
        if entry is None or now - entry.checked >= self.ttl:
            entry = await self._look_up(team, entry, now)
        if entry.route is None:
            raise DeliveryFailed(f"workspace {team} has not installed the app", permanent=True)
        return entry.route

    async def _look_up(self, team: str, old: _Entry | None, now: float) -> _Entry:
        bot = await self.store.async_find_bot(enterprise_id=None, team_id=team)
        if bot is None:
            entry = _Entry(None, "", now)
        elif old is not None and old.route is not None and old.token == bot.bot_token:
            entry = _Entry(old.route, old.token, now)  # same token: keep its pacer's state
        else:
            entry = _Entry(self.make(bot.bot_token), bot.bot_token, now)
        self._entries[team] = entry
        return entry

    async def serves(self, team: str) -> bool:
        """Whether this workspace is installed now (the prober skips those that are not)."""
        try:
            await self.route(team)
        except DeliveryFailed:
            return False
        return True

    def forget(self, team: str) -> None:
        """The workspace's token went (or stopped working): look again before the next call."""
        self._entries.pop(team, None)

    def revoked(self, team: str) -> None:
        """Uninstalled here: no route until someone installs it again (checked after `ttl`)."""
        self._entries[team] = _Entry(None, "", self.monotonic())

    def __len__(self) -> int:
        return sum(1 for e in self._entries.values() if e.route is not None)


def oauth_settings(
    *,
    client_id: str,
    client_secret: str,
    store: DbInstallationStore,
    redirect_uri: str | None,
    authorize_url: str,
) -> dict[str, Any]:
    """AsyncApp's keyword arguments for distribution by OAuth (bolt's own flow and authorize).

    The authorize caches auth.test per token; the store is still read on every request, so
    an uninstalled workspace is refused at once.
    """
    settings = AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(SCOPES),
        redirect_uri=redirect_uri,
        authorization_url=authorize_url,
        installation_store=store,
        installation_store_bot_only=True,
        state_store=DbOAuthStateStore(),
    )
    authorize = AsyncInstallationStoreAuthorize(
        logger=log,
        client_id=client_id,
        client_secret=client_secret,
        installation_store=store,
        bot_only=True,
        cache_enabled=True,
    )
    return {"oauth_settings": settings, "authorize": authorize, "installation_store_bot_only": True}


def serve_teams(app: AsyncApp, store: DbInstallationStore) -> None:
    """Per-request workspace scope, and the uninstall listeners (registered once, on the app)."""

    @app.middleware
    async def scope(context: AsyncBoltContext, next: Callable[[], Any]) -> None:
        # bolt runs listeners in tasks started after the middleware chain, which copy this
        # context: their Web API calls (names, permalinks, home tabs) use this team's token.
        if context.team_id:
            _TEAM.set(context.team_id)
        await next()

    async def delete_first(body: dict[str, Any], next: Callable[[], Any]) -> None:
        """The tokens are gone before Slack gets its 200 (bolt awaits listener middleware)."""
        event = body.get("event") or {}
        enterprise, team = body.get("enterprise_id"), body.get("team_id")
        if event.get("type") == "app_uninstalled":
            await store.async_delete_all(enterprise_id=enterprise, team_id=team)
        elif (event.get("tokens") or {}).get("bot"):
            await store.async_delete_bot(enterprise_id=enterprise, team_id=team)
        await next()

    async def done() -> None:
        """Nothing left to do after the ack."""

    for kind in ("app_uninstalled", "tokens_revoked"):
        app.event(kind, middleware=[delete_first])(done)
