"""Slack distribution by OAuth: two workspaces install through bolt's flow, each is served with
its own sealed token, neither sees the other, and an uninstall removes the tokens and stops work."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.fernet import Fernet
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bots.slack.app import build_app
from bots.slack.bot import SlackBot
from bots.slack.installs import Sealer
from bots.slack.intake import CommandIntake
from bots.slack.main import make_client, web_app, wire
from bots.slack.oauth import Distribution, distribution
from bots.slack.pacing import Pacer
from bots.slack.platform import SlackPlatform
from bots.slack.prober import Prober
from core.bootstrap import build_engine
from core.clock import ManualClock
from core.config import Settings, load_settings
from core.engine import Engine
from core.presence.store import MemoryPresenceStore
from core.retention import DAY, SWEEP_EVERY
from core.store.db import close_db, open_db
from core.store.models import Community, Installation, OAuthState, Request, Tenant
from tests.slack_fixtures import SECRET, START, VirtualTime
from tests.standins import slack_payloads as sp
from tests.standins.slack_api import CLIENT_ID, CLIENT_SECRET, SlackStandin
from tests.standins.slack_teams import SlackTeams

KEY = Fernet.generate_key().decode()
ONE, TWO = "T000000ONE", "T000000TWO"
# Each workspace has its own people: (owner, member) per team.
PEOPLE = {ONE: ("U1ALICE000", "U1BOB00000"), TWO: ("U2CAROL000", "U2DAVE0000")}
# slack_sdk sends oauth.v2.access's credentials with aiohttp.BasicAuth; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")


@dataclass
class Hosted:
    """The bot in OAuth mode behind its HTTP server, two stand-in workspaces behind slack.com."""

    slack: SlackTeams
    app: AsyncApp
    bot: SlackBot
    engine: Engine
    platform: SlackPlatform
    prober: Prober
    oauth: Distribution
    clock: ManualClock
    settings: Settings
    base: str

    def team(self, team: str) -> SlackStandin:
        return self.slack.teams[team]

    async def install(self, team: str) -> str:
        """Open the Add-to-Slack page, allow on "slack.com", follow the redirect back."""
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{self.base}/slack/install") as page:
                assert page.status == 200
                html = await page.text()
                # bolt's state cookie is Secure; the browser would send it back over https
                cookie = page.headers["Set-Cookie"].split(";")[0]
            match = re.search(r"state=([A-Za-z0-9_\-]+)", html)
            assert match, html
            code = self.team(team).authorize(PEOPLE[team][0])
            url = f"{self.base}/slack/oauth_redirect?code={code}&state={match.group(1)}"
            async with http.get(url, headers={"Cookie": cookie}, allow_redirects=False) as done:
                return f"{done.status} {await done.text()}"

    async def command(self, team: str, user: str, command: str, text: str) -> str:
        standin = self.team(team)
        before = len(standin.ephemeral)
        body = sp.slash_command(command, text, team_id=team, user_id=user, user_name=user)
        await self.send(body)
        return "\n".join(str(e["text"]) for e in standin.ephemeral[before:] if e["user"] == user)

    async def send(self, body: bytes) -> int:
        kind = sp.CONTENT_TYPE_JSON if body.startswith(b"{") else sp.CONTENT_TYPE_FORM
        headers = sp.signed_headers(body, SECRET, content_type=kind)
        resp = await self.app.async_dispatch(AsyncBoltRequest(body=body.decode(), headers=headers))
        await self.bot.settle()
        return resp.status

    def dms(self, team: str, user: str) -> list[str]:
        standin = self.team(team)
        return [
            str(m["text"])
            for (ch, _), m in standin.messages.items()
            if standin.channels.get(ch) == user
        ]


@pytest.fixture
async def hosted(tmp_path: Path) -> AsyncIterator[Hosted]:
    vt = VirtualTime()
    one = SlackStandin(team_id=ONE, team_name="One", team_domain="one", clock=vt.now)
    two = SlackStandin(team_id=TWO, team_name="Two", team_domain="two", clock=vt.now)
    for standin, team in ((one, ONE), (two, TWO)):
        for uid in PEOPLE[team]:
            standin.add_user(uid, uid.lower(), tz="UTC")
        standin.add_channel("C0000GENRL", "general")
    async with SlackTeams(one, two) as slack:
        settings = load_settings(
            database_url=f"sqlite://{tmp_path / 'installs.sqlite3'}",
            slack_api_url=slack.url,
            slack_client_id=CLIENT_ID,
            slack_client_secret=CLIENT_SECRET,
            slack_token_key=KEY,
            slack_authorize_url="https://slack.example/oauth/v2/authorize",
            random_seed=7,
        )
        await open_db(settings.database_url)
        runner: web.AppRunner | None = None
        try:

            def route(token: str) -> tuple[object, Pacer]:
                pacer = Pacer(monotonic=vt.now, sleep=vt.sleep)
                return make_client(token, settings, pacer), pacer

            oauth = distribution(settings, route)  # type: ignore[arg-type]
            assert oauth is not None
            pacer = Pacer(monotonic=vt.now, sleep=vt.sleep)
            client = make_client(None, settings, pacer)
            platform = SlackPlatform(client, pacer)
            clock = ManualClock(START)
            engine = build_engine(settings, platform, clock, MemoryPresenceStore())
            await engine.start()
            prober = wire(engine, platform, settings, clock, 50.0)
            bot = SlackBot(engine, platform)
            app = build_app(bot, client, SECRET, **oauth.bolt)
            oauth.attach(app, platform, prober, engine.retention)
            runner = web.AppRunner(web_app(app, engine), access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = int(runner.addresses[0][1])
            yield Hosted(
                slack,
                app,
                bot,
                engine,
                platform,
                prober,
                oauth,
                clock,
                settings,
                f"http://127.0.0.1:{port}",
            )
            await bot.settle()
        finally:
            if runner is not None:
                await runner.cleanup()
            await close_db()


async def test_an_install_stores_a_sealed_token_and_serves_the_workspace_with_it(
    hosted: Hosted, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    done = await hosted.install(ONE)
    assert done.startswith("200"), done
    (row,) = await Installation.all()
    (token,) = hosted.team(ONE).issued
    assert row.tenant == ONE and token not in row.bot_token_sealed
    assert Sealer(KEY).open(row.bot_token_sealed) == token
    assert await OAuthState.all().count() == 0, "the state is consumed once"
    assert token not in caplog.text, "a bot token is never logged"

    alice, bob = PEOPLE[ONE]
    assert "Created @oncall" in await hosted.command(
        ONE, alice, "/community", "create oncall Pager"
    )
    assert "Added to @oncall" in await hosted.command(
        ONE, alice, "/community", f"add oncall <@{bob}>"
    )
    assert "Asked" in await hosted.command(ONE, alice, "/ask-available", "oncall disk full")
    assert any("disk full" in text for text in hosted.dms(ONE, bob))
    assert {c.token for c in hosted.team(ONE).calls if c.method != "oauth.v2.access"} == {token}


async def test_a_second_workspace_installs_beside_the_first_and_neither_sees_the_other(
    hosted: Hosted,
) -> None:
    for team in (ONE, TWO):
        assert (await hosted.install(team)).startswith("200")
    alice, bob = PEOPLE[ONE]
    carol, dave = PEOPLE[TWO]
    await hosted.command(ONE, alice, "/community", "create oncall Pager one")
    await hosted.command(ONE, alice, "/community", f"add oncall <@{bob}>")
    # The same handle in the second workspace is a different community, not the first one's.
    assert "Created @oncall" in await hosted.command(TWO, carol, "/community", "create oncall Two")
    await hosted.command(TWO, carol, "/community", f"add oncall <@{dave}>")
    await hosted.command(TWO, carol, "/ask-available", "oncall two needs you")
    await hosted.command(ONE, alice, "/ask-available", "oncall one needs you")
    assert [t for t in hosted.dms(TWO, dave) if "needs you" in t] == [
        t for t in hosted.dms(TWO, dave) if "two needs you" in t
    ]
    assert any("one needs you" in t for t in hosted.dms(ONE, bob))
    assert not any("two" in t for t in hosted.dms(ONE, bob))
    listed = await hosted.command(TWO, carol, "/community", "show oncall")
    assert "Two" in listed and bob not in listed
    assert hosted.slack.unrouted == 0, "every call went out with its own workspace's token"
    one_tokens, two_tokens = hosted.team(ONE).issued, hosted.team(TWO).issued
    assert {c.token for c in hosted.team(TWO).calls if c.method != "oauth.v2.access"} == two_tokens
    assert {c.token for c in hosted.team(ONE).calls if c.method != "oauth.v2.access"} == one_tokens


async def test_uninstall_removes_the_tokens_and_stops_probing(hosted: Hosted) -> None:
    for team in (ONE, TWO):
        await hosted.install(team)
    for team in (ONE, TWO):
        owner, member = PEOPLE[team]
        await hosted.command(team, owner, "/community", "create oncall Pager")
        await hosted.command(team, owner, "/community", f"add oncall <@{member}>")

    event = hosted.team(ONE).uninstall()
    assert await hosted.send(sp.event_callback(event, team_id=ONE)) == 200
    assert [r.tenant for r in await Installation.all()] == [TWO]

    hosted.clock.advance(hosted.settings.presence_stale_seconds)
    probes = {t: len(hosted.team(t).calls_to("users.getPresence")) for t in (ONE, TWO)}
    assert await hosted.prober.step() > 0
    assert len(hosted.team(ONE).calls_to("users.getPresence")) == probes[ONE], "no probing"
    assert len(hosted.team(TWO).calls_to("users.getPresence")) > probes[TWO]
    # The first workspace's community is kept; the second one still asks as before.
    owner, member = PEOPLE[TWO]
    assert "Asked" in await hosted.command(TWO, owner, "/ask-available", "oncall still here?")
    assert hosted.slack.unrouted == 0


async def test_an_uninstalled_workspace_is_kept_for_the_retention_window_then_purged(
    hosted: Hosted,
) -> None:
    for team in (ONE, TWO):
        await hosted.install(team)
        owner, member = PEOPLE[team]
        await hosted.command(team, owner, "/community", "create oncall Pager")
        await hosted.command(team, owner, "/community", f"add oncall <@{member}>")
        assert "Asked" in await hosted.command(team, owner, "/ask-available", "oncall hello")

    await hosted.send(sp.event_callback(hosted.team(ONE).uninstall(), team_id=ONE))
    gone = await Tenant.get(platform="slack", external_id=ONE)
    assert gone.uninstalled_at is not None, "uninstalled now; its data is kept"
    days = hosted.settings.data_retention_days
    hosted.clock.advance(days * DAY - 1)
    await hosted.engine.tick()
    assert await Community.filter(tenant__external_id=ONE).exists()
    assert await Request.filter(tenant__external_id=ONE).exists()

    hosted.clock.advance(SWEEP_EVERY)
    await hosted.engine.tick()
    assert not await Tenant.filter(external_id=ONE).exists()
    assert not await Community.filter(tenant__external_id=ONE).exists()
    assert not await Request.filter(tenant__external_id=ONE).exists()
    owner, _ = PEOPLE[TWO]
    assert "Asked" in await hosted.command(TWO, owner, "/ask-available", "oncall still here?")


async def test_installing_again_within_the_window_finds_the_communities_as_they_were(
    hosted: Hosted,
) -> None:
    alice, bob = PEOPLE[ONE]
    await hosted.install(ONE)
    await hosted.command(ONE, alice, "/community", "create oncall Pager")
    await hosted.command(ONE, alice, "/community", f"add oncall <@{bob}>")
    await hosted.send(sp.event_callback(hosted.team(ONE).uninstall(), team_id=ONE))
    hosted.clock.advance(hosted.settings.data_retention_days * DAY - DAY)
    await hosted.engine.tick()

    assert (await hosted.install(ONE)).startswith("200")
    assert (await Tenant.get(external_id=ONE)).uninstalled_at is None
    hosted.clock.advance(2 * hosted.settings.data_retention_days * DAY)
    await hosted.engine.tick()
    assert "Asked" in await hosted.command(ONE, alice, "/ask-available", "oncall welcome back")
    assert any("welcome back" in t for t in hosted.dms(ONE, bob))
    token = sorted(hosted.team(ONE).issued)
    assert len(token) == 1 and hosted.team(ONE).calls[-1].token == token[0], "the new token"


async def test_an_installed_workspaces_command_is_queued_then_served_with_its_token(
    hosted: Hosted,
) -> None:
    """OAuth mode uses the same command intake as one token: acked before bolt sees it, then
    worked on in its workspace's scope; a workspace that has not installed is not queued.
    Everything goes over HTTP, as from Slack, so no request's scope is the test's own."""
    alice, bob = PEOPLE[ONE]
    carol, _ = PEOPLE[TWO]
    await hosted.install(ONE)
    client = hosted.platform.client
    worker = build_app(
        hosted.bot, client, SECRET, process_before_response=True, **hosted.oauth.bolt
    )
    installed = hosted.oauth.workspaces.serves
    intake = CommandIntake(hosted.app, worker, SECRET, installed=installed)
    server = web_app(hosted.app, intake=intake)
    told: list[str] = []

    async def response_url(request: web.Request) -> web.Response:
        told.append(str((await request.json()).get("text", "")))
        return web.Response(text="ok")

    server.router.add_post("/hooks/{tail:.*}", response_url)
    async with TestClient(TestServer(server)) as http:
        hook = str(http.make_url("/hooks/commands/1/x"))

        async def post(body: bytes) -> tuple[int, str]:
            kind = sp.CONTENT_TYPE_JSON if body.startswith(b"{") else sp.CONTENT_TYPE_FORM
            headers = sp.signed_headers(body, SECRET, content_type=kind)
            resp = await http.post("/slack/events", data=body, headers=headers)
            return resp.status, await resp.text()

        def command(team: str, user: str, name: str, text: str) -> bytes:
            return sp.slash_command(name, text, team_id=team, user_id=user, response_url=hook)

        assert await post(command(ONE, alice, "/community", "create oncall Pager")) == (200, "")
        assert intake.queue.qsize() == 1, "acknowledged before any of the work ran"
        assert (await post(command(TWO, carol, "/community", "create oncall Two")))[0] == 200
        assert intake.queue.qsize() == 1, "a workspace that has not installed is not queued"
        assert told and "reinstall" in told[0], "bolt tells it to install the app"
        intake.start(workers=1)
        try:
            await post(command(ONE, alice, "/community", f"add oncall <@{bob}>"))
            await intake.join()
            # alice has her home tab open: after her ask it is published again (views.publish
            # names no workspace; only the scope the worker runs in says whose token to use).
            home = sp.event_callback(sp.app_home_opened(alice, "D0000ALICE"), team_id=ONE)
            assert (await post(home))[0] == 200
            await hosted.bot.settle()
            published = len(hosted.team(ONE).calls_to("views.publish"))
            await post(command(ONE, alice, "/ask-available", "oncall through the queue"))
            await intake.join()
        finally:
            await intake.stop()
    await hosted.bot.settle()
    assert any("through the queue" in t for t in hosted.dms(ONE, bob))
    assert len(hosted.team(ONE).calls_to("views.publish")) == published + 1
    (token,) = hosted.team(ONE).issued
    assert {c.token for c in hosted.team(ONE).calls if c.method != "oauth.v2.access"} == {token}
    assert hosted.slack.unrouted == 0 and not hosted.team(TWO).calls
