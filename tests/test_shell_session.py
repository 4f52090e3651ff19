"""The shell as a newcomer meets it: help that helps, near misses named, a clock that refuses nonsense."""

from __future__ import annotations

from bots.shell.testing import Workspace
from core.store.models import Community, LiveView


async def test_help_lists_every_command_and_community_help_the_actions(
    workspace: Workspace,
) -> None:
    t = await workspace.run("/help")
    assert "/ask-available <handle>" in t.reply() and "/hours <HH:MM-HH:MM>" in t.reply()
    t = await workspace.run("/community help")
    assert "/community pin <handle>" in t.reply() and "/away" not in t.reply()


async def test_near_misses_are_named(workspace: Workspace) -> None:
    assert "Did you mean /community?" in (await workspace.run("/comunity list")).reply()
    assert "Did you mean @frontend?" in (await workspace.run("/ask-available frontnd hi")).reply()
    assert "Did you mean show?" in (await workspace.run("/community shwo frontend")).reply()
    join = (await workspace.run("/community join frontnd", as_user="erin")).reply()
    assert "there is no community @frontnd here. Did you mean @frontend?" in join, join
    assert "Did you mean :advance?" in (await workspace.run(":advnce 1m")).text()


async def test_an_absurd_advance_is_refused_and_the_session_goes_on(workspace: Workspace) -> None:
    before = workspace.clock.now()
    t = await workspace.run(":advance 9999999d", ":advance soon")
    assert "the clock moves at most 90d at a time" in t.text()
    assert "“soon” is not a duration" in t.text()
    assert workspace.clock.now() == before and workspace.session.failures == 2
    t = await workspace.run(":advance 10m", "/community list")
    assert "(clock moved 10m to Mon 09:10 UTC)" in t.text()
    assert "@frontend" in t.reply()


async def test_help_names_quit_and_reset(workspace: Workspace) -> None:
    said = (await workspace.run(":help")).text()
    assert ":quit" in said and ":reset" in said and ":home" in said and ":channel" in said


async def test_reset_forgets_everything_and_seeds_again(workspace: Workspace) -> None:
    await workspace.run("/community create design Design crit", ":as bob")
    assert await Community.filter(handle="design").exists()
    t = await workspace.run(":reset")
    assert "the demo people are back" in t.text()
    assert not await Community.filter(handle="design").exists()
    assert workspace.session.user == "alice"
    assert "@frontend" in (await workspace.run("/community list")).reply()


async def test_home_shows_what_the_slack_home_tab_shows(workspace: Workspace) -> None:
    said = (await workspace.run(":home")).text()
    assert said.startswith("You: 🟢 available")
    assert "@frontend — Frontend reviewers: 3 of 4 available" in said
    assert "alice (owner): 🟢 available" in said
    assert "Communities to join\n  @on-call-db — Database on-call" in said


async def test_pin_can_be_tried_in_a_channel(workspace: Workspace) -> None:
    t = await workspace.run(":channel design-review", "/community pin frontend")
    assert "Pinned @frontend's availability here" in t.reply()
    assert await LiveView.filter(channel="design-review").exists()
    assert "@frontend" in t.channel()
    t = await workspace.run("hello there")
    assert any(o.to == "#design-review" for o in t.out)


async def test_durations_are_understood_or_refused_never_swallowed(workspace: Workspace) -> None:
    assert "You're away until 10:30 UTC." in (await workspace.run("/away 1.5h")).reply()
    t = await workspace.run("/away 2 hours lunch")
    assert "You're away until 11:00 UTC (lunch)." in t.reply()
    assert "You're busy until 10:30 UTC." in (await workspace.run("/busy 90m")).reply()
    t = await workspace.run("/away tomorrow")
    assert "“tomorrow” is a time, not a duration: /away takes a duration such as 2h" in t.reply()
    assert "/hours 09:00-17:00" not in t.reply()


async def test_hours_keep_the_days_as_written_and_any_case_of_zone(workspace: Workspace) -> None:
    t = await workspace.run("/hours 09:00-17:00 Sun-Thu europe/berlin")
    assert "Working hours set: 09:00–17:00 Sun-Thu (Europe/Berlin)." in t.reply()


async def test_hours_to_midnight_read_as_24_00(workspace: Workspace) -> None:
    t = await workspace.run("/hours 00:00-24:00 Mon-Sun")
    assert "Working hours set: 00:00–24:00 Mon-Sun (UTC)." in t.reply()
