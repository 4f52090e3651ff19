"""Benchmark payloads must look like Discord's and be accepted by discord.py, or figures lie.

Correctness only: nothing here asserts on timings.
"""

from __future__ import annotations

import warnings
from datetime import datetime
from typing import Any

import pytest

from bench.baselines import (
    BENCH_GUILD_ID,
    Figure,
    discordpy_guild,
    discordpy_member_memory,
    discordpy_presence_parse,
    discordpy_state,
    markdown_table,
    percentile,
)
from bench.baselines import _parse_redis_benchmark_csv as parse_redis_csv
from bench.payloads import (
    DISCORD_EPOCH_MS,
    guild_create,
    guild_members,
    iter_guild_members,
    presence_updates,
)

with warnings.catch_warnings():  # discord.py imports the deprecated stdlib audioop (voice)
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord

SEED = 7
STATUSES = {"online", "idle", "dnd", "offline"}
PLATFORMS = {"desktop", "mobile", "web"}


@pytest.fixture(scope="module")
def members() -> list[dict[str, Any]]:
    """A small guild's members, shared because generating them is the slow part."""
    return guild_members(40, BENCH_GUILD_ID, SEED)


@pytest.fixture(scope="module")
def updates(members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Enough presence updates that every activity kind shows up."""
    user_ids = [int(member["user"]["id"]) for member in members]
    return presence_updates(600, BENCH_GUILD_ID, user_ids, SEED)


def _is_snowflake(value: object) -> bool:
    """Snowflakes travel as decimal strings whose top bits are a time after Discord's epoch."""
    return isinstance(value, str) and value.isdigit() and (int(value) >> 22) > 0


def test_presence_update_has_documented_fields(
    updates: list[dict[str, Any]], members: list[dict[str, Any]]
) -> None:
    """Top-level PRESENCE_UPDATE fields and the client_status object match the docs."""
    known_ids = {member["user"]["id"] for member in members}
    for update in updates:
        assert set(update) == {"user", "guild_id", "status", "activities", "client_status"}
        assert set(update["user"]) == {"id"}  # partial user: only the id is guaranteed
        assert update["user"]["id"] in known_ids
        assert update["guild_id"] == str(BENCH_GUILD_ID)
        assert update["status"] in STATUSES
        assert set(update["client_status"]) <= PLATFORMS
        assert set(update["client_status"].values()) <= STATUSES - {"offline"}
        if update["status"] == "offline":
            assert update["activities"] == []
            assert update["client_status"] == {}
        else:
            assert update["client_status"]


def test_activities_cover_documented_kinds(updates: list[dict[str, Any]]) -> None:
    """Games, custom statuses and Spotify each appear, shaped like Discord's Activity object."""
    seen: set[str] = set()
    empty = 0
    for update in updates:
        empty += not update["activities"]
        for activity in update["activities"]:
            assert isinstance(activity["name"], str)
            assert isinstance(activity["created_at"], int)
            assert activity["created_at"] > DISCORD_EPOCH_MS  # Unix milliseconds
            if activity["type"] == 0:
                seen.add("game")
                assert activity["timestamps"]["start"] > DISCORD_EPOCH_MS
                if "application_id" in activity:
                    assert _is_snowflake(activity["application_id"])
                    seen.add("rich game")
            elif activity["type"] == 4:
                seen.add("custom")
                assert (activity["id"], activity["name"]) == ("custom", "Custom Status")
                assert "state" in activity or "emoji" in activity
                if "emoji" in activity:
                    assert isinstance(activity["emoji"]["name"], str)
                    if "id" in activity["emoji"]:
                        assert _is_snowflake(activity["emoji"]["id"])
                        assert isinstance(activity["emoji"]["animated"], bool)
            elif activity["type"] == 2:
                seen.add("spotify")
                assert activity["name"] == "Spotify"
                assert activity["flags"] == 16 | 32  # SYNC | PLAY
                assert len(activity["sync_id"]) == 22
                assert len(activity["session_id"]) == 32
                assert activity["party"]["id"] == f"spotify:{update['user']['id']}"
                assert activity["timestamps"]["start"] < activity["timestamps"]["end"]
                assert activity["assets"]["large_image"].startswith("spotify:")
            else:
                pytest.fail(f"unexpected activity type {activity['type']}")
    assert seen == {"game", "rich game", "custom", "spotify"}
    assert 0 < empty < len(updates)


def test_generators_are_deterministic(members: list[dict[str, Any]]) -> None:
    """Same seed, same bytes: ours and the baseline must parse identical input."""
    user_ids = [int(member["user"]["id"]) for member in members]
    assert guild_members(40, BENCH_GUILD_ID, SEED) == members
    first = presence_updates(50, BENCH_GUILD_ID, user_ids, SEED)
    assert presence_updates(50, BENCH_GUILD_ID, user_ids, SEED) == first
    assert presence_updates(50, BENCH_GUILD_ID, user_ids, SEED + 1) != first


def test_guild_member_has_documented_fields(members: list[dict[str, Any]]) -> None:
    """Guild Member and User objects carry the documented fields with the documented types."""
    assert len({member["user"]["id"] for member in members}) == len(members)
    for member in members:
        user = member["user"]
        assert _is_snowflake(user["id"])
        assert user["discriminator"] == "0"  # migrated usernames
        assert 2 <= len(user["username"]) <= 32
        assert user["username"] == user["username"].lower()
        assert user["global_name"] is None or isinstance(user["global_name"], str)
        assert user["avatar"] is None or len(user["avatar"].removeprefix("a_")) == 32
        assert all(_is_snowflake(role) for role in member["roles"])
        assert datetime.fromisoformat(member["joined_at"]).tzinfo is not None
        assert member["nick"] is None or isinstance(member["nick"], str)
        assert isinstance(member["flags"], int)
        assert member["deaf"] is False
        assert member["mute"] is False


def test_member_generator_streams_the_same_members(members: list[dict[str, Any]]) -> None:
    """The lazy generator used for 1M members yields exactly what the list version returns."""
    assert list(iter_guild_members(40, BENCH_GUILD_ID, SEED)) == members
    with pytest.raises(ValueError, match="unique"):
        next(iter_guild_members(1 << 23, BENCH_GUILD_ID, SEED))


def test_discordpy_accepts_presence_updates(
    updates: list[dict[str, Any]], members: list[dict[str, Any]]
) -> None:
    """discord.py's parser applies each update to the cached member: status, clients, activity."""
    state = discordpy_state()
    guild = discordpy_guild(state, BENCH_GUILD_ID, members, SEED)
    assert len(guild.members) == len(members)
    for update in updates[:200]:
        expected_kinds = [activity["type"] for activity in update["activities"]]
        state.parse_presence_update(update)  # type: ignore[arg-type]
        member = guild.get_member(int(update["user"]["id"]))
        assert member is not None
        assert member.status == discord.Status(update["status"])
        assert member.desktop_status == discord.Status(
            update["client_status"].get("desktop", "offline")
        )
        assert [activity.type.value for activity in member.activities] == expected_kinds
        for activity in member.activities:
            if activity.type is discord.ActivityType.listening:
                assert isinstance(activity, discord.Spotify)
                assert activity.track_id
            elif activity.type is discord.ActivityType.custom:
                assert isinstance(activity, discord.CustomActivity)


def test_guild_create_builds_a_discordpy_guild(members: list[dict[str, Any]]) -> None:
    """GUILD_CREATE data gives discord.py its roles, @everyone first, and the member count."""
    data = guild_create(BENCH_GUILD_ID, members, SEED)
    guild = discordpy_guild(discordpy_state(), BENCH_GUILD_ID, members, SEED)
    assert data["roles"][0]["id"] == str(BENCH_GUILD_ID)
    assert guild.default_role.id == BENCH_GUILD_ID
    assert guild.member_count == len(members)


def test_baselines_run_on_tiny_inputs(updates: list[dict[str, Any]]) -> None:
    """The baseline functions produce figures end to end (values unchecked: not a timing test)."""
    parse = discordpy_presence_parse(updates[:50], members_cached=40, rounds=1, seed=SEED)
    assert parse.unit == "ns/event"
    assert parse.value is not None
    assert parse.value > 0
    assert "only" not in parse.note  # every event hit a cached member
    memory = discordpy_member_memory(300, seed=SEED, chunk_size=100, trace_limit=200)
    assert memory.value is not None
    assert memory.value > 0
    assert "n=200" in memory.note
    table = markdown_table([parse, memory, Figure("skipped", None, "SET/s", "skipped: x")])
    assert table.count("\n") == 4
    assert "| skipped | — |" in table


def test_redis_benchmark_csv_is_parsed() -> None:
    """Both the 7.x header+latency CSV and the older two-column CSV yield SET/s."""
    modern = (
        '"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms"\n'
        '"SET","495049.50","1.212","0.328","1.015"\n'
    )
    assert parse_redis_csv(modern) == (
        495049.5,
        {"avg_latency_ms": 1.212, "min_latency_ms": 0.328, "p50_latency_ms": 1.015},
    )
    assert parse_redis_csv('"SET","1000.00"\n') == (1000.0, {})
    assert parse_redis_csv("Could not connect to Redis\n") is None


def test_percentile_is_nearest_rank() -> None:
    """p99 of a short list is a value that occurred, never an interpolation."""
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile(list(range(1, 101)), 99) == 99
    assert percentile([5.0], 99) == 5.0
