"""A new workspace's first ask, through the real bolt app: unknown members are asked about
(when they join and at ask time, within the presence budget), and /community add replies
before any per-person Web API call."""

from __future__ import annotations

from core import keys
from core.presence.availability import Availability
from core.presence.signals import Override
from core.store.models import Contact, LiveView
from tests.slack_fixtures import ALICE, BOB, CAROL, CHANNEL, DAVE, TEAM, World, world

__all__ = ["world"]

PRESENCE = ("users.getPresence", "dnd.teamInfo")


def presence_calls(w: World) -> int:
    return sum(len(w.slack.calls_to(m)) for m in PRESENCE)


def asked(w: World, people: tuple[str, ...] = (BOB, CAROL, DAVE)) -> list[str]:
    return [u for u in people if w.dms(u)]


def methods(w: World) -> list[str]:
    """Web API methods the bot called, in order (bolt's own auth.test left out)."""
    return [c.method for c in w.slack.calls if c.method != "auth.test"]


async def fresh(w: World, *people: str) -> None:
    assert "Created @reviewers" in await w.command(ALICE, "/community", "create reviewers")
    names = " ".join(f"<@{u}|{u.lower()}>" for u in people)
    assert "Added to @reviewers" in await w.command(ALICE, "/community", f"add reviewers {names}")


async def test_create_add_ask_at_once_reaches_the_active_member_not_the_away_one(
    world: World,
) -> None:
    world.slack.set_presence(BOB, "away")
    world.slack.set_presence(CAROL, "away")
    await fresh(world, BOB, CAROL, DAVE)
    answer = await world.command(ALICE, "/ask-available", "reviewers --one look at #12?")
    assert "Asked" in answer and "no presence seen yet" not in answer
    assert asked(world) == [DAVE]


async def test_create_add_ask_all_at_once_skips_the_away_member(world: World) -> None:
    world.slack.set_presence(CAROL, "away")
    await fresh(world, BOB, CAROL, DAVE)
    answer = await world.command(ALICE, "/ask-available", "reviewers --all standup?")
    assert "Sent to everyone available" in answer and "no presence seen yet" not in answer
    assert asked(world) == [BOB, DAVE]


async def test_members_gone_stale_are_asked_about_before_the_resolver_decides(
    world: World,
) -> None:
    await fresh(world, BOB, CAROL, DAVE)
    world.clock.advance(world.settings.presence_stale_seconds + 60)  # every verdict is stale now
    world.slack.set_presence(BOB, "away")
    world.slack.set_presence(DAVE, "away")
    before = len(world.slack.calls_to("users.getPresence"))
    answer = await world.command(ALICE, "/ask-available", "reviewers --all anyone?")
    assert asked(world) == [CAROL]
    assert "no presence seen yet" not in answer and "not checked" not in answer
    assert len(world.slack.calls_to("users.getPresence")) - before == 3


async def test_one_and_count_check_the_unknown_members_the_strategy_meets_first(
    world: World,
) -> None:
    await fresh(world, BOB, CAROL, DAVE)
    world.clock.advance(world.settings.presence_stale_seconds + 60)
    world.slack.set_presence(BOB, "away")
    answer = await world.command(ALICE, "/ask-available", "reviewers --count 2 pair?")
    assert "Asked" in answer
    assert asked(world) == [CAROL, DAVE]


async def test_a_community_larger_than_the_budget_says_how_many_were_not_checked(
    world: World,
) -> None:
    crowd = [f"U{i:08d}" for i in range(70)]
    for uid in crowd:
        world.slack.add_user(uid, uid.lower(), tz="UTC")
    assert "Created" in await world.command(ALICE, "/community", "create crowd")
    for i in range(0, 70, 35):
        names = " ".join(f"<@{u}>" for u in crowd[i : i + 35])
        assert "Added" in await world.command(ALICE, "/community", f"add crowd {names}")
    # Joining spent the minute's budget on the first 49; the rest wait for the prober.
    world.clock.advance(world.settings.presence_stale_seconds + 60)  # all stale, budget full
    world.vt.t += world.settings.presence_stale_seconds + 60  # and the pacing's clock with it
    answer = await world.command(ALICE, "/ask-available", "crowd --all who's around?")
    assert "20 members were not checked" in answer
    assert len(asked(world, tuple(crowd))) == 50  # the members checked, in strategy order


async def test_presence_calls_per_ask_on_a_fresh_50_member_community(world: World) -> None:
    """Joining asks about everyone once; an ask after that confirms only whom it picks."""
    crowd = [f"U{i:08d}" for i in range(49)]
    for uid in crowd:
        world.slack.add_user(uid, uid.lower(), tz="UTC")
    assert "Created" in await world.command(ALICE, "/community", "create big")
    names = " ".join(f"<@{u}>" for u in crowd)
    assert "Added" in await world.command(ALICE, "/community", f"add big {names}")
    joined = presence_calls(world)
    assert len(world.slack.calls_to("users.getPresence")) == 50  # alice and the 49, once each
    await world.command(ALICE, "/ask-available", "big --one help?")
    one = presence_calls(world) - joined
    world.clock.advance(60)  # the budget refills
    await world.command(ALICE, "/ask-available", "big --all help?")
    every = presence_calls(world) - joined - one
    assert one <= 2 and every == 0  # a confirm (and its dnd.teamInfo) at most; --all: none


# -- replies never wait on per-person Web API calls -----------------------------------


async def test_adding_people_replies_before_any_per_person_call(world: World) -> None:
    team = [f"U{i:08d}" for i in range(40)]
    for uid in team:
        world.slack.add_user(uid, f"person{uid[-2:]}", tz="America/New_York")
    await world.command(ALICE, "/community", "create big")
    for half in (team[:20], team[20:]):
        start = len(methods(world))
        names = " ".join(f"<@{u}|person{u[-2:]}>" for u in half)
        answer = await world.command(ALICE, "/community", f"add big {names}")
        assert "Added to @big" in answer
        calls = methods(world)[start:]
        before_reply = calls[: calls.index("chat.postEphemeral")]
        assert before_reply == [], before_reply
        assert "users.info" not in calls  # profiles come from one users.list listing
    assert len(world.slack.calls_to("users.list")) == 1
    filled = await Contact.filter(user_id__in=team).values_list("display_name", "tz")
    assert sorted(filled)[0] == ("person00", "America/New_York")
    assert {tz for _, tz in filled} == {"America/New_York"}


async def test_a_rejected_command_writes_nothing_and_calls_nothing(world: World) -> None:
    crowd = " ".join(f"<@U{i:08d}|p{i}>" for i in range(120))
    before = await Contact.all().count()
    answer = await world.command(ALICE, "/community", f"bogus reviewers {crowd}")
    assert "unknown /community action" in answer
    assert methods(world) == ["chat.postEphemeral"]
    assert await Contact.all().count() == before
    await world.command(ALICE, "/community", "create reviewers")
    start = len(methods(world))
    answer = await world.command(ALICE, "/community", f"add reviewers <@{BOB}|bob> @nobody")
    assert "I don't know @nobody" in answer
    assert await Contact.filter(user_id=BOB).count() == 0
    assert "users.info" not in methods(world)[start:]
    assert "users.getPresence" not in methods(world)[start:]


async def test_a_profile_change_reaches_the_table_and_the_directory(world: World) -> None:
    await fresh(world, BOB)
    user = {"id": BOB, "name": "bob", "tz": "Asia/Tokyo", "profile": {"display_name": "Bobby"}}
    await world.event({"type": "user_change", "user": user})
    assert await Contact.filter(user_id=BOB).values_list("display_name", "tz") == [
        ("Bobby", "Asia/Tokyo")
    ]
    assert world.bot.people.known(TEAM, BOB) is not None
    assert world.engine.monitor.availability(keys.encode("slack", TEAM, BOB)) is (
        Availability.AVAILABLE
    )


# -- pins -----------------------------------------------------------------------------


async def test_only_owners_pin_and_a_second_pin_moves_the_first(world: World) -> None:
    await fresh(world, BOB, CAROL)
    refused = await world.command(BOB, "/community", "pin reviewers")
    assert "only owners of @reviewers can pin it" in refused
    assert world.channel_posts() == []
    assert "Pinned @reviewers" in await world.command(ALICE, "/community", "pin reviewers")
    assert "Moved @reviewers" in await world.command(ALICE, "/community", "pin reviewers")
    (post,) = world.channel_posts()  # the first one was deleted: never two
    assert "availability" in post["text"]
    assert len(world.slack.calls_to("chat.delete")) == 1
    assert await LiveView.filter(channel=CHANNEL).count() == 1


async def test_a_burst_of_changes_edits_each_pin_once_and_never_in_the_sweeper(
    world: World,
) -> None:
    await fresh(world, BOB, CAROL, DAVE)
    world.engine.notifier.live_views.sleep = world.vt.sleep
    await world.command(ALICE, "/community", "pin reviewers")
    for person in (BOB, CAROL, DAVE):  # three changes land between two sweeps
        world.engine.observe(keys.encode("slack", TEAM, person), Override(Availability.BUSY))
    await world.engine.tick()  # the sweeper pumps the changes and returns
    assert world.slack.calls_to("chat.update") == []
    await world.bot.settle()  # the refresher, in the background, edits once for the burst
    (edit,) = world.slack.calls_to("chat.update")
    assert "1 of 4 available" in str(edit.args.get("text"))  # alice alone
