"""Storms through the real adapters: the Slack and Discord stand-ins answer 30 % 429, 5 % 5xx.

tests/test_faults_storm.py runs the same promise against a double of the platform port; here
the sends go through bolt + SlackPlatform + slack_sdk (with our PacedRetry) and through
discord.py's HTTP client + DiscordPlatform, over HTTP, to tests/standins. Each target must get
exactly one DM, and our client must never come back to a bucket the stand-in refused before the
Retry-After it was given has run out (that is "the same bucket hit twice in a row": a 429 on the
retry that waited is chaos rolling again, not the client provoking the limit).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bots.discord.platform import Pacer as DiscordPacer
from bots.slack.pacing import PacedRetry
from core import keys
from core.store.models import Community, Contact, Delivery, DeliveryState, Membership, Role
from tests.slack_fixtures import ALICE, BOB, CAROL, TEAM, VirtualTime, World, world
from tests.standins.discord_api import Call as DiscordCall
from tests.standins.slack_api import Call as SlackCall
from tests.standins.slack_api import SlackStandin
from tests.test_discord_bot import ALICE as DISCORD_ALICE
from tests.test_discord_bot import CHANNEL as DISCORD_CHANNEL
from tests.test_discord_bot import GUILD, Harness, harness

__all__ = ["harness", "world"]

SLACK_REQUESTS = 1000
# discord.py sleeps for real inside its HTTP client: the 429 body's retry_after (the stand-in
# says 0.01-0.1 s) and, on a 500/502/504, 1 + 2 * tries seconds before every retry (tries counts
# the 429 retries too: 429, 429, 502 waits 5 s). Under this storm a member costs about three
# requests (open the DM channel, post, plus retries) and about 0.45 s of that sleeping, one
# member after another (one send in flight per fan-out): 1,000 members would take 8 minutes,
# 40 take about 20 s. The Slack test above carries the 1,000; this one shows discord.py's
# retries under our outbox keep the same promise.
DISCORD_MEMBERS = 40
TICKS = 60  # bound on the drive loops (each tick is 60 s of the engine's clock)
ONLINE = "online"


# ----------------------------------------------------------------------------- Slack


@dataclass
class Arrival:
    """When (on the pacer's virtual clock) a request reached the stand-in, and its Retry-After."""

    at: float
    retry_after: float | None


def watch_slack(slack: SlackStandin, clock: Callable[[], float]) -> list[Arrival]:
    """Hook the stand-in's fault picker, which runs once per request as it arrives.

    The stand-in appends the request to `calls` right after picking (no await in between), so
    the n-th arrival recorded here is `calls[offset + n]`.
    """
    arrivals: list[Arrival] = []
    pick = slack._pick_fault

    def recording(method: str) -> Any:
        fault = pick(method)
        refused = fault is not None and fault.status == 429
        arrivals.append(Arrival(clock(), float(int(fault.retry_after)) if refused else None))
        return fault

    slack._pick_fault = recording  # type: ignore[method-assign]
    return arrivals


@dataclass
class Early:
    """A request to a method the stand-in had refused, before its Retry-After ran out."""

    method: str
    at: float
    held_until: float
    after_exhausted: bool  # the refusal was the last of a call slack_sdk gave up retrying


def slack_early(calls: list[SlackCall], arrivals: list[Arrival], tries: int) -> list[Early]:
    """Replay the calls: a 429 holds its method (Slack limits per method per workspace, and our
    pacer holds the whole method) until Retry-After; who came back while it was held?

    A refusal is "exhausted" when it is the `tries`-th failure in a row of one call (the same
    method and channel): slack_sdk's retry handler gives up there and the outbox takes over.
    """
    assert len(calls) == len(arrivals)
    held: dict[str, tuple[float, bool]] = {}
    failures: Counter[tuple[str, str]] = Counter()
    early: list[Early] = []
    for call, arrival in zip(calls, arrivals, strict=True):
        until, exhausted = held.get(call.method, (float("-inf"), False))
        if arrival.at < until:
            early.append(Early(call.method, arrival.at, until, exhausted))
        one_call = (call.method, str(call.args.get("channel", "")))
        failures[one_call] = 0 if call.status == 200 else failures[one_call] + 1
        gave_up = failures[one_call] == tries
        if gave_up:
            failures[one_call] = 0
        if arrival.retry_after is not None:
            held[call.method] = (arrival.at + arrival.retry_after, gave_up)
    return early


def slack_tries(w: World) -> int:
    """HTTP requests slack_sdk makes for one Web API call before giving up on 429/5xx."""
    (paced,) = [h for h in w.platform.client.retry_handlers if isinstance(h, PacedRetry)]
    return paced.max_retry_count + 1


async def slack_crowd(w: World, handle: str, members: int) -> list[str]:
    """@handle owned by alice with `members` more people, seeded in bulk, all online."""
    await w.command(ALICE, "/community", f"create {handle}")
    community = await Community.get(handle=handle)
    ids = [f"U{n:08d}" for n in range(members)]
    for uid in ids:
        w.slack.add_user(uid, uid.lower(), tz="UTC")
    await Contact.bulk_create(
        [Contact(tenant_id=community.tenant_id, user_id=u, display_name=u.lower()) for u in ids]
    )
    contacts = await Contact.filter(tenant_id=community.tenant_id, user_id__in=ids).values_list(
        "id", flat=True
    )
    await Membership.bulk_create(
        [Membership(community_id=community.id, contact_id=c, role=Role.MEMBER) for c in contacts]
    )
    for uid in ids:
        w.engine.monitor.native(keys.encode("slack", TEAM, uid), ONLINE)
    return ids


def tally(states: Counter[Any]) -> str:
    """Delivery states as `sent: 1000`."""
    return ", ".join(f"{getattr(k, 'value', k)}: {n}" for k, n in sorted(states.items()))


async def drive(tick: Callable[[], Any]) -> int:
    """Tick until nothing is pending (bounded); returns how many ticks it took."""
    for n in range(TICKS):
        if not await Delivery.filter(state=DeliveryState.PENDING).exists():
            return n
        await tick()
    return TICKS


async def slack_tick(w: World) -> None:
    """A minute on both clocks: the engine's (backoffs, leases) and the pacer's (Retry-After);
    in production they are one clock."""
    w.vt.t += 60
    await w.tick(60)


def slack_dm_counts(w: World, ids: list[str]) -> Counter[str]:
    """Messages the stand-in holds in each target's DM channel."""
    wanted = set(ids)
    got: Counter[str] = Counter()
    for channel, _ in w.slack.messages:
        user = w.slack.channels.get(channel, "")
        if user in wanted:
            got[user] += 1
    return got


async def test_slack_storm_delivers_a_thousand_dms_exactly_once(world: World) -> None:
    w = world
    ids = await slack_crowd(w, "storm", SLACK_REQUESTS)
    offset = len(w.slack.calls)
    arrivals = watch_slack(w.slack, w.vt.now)
    w.slack.chaos(rate_429=0.3, rate_5xx=0.05, retry_after=1, seed=5)
    answer = await w.command(ALICE, "/ask-available", "storm --everyone weather report")
    ticks = await drive(lambda: slack_tick(w))
    w.slack.calm()

    got = slack_dm_counts(w, ids)
    targets = set(ids)
    posts = [c for c in w.slack.calls_to("chat.postMessage") if c.args.get("channel") in targets]
    statuses = Counter(c.status for c in posts)
    states = Counter(await Delivery.all().values_list("state", flat=True))
    lost = [u for u in ids if got[u] == 0]
    duplicated = sum(n - 1 for n in got.values() if n > 1)
    early = slack_early(w.slack.calls[offset:], arrivals, slack_tries(w))
    while_retrying = [e for e in early if not e.after_exhausted]
    print(
        f"\nFAULT slack-storm: requests={SLACK_REQUESTS}, sends={len(posts)},"
        f" 429={statuses[429]}, 5xx={sum(n for s, n in statuses.items() if s >= 500)},"
        f" delivered={sum(1 for n in got.values() if n)}, duplicated={duplicated},"
        f" lost={len(lost)}, back before Retry-After={len(early)}"
        f" ({len(while_retrying)} while retrying, {len(early) - len(while_retrying)} after"
        f" slack_sdk gave up),"
        f" stand-in 429 streak (chaos rolls)={w.slack.max_rate_limited_streak['chat.postMessage']},"
        f" ticks={ticks}, virtual seconds={w.vt.now() - 1000:.0f}, states={tally(states)}"
    )
    assert answer.startswith("@storm: Sent to everyone in the community"), answer
    assert answer.endswith("and 980 more."), answer
    assert statuses[429] > 200 and statuses[500] + statuses[503] > 20, "the storm did not blow"
    assert not lost
    assert duplicated == 0
    assert states == Counter({DeliveryState.SENT.value: SLACK_REQUESTS})
    # While slack_sdk retries, PacedRetry holds the method for Retry-After: never back early.
    # After it gives up too: see test_slack_holds_the_method_after_the_retries_run_out.
    assert while_retrying == [], while_retrying[:5]


async def test_slack_holds_the_method_after_the_retries_run_out(world: World) -> None:
    w = world
    await w.command(ALICE, "/community", "create pair")
    await w.command(ALICE, "/community", f"add pair <@{BOB}> <@{CAROL}>")
    offset = len(w.slack.calls)
    arrivals = watch_slack(w.slack, w.vt.now)
    tries = slack_tries(w)
    # The first DM of the fan-out is refused on every try slack_sdk makes, Retry-After: 1.
    w.slack.fail_next("chat.postMessage", tries, retry_after=1)
    await w.command(ALICE, "/ask-available", "pair --everyone anyone?")
    await drive(lambda: slack_tick(w))
    assert all(len(w.dms(u)) == 1 for u in (BOB, CAROL))
    early = slack_early(w.slack.calls[offset:], arrivals, tries)
    assert early == [], "after slack_sdk gives up on a 429, every sender still waits it out"


# ----------------------------------------------------------------------------- Discord


def watch_discord(h: Harness) -> dict[int, float]:
    """Remember the retry_after of every 429 the stand-in answers (keyed by the call)."""
    refused: dict[int, float] = {}
    failure = h.fake._failure

    def recording(call: DiscordCall, bucket: str, bucket_hash: str, status: int, ra: float) -> Any:
        if status == 429:
            refused[id(call)] = ra
        return failure(call, bucket, bucket_hash, status, ra)

    h.fake._failure = recording  # type: ignore[method-assign]
    return refused


def discord_early(calls: list[DiscordCall], refused: dict[int, float]) -> list[str]:
    """Calls that came back to a refused route (bucket + major parameter) too soon.

    The path carries the major parameter (the DM channel) for every route a fan-out uses, so
    consecutive calls on one path are consecutive calls on one rate-limit bucket.
    """
    last: dict[tuple[str, str], DiscordCall] = {}
    early = []
    for call in calls:
        route = (call.method, call.path)
        prev = last.get(route)
        if prev is not None and id(prev) in refused and call.at < prev.at + refused[id(prev)]:
            early.append(f"{route} after {call.at - prev.at:.3f}s < {refused[id(prev)]}s")
        last[route] = call
    return early


async def discord_crowd(h: Harness, members: int) -> list[int]:
    """Members in the stand-in's guild and in a community @storm owned by alice, all online."""
    ids = [740000000000000000 + n for n in range(members)]
    for uid in ids:
        h.fake.add_member(GUILD, uid, f"m{uid % 10_000:04d}")
    tenant = await h.engine.directory.tenant_id("discord", str(GUILD))
    owner = await Contact.get(tenant_id=tenant, user_id=str(DISCORD_ALICE))
    community = await Community.create(tenant_id=tenant, handle="storm", title="storm")
    await Contact.bulk_create(
        [Contact(tenant_id=tenant, user_id=str(u), display_name=f"m{u % 10_000:04d}") for u in ids]
    )
    contacts = await Contact.filter(
        tenant_id=tenant, user_id__in=[str(u) for u in ids]
    ).values_list("id", flat=True)
    await Membership.bulk_create(
        [Membership(community_id=community.id, contact_id=owner.id, role=Role.OWNER)]
        + [Membership(community_id=community.id, contact_id=c, role=Role.MEMBER) for c in contacts]
    )
    for uid in ids:
        h.engine.monitor.native(keys.encode("discord", str(GUILD), str(uid)), ONLINE)
    return ids


async def test_discord_storm_dms_every_member_exactly_once(harness: Harness) -> None:
    h = harness
    ids = await discord_crowd(h, DISCORD_MEMBERS)
    # Our own pacers (2 DMs opened and 5 posts a second) on a virtual clock: they only keep us
    # under Discord's limits, which the stand-in enforces anyway, and would add ~20 s of waiting.
    vt = VirtualTime()
    h.bot.platform.dm_pacer = DiscordPacer(2.0, 5, clock=vt.now, sleep=vt.sleep)
    h.bot.platform.send_pacer = DiscordPacer(5.0, 10, clock=vt.now, sleep=vt.sleep)
    refused = watch_discord(h)
    h.fake.chaos(rate_429=0.3, rate_5xx=0.05, seed=5)
    before = len(h.fake.calls)
    await h.interact(
        h.fake.interaction_command(
            GUILD,
            DISCORD_CHANNEL,
            DISCORD_ALICE,
            "ask-available",
            {"community": "storm", "message": "weather report", "mode": "everyone"},
        )
    )
    # The bot answers (a followup) once the core has recorded the request and started the
    # fan-out; discord.py may be sleeping through the storm, so allow more than TIMEOUT.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while not (replies := h.answered("POST", r"^/webhooks/")) or replies[-1].status != 200:
        assert loop.time() < deadline, "no answer to /ask-available"
        h.poked.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(h.poked.wait(), 1)
    answer = str(replies[-1].json["content"])
    await h.engine.drain()

    async def tick() -> None:
        h.clock.advance(60)
        await h.engine.tick()
        await h.engine.drain()

    ticks = await drive(tick)
    h.fake.calm()

    channels = {u: c for c, u in h.fake.dm_channels.items()}
    got = Counter({u: len(h.fake.messages.get(channels.get(u, 0), {})) for u in ids})
    calls = h.fake.calls[before:]
    dm_paths = {f"/channels/{channels[u]}/messages" for u in ids if u in channels}
    posts = [c for c in calls if c.method == "POST" and c.path in dm_paths]
    opens = [c for c in calls if c.method == "POST" and c.path == "/users/@me/channels"]
    sends = posts + opens
    early = discord_early(calls, refused)
    states = Counter(await Delivery.all().values_list("state", flat=True))
    lost = [u for u in ids if got[u] == 0]
    duplicated = sum(n - 1 for n in got.values() if n > 1)
    print(
        f"\nFAULT discord-storm: requests={DISCORD_MEMBERS}, sends={len(sends)},"
        f" 429={sum(c.status == 429 for c in sends)}, 5xx={sum(c.status >= 500 for c in sends)},"
        f" delivered={sum(1 for n in got.values() if n)}, duplicated={duplicated},"
        f" lost={len(lost)}, back before retry_after={len(early)},"
        f" sends = {len(opens)} DM opens + {len(posts)} posts,"
        f" 429 on all routes={sum(h.fake.rate_limited.values())}, ticks={ticks},"
        f" states={tally(states)}"
    )
    assert answer.startswith("@storm: Sent to everyone in the community"), answer
    assert sum(c.status == 429 for c in sends) > 20, "the storm did not blow"
    assert not lost
    assert duplicated == 0
    assert states == Counter({DeliveryState.SENT.value: DISCORD_MEMBERS})
    assert early == []
