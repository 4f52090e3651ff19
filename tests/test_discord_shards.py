"""Discord shards across processes: two `groupcast discord` processes on one PostgreSQL + Redis,
each running one of two shards, each receive and handle only their own guild, and an ask in
each guild is delivered once (its re-asks after a timeout too, by the guild's own process)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bots.discord.shards import Shards, make_bot, parse_ids, shard_of
from core.config import ConfigError, Settings
from core.store.models import Community, Contact, Delivery, Membership, Role, Tenant
from core.tenancy import Ownership
from tests.conftest import REDIS
from tests.faults.deployment import Deployment, deployment
from tests.faults.processes import Process

# Two guilds whose snowflakes put them on shards 0 and 1 of 2.
GUILDS = {0: (123456 << 22) | 1, 1: (123457 << 22) | 1}
ALICE, BOB, CAROL = 780000000000000001, 780000000000000002, 780000000000000003
PEOPLE = {"alice": ALICE, "bob": BOB, "carol": CAROL}
ASK_TIMEOUT = 2  # seconds: bob's ask times out and carol is asked next, by a sweep


def test_a_guild_belongs_to_the_shard_discord_sends_it_to() -> None:
    assert [shard_of(g, 2) for g in GUILDS.values()] == [0, 1]
    assert parse_ids("0-2,5", 6) == [0, 1, 2, 5]
    assert parse_ids(None, 3) == [0, 1, 2]
    ours = Shards(2, [1])
    assert ours.owns(str(GUILDS[1])) and not ours.owns(str(GUILDS[0]))
    assert not ours.owns("T0SLACKTEAM")


def test_shard_settings_that_cannot_work_are_one_clear_line() -> None:
    with pytest.raises(ConfigError, match=r"DISCORD_SHARD_IDS: \[2\] not within 0-1"):
        parse_ids("0,2", 2)
    with pytest.raises(ConfigError, match="is not like"):
        parse_ids("one", 2)
    with pytest.raises(ConfigError, match="needs DISCORD_SHARD_COUNT"):
        make_bot(Settings(discord_shard_ids="0"))


async def seed(guild: int) -> None:
    t = await Tenant.create(platform="discord", external_id=str(guild), name=str(guild))
    community = await Community.create(
        tenant_id=t.id, handle="ops", title="Ops", strategy="round-robin"
    )
    for name, uid in PEOPLE.items():
        contact = await Contact.create(tenant_id=t.id, user_id=str(uid), display_name=name)
        role = Role.OWNER if uid == ALICE else Role.MEMBER
        await Membership.create(community_id=community.id, contact_id=contact.id, role=role)


def dms(d: Deployment, user: int, text: str) -> list[dict[str, object]]:
    return [m for _, m in d.discord_dms(user) if text in str(m["content"])]


async def test_two_processes_with_disjoint_shards_each_serve_only_their_guilds(
    db: str, tmp_path: Path
) -> None:
    if not db.startswith("postgres"):
        pytest.skip("processes share PostgreSQL")
    redis = Redis.from_url(REDIS)
    for key in await redis.keys("groupcast:*"):
        await redis.delete(key)
    await redis.aclose()
    for guild in GUILDS.values():
        await seed(guild)

    async with deployment(db, REDIS, tmp_path, ASK_TIMEOUT_SECONDS=str(ASK_TIMEOUT)) as d:
        for shard, guild in GUILDS.items():
            d.discord.add_guild(
                guild,
                f"Guild {shard}",
                channels=[(guild + 1, "general")],
                members=[(uid, name, []) for name, uid in PEOPLE.items()],
            )
        for shard in GUILDS:
            env = d.env_for("discord", DISCORD_SHARD_COUNT="2", DISCORD_SHARD_IDS=str(shard))
            d.procs[f"discord{shard}"] = Process(["discord"], env, d.cwd)
        await d.until(
            lambda: (
                sorted(tuple(i["shard"]) for i in d.discord.identifies) == [(0, 2), (1, 2)]
                and all(s.conn is not None for s in d.discord.sessions.values())
            ),
            "both shards identified",
            30.0,
        )
        for guild in GUILDS.values():
            for uid in PEOPLE.values():  # everyone online, on the guild's own shard only
                payload = d.discord.presence_update(guild, uid, "online")
                assert await d.discord.dispatch("PRESENCE_UPDATE", payload) == 1
        for shard, guild in GUILDS.items():
            payload = d.discord.interaction_command(
                guild,
                guild + 1,
                ALICE,
                "ask-available",
                {"community": "ops", "message": f"drill on shard {shard}", "mode": "one"},
            )
            assert await d.discord.dispatch("INTERACTION_CREATE", payload) == 1

        # bob is asked first in each guild (round-robin), says nothing; carol is asked next.
        for shard in GUILDS:
            await d.until(
                lambda s=shard: dms(d, CAROL, f"drill on shard {s}"),
                f"carol asked after bob's ask timed out on shard {shard}",
                30.0,
            )
        for shard in GUILDS:
            text = f"drill on shard {shard}"
            assert len(dms(d, BOB, text)) == 1 and len(dms(d, CAROL, text)) == 1, text

        deliveries = await Delivery.all().values_list("request__tenant__external_id", "target_id")
        assert Counter(t for t, _ in deliveries) == {str(g): 2 for g in GUILDS.values()}


async def test_sweeps_see_only_the_tenants_this_process_owns(db: str) -> None:
    for guild in GUILDS.values():
        await Tenant.create(platform="discord", external_id=str(guild), name="g")
    mine = Ownership(Shards(2, [1]).owns)
    ids = await mine.ids(Tenant.all().order_by("id"), "external_id")
    assert [t.external_id for t in await Tenant.filter(id__in=ids)] == [str(GUILDS[1])]
    assert len(await Ownership().ids(Tenant.all(), "external_id")) == 2
