"""Several Slack workspaces behind one Web API URL, as slack.com is: a token finds its team.

Each workspace is a `SlackStandin` (not started itself); this server reads the token (or, for
oauth.v2.access, the code) and hands the request to the workspace that issued it, so a token
of one workspace never reaches another's members or channels.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from aiohttp import web

from tests.standins.slack_api import SlackStandin


class SlackTeams:
    """One aiohttp server for several stand-in workspaces, routed by token."""

    def __init__(self, *teams: SlackStandin) -> None:
        self.teams = {t.team_id: t for t in teams}
        self.unrouted = 0  # calls with a token no workspace issued
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}/api/"

    def owner(self, method: str, args: dict[str, object], token: str | None) -> SlackStandin | None:
        if method == "oauth.v2.access":
            code = str(args.get("code", ""))
            return next((t for t in self.teams.values() if code in t.codes), None)
        return next((t for t in self.teams.values() if token in t.issued), None)

    async def _dispatch(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        any_team = next(iter(self.teams.values()))
        args, token = await any_team._read_args(request)  # aiohttp keeps the body for a re-read
        team = self.owner(method, args, token)
        if team is None:
            self.unrouted += 1
            error = "invalid_code" if method == "oauth.v2.access" else "invalid_auth"
            return web.json_response({"ok": False, "error": error})
        return await team._dispatch(request)
