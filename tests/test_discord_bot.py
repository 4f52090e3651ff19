"""Our Discord bot (a real discord.py client with its CommandTree) against the local stand-in."""

from __future__ import annotations

import asyncio
import contextlib
import re
import warnings
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bots.discord.bot import GroupcastBot
from bots.discord.main import run_discord
from core import keys
from core.clock import ManualClock
from core.commands import COMMANDS
from core.config import Settings
from core.engine import Engine
from core.ports import Actor
from core.presence.signals import DND, IDLE, OFFLINE, ONLINE
from core.store.models import Community, Tenant
from tests.standins.discord_api import Call, DiscordStandin

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord  # noqa: F401  (import-time warning filtered once for the module)

GUILD = 700000000000000001
CHANNEL = 710000000000000001
ROLE = 720000000000000001
ALICE = 730000000000000001
CAROL = 730000000000000002
BOB = 730000000000000003
DAVE = 730000000000000004
EVE = 730000000000000005  # in the guild, in no community
T0 = 1_767_603_600.0  # Monday 2026-01-05 09:00 UTC
TIMEOUT = 30.0  # a deadline, never waited out when things work: generous for a loaded machine
MASS = ("@everyone", "@here", "<@&")


@dataclass
class Harness:
    """The stand-in, our running bot and its engine, plus a way to await what they do."""

    fake: DiscordStandin
    bot: GroupcastBot
    engine: Engine
    clock: ManualClock
    natives: list[tuple[str, str, Any]] = field(default_factory=list)
    poked: asyncio.Event = field(default_factory=asyncio.Event)

    async def until(self, check: Callable[[], Any], what: str) -> Any:
        """Wait (no sleeping) until `check()` is truthy; something poked us each time."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMEOUT
        while not (got := check()):
            self.poked.clear()
            left = deadline - loop.time()
            if left <= 0:
                pytest.fail(f"timed out waiting for {what}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.poked.wait(), left)
        return got

    def answered(self, method: str, path: str) -> list[Call]:
        pattern = re.compile(path)
        return [
            c for c in self.fake.calls if c.method == method and pattern.search(c.path) and c.status
        ]

    def dm_channel(self, user_id: int) -> int | None:
        return next((c for c, u in self.fake.dm_channels.items() if u == user_id), None)

    def dms(self, user_id: int) -> list[Call]:
        channel = self.dm_channel(user_id)
        if channel is None:
            return []
        return [
            c for c in self.answered("POST", rf"^/channels/{channel}/messages$") if c.status == 200
        ]

    async def interact(self, payload: dict[str, Any]) -> None:
        await self.fake.dispatch("INTERACTION_CREATE", payload)

    async def command(
        self, name: str, options: dict[str, Any], sub: str | None = None, user: int = ALICE
    ) -> str:
        """Run a slash command as `user`; returns the ephemeral followup's content."""
        before = len(self.answered("POST", r"^/webhooks/"))
        await self.interact(self.fake.interaction_command(GUILD, CHANNEL, user, name, options, sub))
        calls = await self.until(
            lambda: self.answered("POST", r"^/webhooks/")[before:], f"a reply to /{name}"
        )
        return str(calls[0].json["content"])

    async def presence(
        self, user_id: int, status: str, client_status: dict[str, str] | None = None
    ) -> None:
        """Dispatch PRESENCE_UPDATE and wait until the bot has handled it (a sentinel follows)."""
        await self.fake.dispatch(
            "PRESENCE_UPDATE", self.fake.presence_update(GUILD, user_id, status, client_status)
        )
        marker = len(self.natives)
        await self.fake.dispatch(
            "PRESENCE_UPDATE", self.fake.presence_update(GUILD, ALICE, "online")
        )
        await self.until(
            lambda: any(k.endswith(str(ALICE)) for k, _, _ in self.natives[marker:]),
            "presence handled",
        )


def key(user_id: int) -> str:
    return keys.encode("discord", str(GUILD), str(user_id))


@pytest.fixture
async def harness(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> AsyncIterator[Harness]:
    """A guild with a channel, a role and five people; the bot running with a fresh SQLite DB."""
    async with DiscordStandin() as fake:
        fake.add_user(CAROL, "carol", dm_closed=True)
        fake.add_guild(
            GUILD,
            "Ops",
            roles=[(ROLE, "oncall")],
            channels=[(CHANNEL, "general")],
            members=[
                (ALICE, "alice", []),
                (CAROL, "carol", []),
                (BOB, "bob", [ROLE]),
                (DAVE, "dave", [ROLE]),
                (EVE, "eve", []),
            ],
        )
        settings = Settings(
            discord_token=fake.token,
            discord_api_url=fake.api_url,
            discord_gateway_url=fake.gateway_url,
            discord_dev_guild=GUILD,
            database_url=f"sqlite://{tmp_path}/discord.sqlite3",
            random_seed=7,
            health_port=0,
        )
        clock = ManualClock(T0)
        got: asyncio.Future[tuple[GroupcastBot, Engine]] = (
            asyncio.get_running_loop().create_future()
        )
        with fake.redirect_discord_py():
            task = asyncio.create_task(
                run_discord(
                    settings,
                    clock=clock,
                    tick_every=None,
                    guild_ready_timeout=0.05,
                    started=lambda b, e: got.set_result((b, e)),
                )
            )
            bot, engine = await asyncio.wait_for(got, TIMEOUT)
            h = Harness(fake, bot, engine, clock)
            respond = fake._respond

            def poke_respond(*args: Any, **kwargs: Any) -> Any:
                out = respond(*args, **kwargs)
                h.poked.set()
                return out

            fake._respond = poke_respond  # type: ignore[method-assign]
            on_presence = bot._on_presence  # what the adapter hands every presence event
            assert on_presence is not None

            def spy(k: str, state: str) -> Any:
                change = on_presence(k, state)
                h.natives.append((k, state, change))
                h.poked.set()
                return change

            bot._on_presence = spy
            await asyncio.wait_for(bot.wait_until_ready(), TIMEOUT)
            await seed(engine)
            try:
                yield h
                assert_no_mass_mentions(fake)
            finally:
                await engine.drain()
                await bot.close()
                assert await asyncio.wait_for(task, TIMEOUT) == 0


async def seed(engine: Engine) -> None:
    """@frontend: alice (owner), carol, bob, dave, in that order (round-robin order too)."""
    names = {ALICE: "alice", CAROL: "carol", BOB: "bob", DAVE: "dave", EVE: "eve"}
    for uid, name in names.items():
        await engine.directory.who(Actor("discord", str(GUILD), str(uid), name))
    alice = Actor("discord", str(GUILD), str(ALICE), "alice")
    for text in (
        "create frontend Frontend",
        f"add frontend <@{CAROL}> <@{BOB}> <@{DAVE}>",
        "set frontend strategy round-robin",
    ):
        await engine.command(alice, "community", text)


def assert_no_mass_mentions(fake: DiscordStandin) -> None:
    """Every message we sent or edited pinged nobody but the people it names."""
    sent = [
        c
        for c in fake.calls
        if (c.method, bool(re.match(r"^/(channels/\d+/messages|webhooks/)", c.path)))
        in (("POST", True), ("PATCH", True))
        and isinstance(c.json, dict)
    ]
    for call in sent:
        content = str(call.json.get("content") or "")
        for mass in MASS:
            assert mass not in content, (call.path, content)
        allowed = call.json.get("allowed_mentions")
        assert allowed is not None, call.path
        assert not set(allowed.get("parse", [])) & {"everyone", "roles"}, allowed
        assert not allowed.get("roles")
        assert {str(u) for u in allowed.get("users", [])} <= set(
            re.findall(r"<@(\d+)>", content)
        ), allowed


def custom_ids(call: Call) -> list[str]:
    return [c["custom_id"] for row in call.json.get("components", []) for c in row["components"]]


async def test_presence_reaches_the_monitor_only_for_community_members(harness: Harness) -> None:
    h = harness
    await h.fake.dispatch("PRESENCE_UPDATE", h.fake.presence_update(GUILD, EVE, "online"))
    await h.presence(BOB, "idle", {"mobile": "idle"})
    await h.presence(DAVE, "dnd", {"desktop": "dnd", "web": "online"})  # online on any client
    await h.presence(CAROL, "dnd", {"desktop": "dnd"})
    seen = {k: s for k, s, _ in h.natives}
    assert h.engine.monitor.verdict(key(EVE)).source == "none", (
        "people in no community are not tracked"
    )
    assert seen[key(BOB)] == IDLE
    assert seen[key(DAVE)] == ONLINE
    assert seen[key(CAROL)] == DND
    # Discord sends the same change again (another shared guild, an activity change): no-op.
    marker = len(h.natives)
    await h.presence(BOB, "idle", {"mobile": "idle"})
    (again,) = [c for k, _, c in h.natives[marker:] if k == key(BOB)]
    assert again is None
    await h.presence(BOB, "offline", {})
    assert h.natives[-2][:2] == (key(BOB), OFFLINE)
    assert h.bot.get_guild(GUILD) is not None
    assert h.bot.get_guild(GUILD).get_member(BOB) is None, "no member cache"  # type: ignore[union-attr]


async def test_ask_available_dms_the_chosen_member_with_buttons(harness: Harness) -> None:
    h = harness
    for uid in (BOB, DAVE):
        await h.presence(uid, "online")
    reply = await h.command(
        "ask-available",
        {"community": "frontend", "message": f"review #12? @everyone <@&{ROLE}>", "mode": "one"},
    )
    assert reply.startswith(f"@frontend: Asked <@{BOB}>"), reply
    callback = h.answered("POST", r"^/interactions/\d+/[^/]+/callback$")[0]
    assert (
        callback.json["type"] == 5 and callback.json["data"]["flags"] == 64
    )  # deferred, ephemeral
    (dm,) = await h.until(lambda: h.dms(BOB), "the DM to bob")
    assert dm.json["content"].startswith(f"<@{ALICE}> asks @frontend: review #12?")
    assert "@\u200beveryone" in dm.json["content"]
    assert custom_ids(dm) == [f"groupcast:accept:1:{GUILD}", f"groupcast:decline:1:{GUILD}"]
    assert dm.json["allowed_mentions"] == {"parse": [], "users": [ALICE]}
    assert h.dms(DAVE) == []


async def test_decline_moves_on_to_the_next_member_and_edits_the_dm(harness: Harness) -> None:
    h = harness
    for uid in (BOB, DAVE):
        await h.presence(uid, "online")
    await h.command("ask-available", {"community": "frontend", "message": "help"})
    (dm,) = await h.until(lambda: h.dms(BOB), "the DM to bob")
    channel = h.dm_channel(BOB)
    assert channel is not None
    decline = custom_ids(dm)[1]
    message_id = max(h.fake.messages[channel])
    await h.interact(
        h.fake.interaction_component(None, channel, BOB, decline, message_id=message_id)
    )
    await h.until(lambda: h.dms(DAVE), "the next ask, to dave")
    told = await h.until(
        lambda: [
            c
            for c in h.dms(ALICE)  # a command's follow-ups are private: the requester's DMs
            if "declined" in c.json["content"]
        ],
        "the requester told",
    )
    assert told[0].json["content"] == f"<@{BOB}> declined; asking <@{DAVE}> in @frontend."
    edit = await h.until(
        lambda: h.answered("PATCH", rf"^/channels/{channel}/messages/\d+$"), "the DM edited"
    )
    assert "You declined." in edit[0].json["content"]
    assert edit[0].json["components"] == []
    await h.until(
        lambda: [
            c
            for c in h.answered("POST", r"^/webhooks/")
            if c.json["content"].startswith("Declined.")
        ],
        "the private answer to bob",
    )


async def test_cannot_send_50007_moves_on_and_tells_the_requester(harness: Harness) -> None:
    h = harness
    for uid in (CAROL, BOB):
        await h.presence(uid, "online")
    reply = await h.command("ask-available", {"community": "frontend", "message": "anyone?"})
    assert f"Asked <@{CAROL}>" in reply
    await h.until(lambda: h.dms(BOB), "the ask moved on to bob")
    refused = h.answered("POST", rf"^/channels/{h.dm_channel(CAROL)}/messages$")
    assert [c.status for c in refused] == [403]
    told = await h.until(
        lambda: [
            c
            for c in h.dms(ALICE)  # a command's follow-ups are private: the requester's DMs
            if "reached" in c.json["content"]
        ],
        "the requester told",
    )
    assert (
        told[0].json["content"] == f"<@{CAROL}> could not be reached; asking <@{BOB}> in @frontend."
    )


async def test_a_linked_role_mention_is_a_group_request(harness: Harness) -> None:
    h = harness
    await h.presence(BOB, "online")
    alice = Actor("discord", str(GUILD), str(ALICE), "alice")
    await h.engine.command(alice, "community", f"link frontend <group:{ROLE}>")
    message = h.fake.message_create(
        GUILD, CHANNEL, ALICE, f"<@&{ROLE}> prod is down", mention_roles=[ROLE]
    )
    await h.fake.dispatch("MESSAGE_CREATE", message)
    replies = await h.until(
        lambda: [
            c
            for c in h.answered("POST", rf"^/channels/{CHANNEL}/messages$")
            if c.json.get("message_reference")
        ],
        "the reply",
    )
    body = replies[0].json
    assert str(body["message_reference"]["message_id"]) == message["id"]
    assert body["content"].startswith(f"@frontend: Sent to everyone available: <@{BOB}>.")
    assert body["allowed_mentions"] == {"parse": [], "users": [BOB], "replied_user": False}
    (dm,) = await h.until(lambda: h.dms(BOB), "the DM to bob")
    assert "prod is down" in dm.json["content"]
    assert "<@&" not in dm.json["content"]


async def test_handle_mention_in_text_and_plain_messages_are_activity(harness: Harness) -> None:
    h = harness
    await h.presence(DAVE, "online")
    await h.fake.dispatch(
        "MESSAGE_CREATE", h.fake.message_create(GUILD, CHANNEL, EVE, "just chatting")
    )
    await h.fake.dispatch(
        "MESSAGE_CREATE", h.fake.message_create(GUILD, CHANNEL, BOB, "hey @frontend, deploy?")
    )
    replies = await h.until(
        lambda: [
            c
            for c in h.answered("POST", rf"^/channels/{CHANNEL}/messages$")
            if c.json.get("message_reference")
        ],
        "the reply",
    )
    assert f"<@{DAVE}>" in replies[0].json["content"]
    assert len(replies) == 1


async def test_pinned_availability_is_edited_after_a_presence_change(harness: Harness) -> None:
    h = harness
    await h.presence(BOB, "online")
    reply = await h.command("community", {"handle": "frontend"}, sub="pin")
    assert reply.startswith("Pinned @frontend")
    (post,) = h.answered("POST", rf"^/channels/{CHANNEL}/messages$")
    assert "2 of 4 available" in post.json["content"]
    await h.presence(DAVE, "online")
    await h.engine.pump()
    edits = await h.until(
        lambda: h.answered("PATCH", rf"^/channels/{CHANNEL}/messages/\d+$"), "the edit"
    )
    assert "3 of 4 available" in edits[-1].json["content"]
    assert edits[-1].json["allowed_mentions"]["users"] == []


async def test_a_429_is_honoured_and_the_dm_lands_once(harness: Harness) -> None:
    h = harness
    await h.presence(BOB, "online")
    h.fake.fail_next(r"^/channels/\d+/messages$", method="POST")
    await h.command("ask-available", {"community": "frontend", "message": "ping"})
    await h.until(lambda: h.dms(BOB), "the DM after the 429")
    channel = h.dm_channel(BOB)
    statuses = [c.status for c in h.answered("POST", rf"^/channels/{channel}/messages$")]
    assert statuses == [429, 200]
    assert len(h.fake.channel_messages(channel)) == 1  # type: ignore[arg-type]


async def test_autocomplete_offers_the_guilds_communities(harness: Harness) -> None:
    h = harness
    payload = h.fake.interaction_autocomplete(
        GUILD,
        CHANNEL,
        ALICE,
        "ask-available",
        {"community": "fr", "message": ""},
        focused="community",
    )
    await h.interact(payload)
    (call,) = await h.until(lambda: h.answered("POST", r"/callback$"), "the autocomplete result")
    assert call.json == {
        "type": 8,
        "data": {"choices": [{"name": "@frontend — Frontend", "value": "frontend"}]},
    }


async def test_commands_are_synced_to_the_dev_guild(harness: Harness) -> None:
    names = {c["name"] for c in harness.fake.commands(GUILD)}
    assert names == set(COMMANDS), "Discord's tree holds exactly the core's commands"
    assert harness.fake.commands() == []


async def test_disallowed_intents_give_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with DiscordStandin(privileged_intents=0) as fake:
        settings = Settings(
            discord_token=fake.token,
            discord_api_url=fake.api_url,
            discord_gateway_url=fake.gateway_url,
            database_url=f"sqlite://{tmp_path}/intents.sqlite3",
            health_port=0,
        )
        with fake.redirect_discord_py():
            code = await asyncio.wait_for(run_discord(settings, tick_every=None), TIMEOUT)
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "4014" in err[0]
    for switch in ("Server Members Intent", "Presence Intent", "Message Content Intent"):
        assert switch in err[0]


async def test_a_missing_token_is_one_line() -> None:
    from core.config import ConfigError

    with pytest.raises(ConfigError, match="DISCORD_TOKEN"):
        await run_discord(Settings(discord_token=None))


FRANK = 730000000000000006  # online, never seen by the bot
GUS = 730000000000000007  # offline: Discord sends no presence for him at all


async def fresh_reviewers(h: Harness) -> None:
    """@reviewers, made a second ago with two people the bot has never had presence for."""
    h.fake.add_member(GUILD, FRANK, "frank")
    h.fake.add_member(GUILD, GUS, "gus")
    h.fake.set_presence(GUILD, FRANK, "online", {"desktop": "online"})  # no event dispatched
    alice = Actor("discord", str(GUILD), str(ALICE), "alice")
    await h.engine.command(alice, "community", "create reviewers")
    await h.engine.command(alice, "community", f"add reviewers <@{FRANK}> <@{GUS}>")


@pytest.mark.parametrize("mode", ["one", "all"])
async def test_a_community_made_a_second_ago_reaches_the_online_member(
    harness: Harness, mode: str
) -> None:
    h = harness
    await fresh_reviewers(h)
    reply = await h.command(
        "ask-available", {"community": "reviewers", "message": "review?", "mode": mode}
    )
    assert f"<@{FRANK}>" in reply and "no presence seen yet" not in reply, reply
    await h.until(lambda: h.dms(FRANK), "the DM to frank")
    assert h.dms(GUS) == []
    assert h.engine.monitor.availability(key(GUS)).value == "offline"


async def test_a_message_that_starts_with_a_flag_is_delivered_as_text(harness: Harness) -> None:
    """Options map onto the typed ask: `--all please` is the message, not the mode."""
    h = harness
    await h.presence(BOB, "online")
    await h.presence(DAVE, "online")
    reply = await h.command(
        "ask-available", {"community": "frontend", "message": "--all please", "mode": "one"}
    )
    assert reply.startswith(f"@frontend: Asked <@{BOB}>."), reply  # one person, not everyone
    (dm,) = await h.until(lambda: h.dms(BOB), "the DM to bob")
    assert dm.json["content"].startswith(f"<@{ALICE}> asks @frontend: --all please")
    assert h.dms(DAVE) == []


async def test_options_are_checked_by_the_core_and_a_note_is_never_a_duration(
    harness: Harness,
) -> None:
    h = harness
    bad = await h.command("ask-available", {"community": "Front End", "message": "hi"})
    assert bad.startswith("“Front End” is not a community handle"), bad
    assert "Try: /ask-available <handle>" in bad
    none = await h.command(
        "ask-available", {"community": "frontend", "message": "pair?", "mode": "count"}
    )
    assert none.startswith("--count takes a number from 1 to 100"), none
    away = await h.command("away", {"note": "2h lunch"})
    assert away == "You're away until you say /available (2h lunch).", away
    hours = await h.command("hours", {"hours": "09:00-17:00", "days": "Sun-Thu", "timezone": "utc"})
    assert hours == "Working hours set: 09:00–17:00 Sun-Thu (UTC).", hours
    owner = await h.command(
        "community", {"handle": "frontend", "setting": "capacity", "value": "3"}, sub="set"
    )
    assert owner == "@frontend: capacity is now 3.", owner


def gateway_requests(h: Harness) -> int:
    """Op 8 (REQUEST_GUILD_MEMBERS) sent so far: Discord allows about 120 sends a minute."""
    return sum(1 for p in h.fake.gateway_received if p.get("op") == 8)


async def test_an_ask_spends_no_gateway_request_on_members_whose_presence_was_pushed(
    harness: Harness,
) -> None:
    h = harness
    for uid in (BOB, DAVE):
        await h.presence(uid, "online")
    before = gateway_requests(h)
    reply = await h.command(
        "ask-available", {"community": "frontend", "message": "quick one", "mode": "one"}
    )
    assert reply.startswith(f"@frontend: Asked <@{BOB}>"), reply
    await h.until(lambda: h.dms(BOB), "the DM to bob")
    assert gateway_requests(h) == before, "pushed presence is current: nothing to confirm"


async def test_a_guild_that_removes_the_bot_is_kept_for_the_retention_window(
    harness: Harness,
) -> None:
    """GUILD_DELETE without `unavailable` (the bot was kicked) marks the tenant as gone; its
    communities stay until DATA_RETENTION_DAYS have passed (core.retention)."""
    h = harness

    async def left_at() -> object:
        return (await Tenant.get(platform="discord", external_id=str(GUILD))).uninstalled_at

    assert await left_at() is None
    await h.fake.dispatch("GUILD_DELETE", {"id": str(GUILD)})
    await h.bot.wait_for("guild_remove", timeout=TIMEOUT)
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while await left_at() is None:  # the listener's write lands in a moment (a deadline loop)
        assert asyncio.get_running_loop().time() < deadline, "the removal was not recorded"
        await asyncio.sleep(0.01)
    assert await Community.filter(tenant__external_id=str(GUILD)).exists(), "kept, for now"
