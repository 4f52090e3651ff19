"""`/asks`: my open asks, newest first, each with where it stands; read-only, from the database."""

from __future__ import annotations

from bots.shell.testing import Workspace
from core.store.models import Delivery, Request


async def stored() -> tuple[object, ...]:
    return (
        await Request.all().order_by("id").values_list("state", "version", "step"),
        await Delivery.all().order_by("id").values_list("state", "target_id"),
    )


async def test_nothing_open_says_so_and_points_at_why(workspace: Workspace) -> None:
    said = (await workspace.run("/asks")).reply()
    assert said == "You have no open asks. /ask-available why tells how your last one went."


async def test_open_asks_newest_first_with_where_each_stands(workspace: Workspace) -> None:
    ws = workspace
    await ws.run("/ask-available frontend can someone review #12?")  # bob, who declines
    await ws.run(":decline", as_user="bob")  # then dave
    await ws.run(":advance 1m")
    await ws.run("/ask-available frontend --everyone   release at 5,\nall hands")
    first, second = [r.id for r in await Request.all().order_by("id")]
    before = await stored()
    lines = (await ws.run("/asks")).reply().splitlines()
    assert lines[0] == "Your open asks, newest first:"
    assert lines[1].startswith(
        f"#{second} @frontend (everyone), 09:01 UTC: “release at 5, all hands” — waiting on "
    )
    assert lines[2] == (
        f"#{first} @frontend (one), 09:00 UTC: “can someone review #12?” — "
        "waiting on dave; 1 declined."
    )
    assert lines[3] == (
        "/ask-available why <number> tells the whole story of one; "
        "/ask-available cancel <number> calls it off."
    )
    assert await stored() == before, "/asks only reads"


async def test_an_ask_leaves_the_list_once_it_is_answered(workspace: Workspace) -> None:
    ws = workspace
    await ws.run("/ask-available frontend can someone review #12?")
    await ws.run(":accept", as_user="bob")
    assert "You have no open asks." in (await ws.run("/asks")).reply()


async def test_an_escalating_ask_names_its_next_step(workspace: Workspace) -> None:
    ws = workspace
    await ws.run("/community set frontend escalate 12m everyone")
    await ws.run("/ask-available frontend anyone?")
    said = (await ws.run("/asks")).reply()
    assert "waiting on bob; next escalation step at 09:12 UTC." in said


async def test_only_my_own_asks_are_listed(workspace: Workspace) -> None:
    await workspace.run("/ask-available frontend can someone review #12?")
    said = (await workspace.run("/asks", as_user="bob")).reply()
    assert said.startswith("You have no open asks.")


async def test_words_after_asks_are_refused_and_change_nothing(workspace: Workspace) -> None:
    await workspace.run("/ask-available frontend can someone review #12?")
    before = await stored()
    said = (await workspace.run("/asks 12")).reply()
    assert "/asks takes nothing after it (got “12”)" in said
    assert "Try: /asks" in said
    assert await stored() == before


async def test_help_lists_asks(workspace: Workspace) -> None:
    assert "/asks" in (await workspace.run("/help")).reply()
