"""Mentions, the home tab, rate limits, signatures, retries and tenants, through the real bolt app."""

from __future__ import annotations

import time

from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.models.views import View

from bots.slack.app import build_app
from bots.slack.intake import CommandIntake
from bots.slack.main import web_app
from core.store.models import Community, Contact, Delivery, DeliveryState, Membership
from tests.slack_fixtures import ALICE, BOB, CAROL, CHANNEL, DAVE, SECRET, World, buttons, world
from tests.standins import slack_payloads as sp

__all__ = ["world"]
TEAM_B = "T0TEAMBBBB"
FORBIDDEN = ("<!channel>", "<!here>", "<!everyone>", "<!subteam")


async def community(w: World) -> None:
    await w.command(ALICE, "/community", "create frontend")
    await w.command(ALICE, "/community", f"add frontend <@{BOB}> <@{CAROL}> <@{DAVE}>")
    await w.prober.step()


async def test_mention_in_channel_replies_in_thread(world: World) -> None:
    await community(world)
    msg = sp.message_event(CHANNEL, ALICE, "hey @frontend, can someone look at the build?")
    await world.event(msg)
    (reply,) = [m for m in world.channel_posts() if m.get("thread_ts") == msg["ts"]]
    assert "Sent to everyone available" in reply["text"]
    dms = [dm for u in (BOB, CAROL, DAVE) for _, dm in world.dms(u)]
    assert len(dms) == 3 and all("/archives/C0000GENRL/p" in dm["text"] for dm in dms)


async def test_linked_user_group_mention_asks_community(world: World) -> None:
    await community(world)
    linked = await world.command(
        ALICE, "/community", "link frontend <!subteam^S0FRONTEND|@fe-team>"
    )
    assert "Linked" in linked
    msg = sp.message_event(CHANNEL, ALICE, "<!subteam^S0FRONTEND|@fe-team> deploy is red")
    await world.event(msg)
    assert [m for m in world.channel_posts() if m.get("thread_ts") == msg["ts"]]
    assert not any(f in world.outbound_text() for f in FORBIDDEN)


async def test_plain_messages_and_bot_posts_pass_through(world: World) -> None:
    await community(world)
    await world.event(sp.message_event(CHANNEL, BOB, "just chatting"))
    bot_post = sp.message_event(CHANNEL, BOB, "@frontend from a bot") | {"bot_id": "B1"}
    await world.event(bot_post)
    assert world.channel_posts() == []


async def test_no_broadcast_ever_leaves(world: World) -> None:
    """Whatever the user typed, the bot never emits a mass or group mention."""
    await community(world)
    nasty = "<!channel> <!here> <!everyone> <!subteam^S999|@all> @channel help"
    await world.command(ALICE, "/ask-available", f"frontend --all {nasty}")
    await world.event(sp.message_event(CHANNEL, ALICE, f"@frontend {nasty}"))
    text = world.outbound_text()
    assert "&lt;!channel&gt;" in text
    assert not any(f in text for f in FORBIDDEN)


async def test_home_tab_published_and_valid(world: World) -> None:
    await community(world)
    await world.command(CAROL, "/community", "create backend")
    steps = await world.command(ALICE, "/community", "set frontend escalate 10m @backend")
    assert "escalates after 10m: @backend" in steps
    await world.command(ALICE, "/ask-available", "frontend review please")
    await world.event(sp.app_home_opened(ALICE, "D0HOME"))
    view = world.slack.home_views[ALICE]
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    View(type="home", blocks=view["blocks"]).validate_json()
    shown = str(view["blocks"])
    assert "@frontend" in shown and "@backend" in shown and "groupcast_home_away" in shown
    assert "Escalation: after 10m: @backend" in shown
    assert "@frontend, last 30 days: 1 ask, 0% answered" in shown
    # a button on the home tab goes through the command and republishes
    body = sp.block_actions("groupcast_home_away", "away", user_id=ALICE, view=view)
    await world.send(body)
    assert "away" in str(world.slack.home_views[ALICE]["blocks"])
    join = sp.block_actions("groupcast_join", "backend", user_id=ALICE, view=view)
    await world.send(join)
    assert await Membership.filter(community__handle="backend").count() == 2


async def test_everyone_to_1000_under_rate_limits(world: World) -> None:
    """A big fan-out is paced: Slack's limiter never says 429 twice in a row, nobody is missed."""
    await community(world)
    tenant = await world.engine.directory.tenant_id("slack", sp.DEFAULT_TEAM_ID)
    community_id = (
        await Membership.filter(contact__user_id=ALICE)
        .first()
        .values_list("community_id", flat=True)
    )
    ids = [f"U{n:08d}" for n in range(1000)]
    for uid in ids:
        world.slack.add_user(uid, uid.lower(), tz="UTC")
    await Contact.bulk_create(
        [Contact(tenant_id=tenant, user_id=u, display_name=u.lower()) for u in ids]
    )
    contacts = await Contact.filter(user_id__in=ids).values_list("id", flat=True)
    await Membership.bulk_create(
        [Membership(community_id=community_id, contact_id=c) for c in contacts]
    )
    world.slack.limit("chat.postMessage", per_second=5, burst=10)
    world.slack.fail_next("chat.postMessage", 1, retry_after=2)  # one storm on top
    await world.command(ALICE, "/ask-available", "frontend --everyone all hands in 5")
    for _ in range(20):
        if not await Delivery.filter(state=DeliveryState.PENDING).exists():
            break
        await world.tick(60)
    assert await Delivery.filter(state=DeliveryState.SENT).count() == 1003
    assert all(len(world.dms(u)) == 1 for u in [*ids[:50], BOB, CAROL, DAVE])
    assert (
        sum(1 for m in world.slack.messages if world.slack.channels.get(m[0], "").startswith("U"))
        == 1003
    )
    assert world.slack.max_rate_limited_streak["chat.postMessage"] <= 1


async def test_429_and_5xx_storm_loses_and_duplicates_nothing(world: World) -> None:
    await community(world)
    world.slack.chaos(rate_429=0.4, rate_5xx=0.1, retry_after=1, seed=3)
    await world.command(ALICE, "/ask-available", "frontend --everyone storm drill")
    for _ in range(30):
        if not await Delivery.filter(state=DeliveryState.PENDING).exists():
            break
        await world.tick(60)
    world.slack.calm()
    states = set(await Delivery.all().values_list("state", flat=True))
    assert states == {DeliveryState.SENT}
    assert all(len(world.dms(u)) == 1 for u in (BOB, CAROL, DAVE))
    assert sum(world.slack.rate_limited.values()) > 0


async def test_unsigned_missigned_and_replayed_requests_are_refused_over_http(world: World) -> None:
    async with TestClient(TestServer(web_app(world.app))) as http:
        body = sp.slash_command("/community", "create stolen")
        unsigned = {"Content-Type": sp.CONTENT_TYPE_FORM}
        bad = sp.signed_headers(body, "not-the-secret")
        replayed = sp.signed_headers(body, SECRET, timestamp=int(time.time()) - 6 * 60)
        for headers in (unsigned, bad, replayed):
            resp = await http.post("/slack/events", data=body, headers=headers)
            assert resp.status == 401
        assert not await Community.filter(handle="stolen").exists()
        body = sp.slash_command("/community", "list")
        good = await http.post("/slack/events", data=body, headers=sp.signed_headers(body, SECRET))
        assert good.status == 200
        assert (await http.get("/healthz")).status == 200
    await world.bot.settle()


async def test_retried_event_processed_once(world: World) -> None:
    await community(world)
    msg = sp.message_event(CHANNEL, ALICE, "@frontend anyone?")
    body = sp.event_callback(msg, event_id="Ev0RETRY01")
    headers = sp.signed_headers(body, SECRET, content_type=sp.CONTENT_TYPE_JSON)
    await world.send(body, headers)
    again = await world.send(body, sp.with_retry(headers, 1))
    assert again.status == 200
    assert len([m for m in world.channel_posts() if m.get("thread_ts") == msg["ts"]]) == 1
    assert all(len(world.dms(u)) == 1 for u in (BOB, CAROL, DAVE))


async def test_tenants_are_isolated(world: World) -> None:
    await community(world)
    assert "no community @frontend" in await world.command(
        BOB, "/community", "show frontend", team=TEAM_B
    )
    assert "no community @frontend" in await world.command(
        BOB, "/ask-available", "frontend hi", team=TEAM_B
    )
    await world.event(sp.message_event(CHANNEL, BOB, "@frontend from B", team=TEAM_B), team=TEAM_B)
    assert world.channel_posts() == []
    await world.command(ALICE, "/ask-available", "frontend --everyone real ask")
    ((ref, dm),) = world.dms(BOB)
    # same user id, other workspace: must not answer team A's delivery
    await world.press(BOB, "groupcast_accept", buttons(dm)["groupcast_accept"], ref, team=TEAM_B)
    assert await Delivery.filter(state=DeliveryState.ACCEPTED).count() == 0
    assert any("isn't addressed to you" in str(e["text"]) for e in world.slack.ephemeral)


async def test_presence_events_feed_monitor_only_for_tracked(world: World) -> None:
    await community(world)
    key = world.engine.notifier.key(sp.DEFAULT_TEAM_ID, BOB)
    await world.event(
        sp.dnd_updated_user(
            BOB,
            next_dnd_start_ts=int(world.clock.now()) - 60,
            next_dnd_end_ts=int(world.clock.now()) + 3600,
        )
    )
    assert world.engine.monitor.verdict(key).reason == "do-not-disturb"
    await world.event(sp.dnd_updated_user(BOB, dnd_enabled=False))
    await world.event(sp.user_status_changed(CAROL, "on vacation", ":palm_tree:"))
    assert (
        world.engine.monitor.availability(
            world.engine.notifier.key(sp.DEFAULT_TEAM_ID, CAROL)
        ).value
        == "offline"
    )
    await world.event(sp.user_huddle_changed(DAVE))
    assert (
        "huddle"
        in world.engine.monitor.verdict(world.engine.notifier.key(sp.DEFAULT_TEAM_ID, DAVE)).reason
    )
    before = len(world.engine.monitor)
    await world.event(sp.user_status_changed("U0STRANGER", "lunch"))
    assert len(world.engine.monitor) == before


async def test_a_slash_command_is_acknowledged_first_and_worked_on_behind_the_queue(
    world: World,
) -> None:
    worker = build_app(world.bot, world.bot.platform.client, SECRET, process_before_response=True)
    intake = CommandIntake(world.app, worker, SECRET)
    async with TestClient(TestServer(web_app(world.app, intake=intake))) as http:
        body = sp.slash_command("/community", "create queued")
        forged = await http.post(
            "/slack/events", data=body, headers=sp.signed_headers(body, "not-the-secret")
        )
        assert forged.status == 401 and intake.queue.empty()
        resp = await http.post("/slack/events", data=body, headers=sp.signed_headers(body, SECRET))
        assert resp.status == 200 and await resp.text() == ""
        assert intake.queue.qsize() == 1, "acknowledged before any of the work ran"
        intake.start(workers=1)
        try:
            await intake.join()
        finally:
            await intake.stop()
    await world.bot.settle()
    assert await Community.filter(handle="queued").exists()
