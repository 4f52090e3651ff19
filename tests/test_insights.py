"""`/community stats` exact against a seeded history, and `/ask-available why` telling an ask's story."""

from __future__ import annotations

import pytest

from bots.shell.testing import Workspace
from core import insights
from core.clock import to_datetime
from core.domain import DeliveryState, Mode, RequestState
from core.store.models import Community, Contact, Delivery, Membership, Request

D = DeliveryState
DAY = 86400.0


async def seed_history(ws: Workspace) -> Community:
    """Six asks of alice's in @frontend, one of them 40 days old, one still open."""
    now = ws.clock.now()
    c = await Community.get(handle="frontend")
    people = {x.user_id: x for x in await Contact.all()}
    for name, joined in (("alice", 100), ("bob", 100), ("carol", 15), ("dave", 100)):
        await Membership.filter(community_id=c.id, contact_id=people[name].id).update(
            joined_at=to_datetime(now - joined * DAY)
        )
    history: list[tuple[float, list[tuple[str, DeliveryState, float]]]] = [
        (1 * DAY, [("bob", D.ACCEPTED, 60)]),
        (2 * DAY, [("bob", D.DECLINED, 30), ("dave", D.ACCEPTED, 200)]),
        (3 * DAY, [("bob", D.EXPIRED, 300), ("dave", D.EXPIRED, 600)]),
        (4 * DAY, [("dave", D.ACCEPTED, 100)]),
        (40 * DAY, [("bob", D.ACCEPTED, 1000)]),
        (600, [("bob", D.SENT, 0)]),
    ]
    for ago, deliveries in history:
        at = now - ago
        r = await Request.create(
            tenant_id=c.tenant_id,
            community_id=c.id,
            requester_id=people["alice"].id,
            platform="shell",
            mode=Mode.ONE,
            text="review please",
            state=RequestState.OPEN if ago < DAY else RequestState.FULFILLED,
            created_at=to_datetime(at),
        )
        for who, state, after in deliveries:
            await Delivery.create(
                request_id=r.id,
                target_id=people[who].id,
                platform="shell",
                state=state,
                created_at=to_datetime(at),
                sent_at=to_datetime(at),
                answered_at=None if state is D.SENT else to_datetime(at + after),
            )
    return c


async def test_stats_are_exact_against_a_seeded_history(workspace: Workspace) -> None:
    c = await seed_history(workspace)
    s = await insights.stats(c, 30, workspace.clock.now())
    by = {m.name: m for m in s.members}
    assert (s.asks, s.answered, s.median_first_accept) == (5, 3, 100.0)
    bob, dave = by["bob"], by["dave"]
    assert (bob.received, bob.accepted, bob.declined, bob.timed_out, bob.open_now) == (
        4,
        1,
        1,
        1,
        1,
    )
    assert bob.median_accept == 60.0
    assert (dave.received, dave.accepted, dave.declined, dave.timed_out, dave.open_now) == (
        3,
        2,
        0,
        1,
        0,
    )
    assert dave.median_accept == 150.0, "the mean of the two middle values"
    assert by["carol"].days == pytest.approx(15.0), "joined half-way through the window"
    assert bob.share == pytest.approx(2.0) and dave.share == pytest.approx(1.5)
    assert by["carol"].share == 0.0
    assert s.fairness == pytest.approx(0.49)

    wide = await insights.stats(c, 90, workspace.clock.now())
    assert (wide.asks, wide.answered, wide.median_first_accept) == (6, 4, 150.0)
    wbob = {m.name: m for m in wide.members}["bob"]
    assert (wbob.received, wbob.accepted, wbob.median_accept) == (5, 2, 530.0)


async def test_stats_command_on_the_shell_members_only(workspace: Workspace) -> None:
    await seed_history(workspace)
    t = await workspace.run("/community stats frontend")
    assert "@frontend, last 30 days: 5 asks, 60% answered, median time to first accept 1m" in (
        t.reply()
    )
    assert "bob: 4 · 1 · 1 · 1 · 1m · 1 · ×2.00" in t.reply()
    assert "dave: 3 · 2 · 0 · 1 · 2m · 0 · ×1.50" in t.reply()
    assert "fairness 0.49" in t.reply()
    outsider = await workspace.run("/community stats frontend 7d", as_user="erin")
    assert "only members of @frontend can see its stats" in outsider.reply()
    bad = await workspace.run("/community stats frontend 1y")
    assert "the period is one of 7d, 30d, 90d" in bad.reply()


async def test_why_tells_the_pick_and_every_later_move(workspace: Workspace) -> None:
    ws = workspace
    await ws.run("/community set frontend escalate 12m everyone")
    await ws.run("/ask-available frontend can someone review #12?")
    await ws.run(":decline", as_user="bob")
    await ws.run(":advance 6m")  # dave does not answer: nobody else here, so the step is now
    rid = (await Request.get()).id
    story = (await ws.run("/ask-available why")).reply()
    lines = story.splitlines()
    assert lines[0] == f"Ask #{rid} in @frontend (one), 09:00 UTC: open."
    assert lines[1] == (
        "09:00 UTC First pick, least-recent order: asked bob. "
        "Skipped: carol (busy: do-not-disturb until 11:00 UTC); dave (available, not needed)."
    )
    assert lines[2] == "09:00 UTC bob declined."
    assert lines[3].startswith("09:00 UTC Then (after decline), least-recent order: asked dave.")
    assert "carol (busy: do-not-disturb until 11:00 UTC)" in lines[3]
    assert lines[4] == "09:06 UTC dave did not answer in time."
    assert lines[5].startswith(
        "09:06 UTC Then (step 1: everyone), least-recent order: asked carol."
    )
    assert lines[6] == "carol has not answered yet."
    owner = await ws.run(f"/ask-available why {rid}", as_user="alice")
    assert owner.reply() == story
    other = await ws.run(f"/ask-available why #{rid}", as_user="bob")
    assert f"Ask #{rid} isn't yours to read" in other.reply()
    none = await ws.run("/ask-available why", as_user="dave")
    assert "You have made no ask yet." in none.reply()
