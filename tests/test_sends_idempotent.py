"""Keyed sends through the real adapters while the stand-ins fail *after* storing the message.

A 500 from the edge, a dropped connection or an answer that comes too late leave the client not
knowing whether the DM exists. The adapters settle that themselves: Discord re-sends with the
same nonce (`enforce_nonce`), Slack looks for the key in the conversation's recent history. The
caller here does what the core's outbox does: on a non-permanent failure it tries again later
with the same key and `retry=True`. Every target must end with exactly one DM.
"""

from __future__ import annotations

import asyncio
import warnings
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from bots.discord.platform import DiscordPlatform
from bots.discord.platform import Pacer as DiscordPacer
from bots.slack.main import make_client
from bots.slack.pacing import Pacer
from bots.slack.platform import SlackPlatform
from core.config import load_settings
from core.ports import DeliveryFailed, Message
from tests.slack_fixtures import VirtualTime
from tests.standins.after_store import KINDS
from tests.standins.discord_api import DiscordStandin
from tests.standins.slack_api import SlackStandin

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord

TARGETS = 200
NOTICES = 20
STORM = 0.25  # share of stored messages whose answer is lost (500, drop or timeout, mixed)
CLIENT_TIMEOUT = 1.0  # seconds: the "timeout" fault holds the answer far longer; a loaded
# machine (parallel workers on 2 cores) can take over 0.3 s to answer a plain call
CONCURRENCY = 20  # sends in flight at once, as the outbox runs them
ATTEMPTS = 8  # the outbox's patience with one delivery; never reached here
REQUESTER = "U0REQUEST"
DISCORD_REQUESTER = 880000000000000000
CHANNEL = "C0000GENRL"
THREAD = "1767600000.000100"

Send = Callable[[str, bool], Awaitable[str]]


def figures(platform: str, targets: list[str], got: Counter[str], sends: int) -> dict[str, int]:
    """targets, sends, delivered, duplicated, lost for one platform, printed for the issue."""
    out = {
        "targets": len(targets),
        "sends": sends,
        "delivered": sum(1 for t in targets if got[t] > 0),
        "duplicated": sum(got[t] - 1 for t in targets if got[t] > 1),
        "lost": sum(1 for t in targets if got[t] == 0),
    }
    print(f"\nPOST-STORE STORM {platform}: " + ", ".join(f"{k}={v}" for k, v in out.items()))
    return out


async def deliver(sends: dict[str, Send]) -> dict[str, str]:
    """Each keyed send until it lands, `retry=True` after any non-permanent failure."""
    gate = asyncio.Semaphore(CONCURRENCY)
    refs: dict[str, str] = {}

    async def one(key: str, send: Send) -> None:
        retry = False
        for _ in range(ATTEMPTS):
            async with gate:
                try:
                    refs[key] = await send(key, retry)
                    return
                except DeliveryFailed as exc:
                    if exc.permanent:
                        raise
                    retry = True

    await asyncio.gather(*(one(k, s) for k, s in sends.items()))
    return refs


# ----------------------------------------------------------------------------- Slack


@dataclass
class SlackSide:
    slack: SlackStandin
    platform: SlackPlatform
    ids: list[str]

    def dms(self) -> Counter[str]:
        """Messages held in each person's DM with the app."""
        return Counter(self.slack.channels.get(ch, "") for ch, _ in self.slack.messages)


@pytest.fixture
async def slack_side() -> AsyncIterator[SlackSide]:
    vt = VirtualTime()
    async with SlackStandin(clock=vt.now) as slack:
        ids = [f"U{n:08d}" for n in range(TARGETS)]
        for uid in [REQUESTER, *ids]:
            slack.add_user(uid, uid.lower(), tz="UTC")
        slack.add_channel(CHANNEL, "general")
        settings = load_settings(slack_api_url=slack.url)
        pacer = Pacer(monotonic=vt.now, sleep=vt.sleep)
        client = make_client("xoxb-standin", settings, pacer, timeout=CLIENT_TIMEOUT)
        yield SlackSide(slack, SlackPlatform(client, pacer), ids)


def ask(n: int) -> Message:
    return Message.of(f"ask #{n}: can you help?")


async def test_slack_storm_after_store_gives_every_target_one_dm(slack_side: SlackSide) -> None:
    s = slack_side
    s.slack.storm_after_store("chat.postMessage", STORM, KINDS, seed=3)

    def dm(uid: str, n: int) -> Send:
        return lambda key, retry: s.platform.send_direct("T0", uid, ask(n), key=key, retry=retry)

    def notice(n: int) -> Send:
        return lambda key, retry: s.platform.send_direct(
            "T0", REQUESTER, Message.of(f"notice {n}"), key=key, retry=retry
        )

    sends = {f"d:{n}": dm(uid, n) for n, uid in enumerate(s.ids)}
    sends |= {f"n:{n}": notice(n) for n in range(NOTICES)}
    refs = await deliver(sends)
    s.slack.calm()

    got = s.dms()
    posts = s.slack.calls_to("chat.postMessage")
    struck = Counter(c.after_store for c in posts if c.after_store)
    print(
        f"  post-store faults: {dict(struck)}; lookups: {len(s.slack.calls_to('conversations.history'))}"
    )
    out = figures("slack", s.ids, got, len(posts))
    assert set(struck) == set(KINDS), "the storm mixes all three kinds"
    assert out["duplicated"] == 0 and out["lost"] == 0
    assert got[REQUESTER] == NOTICES, "every notice reaches the requester once"
    assert len(refs) == TARGETS + NOTICES
    stored = {f"{ch}:{ts}" for ch, ts in s.slack.messages}
    assert set(refs.values()) <= stored, "the refs returned name the stored messages"


async def test_slack_thread_reply_found_after_a_dropped_answer(slack_side: SlackSide) -> None:
    """The answer to a keyed thread reply is lost; the adapter finds the reply and returns it."""
    s = slack_side
    s.slack.fail_after_store("chat.postMessage", "drop")
    notice = Message.of("@frontend: bob accepted")
    ref = await s.platform.post("T0", CHANNEL, notice, THREAD, key="n:5")
    (stored,) = [f"{ch}:{ts}" for ch, ts in s.slack.messages]
    assert ref == stored and s.slack.calls_to("conversations.replies")
    again = await s.platform.post("T0", CHANNEL, notice, THREAD, key="n:5", retry=True)
    assert again == stored and len(s.slack.messages) == 1


async def test_slack_unkeyed_post_is_not_repeated_by_the_client(slack_side: SlackSide) -> None:
    """Without a key nothing can be looked up, and slack_sdk must not post again on its own."""
    s = slack_side
    s.slack.fail_after_store("chat.postMessage", "500")
    with pytest.raises(DeliveryFailed) as failed:
        await s.platform.send_direct("T0", s.ids[0], ask(0))
    assert failed.value.ambiguous and not failed.value.permanent
    assert len(s.slack.calls_to("chat.postMessage")) == 1
    assert s.dms()[s.ids[0]] == 1


async def test_slack_ambiguous_failure_with_nothing_stored_is_retryable(
    slack_side: SlackSide,
) -> None:
    """A 500 before the store: the lookup finds nothing, the caller tries again later."""
    s = slack_side
    s.slack.fail_next("chat.postMessage", status=500)
    with pytest.raises(DeliveryFailed) as failed:
        await s.platform.send_direct("T0", s.ids[1], ask(1), key="d:1")
    assert failed.value.ambiguous and not failed.value.permanent
    assert s.dms()[s.ids[1]] == 0
    ref = await s.platform.send_direct("T0", s.ids[1], ask(1), key="d:1", retry=True)
    assert s.dms()[s.ids[1]] == 1 and ref.startswith("D")


# ----------------------------------------------------------------------------- Discord


@dataclass
class DiscordSide:
    fake: DiscordStandin
    platform: DiscordPlatform
    ids: list[str]

    def dms(self) -> Counter[str]:
        return Counter(
            str(self.fake.dm_channels[ch]) for ch, held in self.fake.messages.items() for _ in held
        )


@pytest.fixture
async def discord_side() -> AsyncIterator[DiscordSide]:
    async with DiscordStandin() as fake:
        ids = [str(880000000000000001 + n) for n in range(TARGETS)]
        for uid in [DISCORD_REQUESTER, *map(int, ids)]:
            fake.add_user(uid, f"user{uid}")
        with fake.redirect_discord_py():
            http = discord.http.HTTPClient(asyncio.get_running_loop())
            await http.static_login(fake.token)
            fast = DiscordPacer(10_000.0, 10_000)
            platform = DiscordPlatform(
                http, dm_pacer=fast, send_pacer=fast, send_timeout=CLIENT_TIMEOUT
            )
            try:
                yield DiscordSide(fake, platform, ids)
            finally:
                await http.close()


async def test_discord_storm_after_store_gives_every_target_one_dm(
    discord_side: DiscordSide,
) -> None:
    d = discord_side
    d.fake.storm_after_store(r"^/channels/\d+/messages$", STORM, KINDS, method="POST", seed=3)

    def dm(uid: str, n: int) -> Send:
        return lambda key, retry: d.platform.send_direct("G", uid, ask(n), key=key, retry=retry)

    def notice(n: int) -> Send:
        return lambda key, retry: d.platform.send_direct(
            "G", str(DISCORD_REQUESTER), Message.of(f"notice {n}"), key=key, retry=retry
        )

    sends = {f"d:{n}": dm(uid, n) for n, uid in enumerate(d.ids)}
    sends |= {f"n:{n}": notice(n) for n in range(NOTICES)}
    refs = await deliver(sends)
    d.fake.calm()

    got = d.dms()
    posts = d.fake.calls_to("POST", r"^/channels/\d+/messages$")
    struck = Counter(c.after_store for c in posts if c.after_store)
    print(f"  post-store faults: {dict(struck)}")
    out = figures("discord", d.ids, got, len(posts))
    assert set(struck) == set(KINDS)
    assert out["duplicated"] == 0 and out["lost"] == 0
    assert got[str(DISCORD_REQUESTER)] == NOTICES
    assert len(refs) == TARGETS + NOTICES
    assert all(p.json.get("enforce_nonce") is True for p in posts)


async def test_discord_unkeyed_send_after_a_drop_is_not_deduplicated(
    discord_side: DiscordSide,
) -> None:
    """The fault is real: without a nonce, sending again after a drop is a second DM."""
    d = discord_side
    d.fake.fail_after_store(r"^/channels/\d+/messages$", "drop", method="POST")
    with pytest.raises(DeliveryFailed) as failed:
        await d.platform.send_direct("G", d.ids[0], ask(0))
    assert failed.value.ambiguous
    await d.platform.send_direct("G", d.ids[0], ask(0))
    assert d.dms()[d.ids[0]] == 2


async def test_discord_keyed_send_after_a_drop_is_one_dm(discord_side: DiscordSide) -> None:
    d = discord_side
    d.fake.fail_after_store(r"^/channels/\d+/messages$", "drop", method="POST")
    ref = await d.platform.send_direct("G", d.ids[0], ask(0), key="d:1")
    again = await d.platform.send_direct("G", d.ids[0], ask(0), key="d:1", retry=True)
    assert ref == again and d.dms()[d.ids[0]] == 1
