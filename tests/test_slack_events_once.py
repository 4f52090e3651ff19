"""Slack's retries of one event make one request: across processes, restarts and crashes.

"Another process" is a second bolt app with its own engine, platform and SlackBot on the same
database (and the same stand-in), exactly what two `groupcast slack` processes share.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bots.slack.app import build_app
from bots.slack.bot import SlackBot
from bots.slack.main import make_client, wire
from bots.slack.pacing import Pacer
from bots.slack.platform import SlackPlatform
from core.bootstrap import build_engine
from core.clock import ManualClock
from core.inbound import Claim, DbInboundEvents, InboundEvents, RedisInboundEvents
from core.presence.store import MemoryPresenceStore
from core.store.models import Delivery, InboundEvent, Request
from tests.conftest import REDIS, _redis_ready
from tests.slack_fixtures import ALICE, BOB, CAROL, CHANNEL, DAVE, SECRET, World, world
from tests.standins import slack_payloads as sp

__all__ = ["world"]


@dataclass
class Process:
    """One bolt app with everything behind it, as a `groupcast slack` process holds it."""

    app: AsyncApp
    bot: SlackBot

    async def deliver(self, body: bytes, retry: int = 0) -> BoltResponse:
        headers = sp.signed_headers(body, SECRET, content_type=sp.CONTENT_TYPE_JSON)
        if retry:
            headers = sp.with_retry(headers, retry)
        resp = await self.app.async_dispatch(AsyncBoltRequest(body=body.decode(), headers=headers))
        await self.bot.settle()
        return resp


def first(w: World) -> Process:
    return Process(w.app, w.bot)


async def another(w: World) -> Process:
    """A second process (or the first one restarted): nothing in memory, same database."""
    pacer = Pacer(monotonic=w.vt.now, sleep=w.vt.sleep)
    client = make_client("xoxb-standin", w.settings, pacer)
    platform = SlackPlatform(client, pacer)
    store = w.engine.monitor.store
    assert isinstance(store, MemoryPresenceStore)
    await w.engine.monitor.flush()  # what the first process knows of presence is shared
    engine = build_engine(w.settings, platform, w.clock, MemoryPresenceStore(store.hub))
    await engine.start()
    wire(engine, platform, w.settings, w.clock, 50.0)
    bot = SlackBot(engine, platform)
    return Process(build_app(bot, client, SECRET), bot)


async def community(w: World) -> None:
    await w.command(ALICE, "/community", "create frontend")
    await w.command(ALICE, "/community", f"add frontend <@{BOB}> <@{CAROL}> <@{DAVE}>")
    await w.prober.step()


def mention(event_id: str) -> tuple[dict[str, Any], bytes]:
    msg = sp.message_event(CHANNEL, ALICE, "@frontend can someone check the deploy?")
    return msg, sp.event_callback(msg, event_id=event_id)


def dm_counts(w: World) -> list[int]:
    return [len(w.dms(u)) for u in (BOB, CAROL, DAVE)]


async def test_one_event_to_two_processes_makes_one_request(world: World) -> None:
    await community(world)
    _, body = mention("Ev0TWOPROC1")
    one, two = first(world), await another(world)
    assert (await one.deliver(body)).status == 200
    assert (await two.deliver(body, retry=1)).status == 200
    assert (await one.deliver(body, retry=2)).status == 200
    assert await Request.all().count() == 1
    assert dm_counts(world) == [1, 1, 1]


async def test_one_event_across_a_restart_makes_one_request(world: World) -> None:
    await community(world)
    _, body = mention("Ev0RESTART1")
    assert (await first(world).deliver(body)).status == 200
    restarted = await another(world)  # a new process: its memory is empty
    assert (await restarted.deliver(body, retry=1)).status == 200
    assert await Request.all().count() == 1
    assert await Delivery.all().count() == 3
    assert dm_counts(world) == [1, 1, 1]


async def test_a_mention_that_crashes_before_the_ack_is_created_by_the_retry(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine raises while creating the request: Slack gets no 200 and retries."""
    await community(world)
    msg, body = mention("Ev0CRASHED1")
    real = world.engine.message
    crashes = [RuntimeError("database went away")]

    async def crashing_once(*args: Any, **kwargs: Any) -> Any:
        if crashes:
            raise crashes.pop()
        return await real(*args, **kwargs)

    monkeypatch.setattr(world.engine, "message", crashing_once)
    crashed = await first(world).deliver(body)
    assert crashed.status == 500, "no ack: Slack must retry"
    assert await Request.all().count() == 0
    retried = await (await another(world)).deliver(body, retry=1)
    assert retried.status == 200
    assert await Request.all().count() == 1
    assert (await first(world).deliver(body, retry=2)).status == 200
    assert await Request.all().count() == 1
    assert dm_counts(world) == [1, 1, 1]
    assert len([m for m in world.channel_posts() if m.get("thread_ts") == msg["ts"]]) == 1


async def test_an_event_another_process_is_working_on_is_refused_until_done(
    world: World,
) -> None:
    """Slack retried while the first process was still on it: not acked, so Slack comes back;
    if that process died, the claim goes stale and the retry does the work."""
    await community(world)
    _, body = mention("Ev0INFLIGHT")
    dead = DbInboundEvents(world.clock)
    assert await dead.claim("slack", sp.DEFAULT_TEAM_ID, "Ev0INFLIGHT") is Claim.NEW
    assert (await first(world).deliver(body, retry=1)).status == 503
    assert await Request.all().count() == 0
    world.clock.advance(dead.lease)
    assert (await first(world).deliver(body, retry=2)).status == 200
    assert await Request.all().count() == 1


async def test_non_work_events_are_acked_at_once_and_once(world: World) -> None:
    await community(world)
    """A reaction (presence only) is remembered as done at once: nothing waits for it."""
    body = sp.event_callback(sp.reaction_added(BOB, "eyes", CHANNEL, "1.0"), event_id="Ev0REACTION")
    one, two = first(world), await another(world)
    assert (await one.deliver(body)).status == 200
    assert await InboundEvent.filter(event_id="Ev0REACTION", done=True).count() == 1
    assert (await two.deliver(body, retry=1)).status == 200


# ----------------------------------------------------------------------------- both stores


@pytest.fixture(params=["database", "redis"])
async def events(request: pytest.FixtureRequest, db: str) -> AsyncIterator[InboundEvents]:
    clock = ManualClock(1_767_600_000.0)
    store: InboundEvents
    if request.param == "database":
        store = DbInboundEvents(clock)
    else:
        why = await _redis_ready()
        if why:
            pytest.skip(f"Redis unavailable: {why}")
        store = RedisInboundEvents(REDIS, namespace=f"t{uuid.uuid4().hex[:8]}:")
    yield store
    await store.close()


async def test_claims_finish_and_release(events: InboundEvents) -> None:
    assert await events.claim("slack", "T1", "Ev1") is Claim.NEW
    assert await events.claim("slack", "T1", "Ev1") is Claim.BUSY
    await events.release("slack", "T1", "Ev1")
    assert await events.claim("slack", "T1", "Ev1") is Claim.NEW
    await events.finish("slack", "T1", "Ev1")
    assert await events.claim("slack", "T1", "Ev1") is Claim.SEEN
    assert await events.claim("slack", "T2", "Ev1") is Claim.NEW, "ids are per tenant"
    assert await events.claim("slack", "T1", "Ev2", done=True) is Claim.NEW
    assert await events.claim("slack", "T1", "Ev2") is Claim.SEEN


async def test_database_claims_are_pruned_after_the_window(db: str) -> None:
    clock = ManualClock(1_767_600_000.0)
    events = DbInboundEvents(clock)
    await events.claim("slack", "T1", "Ev1", done=True)
    clock.advance(events.window + 1)
    assert await events.claim("slack", "T1", "Ev2", done=True) is Claim.NEW
    assert await events.claim("slack", "T1", "Ev1") is Claim.NEW, "forgotten after the window"
