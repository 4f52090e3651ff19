"""The Procfile as an operator runs it: `groupcast slack` and `groupcast discord` side by side on
one PostgreSQL + Redis, asked on both platforms at once, with a decline, a timeout and a failed
send in every ask. Each platform's work must be done by its own process, and every notice must
reach its requester on the requester's platform.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path

import pytest
from redis.asyncio import Redis

from core.doctor import check
from core.store.models import (
    Community,
    Contact,
    Delivery,
    DeliveryState,
    Membership,
    Request,
    RequestState,
    Role,
    Tenant,
)
from tests.conftest import REDIS
from tests.faults.deployment import (
    GUILD,
    TEAM,
    Deployment,
    custom_ids,
    deployment,
    slack_buttons,
)

ASKS = 4  # per platform; each is one decline, one timeout and one failed send
ASK_TIMEOUT = 3  # seconds: short, the processes run on the wall clock
DONE_WITHIN = 25.0  # the last ask times out after 3 s; sweeps run every second
S_ALICE, S_BOB, S_CAROL, S_GHOST = "U0DALICE01", "U0DBOB0001", "U0DCAROL01", "U0DGHOST01"
D_ALICE, D_BOB, D_CAROL, D_GHOST = (770000000000000000 + n for n in range(1, 5))
NAMES = {"alice": (S_ALICE, D_ALICE), "bob": (S_BOB, D_BOB), "carol": (S_CAROL, D_CAROL)}


async def seed(platform: str, tenant: str, people: dict[str, str], owner: str) -> None:
    """@ops in one tenant: `owner` asks, the rest are members."""
    t = await Tenant.create(platform=platform, external_id=tenant, name=tenant)
    community = await Community.create(tenant_id=t.id, handle="ops", title="Ops")
    for name, uid in people.items():
        contact = await Contact.create(tenant_id=t.id, user_id=uid, display_name=name)
        role = Role.OWNER if uid == owner else Role.MEMBER
        await Membership.create(community_id=community.id, contact_id=contact.id, role=role)


def stand_ins(d: Deployment) -> None:
    """Slack knows everyone but the ghost (its DM fails: channel_not_found); on Discord the
    ghost has closed DMs (50007)."""
    for name, (s_uid, _) in NAMES.items():
        d.slack.add_user(s_uid, name, tz="UTC")
    d.slack.add_channel("C0000GENRL", "general")  # where the slash commands are typed
    d.discord.add_user(D_GHOST, "ghost", dm_closed=True)
    d.discord.add_guild(
        GUILD,
        "Ops",
        channels=[(GUILD + 1, "general")],
        members=[(uid, name, []) for name, (_, uid) in NAMES.items()] + [(D_GHOST, "ghost", [])],
    )


async def slack_asks(d: Deployment) -> None:
    """Ask, decline bob's DM, let carol's time out."""
    for n in range(ASKS):
        assert await d.slack_command(S_ALICE, "/ask-available", f"ops --everyone drill {n}") == 200
        got = await d.until(
            lambda n=n: [dm for dm in d.slack_dms(S_BOB) if f"drill {n}" in dm[1]["text"]],
            f"bob's slack ask {n}",
        )
        ref, dm = got[0]
        value = slack_buttons(dm)["groupcast_decline"]
        assert await d.slack_press(S_BOB, "groupcast_decline", value, ref) == 200


async def discord_asks(d: Deployment) -> None:
    for n in range(ASKS):
        await d.discord_command(
            D_ALICE,
            "ask-available",
            {"community": "ops", "message": f"drill {n}", "mode": "everyone"},
        )
        got = await d.until(
            lambda n=n: [m for m in d.discord_dms(D_BOB) if f"drill {n}" in m[1]["content"]],
            f"bob's discord ask {n}",
        )
        channel, message = got[0]
        decline = next(c for c in custom_ids(message) if ":decline:" in c)
        await d.discord_press(D_BOB, channel, int(message["id"]), decline)


def told(texts: list[str]) -> Counter[str]:
    """The requester's notices, by kind (an `--everyone` ask tells once, when it closes)."""
    return Counter("closed" for text in texts if "run its course" in text)


async def test_procfile_slack_and_discord_each_do_their_own_work(db: str, tmp_path: Path) -> None:
    if not db.startswith("postgres"):
        pytest.skip("the Procfile's deployment runs on PostgreSQL")
    redis = Redis.from_url(REDIS)
    for key in await redis.keys("groupcast:*"):
        await redis.delete(key)
    await redis.aclose()
    await seed(
        "slack", TEAM, {"alice": S_ALICE, "bob": S_BOB, "carol": S_CAROL, "ghost": S_GHOST}, S_ALICE
    )
    discord_people = {name: str(uid) for name, (_, uid) in NAMES.items()} | {"ghost": str(D_GHOST)}
    await seed("discord", str(GUILD), discord_people, str(D_ALICE))

    async with deployment(db, REDIS, tmp_path, ASK_TIMEOUT_SECONDS=str(ASK_TIMEOUT)) as d:
        stand_ins(d)
        await asyncio.gather(d.start("slack"), d.start("discord"))
        await asyncio.gather(slack_asks(d), discord_asks(d))

        def slack_told() -> Counter[str]:
            return told([m["text"] for _, m in d.slack_dms(S_ALICE)])

        def discord_told() -> Counter[str]:
            return told([m["content"] for _, m in d.discord_dms(D_ALICE)])

        def all_closed() -> bool:
            return slack_told()["closed"] == ASKS and discord_told()["closed"] == ASKS

        try:
            await d.until(
                all_closed, "every requester told that each ask ran its course", DONE_WITHIN
            )
        finally:
            rows = await Delivery.all().values_list("state", "error", "target__tenant__platform")
            print(f"\nDEPLOYMENT deliveries: {Counter((p, s) for s, _, p in rows)}")
            print(f"  slack requester told: {dict(slack_told())}; discord: {dict(discord_told())}")
            print(f"  errors: {Counter((p, e) for _, e, p in rows if e)}")
            print("\n".join(x for x in d.stderr().splitlines() if "could not tell" in x))

    by_platform: dict[str, Counter[str]] = {"slack": Counter(), "discord": Counter()}
    for state, error, platform in rows:
        by_platform[platform][state] += 1
        if platform == "slack":
            assert error is None or "Discord" not in error, error
        else:
            assert error is None or ("chat." not in error and "not a Discord" not in error), error
    expected = Counter(
        {DeliveryState.FAILED: ASKS, DeliveryState.DECLINED: ASKS, DeliveryState.EXPIRED: ASKS}
    )
    assert by_platform == {"slack": expected, "discord": expected}
    assert await Request.filter(state=RequestState.EXPIRED).count() == 2 * ASKS
    assert slack_told() == Counter(closed=ASKS)
    assert discord_told() == Counter(closed=ASKS)
    discord_ids = {str(u) for u in (D_ALICE, D_BOB, D_CAROL, D_GHOST)}
    leaked = [c for c in d.slack.calls if discord_ids & set(map(str, c.args.values()))]
    assert not leaked, "the slack process touched discord work"
    foreign = [
        c for c in d.discord.calls if re.search(r"/(channels|users)/(?!@me|\d+(/|$))", c.path)
    ]
    assert not foreign, "the discord process touched slack work"
    assert await check() == []
