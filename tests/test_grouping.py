"""Grouping: who a request resolves to, and why (the order members come in: test_strategies).

Hand-built members and a dict standing in for the presence monitor; no database.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from core.domain import Mode, Role, Strategy
from core.grouping import Member, Resolution, resolve
from core.presence.availability import Availability
from core.strategies import strategy_for

A = Availability


def member(cid: int, **kw: float | int) -> Member:
    """Member #cid, joined in id order unless told otherwise."""
    fields: dict[str, float | int] = {"joined": float(cid)}
    fields.update(kw)
    return Member(
        contact_id=cid,
        user_id=f"U{cid}",
        name=f"user{cid}",
        key=f"k{cid}",
        role=Role.MEMBER,
        joined=float(fields.pop("joined")),
        **fields,  # type: ignore[arg-type]
    )


def ids(members: Iterable[Member]) -> list[int]:
    return [m.contact_id for m in members]


class Presence:
    """A dict-backed availability function that counts how often it is asked."""

    def __init__(
        self, states: dict[int, Availability] | None = None, default: Availability = A.AVAILABLE
    ) -> None:
        self.states = {f"k{cid}": s for cid, s in (states or {}).items()}
        self.default = default
        self.asked: list[str] = []

    def __call__(self, key: str) -> Availability:
        self.asked.append(key)
        return self.states.get(key, self.default)

    def explain(self, m: Member) -> str:
        return f"{m.name} is {self.states.get(m.key, self.default)}"


def run(
    members: list[Member],
    mode: Mode,
    presence: Presence | None = None,
    *,
    wanted: int = 1,
    requester: int = 0,
    capacity: int = 3,
    exclude: Iterable[int] = (),
) -> Resolution:
    presence = presence or Presence()
    return resolve(
        members,
        mode,
        wanted=wanted,
        requester_id=requester,
        availability=presence,
        explain=presence.explain,
        capacity=capacity,
        exclude=exclude,
    )


def reasons(res: Resolution) -> dict[int, str]:
    return {s.member.contact_id: s.reason for s in res.skipped}


# -- resolve ------------------------------------------------------------------------------


class TestOne:
    def test_one_takes_the_first_available_in_order(self) -> None:
        members = [member(1), member(2), member(3)]
        presence = Presence({1: A.BUSY})
        res = run(members, Mode.ONE, presence)
        assert ids(res.targets) == [2]
        assert reasons(res) == {1: "user1 is busy"}
        assert ids(res.rest) == [3]

    def test_the_requester_is_never_a_target(self) -> None:
        members = [member(1), member(2)]
        res = run(members, Mode.ONE, requester=1)
        assert ids(res.targets) == [2]
        assert reasons(res) == {1: "that's you"}

    def test_the_requester_alone_gets_no_one(self) -> None:
        res = run([member(1)], Mode.ONE, requester=1)
        assert res.targets == []
        assert reasons(res) == {1: "that's you"}

    def test_members_at_capacity_are_skipped_with_the_capacity_named(self) -> None:
        members = [member(1, open_asks=2), member(2, open_asks=1)]
        res = run(members, Mode.ONE, capacity=2)
        assert ids(res.targets) == [2]
        assert reasons(res) == {1: "already holds 2 open asks (capacity 2)"}

    def test_unavailable_members_are_skipped_with_the_monitors_explanation(self) -> None:
        members = [member(i) for i in range(1, 6)]
        presence = Presence({1: A.IDLE, 2: A.OFFLINE, 3: A.UNKNOWN, 4: A.BUSY})
        res = run(members, Mode.ONE, presence)
        assert ids(res.targets) == [5]
        assert reasons(res) == {
            1: "user1 is idle",
            2: "user2 is offline",
            3: "user3 is unknown",
            4: "user4 is busy",
        }

    def test_nobody_available_gives_no_target_and_a_reason_for_each(self) -> None:
        members = [member(i) for i in range(1, 4)]
        res = run(members, Mode.ONE, Presence(default=A.OFFLINE), requester=2)
        assert res.targets == []
        assert reasons(res) == {1: "user1 is offline", 2: "that's you", 3: "user3 is offline"}
        assert list(res.rest) == []

    def test_already_asked_members_are_not_asked_again(self) -> None:
        members = [member(1), member(2), member(3)]
        res = run(members, Mode.ONE, exclude=[1, 2])
        assert ids(res.targets) == [3]
        assert reasons(res) == {
            1: "already asked for this request",
            2: "already asked for this request",
        }

    def test_exclude_may_be_any_iterable(self) -> None:
        members = [member(1), member(2)]
        res = run(members, Mode.ONE, exclude=(i for i in [1]))
        assert ids(res.targets) == [2]


class TestSome:
    def test_some_returns_n_and_leaves_the_rest_unexamined(self) -> None:
        members = [member(i) for i in range(1, 11)]
        presence = Presence({2: A.BUSY})
        res = run(members, Mode.SOME, presence, wanted=3)
        assert ids(res.targets) == [1, 3, 4]
        assert ids(res.rest) == [5, 6, 7, 8, 9, 10]
        assert presence.asked == ["k1", "k2", "k3", "k4"]

    def test_a_ten_thousand_member_resolution_stops_at_the_nth_target(self) -> None:
        members = [member(i) for i in range(1, 10_001)]
        presence = Presence(dict.fromkeys(range(1, 10_001, 2), A.OFFLINE))  # every odd one is away
        res = run(members, Mode.SOME, presence, wanted=5, requester=2)
        assert ids(res.targets) == [4, 6, 8, 10, 12]
        assert len(presence.asked) == 11  # 1..12 but not the requester
        assert len(res.rest) == 10_000 - 12
        assert len(res.skipped) == 7

    def test_some_with_too_few_available_takes_all_it_can(self) -> None:
        members = [member(i) for i in range(1, 5)]
        res = run(members, Mode.SOME, Presence({1: A.BUSY, 3: A.IDLE}), wanted=10)
        assert ids(res.targets) == [2, 4]
        assert list(res.rest) == []

    def test_some_respects_capacity(self) -> None:
        members = [member(1, open_asks=5), member(2), member(3)]
        res = run(members, Mode.SOME, wanted=2, capacity=5)
        assert ids(res.targets) == [2, 3]
        assert "capacity 5" in reasons(res)[1]


class TestAvailable:
    def test_available_returns_every_available_member(self) -> None:
        members = [member(i) for i in range(1, 7)]
        presence = Presence({2: A.BUSY, 5: A.UNKNOWN})
        res = run(members, Mode.AVAILABLE, presence, requester=6)
        assert ids(res.targets) == [1, 3, 4]
        assert reasons(res) == {2: "user2 is busy", 5: "user5 is unknown", 6: "that's you"}
        assert list(res.rest) == []

    def test_available_ignores_capacity(self) -> None:
        members = [member(1, open_asks=99), member(2, open_asks=1)]
        res = run(members, Mode.AVAILABLE, capacity=1)
        assert ids(res.targets) == [1, 2]
        assert res.skipped == []

    def test_available_ignores_wanted(self) -> None:
        members = [member(i) for i in range(1, 6)]
        res = run(members, Mode.AVAILABLE, wanted=2)
        assert ids(res.targets) == [1, 2, 3, 4, 5]


class TestEveryone:
    def test_everyone_is_every_member_but_the_requester_regardless_of_availability(self) -> None:
        members = [member(i, open_asks=50) for i in range(1, 6)]
        presence = Presence({1: A.OFFLINE, 2: A.BUSY, 3: A.UNKNOWN})
        res = run(members, Mode.EVERYONE, presence, requester=4, capacity=1)
        assert ids(res.targets) == [1, 2, 3, 5]
        assert reasons(res) == {4: "that's you"}
        assert presence.asked == []  # availability does not matter, so it is not looked up

    def test_everyone_still_skips_those_already_asked(self) -> None:
        members = [member(i) for i in range(1, 4)]
        res = run(members, Mode.EVERYONE, exclude={2})
        assert ids(res.targets) == [1, 3]
        assert reasons(res) == {2: "already asked for this request"}


@pytest.mark.parametrize("mode", list(Mode))
def test_an_empty_community_has_no_targets(mode: Mode) -> None:
    presence = Presence()
    res = run([], mode, presence, wanted=3)
    assert res.targets == []
    assert res.skipped == []
    assert list(res.rest) == []
    assert presence.asked == []


@pytest.mark.parametrize("mode", list(Mode))
def test_every_member_is_accounted_for_exactly_once(mode: Mode) -> None:
    members = [member(i, open_asks=i % 4) for i in range(1, 41)]
    presence = Presence(dict.fromkeys(range(1, 41, 3), A.BUSY))
    res = run(members, mode, presence, wanted=7, requester=5, capacity=3, exclude={8, 9})
    seen = ids(res.targets) + [s.member.contact_id for s in res.skipped] + ids(res.rest)
    assert sorted(seen) == list(range(1, 41))
    assert 5 not in ids(res.targets)
    assert not {8, 9} & set(ids(res.targets))


def test_order_then_resolve_asks_the_least_recently_asked_available_member() -> None:
    members = [
        member(1, last_asked=100),
        member(2, last_asked=10),  # asked longest ago, but busy
        member(3, last_asked=50),
        member(4),  # never asked, but the requester
    ]
    ordered = strategy_for(Strategy.LEAST_RECENT).order(members)
    res = run(ordered, Mode.ONE, Presence({2: A.BUSY}), requester=4)
    assert ids(res.targets) == [3]
    assert reasons(res) == {4: "that's you", 2: "user2 is busy"}
    assert ids(res.rest) == [1]
