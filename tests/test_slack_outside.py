"""Escalation, stats, why and asks from outside chat through the real bolt app and the Slack stand-in."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from bots.slack.main import web_app
from core.doctor import check
from core.store.models import Request, RequestState
from tests.slack_fixtures import ALICE, BOB, CAROL, DAVE, World, world

__all__ = ["world"]


async def two_communities(w: World) -> None:
    await w.command(ALICE, "/community", "create frontend")
    await w.command(ALICE, "/community", f"add frontend <@{BOB}>")
    await w.command(CAROL, "/community", "create backend")
    await w.command(CAROL, "/community", f"add backend <@{DAVE}>")
    await w.prober.step()


async def test_an_unanswered_ask_escalates_on_slack_and_why_tells_it(world: World) -> None:
    await two_communities(world)
    steps = await world.command(ALICE, "/community", "set frontend escalate 4m @backend")
    assert "escalates after 4m: @backend" in steps
    assert "Escalation: after 4m: @backend" in await world.command(
        ALICE, "/community", "show frontend"
    )
    await world.command(ALICE, "/ask-available", "frontend review #12 please")
    assert len(world.dms(BOB)) == 1
    await world.tick(4 * 60)
    assert len(world.dms(CAROL)) == 1 and not world.dms(DAVE), "backend's next in order"
    told = [m["text"] for _, m in world.dms(ALICE)]
    assert any("widening to @backend" in t for t in told), told
    story = await world.command(ALICE, "/ask-available", "why")
    assert "Then (step 1: @backend)" in story
    stats = await world.command(BOB, "/community", "stats frontend 7d")
    assert "@frontend, last 7 days: 1 ask" in stats
    assert await check() == []


async def test_the_api_is_served_beside_slack_events(world: World) -> None:
    await two_communities(world)
    reply = await world.command(ALICE, "/community", "token frontend")
    (token,) = [w for w in reply.split() if w.startswith("gct_")]
    async with TestClient(TestServer(web_app(world.app, world.engine))) as client:
        r = await client.post(
            "/api/v1/asks",
            json={"community": "frontend", "text": "deploy is red"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status == 201, await r.text()
        await world.engine.drain()
        await world.bot.settle()
        assert len(world.dms(BOB)) == 1 and "deploy is red" in str(world.dms(BOB)[0][1])
        nobody = await client.post("/api/v1/asks", json={"community": "frontend", "text": "x"})
        assert nobody.status == 401
    assert (await Request.get()).state is RequestState.OPEN
