"""Every `--one` strategy: the same order from the paged database walk, the whole-roster query
and memory, on every backend; what each strategy's order means; what an ask moves; and that a
name nothing implements is an error, never a fallback.

A new strategy is covered by the parity test as soon as it is registered; its own meaning
gets a class below.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from bots.shell.testing import Workspace
from core.directory import Directory
from core.domain import Role, Strategy
from core.grouping import Member
from core.roster_walk import RosterWalk
from core.store.models import Community, Contact, Membership, Tenant
from core.strategies import REGISTRY, AfterAsk, UnknownStrategy, strategy_for
from core.strategies.base import ASKED, CONTACT, StrategyRules, check

STRATEGIES = [pytest.param(rules, id=rules.name.value) for rules in REGISTRY.values()]
BASE = datetime(2026, 1, 5, 9, tzinfo=UTC)
SEED = 11


def member(
    cid: int, *, joined: float | None = None, last_asked: float = 0.0, last_accepted: float = 0.0
) -> Member:
    """Member #cid, joined in id order unless told otherwise."""
    return Member(
        cid,
        f"U{cid}",
        f"user{cid}",
        f"k{cid}",
        Role.MEMBER,
        float(cid) if joined is None else joined,
        last_asked,
        last_accepted,
    )


def ids(members: Iterable[Member]) -> list[int]:
    return [m.contact_id for m in members]


# -- the same order in the database and in memory --------------------------------------------


def stamp(minutes: int | None) -> datetime | None:
    return None if minutes is None else BASE + timedelta(minutes=minutes)


def epoch(minutes: int | None) -> float:
    """The same moment as a member holds it in memory (never: 0.0, which sorts first too)."""
    return 0.0 if minutes is None else (BASE + timedelta(minutes=minutes)).timestamp()


async def roster_with_counters(rules: StrategyRules, n: int = 90) -> tuple[Community, list[Member]]:
    """A community of n whose counters tie often (so pages end inside ties), joined out of
    contact order, with its cursor on someone who has left; and the same members in memory."""
    rng = random.Random(3)
    tenant = await Tenant.create(platform="shell", external_id="strategies")
    community = await Community.create(tenant_id=tenant.id, handle="fair", strategy=rules.name)
    contacts = [
        await Contact.create(tenant_id=tenant.id, user_id=f"u{i:03d}", display_name=f"u{i:03d}")
        for i in range(n + 1)
    ]
    departed = contacts.pop(n // 2)  # never a member: the ring goes on from where they were
    community.rr_cursor = departed.id
    await community.save(update_fields=["rr_cursor"])
    in_memory: list[Member] = []
    for contact in rng.sample(contacts, len(contacts)):  # memberships made in no useful order
        joined = -rng.choice((3, 2, 1)) * 1440
        asked = rng.choice((None, None, 10, 20, 30))
        accepted = rng.choice((None, None, 5, 15)) if asked is not None else None
        await Membership.create(
            community_id=community.id,
            contact_id=contact.id,
            joined_at=stamp(joined),
            last_asked_at=stamp(asked),
            last_accepted_at=stamp(accepted),
        )
        in_memory.append(
            Member(
                contact.id,
                contact.user_id,
                contact.user_id,
                "",
                Role.MEMBER,
                epoch(joined),
                last_asked=epoch(asked),
                last_accepted=epoch(accepted),
            )
        )
    return community, in_memory


@pytest.mark.parametrize("rules", STRATEGIES)
async def test_the_database_walk_the_whole_roster_and_memory_give_one_order(
    db: str, rules: StrategyRules
) -> None:
    community, members = await roster_with_counters(rules)
    remembered = rules.order(members, cursor=community.rr_cursor, rng=random.Random(SEED))

    walk = RosterWalk(community, "shell:strategies:", rng=random.Random(SEED))
    while not walk.complete:
        await walk.more()
    whole = await Directory().roster(community, "shell", "strategies", rng=random.Random(SEED))

    assert ids(walk) == ids(whole) == ids(remembered)
    assert walk.queries > 2, "the walk read several keyset pages, not one sorted query"
    assert sorted(ids(remembered)) == sorted(ids(members)), "everyone exactly once"


@pytest.mark.parametrize("rules", STRATEGIES)
def test_the_order_is_a_new_list_and_empty_stays_empty(rules: StrategyRules) -> None:
    members = [member(i, last_asked=i % 3, last_accepted=i % 4) for i in range(1, 30)]
    given = list(members)
    assert sorted(ids(rules.order(members, rng=random.Random(0)))) == list(range(1, 30))
    assert members == given, "the caller's list is left as it was"
    assert rules.order([], cursor=5) == []


# -- what each strategy means ------------------------------------------------------------------


class TestLeastRecent:
    rules = strategy_for(Strategy.LEAST_RECENT)

    def test_asks_the_least_recently_asked_first(self) -> None:
        members = [member(1, last_asked=300), member(2, last_asked=100), member(3, last_asked=200)]
        assert ids(self.rules.order(members)) == [2, 3, 1]

    def test_never_asked_members_come_first_oldest_member_first(self) -> None:
        members = [member(1, last_asked=50), member(3, joined=5), member(2, joined=9)]
        assert ids(self.rules.order(members)) == [3, 2, 1]


class TestRoundRobin:
    rules = strategy_for(Strategy.ROUND_ROBIN)

    def test_continues_after_the_cursor_and_wraps(self) -> None:
        members = [member(i) for i in (4, 2, 5, 1, 3)]
        assert ids(self.rules.order(members, cursor=3)) == [4, 5, 1, 2, 3]
        assert ids(self.rules.order(members, cursor=5)) == [1, 2, 3, 4, 5]

    def test_starts_at_the_beginning_without_a_known_cursor(self) -> None:
        members = [member(i) for i in (3, 1, 2)]
        assert ids(self.rules.order(members)) == [1, 2, 3]
        assert ids(self.rules.order(members, cursor=99)) == [1, 2, 3]

    def test_goes_on_from_where_a_departed_member_was(self) -> None:
        members = [member(i) for i in (1, 2, 4, 5)]
        assert ids(self.rules.order(members, cursor=3)) == [4, 5, 1, 2]

    def test_ignores_how_recently_people_were_asked(self) -> None:
        members = [member(1, last_asked=10), member(2, last_asked=999), member(3)]
        assert ids(self.rules.order(members, cursor=1)) == [2, 3, 1]


class TestRandom:
    rules = strategy_for(Strategy.RANDOM)

    def test_is_reproducible_with_a_seeded_rng_and_differs_between_seeds(self) -> None:
        members = [member(i) for i in range(1, 21)]
        first = ids(self.rules.order(members, rng=random.Random(7)))
        assert first == ids(self.rules.order(members, rng=random.Random(7)))
        assert first != ids(self.rules.order(members, rng=random.Random(8)))
        assert sorted(first) == list(range(1, 21))

    def test_does_not_depend_on_the_order_members_are_handed_in(self) -> None:
        members = [member(i) for i in range(1, 21)]
        backwards = members[::-1]
        assert ids(self.rules.order(members, rng=random.Random(7))) == ids(
            self.rules.order(backwards, rng=random.Random(7))
        )


class TestLongestIdle:
    rules = strategy_for(Strategy.LONGEST_IDLE)

    def test_asks_who_accepted_longest_ago_first(self) -> None:
        members = [
            member(1, last_accepted=500, last_asked=10),
            member(2, last_accepted=100, last_asked=900),
            member(3, last_accepted=300),
        ]
        assert ids(self.rules.order(members)) == [2, 3, 1]

    def test_breaks_ties_by_last_asked(self) -> None:
        members = [member(1, last_asked=20), member(2, last_asked=10), member(3, last_accepted=5)]
        assert ids(self.rules.order(members)) == [2, 1, 3]


# -- what an ask moves ---------------------------------------------------------------------


@pytest.mark.parametrize("rules", STRATEGIES)
def test_only_round_robin_moves_anything_of_its_own(rules: StrategyRules) -> None:
    moved = rules.after_ask([member(3), member(7)])
    assert moved == (AfterAsk(cursor=7) if rules.ring else AfterAsk())


async def frontend_cursor() -> int:
    return (await Community.get(handle="frontend")).rr_cursor


async def test_a_round_robin_ask_turns_the_ring_for_the_next(workspace: Workspace) -> None:
    await workspace.run("/community set frontend strategy round-robin")
    asked = [(await workspace.run(f"/ask-available frontend {n}?")).asked() for n in range(3)]
    assert asked == [["bob"], ["dave"], ["bob"]], "carol is busy, alice is asking"
    bob = await Contact.get(user_id="bob")
    assert await frontend_cursor() == bob.id


async def test_other_strategies_leave_the_cursor_and_keep_the_counters(
    workspace: Workspace,
) -> None:
    await workspace.run("/ask-available frontend one?")
    assert await frontend_cursor() == 0
    bob = await Contact.get(user_id="bob")
    asked = await Membership.get(contact_id=bob.id, community__handle="frontend")
    assert asked.last_asked_at is not None and asked.asks == 1


# -- nothing falls back --------------------------------------------------------------------


def test_every_name_has_exactly_its_own_strategy() -> None:
    assert set(REGISTRY) == set(Strategy)
    assert all(
        strategy_for(name) is rules and rules.name is name for name, rules in REGISTRY.items()
    )
    assert strategy_for("round-robin") is REGISTRY[Strategy.ROUND_ROBIN]


def test_an_unknown_strategy_is_an_error_that_names_the_known_ones() -> None:
    with pytest.raises(UnknownStrategy, match=r"unknown strategy 'fastest': one of least-recent, "):
        strategy_for("fastest")


async def test_setting_an_unknown_strategy_is_refused_and_changes_nothing(
    workspace: Workspace,
) -> None:
    said = (await workspace.run("/community set frontend strategy fastest")).reply()
    assert "strategy is one of least-recent, round-robin, random, longest-idle" in said
    assert (await Community.get(handle="frontend")).strategy is Strategy.LEAST_RECENT


class _Unfollowable:
    """A strategy the walk could not page through: its order is not total."""

    name = Strategy.LEAST_RECENT
    columns = (ASKED,)
    ring = False
    drawn = False

    def order(
        self, members: Sequence[Member], *, cursor: int = 0, rng: random.Random | None = None
    ) -> list[Member]:
        return list(members)

    def after_ask(self, asked: Sequence[Member]) -> AfterAsk:
        return AfterAsk()


def test_a_strategy_whose_order_is_not_total_is_refused() -> None:
    with pytest.raises(ValueError, match="must end on CONTACT"):
        check(_Unfollowable())
    assert CONTACT in strategy_for(Strategy.LEAST_RECENT).columns
