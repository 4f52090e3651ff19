"""A real, unmodified discord.py client against the Discord stand-in, end to end."""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.standins.discord_api import OP_REQUEST_GUILD_MEMBERS, DiscordStandin

with warnings.catch_warnings():
    # discord.py imports the deprecated stdlib audioop; see tests/standins/discord_api.py.
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord
    from discord import app_commands

GUILD = 700000000000000001
BIG_GUILD = 700000000000000002
CHANNEL = 710000000000000001
ROLE = 720000000000000001
ALICE = 730000000000000001
BOB = 730000000000000002
CAROL = 730000000000000003
TIMEOUT = 30.0  # a deadline, never waited out when things work: generous for a loaded machine


def _intents() -> discord.Intents:
    """Default intents plus the three privileged ones the bot asks for."""
    intents = discord.Intents.default()
    intents.members = True
    intents.presences = True
    intents.message_content = True
    return intents


def _client() -> discord.Client:
    """A client that declares ready 50 ms after the last GUILD_CREATE instead of 2 s."""
    return discord.Client(intents=_intents(), guild_ready_timeout=0.05)


@pytest.fixture
async def standin() -> AsyncIterator[DiscordStandin]:
    """A running stand-in with one guild, and discord.py pointed at it."""
    async with DiscordStandin() as fake:
        fake.add_user(CAROL, "carol", dm_closed=True)
        fake.add_guild(
            GUILD,
            "Ops",
            roles=[(ROLE, "oncall")],
            channels=[(CHANNEL, "general")],
            members=[(ALICE, "alice", [ROLE]), (BOB, "bob", []), (CAROL, "carol", [])],
        )
        fake.set_presence(GUILD, ALICE, "online")
        with fake.redirect_discord_py():
            yield fake


@contextlib.asynccontextmanager
async def running(client: discord.Client, fake: DiscordStandin) -> AsyncIterator[discord.Client]:
    """Start the client, wait for on_ready, and always close it before the server goes."""
    async with client:
        runner = asyncio.create_task(client.start(fake.token))
        ready = asyncio.create_task(client.wait_until_ready())
        done, _ = await asyncio.wait(
            {runner, ready}, timeout=TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            await client.close()
            await runner  # surfaces the start() error, if that is why we are not ready
            pytest.fail("client did not become ready")
        try:
            yield client
        finally:
            await client.close()
            await asyncio.wait_for(runner, TIMEOUT)


def _future() -> asyncio.Future[Any]:
    """A future on the running loop for event handlers to resolve."""
    return asyncio.get_running_loop().create_future()


async def test_client_connects_and_caches_guild(standin: DiscordStandin) -> None:
    """READY + GUILD_CREATE give discord.py its user, guild, roles, channels and members."""
    async with running(_client(), standin) as client:
        assert client.user is not None
        assert client.user.id == standin.bot_id
        assert client.application_id == standin.application_id
        guild = client.get_guild(GUILD)
        assert guild is not None
        assert guild.get_channel(CHANNEL) is not None
        assert guild.get_role(ROLE) is not None
        assert {m.id for m in guild.members} == {standin.bot_id, ALICE, BOB, CAROL}
        alice = guild.get_member(ALICE)
        assert alice is not None
        assert alice.status is discord.Status.online
        assert standin.intents == _intents().value
        assert standin.calls_to("GET", r"^/users/@me$")


async def test_presence_update_reaches_client(standin: DiscordStandin) -> None:
    """A pushed PRESENCE_UPDATE updates the cached member and fires on_presence_update."""
    client = _client()
    got = _future()

    @client.event
    async def on_presence_update(before: discord.Member, after: discord.Member) -> None:
        if not got.done():
            got.set_result((before.status, after))

    async with running(client, standin):
        delivered = await standin.dispatch(
            "PRESENCE_UPDATE",
            standin.presence_update(GUILD, BOB, "idle", client_status={"mobile": "idle"}),
        )
        assert delivered == 1
        before, after = await asyncio.wait_for(got, TIMEOUT)
        assert before is discord.Status.offline
        assert after.id == BOB
        assert after.status is discord.Status.idle
        assert after.mobile_status is discord.Status.idle


async def test_message_create_reaches_on_message(standin: DiscordStandin) -> None:
    """MESSAGE_CREATE with role and user mentions arrives as a full discord.Message."""
    client = _client()
    got = _future()

    @client.event
    async def on_message(message: discord.Message) -> None:
        if message.author.id == ALICE and not got.done():
            got.set_result(message)

    async with running(client, standin):
        await standin.dispatch(
            "MESSAGE_CREATE",
            standin.message_create(
                GUILD, CHANNEL, ALICE, f"<@&{ROLE}> <@{BOB}> db is down", [ROLE], [BOB]
            ),
        )
        message = await asyncio.wait_for(got, TIMEOUT)
        assert message.content.endswith("db is down")
        assert message.guild is not None
        assert message.guild.id == GUILD
        assert [r.id for r in message.role_mentions] == [ROLE]
        assert [u.id for u in message.mentions] == [BOB]
        assert isinstance(message.author, discord.Member)


async def test_slash_command_defers_and_follows_up(standin: DiscordStandin) -> None:
    """INTERACTION_CREATE reaches a CommandTree command; its defer and followup are recorded."""
    client = _client()
    tree = app_commands.CommandTree(client)
    done = _future()

    @tree.command(name="ask", description="Ask who is available")
    async def ask(interaction: discord.Interaction, topic: str) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send(f"asking about {topic}")
        done.set_result(topic)

    async def on_error(
        interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        if not done.done():
            done.set_exception(error)

    tree.on_error = on_error  # type: ignore[method-assign]

    async with running(client, standin):
        synced = await tree.sync()
        assert [c.name for c in synced] == ["ask"]
        assert standin.commands()[0]["options"][0]["name"] == "topic"
        payload = standin.interaction_command(GUILD, CHANNEL, ALICE, "ask", {"topic": "db"})
        await standin.dispatch("INTERACTION_CREATE", payload)
        assert await asyncio.wait_for(done, TIMEOUT) == "db"

    callback = standin.calls_to("POST", r"^/interactions/\d+/[^/]+/callback$")
    assert [c.json["type"] for c in callback] == [5]
    assert callback[0].path == f"/interactions/{payload['id']}/{payload['token']}/callback"
    followups = standin.calls_to("POST", rf"^/webhooks/{standin.application_id}/[^/]+$")
    assert [c.json["content"] for c in followups] == ["asking about db"]
    assert all(c.status == 200 for c in callback + followups)


async def test_dm_to_closed_user_is_forbidden_50007(standin: DiscordStandin) -> None:
    """Opening the DM works; sending into it fails the way Discord does (403, code 50007)."""
    async with running(_client(), standin) as client:
        bob = client.get_user(BOB)
        carol = client.get_user(CAROL)
        assert bob is not None
        assert carol is not None
        sent = await bob.send("you are needed")
        assert sent.content == "you are needed"
        with pytest.raises(discord.Forbidden) as excinfo:
            await carol.send("you are needed")
        assert excinfo.value.code == 50007
        assert excinfo.value.status == 403
    assert len(standin.calls_to("POST", r"^/users/@me/channels$")) == 2


async def test_single_429_is_retried_by_discord_py(standin: DiscordStandin) -> None:
    """discord.py honours retry_after from a 429 and the resend succeeds."""
    async with running(_client(), standin) as client:
        channel = client.get_channel(CHANNEL)
        assert isinstance(channel, discord.TextChannel)
        standin.fail_next(r"^/channels/\d+/messages$", 1, retry_after=0.05)
        message = await asyncio.wait_for(channel.send("hello"), TIMEOUT)
        assert message.content == "hello"
    posts = standin.calls_to("POST", rf"^/channels/{CHANNEL}/messages$")
    assert [c.status for c in posts] == [429, 200]
    assert posts[1].at - posts[0].at >= 0.05
    assert standin.rate_limited["POST /channels/{channel_id}/messages"] == 1


async def test_disallowed_privileged_intents_close_4014(standin: DiscordStandin) -> None:
    """Close code 4014 makes client.start raise PrivilegedIntentsRequired."""
    standin.privileged_intents = 0
    client = _client()
    async with client:
        with pytest.raises(discord.PrivilegedIntentsRequired):
            await asyncio.wait_for(client.start(standin.token), TIMEOUT)
    assert standin.intents == _intents().value


async def test_large_guild_is_chunked_over_op_8(standin: DiscordStandin) -> None:
    """A large guild arrives without offline members; discord.py's op 8 chunk fills them in."""
    standin.add_guild(
        BIG_GUILD,
        "Big",
        channels=[(CHANNEL + 1, "general")],
        members=[(800000000000000000 + i, f"member{i}", []) for i in range(300)],
    )
    async with running(_client(), standin) as client:
        guild = client.get_guild(BIG_GUILD)
        assert guild is not None
        assert guild.member_count == 301
        assert len(guild.members) == 301
        assert guild.chunked
    requests = [p["d"] for p in standin.gateway_received if p["op"] == OP_REQUEST_GUILD_MEMBERS]
    assert [(r["guild_id"], r["query"], r["limit"]) for r in requests] == [(BIG_GUILD, "", 0)]


async def test_dropped_connection_resumes(standin: DiscordStandin) -> None:
    """After a 4000 close discord.py RESUMEs, and events sent meanwhile are replayed."""
    client = _client()
    resumed = _future()
    got = _future()

    @client.event
    async def on_resumed() -> None:
        if not resumed.done():
            resumed.set_result(True)

    @client.event
    async def on_message(message: discord.Message) -> None:
        if message.author.id == ALICE and not got.done():
            got.set_result(message.content)

    async with running(client, standin):
        await standin.drop_connections(4000)
        await standin.dispatch(
            "MESSAGE_CREATE", standin.message_create(GUILD, CHANNEL, ALICE, "hi")
        )
        await asyncio.wait_for(resumed, TIMEOUT)
        assert await asyncio.wait_for(got, TIMEOUT) == "hi"
    assert len(standin.identifies) == 1


async def test_autocomplete_and_button_interactions(standin: DiscordStandin) -> None:
    """Autocomplete (type 4) and a button press (type 3) reach discord.py's handlers."""
    client = _client()
    tree = app_commands.CommandTree(client)
    pressed = _future()

    async def topics(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=t, value=t) for t in ("db", "dns") if t.startswith(current)
        ]

    @tree.command(name="ask", description="Ask who is available")
    @app_commands.autocomplete(topic=topics)
    async def ask(interaction: discord.Interaction, topic: str) -> None:
        await interaction.response.send_message(topic)

    class Confirm(discord.ui.View):
        """A persistent view so the press is routed by custom_id."""

        def __init__(self) -> None:
            super().__init__(timeout=None)

        @discord.ui.button(label="I'm in", custom_id="confirm:1")
        async def confirm(
            self, interaction: discord.Interaction, button: discord.ui.Button[Any]
        ) -> None:
            await interaction.response.defer()
            pressed.set_result(interaction.user.id)

    async with running(client, standin):
        client.add_view(Confirm())
        await tree.sync()
        typing = standin.interaction_autocomplete(
            GUILD, CHANNEL, ALICE, "ask", {"topic": "d"}, "topic"
        )
        await standin.dispatch("INTERACTION_CREATE", typing)
        await standin.dispatch(
            "INTERACTION_CREATE", standin.interaction_component(GUILD, CHANNEL, BOB, "confirm:1")
        )
        assert await asyncio.wait_for(pressed, TIMEOUT) == BOB
        await standin.wait_for_call("POST", rf"^/interactions/{typing['id']}/", TIMEOUT)

    bodies = [c.json for c in standin.calls_to("POST", r"^/interactions/\d+/[^/]+/callback$")]
    autocomplete = next(b for b in bodies if b["type"] == 8)
    assert [c["value"] for c in autocomplete["data"]["choices"]] == ["db", "dns"]
    assert {"type": 6} in bodies
