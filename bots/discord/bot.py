"""The Discord client: gateway events and application commands in, core calls out.

It translates only: options become the core's typed commands, presence becomes monitor
signals, messages become `engine.message`; every decision is the core's.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from bots.discord.commands import add_commands
from bots.discord.markup import decode, pieces
from bots.discord.platform import CUSTOM_ID_RE, NAME, DiscordPlatform, render, view_for
from bots.discord.priming import Priming
from core import keys
from core.commands import Command, CommandError, CommunityCommand, Subscribe
from core.ports import Actor, Message, Place
from core.presence.availability import Availability
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
        **client: Any,  # shard_count, shard_ids for bots.discord.shards.ShardedBot
    ) -> None:
        super().__init__(
            **client,
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
        self._on_presence: Callable[[str, str], object] | None = None
        self.priming = Priming(
            self.query_presences,
            lambda: self._engine.tracked.by_tenant() if self._engine is not None else {},
            self._spawn,
        )
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
        self._on_presence = engine.monitor.pushed(engine.tracked.canonical)

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
        """The hot path: a repeat of what the monitor already knows costs one dict lookup;
        anything else is checked against who is tracked (see `PresenceMonitor.pushed`)."""
        if payload.guild_id is None or self._on_presence is None:
            return
        tenant, user = str(payload.guild_id), str(payload.user_id)
        cs = payload.client_status
        # Discord sends one copy per shared guild; each copy updates its own tenant's key.
        state = native_state(cs.raw_status, (cs.desktop, cs.mobile, cs.web))
        if self._on_presence(keys.encode(NAME, tenant, user), state) is not None:
            self.priming.heard(tenant, user)  # pushed from now on: no need to ask about them

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """The bot was removed from the guild: its data is kept for DATA_RETENTION_DAYS."""
        if self._engine is not None:
            await self._engine.retention.left(str(guild.id))

    async def on_guild_join(self, guild: discord.Guild) -> None:
        """Invited (again): whatever the guild left behind within the window is kept."""
        if self._engine is not None:
            await self._engine.retention.returned(str(guild.id))

    async def on_guild_available(self, guild: discord.Guild) -> None:
        self.priming.arrived(str(guild.id), guild.shard_id)  # op 8, paced per shard

    async def prime(self, guild_id: int) -> None:
        """Fetch the current presence of community members not heard yet (op 8, by id, uncached)."""
        if self._engine is None:
            return
        tenant = str(guild_id)
        await self.query_presences(tenant, sorted(self._engine.tracked.users(tenant)))

    async def query_presences(self, tenant: str, user_ids: list[str]) -> int:
        """Ask the gateway for these members' presence (op 8 with presences, 100 ids a
        request, nothing cached); a member the answer carries no presence for is offline.
        Members already heard from in this guild's session are not asked again: the gateway
        pushes their changes. Returns how many are known now (the core's `check_presence`)."""
        guild = self.get_guild(int(tenant)) if tenant.isdigit() else None
        if guild is None or self._engine is None:
            return 0
        # Not heard from, or heard of only as a question still in flight (priming asked a
        # moment ago): an ask must not resolve on presence that has not arrived yet.
        heard = set(user_ids) - set(self.priming.unheard(tenant, user_ids))
        known = self._engine.monitor.availability
        unheard = [
            u
            for u in user_ids
            if u not in heard or known(keys.encode(NAME, tenant, u)) is Availability.UNKNOWN
        ]
        asked = len(user_ids) - len(unheard)
        for i in range(0, len(unheard), QUERY_BATCH):
            batch = [u for u in unheard[i : i + QUERY_BATCH] if u.isdigit()]
            if not batch:
                continue
            for u in batch:
                self.priming.heard(tenant, u)  # one question in flight, not one per ask
            try:
                members = await guild.query_members(
                    user_ids=[int(u) for u in batch], limit=len(batch), presences=True, cache=False
                )
            except (TimeoutError, discord.ClientException) as exc:
                log.warning("could not fetch presence for %d members: %s", len(batch), exc)
                self.priming.forget(tenant, batch)
                break
            asked += len(batch)
            for m in members:
                state = native_state(
                    m.raw_status,
                    (m.client_status.desktop, m.client_status.mobile, m.client_status.web),
                )
                self._engine.monitor.native(keys.encode(NAME, tenant, str(m.id)), state)
        return asked

    # -- messages ---------------------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        """`@handle` or a linked role's mention is a group request; anything else is activity."""
        if message.author.bot or message.guild is None or self._engine is None:
            return
        tenant = str(message.guild.id)
        groups = [str(r) for r in message.raw_role_mentions]
        text = decode(message.content, groups)
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
        self, interaction: discord.Interaction[Any], build: Callable[[], Command]
    ) -> None:
        """Defer first (Discord's 3 seconds), build the typed command from the options (a
        bad value is refused here, in the core's words), run it, answer privately."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        if interaction.guild_id is None:
            await self._reply(interaction, Message.of("Use groupcast commands in a server."), "0")
            return
        tenant = str(interaction.guild_id)
        try:
            command = build()
        except CommandError as exc:
            await self._reply(interaction, exc.reply(), tenant)
            return
        actor = self._actor(tenant, interaction.user)
        link = f"https://discord.com/channels/{tenant}/{interaction.channel_id}"
        place = Place(str(interaction.channel_id), None, link)
        reply = await self.engine.run(actor, command, place)
        await self._reply(interaction, reply, tenant)
        if isinstance(command, CommunityCommand):
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
            try:
                reply = await self.engine.run(actor, Subscribe(value, once=True), place)
            except CommandError as exc:  # not a handle: a forged button
                reply = exc.reply()
        else:
            reply = await self.engine.answer(actor, value, action == "accept")
        await self._reply(interaction, reply, tenant)

    async def _reply(
        self, interaction: discord.Interaction[Any], message: Message, tenant: str
    ) -> None:
        """Every piece of a long answer as its own followup; buttons on the last."""
        text, allowed = render(message)
        parts = pieces(text or "…")
        for i, piece in enumerate(parts):
            view = view_for(message, tenant) if i == len(parts) - 1 else None
            if view is not None:
                view.stop()  # not tracked by discord.py's view store: AskButton handles the press
                await interaction.followup.send(
                    piece.content,
                    embeds=piece.embeds,
                    ephemeral=True,
                    allowed_mentions=allowed,
                    view=view,
                )
            else:
                await interaction.followup.send(
                    piece.content, embeds=piece.embeds, ephemeral=True, allowed_mentions=allowed
                )

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
