"""The roster comes from the database already in strategy order, whole or in keyset pages.

(That it is the order each strategy gives in memory: tests/test_strategies.py.)
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from core.directory import Directory
from core.grouping import Member, Resolution, resolve
from core.presence.availability import Availability
from core.roster_walk import FIRST_PAGE, RosterWalk, walk_resolve
from core.store.models import Community, Contact, Membership, Mode, Strategy, Tenant

BASE = datetime(2026, 1, 5, 9, tzinfo=UTC)


async def community_of(n: int, strategy: Strategy, cursor: int = 0) -> Community:
    """Members joined a minute apart, some asked or accepted at scattered times, some never."""
    tenant = await Tenant.create(platform="shell", external_id="roster")
    community = await Community.create(
        tenant_id=tenant.id, handle="big", strategy=strategy, rr_cursor=cursor
    )
    rng = random.Random(3)
    for i in range(n):
        contact = await Contact.create(
            tenant_id=tenant.id, user_id=f"u{i:03d}", display_name=f"u{i:03d}"
        )
        asked = BASE + timedelta(minutes=rng.randrange(600)) if rng.random() < 0.6 else None
        accepted = BASE + timedelta(minutes=rng.randrange(600)) if rng.random() < 0.3 else None
        await Membership.create(
            community_id=community.id,
            contact_id=contact.id,
            joined_at=BASE - timedelta(days=n - i // 3),
            last_asked_at=asked,
            last_accepted_at=accepted,
        )
    return community


async def test_round_robin_starts_after_the_cursor_and_wraps(db: str) -> None:
    community = await community_of(10, Strategy.ROUND_ROBIN)
    ids = [m.contact_id for m in await Directory().roster(community, "shell", "roster")]
    community.rr_cursor = ids[3]
    again = [m.contact_id for m in await Directory().roster(community, "shell", "roster")]
    assert again == ids[4:] + ids[:4]


async def test_random_order_is_reproducible_with_a_seed_and_covers_everyone(db: str) -> None:
    community = await community_of(30, Strategy.RANDOM)
    first = [
        m.contact_id
        for m in await Directory().roster(community, "shell", "roster", rng=random.Random(5))
    ]
    again = [
        m.contact_id
        for m in await Directory().roster(community, "shell", "roster", rng=random.Random(5))
    ]
    assert first == again
    assert sorted(first) == sorted(
        m.contact_id for m in await Directory().roster(community, "shell", "roster")
    )


async def test_members_are_built_only_as_far_as_they_are_read(db: str) -> None:
    community = await community_of(25, Strategy.LEAST_RECENT)
    roster = await Directory().roster(community, "shell", "roster")
    assert len(roster) == 25
    first, rest = roster[0], roster[1:]
    assert len(rest) == 24 and rest[0] is roster[1]
    assert first.key == f"shell:roster:{first.user_id}"
    assert next(iter(roster.keys())).startswith("shell:roster:")


@pytest.mark.parametrize(
    "strategy", [Strategy.LEAST_RECENT, Strategy.LONGEST_IDLE, Strategy.ROUND_ROBIN]
)
async def test_the_walk_reads_pages_in_the_same_order_as_the_whole_roster(
    db: str, strategy: Strategy
) -> None:
    community = await community_of(60, strategy)
    community.rr_cursor = 17 if strategy is Strategy.ROUND_ROBIN else 0
    whole = [m.contact_id for m in await Directory().roster(community, "shell", "roster")]
    walk = RosterWalk(community, "shell:roster:")
    while not walk.complete:
        await walk.more()
    assert [m.contact_id for m in walk] == whole
    assert len(walk) == 60


async def test_a_one_in_a_large_community_reads_one_page(db: str) -> None:
    community = await community_of(120, Strategy.LEAST_RECENT)
    walk = RosterWalk(community, "shell:roster:")
    res = await walk_resolve(walk, first_free, ignore, 1, explained_rest=50)
    assert walk.queries == 1 and len(list(walk)) == FIRST_PAGE
    assert len(res.targets) == 1 and len(res.rest) == 119


async def test_a_small_rest_is_read_so_it_can_be_explained(db: str) -> None:
    community = await community_of(30, Strategy.LEAST_RECENT)
    walk = RosterWalk(community, "shell:roster:")
    res = await walk_resolve(walk, first_free, ignore, 1, explained_rest=50)
    assert walk.complete and [m.contact_id for m in res.rest] == [
        m.contact_id for m in list(walk)[1:]
    ]


async def test_the_random_walk_is_seeded_and_covers_everyone(db: str) -> None:
    community = await community_of(40, Strategy.RANDOM)
    orders = []
    for _ in range(2):
        walk = RosterWalk(community, "shell:roster:", rng=random.Random(9))
        while not walk.complete:
            await walk.more()
        orders.append([m.contact_id for m in walk])
    assert orders[0] == orders[1] and len(set(orders[0])) == 40


def first_free(members: Sequence[Member]) -> Resolution:
    return resolve(
        members,
        Mode.ONE,
        requester_id=-1,
        availability=lambda key: Availability.AVAILABLE,
        explain=lambda m: "",
        capacity=3,
    )


async def ignore(keys: Iterable[str]) -> None:
    list(keys)
