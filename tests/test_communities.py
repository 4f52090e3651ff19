"""Communities: creating, changing, reading; who may do what; tenants never meet."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bots.shell.testing import Workspace
from core.ports import Actor
from core.store.models import Community, Contact, Delivery, Membership, Request, Subscription


async def snapshot() -> tuple[object, ...]:
    """Everything a command could change, to prove that a refused one changed nothing."""
    return (
        await Community.all()
        .order_by("id")
        .values_list("handle", "title", "strategy", "mention_mode", "capacity", "linked_group"),
        await Membership.all().order_by("id").values_list("community_id", "contact_id", "role"),
        await Subscription.all()
        .order_by("id")
        .values_list("community_id", "subscriber_id", "once"),
        await Request.all().count(),
        await Delivery.all().count(),
    )


async def test_anyone_creates_a_community_and_becomes_its_owner(workspace: Workspace) -> None:
    t = await workspace.run("/community create Design-Crit Design critique", as_user="dave")
    assert "Created @design-crit; you're its owner" in t.reply()
    show = await workspace.run("/community show @design-crit")
    assert "dave (owner)" in show.reply()
    assert "— Design critique" in show.reply()


async def test_list_shows_every_community_with_availability(workspace: Workspace) -> None:
    t = await workspace.run("/community list")
    assert "@frontend — Frontend reviewers: 3 of 4 available (you're in it)" in t.reply()
    assert "@on-call-db — Database on-call: 2 of 3 available" in t.reply()


async def test_show_gives_each_member_availability_with_reason_source_and_age(
    workspace: Workspace,
) -> None:
    await workspace.run(":advance 2m")
    t = await workspace.run("/community show frontend")
    assert "carol: ⛔ busy: do-not-disturb until 11:00 UTC (dnd, 2m ago)" in t.reply()
    assert "bob: 🟢 available: online (platform, 2m ago)" in t.reply()


async def test_join_leave_add_remove(workspace: Workspace) -> None:
    assert "You joined @on-call-db." in (await workspace.run("/community join on-call-db")).reply()
    assert "already in" in (await workspace.run("/community join on-call-db")).reply()
    assert "You left @on-call-db." in (await workspace.run("/community leave on-call-db")).reply()
    added = await workspace.run("/community add frontend @erin @bob")
    assert "Added to @frontend: @erin." in added.reply() and "Already in it: @bob." in added.reply()
    assert (
        "Removed 1 from @frontend."
        in (await workspace.run("/community remove frontend @erin")).reply()
    )


async def test_only_owners_remove_others_delete_or_change_settings(workspace: Workspace) -> None:
    before = await snapshot()
    for line in (
        "/community remove frontend @carol",
        "/community delete frontend",
        "/community set frontend strategy random",
        "/community link frontend <group:S1>",
    ):
        t = await workspace.run(line, as_user="bob")
        assert "only owners of @frontend" in t.reply(), line
    assert await snapshot() == before


async def test_the_last_owner_cannot_leave_without_handing_over(workspace: Workspace) -> None:
    before = await snapshot()
    t = await workspace.run("/community leave frontend")
    said = t.reply()
    assert "you're the last owner of @frontend: hand it over first" in said
    assert "Try: /community set frontend owner @someone" in said
    assert await snapshot() == before, "a refused leave changes nothing"
    await workspace.run("/community set frontend owner @bob")
    assert "You left @frontend." in (await workspace.run("/community leave frontend")).reply()
    shown = (await workspace.run("/community show frontend", as_user="bob")).reply()
    assert "bob (owner)" in shown and "alice" not in shown


async def test_one_of_two_owners_leaves_freely(workspace: Workspace) -> None:
    await workspace.run("/community set frontend owner @bob")
    said = (await workspace.run("/community leave frontend", as_user="bob")).reply()
    assert "You left @frontend." in said


async def test_the_only_member_is_pointed_at_delete_not_at_a_handover(
    workspace: Workspace,
) -> None:
    await workspace.run("/community create solo Just me")
    before = await snapshot()
    said = (await workspace.run("/community leave solo")).reply()
    assert "you're the only member of @solo" in said
    assert "Try: /community delete solo" in said
    assert await snapshot() == before
    assert "Deleted" in (await workspace.run("/community delete solo")).reply()


async def test_settings_change_how_requests_resolve(workspace: Workspace) -> None:
    await workspace.run("/community set frontend mention one")
    t = await workspace.run("@frontend quick question")
    assert len(t.asked()) == 1
    await workspace.run("/community set frontend strategy round-robin")
    assert "strategy round-robin" in (await workspace.run("/community show frontend")).reply()


async def test_a_subscriber_is_pushed_each_change(workspace: Workspace) -> None:
    await workspace.run("/community subscribe frontend", as_user="erin")
    t = await workspace.run(":presence bob busy")
    (dm,) = t.dms("erin")
    assert dm.text == "@frontend: @bob is now busy: do-not-disturb"
    await workspace.run("/community unsubscribe frontend", as_user="erin")
    assert (await workspace.run(":presence bob available")).dms("erin") == []


async def test_away_and_busy_override_presence_until_they_expire(workspace: Workspace) -> None:
    t = await workspace.run("/away 1h lunch", as_user="bob")
    assert "You're away until 10:00 UTC (lunch)." in t.reply()
    asked = await workspace.run("/ask-available frontend anyone?")
    assert asked.asked() == ["dave"]
    assert "bob (offline: set by hand: lunch until 10:00 UTC)" in asked.reply()
    later = await workspace.run(":advance 61m")
    assert "@dave did not answer within 5m; asking @bob" in later.dms("alice")[0].text, (
        "bob is back after lunch"
    )


async def test_working_hours_make_people_unavailable_outside_them(workspace: Workspace) -> None:
    await workspace.run("/hours 13:00-17:00 Mon-Fri UTC", as_user="bob")
    t = await workspace.run("/ask-available frontend morning?")
    assert "bob (offline: outside working hours (13:00–17:00 UTC) until 13:00 UTC)" in t.reply()


async def test_tenants_never_see_each_other(workspace: Workspace) -> None:
    stranger = Actor("shell", "another-workspace", "mallory", "mallory")
    for name, text in (
        ("community", "show frontend"),
        ("community", "join frontend"),
        ("ask-available", "frontend hi"),
        ("community", "delete frontend"),
    ):
        reply = await workspace.engine.command(stranger, name, text)
        assert "there is no community @frontend here" in reply.plain()
    listing = await workspace.engine.command(stranger, "community", "list")
    assert "No communities yet" in listing.plain()
    await workspace.engine.command(stranger, "community", "create frontend Mallory's")
    assert await Community.filter(handle="frontend").count() == 2
    theirs = await workspace.run("/community show frontend")
    assert "mallory" not in theirs.reply()
    mine = await workspace.engine.command(stranger, "community", "show frontend")
    assert ": 1 of 1 available" in mine.plain()
    assert "mallory (owner)" in mine.plain() and "alice" not in mine.plain()


LINES = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda cmd, words: f"{cmd} {' '.join(words)}",
        st.sampled_from(
            ["/community", "/ask-available", "/away", "/busy", "/available", "/hours", "/nope"]
        ),
        st.lists(
            st.one_of(
                st.sampled_from(
                    [
                        "create",
                        "delete",
                        "add",
                        "remove",
                        "set",
                        "link",
                        "leave",
                        "join",
                        "frontend",
                        "@frontend",
                        "strategy",
                        "capacity",
                        "0",
                        "101",
                        "--count",
                        "--all",
                        "<@U1>",
                        "@zed",
                        "<!channel>",
                        "@everyone",
                        "<group:S1>",
                        "25:00-26:00",
                    ]
                ),
                st.text(max_size=12),
            ),
            max_size=5,
        ),
    ),
)


def collected(strategy: st.SearchStrategy[str], n: int) -> list[str]:
    """Draw inputs with hypothesis up front; the engine under test is async."""
    drawn: list[str] = []

    @settings(max_examples=n, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def draw(line: str) -> None:
        drawn.append(line)

    draw()
    return drawn


async def test_no_input_raises_and_a_refused_command_changes_nothing(workspace: Workspace) -> None:
    for line in collected(LINES, 150):
        before = await snapshot()
        t = await workspace.run(line, as_user="bob")
        text = t.reply()
        if (
            "Try:" in text
            or "only " in text
            or "there is no community" in text
            or "I don't know" in text
        ):
            assert await snapshot() == before, line
    # The shell shows text as typed; that `<!channel>` in an ask reaches nobody as a
    # channel-wide mention is the platforms' markup's job (test_slack_text, test_discord_text).


async def test_presence_is_tracked_only_while_someone_is_in_a_community(
    workspace: Workspace,
) -> None:
    erin, bob = "shell:local:erin", "shell:local:bob"
    await workspace.run("/community leave on-call-db", as_user="bob")
    assert bob in workspace.engine.tracked, "bob is still in @frontend"
    await workspace.run("/community set on-call-db owner @dave", as_user="erin")
    await workspace.run("/community leave on-call-db", as_user="erin")
    assert erin not in workspace.engine.tracked
    await workspace.run("/community join on-call-db", as_user="erin")
    assert erin in workspace.engine.tracked


async def test_a_refused_add_creates_no_contacts(workspace: Workspace) -> None:
    """Everyone named must be known before anything is written, new ids included."""
    contacts = await Contact.all().count()
    before = await snapshot()
    t = await workspace.run("/community add frontend <@ghost1> <@ghost2> @nobody", as_user="alice")
    assert "I don't know @nobody here" in t.reply()
    assert await Contact.all().count() == contacts
    assert await snapshot() == before
