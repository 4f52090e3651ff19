"""Discord shards across processes: DISCORD_SHARD_COUNT in all, DISCORD_SHARD_IDS in this one.

discord.py's AutoShardedClient runs the shards this process was given; Discord sends a guild's
events (interactions, presence, messages) only to the shard that owns it, shard =
(guild_id >> 22) % shard_count, so this process also takes only those guilds' sweeps
(timeouts, re-asks, notices, pinned views) through the engine's `ownership`.
"""

from __future__ import annotations

import warnings
from typing import Any

from bots.discord.bot import GroupcastBot
from core.config import ConfigError, Settings
from core.engine import Engine

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord


def shard_of(guild_id: int, count: int) -> int:
    """Discord's formula for the shard that receives a guild's events."""
    return (guild_id >> 22) % count


def parse_ids(raw: str | None, count: int) -> list[int]:
    """ "0,1" or "0-3" (or both, "0-1,5"); unset means every shard."""
    if raw is None or not raw.strip():
        return list(range(count))
    ids: set[int] = set()
    try:
        for part in raw.split(","):
            first, _, last = part.strip().partition("-")
            ids.update(range(int(first), int(last or first) + 1))
    except ValueError:
        raise ConfigError(f"DISCORD_SHARD_IDS: {raw!r} is not like 0,1 or 0-3") from None
    wrong = sorted(i for i in ids if not 0 <= i < count)
    if wrong or not ids:
        raise ConfigError(
            f"DISCORD_SHARD_IDS: {wrong or raw} not within 0-{count - 1} (DISCORD_SHARD_COUNT={count})"
        )
    return sorted(ids)


class Shards:
    """The shards this process runs, and whether a guild (a tenant id) belongs to them."""

    def __init__(self, count: int, ids: list[int]) -> None:
        self.count = count
        self.ids = frozenset(ids)

    def owns(self, tenant: str) -> bool:
        try:
            return shard_of(int(tenant), self.count) in self.ids
        except ValueError:
            return False  # not a guild id: not ours


class ShardedBot(GroupcastBot, discord.AutoShardedClient):
    """The same bot over several gateway connections; its engine sweeps only its guilds."""

    def __init__(self, settings: Settings, shards: Shards, **options: Any) -> None:
        self.owned = shards
        super().__init__(
            settings, shard_count=shards.count, shard_ids=sorted(shards.ids), **options
        )

    def attach(self, engine: Engine) -> None:
        super().attach(engine)
        engine.ownership.owns = self.owned.owns


def make_bot(settings: Settings, **options: Any) -> GroupcastBot:
    """One connection (the default), or the shards DISCORD_SHARD_COUNT/IDS give this process."""
    count = settings.discord_shard_count
    if count is None:
        if settings.discord_shard_ids:
            raise ConfigError("DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT (the total)")
        return GroupcastBot(settings, **options)
    return ShardedBot(
        settings, Shards(count, parse_ids(settings.discord_shard_ids, count)), **options
    )
