"""Distribution by OAuth: settings in, bolt's install pages and per-workspace serving out.

Off unless SLACK_CLIENT_ID is set; then SLACK_CLIENT_SECRET and SLACK_TOKEN_KEY are required
and SLACK_BOT_TOKEN is ignored. GET /slack/install shows "Add to Slack"; Slack sends the
installer back to GET /slack/oauth_redirect, where bolt trades the code for a bot token
(oauth.v2.access) and our installation store seals it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bots.slack.installs import DbInstallationStore, Sealer, redact_sdk_logs
from bots.slack.platform import SlackPlatform
from bots.slack.prober import Prober
from bots.slack.workspaces import MakeRoute, Workspaces, oauth_settings, serve_teams
from core.config import ConfigError, Settings, require
from core.retention import Retention

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


@dataclass
class Distribution:
    """The installation store, the per-team routes and the bolt options that use them."""

    store: DbInstallationStore
    workspaces: Workspaces
    bolt: dict[str, Any] = field(default_factory=dict)

    def attach(
        self,
        app: AsyncApp,
        platform: SlackPlatform,
        prober: Prober | None,
        retention: Retention | None = None,
    ) -> None:
        """Serve every installed workspace with its own token; an uninstall stops its work
        (and, with `retention`, keeps its data for DATA_RETENTION_DAYS, then purges it)."""
        platform.teams = self.workspaces
        if prober is not None:
            prober.serves = self.workspaces.serves
        self.store.on_delete = self.workspaces.revoked
        self.store.on_save = self.workspaces.forget  # a reinstall is served at once
        self.store.retention = retention
        serve_teams(app, self.store)


def distribution(settings: Settings, make: MakeRoute) -> Distribution | None:
    """OAuth mode from settings, or None for the single-token mode (SLACK_BOT_TOKEN)."""
    if not settings.slack_client_id:
        return None
    secret = require(settings.slack_client_secret, "SLACK_CLIENT_SECRET")
    try:
        sealer = Sealer(require(settings.slack_token_key, "SLACK_TOKEN_KEY"))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    store = DbInstallationStore(sealer)
    redact_sdk_logs()
    bolt = oauth_settings(
        client_id=settings.slack_client_id,
        client_secret=secret,
        store=store,
        redirect_uri=settings.slack_oauth_redirect_url,
        authorize_url=settings.slack_authorize_url,
    )
    return Distribution(store, Workspaces(store, make), bolt)


def add_install_routes(server: web.Application, app: AsyncApp) -> None:
    """GET /slack/install and GET /slack/oauth_redirect, handled by bolt's AsyncOAuthFlow."""
    flow = app.oauth_flow
    if flow is None:
        return

    def route(handle: Callable[..., Any]) -> Callable[[web.Request], Any]:
        async def handler(request: web.Request) -> web.Response:
            return await to_aiohttp_response(await handle(await to_bolt_request(request)))

        return handler

    server.router.add_get(INSTALL_PATH, route(flow.handle_installation))
    server.router.add_get(REDIRECT_PATH, route(flow.handle_callback))
