"""The Discord client: gateway events and application commands in, core calls out.

It translates only: options become the core's command text, presence becomes monitor
signals, messages become `engine.message`; every decision is the core's.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

from bots.discord.platform import CUSTOM_ID_RE, NAME, DiscordPlatform, render, view_for
from core import views
from core.directory import presence_key
from core.ports import Actor, Message, Place
from core.presence.signals import DND, IDLE, OFFLINE, ONLINE

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord
    from discord import app_commands

if TYPE_CHECKING:
    from core.config import Settings
    from core.engine import Engine

log = logging.getLogger(__name__)

STATES = {"online": ONLINE, "idle": IDLE, "dnd": DND}
QUERY_BATCH = 100  # REQUEST_GUILD_MEMBERS takes at most 100 user ids
MODES = {"one": "--one", "all": "--all", "count": "--count", "everyone": "--everyone"}


def native_state(status: str, clients: Iterable[str | None]) -> str:
    """Discord status to the monitor's native state: online on any client counts as online."""
    if ONLINE in clients:
        return ONLINE
    return STATES.get(status, OFFLINE)  # offline, invisible, unknown


def intents(*, message_content: bool) -> discord.Intents:
    """Guilds, members and presences (privileged), guild messages, and optionally content."""
    chosen = discord.Intents.none()
    chosen.guilds = True
    chosen.members = True
    chosen.presences = True
    chosen.guild_messages = True
    chosen.message_content = message_content
    return chosen


class GroupcastBot(discord.Client):
    """One process's connection to Discord, holding no member cache."""

    def __init__(
        self,
        settings: Settings,
        *,
        message_content: bool = True,
        guild_ready_timeout: float = 2.0,
    ) -> None:
        super().__init__(
            intents=intents(message_content=message_content),
            # Memory proportional to community members, not guild members: cache no members,
            # chunk nothing at start, take presence from raw events.
            member_cache_flags=discord.MemberCacheFlags.none(),
            chunk_guilds_at_startup=False,
            enable_raw_presences=True,
            max_messages=None,
            guild_ready_timeout=guild_ready_timeout,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.settings = settings
        self.message_content = message_content
        self.platform = DiscordPlatform(self.http)
        self.platform.querier = self.query_presences
        self.tree = app_commands.CommandTree(self)
        self._engine: Engine | None = None
        self._primed: set[str] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._warned_content = False
        add_commands(self.tree, self)

    @property
    def engine(self) -> Engine:
        """The core, attached once `core.bootstrap.running` has started it."""
        if self._engine is None:
            raise RuntimeError("the engine is not attached yet")
        return self._engine

    def attach(self, engine: Engine) -> None:
        self._engine = engine

    async def setup_hook(self) -> None:
        """Buttons work after a restart (dynamic items), and commands are registered."""
        self.add_dynamic_items(AskButton)
        dev = self.settings.discord_dev_guild
        if dev:
            guild = discord.Object(id=dev)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()

    # -- presence ---------------------------------------------------------------------

    async def on_raw_presence_update(self, payload: discord.RawPresenceUpdateEvent) -> None:
        """The hot path: one set lookup for people in no community, one monitor call otherwise."""
        if payload.guild_id is None or self._engine is None:
            return
        key = presence_key(NAME, str(payload.guild_id), str(payload.user_id))
        if key not in self._engine.tracked:
            return
        cs = payload.client_status
        # Discord sends one copy per shared guild; each copy updates its own tenant's key
        # once, and the monitor's same-state fast path makes repeats no-ops.
        self._engine.monitor.native(
            key, native_state(cs.raw_status, (cs.desktop, cs.mobile, cs.web))
        )

    async def on_guild_available(self, guild: discord.Guild) -> None:
        self._spawn(self.prime(guild.id))

    async def prime(self, guild_id: int) -> None:
        """Fetch the current presence of community members not seen yet (op 8, by id, uncached)."""
        if self._engine is None:
            return
        prefix = presence_key(NAME, str(guild_id), "")
        wanted = sorted(
            k[len(prefix) :]
            for k in self._engine.tracked
            if k.startswith(prefix) and k not in self._primed
        )
        await self.query_presences(str(guild_id), wanted)

    async def query_presences(self, tenant: str, user_ids: list[str]) -> int:
        """Ask the gateway for these members' presence (op 8 with presences, 100 ids a
        request, nothing cached); a member the answer carries no presence for is offline.
        Returns how many were asked about (the core's `check_presence`)."""
        guild = self.get_guild(int(tenant)) if tenant.isdigit() else None
        if guild is None or self._engine is None:
            return 0
        prefix = presence_key(NAME, tenant, "")
        asked = 0
        for i in range(0, len(user_ids), QUERY_BATCH):
            batch = [u for u in user_ids[i : i + QUERY_BATCH] if u.isdigit()]
            keys = [prefix + u for u in batch]
            self._primed.update(keys)
            if not batch:
                continue
            try:
                members = await guild.query_members(
                    user_ids=[int(u) for u in batch], limit=len(batch), presences=True, cache=False
                )
            except (TimeoutError, discord.ClientException) as exc:
                log.warning("could not fetch presence for %d members: %s", len(batch), exc)
                self._primed.difference_update(keys)
                break
            asked += len(batch)
            for m in members:
                state = native_state(
                    m.raw_status,
                    (m.client_status.desktop, m.client_status.mobile, m.client_status.web),
                )
                self._engine.monitor.native(prefix + str(m.id), state)
        return asked

    # -- messages ---------------------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        """`@handle` or a linked role's mention is a group request; anything else is activity."""
        if message.author.bot or message.guild is None or self._engine is None:
            return
        tenant = str(message.guild.id)
        groups = [str(r) for r in message.raw_role_mentions]
        text = message.content
        if not self.message_content and not self._warned_content:
            self._warned_content = True
            log.warning(
                "no Message Content intent: @handle mentions in messages are not seen; "
                "linked role mentions and commands still work"
            )
        actor = self._actor(tenant, message.author)
        if not self._engine.addresses_group(text, groups):
            self._engine.activity(actor, "message")
            return
        place = Place(str(message.channel.id), str(message.id), message.jump_url)
        reply = await self._engine.message(
            actor, text or "(open the message to read it)", place, groups
        )
        if reply is not None:
            await self.platform.post(tenant, place.channel or "", reply, place.thread)

    # -- interactions -----------------------------------------------------------------

    async def run_command(
        self, interaction: discord.Interaction[Any], name: str, text: str
    ) -> None:
        """Defer first (Discord's 3 seconds), ask the core, answer privately."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        if interaction.guild_id is None:
            await self._reply(interaction, Message.of("Use groupcast commands in a server."), "0")
            return
        tenant = str(interaction.guild_id)
        actor = self._actor(tenant, interaction.user)
        link = f"https://discord.com/channels/{tenant}/{interaction.channel_id}"
        place = Place(str(interaction.channel_id), None, link)
        reply = await self.engine.command(actor, name, text, place)
        await self._reply(interaction, reply, tenant)
        if name == "community":
            self._spawn(self.prime(interaction.guild_id))

    async def on_button(
        self, interaction: discord.Interaction[Any], action: str, value: str, tenant: str
    ) -> None:
        """Accept, decline, or subscribe-once pressed; the core checks who may press it."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        if interaction.guild_id is not None and str(interaction.guild_id) != tenant:
            await self._reply(
                interaction, Message.of("That button belongs to another server."), tenant
            )
            return
        actor = self._actor(tenant, interaction.user)
        if action == "subscribe":
            place = Place(str(interaction.channel_id), None, None)
            reply = await self.engine.command(
                actor, "community", f"subscribe {value} --once", place
            )
        else:
            reply = await self.engine.answer(actor, value, action == "accept")
        await self._reply(interaction, reply, tenant)

    async def _reply(
        self, interaction: discord.Interaction[Any], message: Message, tenant: str
    ) -> None:
        text, allowed = render(message)
        view = view_for(message, tenant)
        if view is not None:
            view.stop()  # not tracked by discord.py's view store: AskButton handles the press
            await interaction.followup.send(
                text or "…", ephemeral=True, allowed_mentions=allowed, view=view
            )
        else:
            await interaction.followup.send(text or "…", ephemeral=True, allowed_mentions=allowed)

    @staticmethod
    def _actor(tenant: str, user: discord.abc.User) -> Actor:
        return Actor(NAME, tenant, str(user.id), user.display_name)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await super().close()


class AskButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=CUSTOM_ID_RE):
    """Every groupcast button, recognised by its custom id alone, so it survives a restart."""

    def __init__(self, action: str, value: str, tenant: str) -> None:
        super().__init__(
            discord.ui.Button(custom_id=f"groupcast:{action}:{value}:{tenant}", label=action)
        )
        self.action = action
        self.value = value
        self.tenant = tenant

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: Any,
        /,
    ) -> AskButton:
        return cls(match["action"], match["value"], match["tenant"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        client = interaction.client
        assert isinstance(client, GroupcastBot)
        await client.on_button(interaction, self.action, self.value, self.tenant)


# -- application commands -------------------------------------------------------------


def add_commands(tree: app_commands.CommandTree[Any], bot: GroupcastBot) -> None:
    """The design's grammar as application commands; each builds the core's command text."""

    async def handles(
        interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None or bot._engine is None:
            return []
        found = await community_handles(bot._engine, str(interaction.guild_id), current)
        return [app_commands.Choice(name=label[:100], value=h) for h, label in found]

    @tree.command(name="ask-available", description="Ask whoever is available in a community")
    @app_commands.guild_only()
    @app_commands.describe(
        community="The community to ask",
        message="What you need",
        mode="Whom to reach (default: one available member)",
        count="With mode 'count': how many members",
    )
    @app_commands.autocomplete(community=handles)
    async def ask_available(
        interaction: discord.Interaction[Any],
        community: str,
        message: str,
        mode: Literal["one", "all", "count", "everyone"] = "one",
        count: app_commands.Range[int, 1, 100] | None = None,
    ) -> None:
        flag = MODES[mode]
        if mode == "count":
            flag = f"--count {count if count is not None else ''}".rstrip()
        await bot.run_command(interaction, "ask-available", f"{community} {flag} {message}")

    group = app_commands.Group(
        name="community", description="Communities of interest", guild_only=True
    )

    @group.command(name="create", description="Start a community; you become its owner")
    @app_commands.describe(handle="lower-case name, 2-32 of a-z 0-9 - _", title="A title")
    async def create(interaction: discord.Interaction[Any], handle: str, title: str = "") -> None:
        await bot.run_command(interaction, "community", f"create {handle} {title}".strip())

    for action, description in (
        ("delete", "Delete a community (owners)"),
        ("join", "Join a community"),
        ("leave", "Leave a community"),
        ("show", "Members and their availability"),
        ("unsubscribe", "Stop following a community's availability"),
        ("pin", "Post a live availability message in this channel"),
    ):
        _handle_only(group, bot, action, description, handles)

    @group.command(name="add", description="Add someone to a community")
    @app_commands.autocomplete(handle=handles)
    async def add(interaction: discord.Interaction[Any], handle: str, user: discord.User) -> None:
        await bot.run_command(interaction, "community", f"add {handle} <@{user.id}>")

    @group.command(name="remove", description="Remove someone from a community (owners)")
    @app_commands.autocomplete(handle=handles)
    async def remove(
        interaction: discord.Interaction[Any], handle: str, user: discord.User
    ) -> None:
        await bot.run_command(interaction, "community", f"remove {handle} <@{user.id}>")

    @group.command(name="list", description="Communities in this server")
    async def list_(interaction: discord.Interaction[Any]) -> None:
        await bot.run_command(interaction, "community", "list")

    @group.command(name="subscribe", description="Hear when a community's availability changes")
    @app_commands.describe(once="Only tell me once, when someone becomes available")
    @app_commands.autocomplete(handle=handles)
    async def subscribe(
        interaction: discord.Interaction[Any], handle: str, once: bool = False
    ) -> None:
        await bot.run_command(
            interaction, "community", f"subscribe {handle}{' --once' if once else ''}"
        )

    @group.command(name="set", description="Change a community's settings (owners)")
    @app_commands.describe(
        setting="strategy, mention, capacity or owner",
        value="least-recent|round-robin|random|longest-idle · one|available|everyone · N · @user",
    )
    @app_commands.autocomplete(handle=handles)
    async def set_(
        interaction: discord.Interaction[Any],
        handle: str,
        setting: Literal["strategy", "mention", "capacity", "owner"],
        value: str,
    ) -> None:
        await bot.run_command(interaction, "community", f"set {handle} {setting} {value}")

    @group.command(
        name="link", description="Link a role: mentioning it asks the community (owners)"
    )
    @app_commands.autocomplete(handle=handles)
    async def link(interaction: discord.Interaction[Any], handle: str, role: discord.Role) -> None:
        await bot.run_command(interaction, "community", f"link {handle} <group:{role.id}>")

    tree.add_command(group)

    @tree.command(name="available", description="Back to automatic, or available for a while")
    @app_commands.guild_only()
    @app_commands.describe(duration="For how long, e.g. 2h (empty: back to automatic)")
    async def available(interaction: discord.Interaction[Any], duration: str = "") -> None:
        await bot.run_command(interaction, "available", duration)

    @tree.command(name="away", description="Mark yourself away")
    @app_commands.guild_only()
    @app_commands.describe(duration="For how long, e.g. 1h30m", note="Why, shown to others")
    async def away(
        interaction: discord.Interaction[Any], duration: str = "", note: str = ""
    ) -> None:
        await bot.run_command(interaction, "away", f"{duration} {note}".strip())

    @tree.command(name="busy", description="Mark yourself busy")
    @app_commands.guild_only()
    @app_commands.describe(duration="For how long, e.g. 45m", note="Why, shown to others")
    async def busy(
        interaction: discord.Interaction[Any], duration: str = "", note: str = ""
    ) -> None:
        await bot.run_command(interaction, "busy", f"{duration} {note}".strip())

    @tree.command(name="hours", description="Your working hours, or 'off'")
    @app_commands.guild_only()
    @app_commands.describe(
        hours="HH:MM-HH:MM, or off", days="e.g. Mon-Fri", timezone="e.g. Europe/Berlin"
    )
    async def hours(
        interaction: discord.Interaction[Any], hours: str, days: str = "", timezone: str = ""
    ) -> None:
        await bot.run_command(interaction, "hours", f"{hours} {days} {timezone}".strip())

    @tree.error
    async def on_error(
        interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        log.error("command failed", exc_info=error)
        if interaction.response.is_done():
            await interaction.followup.send("Something went wrong; try again.", ephemeral=True)


def _handle_only(
    group: app_commands.Group, bot: GroupcastBot, action: str, description: str, handles: Any
) -> None:
    """A `/community <action> <handle>` subcommand."""

    @group.command(name=action, description=description)
    @app_commands.describe(handle="The community")
    @app_commands.autocomplete(handle=handles)
    async def command(interaction: discord.Interaction[Any], handle: str) -> None:
        await bot.run_command(interaction, "community", f"{action} {handle}")


async def community_handles(engine: Engine, tenant: str, current: str) -> list[tuple[str, str]]:
    """Autocomplete choices: (handle, label) pairs, at most 25 as Discord allows."""
    rows = await views.handles(engine, NAME, tenant, current, limit=25)
    return [(h, f"@{h} — {t}" if t else f"@{h}") for h, t in rows]
