"""The command intake and bursts of asks, through the real bolt app and the Slack stand-in:
a command is acknowledged before its work, a worker is not held by a paced reply, workers let
arriving requests go first, events keep their persist-before-ack path, and asks made at once
neither queue behind the presence limits nor all land on the same person."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient, TestServer

from bots.slack.app import build_app
from bots.slack.intake import FORM, MAX_DEFER, QUIET, CommandIntake, is_slash_command
from bots.slack.main import web_app
from core.store.models import Community, Request
from tests.slack_fixtures import ALICE, BOB, CAROL, CHANNEL, DAVE, SECRET, World, world
from tests.standins import slack_payloads as sp

__all__ = ["world"]
SAFETY = 30  # seconds: a bound so a regression fails instead of hanging, never an assertion


def intake_for(w: World, **clock: object) -> CommandIntake:
    worker = build_app(w.bot, w.platform.client, SECRET, process_before_response=True)
    return CommandIntake(
        w.app,
        worker,
        SECRET,
        monotonic=clock.get("monotonic", w.vt.now),  # type: ignore[arg-type]
        sleep=clock.get("sleep", w.vt.sleep),  # type: ignore[arg-type]
    )


async def post(http: TestClient, body: bytes, content_type: str = sp.CONTENT_TYPE_FORM) -> int:
    headers = sp.signed_headers(body, SECRET, content_type=content_type)
    resp = await http.post("/slack/events", data=body, headers=headers)
    return resp.status


async def community(w: World) -> None:
    await w.command(ALICE, "/community", "create frontend")
    await w.command(ALICE, "/community", f"add frontend <@{BOB}> <@{CAROL}> <@{DAVE}>")
    await w.prober.step()


def test_only_a_slash_commands_form_is_taken_for_one_without_parsing_it() -> None:
    command = sp.slash_command("/ask-available", "frontend a&b=c").decode()
    assert is_slash_command(FORM, command)
    press = sp.block_actions("groupcast_accept", "7", channel_id=CHANNEL, message_ts="1.2").decode()
    assert not is_slash_command(FORM, press)
    event = sp.event_callback(sp.message_event(CHANNEL, ALICE, "x&command=%2Fask")).decode()
    assert not is_slash_command("application/json", event)
    assert not is_slash_command(FORM, "text=x%26command%3D%252Fask&token=t")


async def test_a_worker_is_free_for_the_next_command_while_a_reply_waits(world: World) -> None:
    world.slack.fail_after_store("chat.postEphemeral", "timeout")  # the first reply is held
    intake = intake_for(world)
    async with TestClient(TestServer(web_app(world.app, intake=intake))) as http:
        for handle in ("first", "second"):
            assert await post(http, sp.slash_command("/community", f"create {handle}")) == 200
        assert intake.queue.qsize() == 2, "acknowledged before any of the work ran"
        intake.start(workers=1)
        try:
            # One worker did both while the first reply's answer was held (until release).
            await asyncio.wait_for(intake.queue.join(), SAFETY)
            assert await Community.filter(handle__in=["first", "second"]).count() == 2
        finally:
            world.slack.after_store.release()
            await intake.join()
            await intake.stop()
    await world.bot.settle()
    assert world.slack.after_store.struck[("chat.postEphemeral", "timeout")] == 1
    assert len(world.slack.ephemeral) == 2, "both answered in the end"


async def one_command(w: World, handle: str, *, arriving: bool) -> float:
    """Virtual seconds from a command's ack to its work done, one worker; with `arriving`,
    another request reaches the web loop whenever the worker waits."""
    start = w.vt.now()
    intakes: list[CommandIntake] = []

    async def sleep(seconds: float) -> None:
        await w.vt.sleep(seconds)
        if arriving:
            intakes[0].last_request = w.vt.now()

    intakes.append(intake_for(w, sleep=sleep))
    intake = intakes[0]
    async with TestClient(TestServer(web_app(w.app, intake=intake))) as http:
        assert await post(http, sp.slash_command("/community", f"create {handle}")) == 200
        intake.start(workers=1)
        try:
            await asyncio.wait_for(intake.join(), SAFETY)
        finally:
            await intake.stop()
    assert await Community.filter(handle=handle).exists()
    return round(w.vt.now() - start, 6)


async def test_workers_let_arriving_requests_go_first_but_never_hold_a_command_long(
    world: World,
) -> None:
    assert await one_command(world, "calm", arriving=False) == QUIET
    assert await one_command(world, "busy", arriving=True) == MAX_DEFER
    await world.bot.settle()


async def test_a_channel_message_keeps_its_persist_before_ack_path(world: World) -> None:
    await community(world)
    intake = intake_for(world)  # no workers: anything queued would stay unworked
    async with TestClient(TestServer(web_app(world.app, intake=intake))) as http:
        text = "@frontend is the build red? see x&command=%2Fask"
        body = sp.event_callback(sp.message_event(CHANNEL, ALICE, text))
        assert await post(http, body, sp.CONTENT_TYPE_JSON) == 200
        assert intake.queue.empty()
        assert await Request.filter(text__contains="build red").exists(), "stored before the ack"
    await world.bot.settle()


async def test_asks_made_at_once_each_reach_someone_new(world: World) -> None:
    await community(world)
    asks = [
        sp.slash_command("/ask-available", f"frontend --one look at #{i}?", user_id=ALICE)
        for i in range(3)
    ]
    await asyncio.gather(*(world.send(body) for body in asks))
    assert sorted(len(world.dms(u)) for u in (BOB, CAROL, DAVE)) == [1, 1, 1]


async def test_asks_never_wait_behind_the_presence_limits(world: World) -> None:
    await community(world)  # joining and the prober spent dnd.teamInfo's burst (Tier 2)
    before, dnd = world.vt.now(), len(world.slack.calls_to("dnd.teamInfo"))
    for i in range(3):
        answer = await world.command(ALICE, "/ask-available", f"frontend --one look at #{i}?")
        assert "Asked" in answer
    assert world.vt.now() == before, "no ask waited for its turn under a rate limit"
    assert len(world.slack.calls_to("dnd.teamInfo")) == dnd, "its turn was not now: skipped"
    assert len(world.slack.calls_to("users.getPresence")) >= 3, "each pick still confirmed"
