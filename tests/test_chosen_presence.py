"""What people type about their own presence survives a restart without a shared store.

`/away`, `/busy`, `/available` and `/hours` are written to the database with the command;
a fresh process on the same database (here: a fresh workspace with its own in-process
presence store) puts them back, except an override that ran out meanwhile.
"""

from __future__ import annotations

from bots.shell.testing import T0, Workspace
from core import keys
from core.presence.availability import Availability

ALICE = keys.encode("shell", "local", "alice")
BOB = keys.encode("shell", "local", "bob")


async def restarted(at: float = T0) -> Workspace:
    """Another process on the same database, remembering nothing in memory."""
    return await Workspace(start=at).start()


async def test_away_and_hours_come_back_after_a_restart(db: str) -> None:
    first = await Workspace().start()
    await first.run("/away 2h lunch", "/hours 09:00-10:00 Europe/Berlin")
    said = "\n".join((await first.run(":users")).said)

    again = await restarted()
    assert "\n".join((await again.run(":users")).said) == said
    verdict = again.engine.monitor.verdict(ALICE)
    assert verdict.availability is Availability.OFFLINE
    assert verdict.until == T0 + 2 * 3600
    assert "lunch" in said


async def test_hours_alone_decide_after_a_restart(db: str) -> None:
    first = await Workspace().start()
    await first.run("/hours 10:00-17:00 UTC", as_user="bob")  # Monday 09:00 UTC: not yet
    assert first.engine.monitor.availability(BOB) is Availability.OFFLINE

    again = await restarted()
    assert again.engine.monitor.availability(BOB) is Availability.OFFLINE
    await again.tick(3600)
    assert again.engine.monitor.availability(BOB) is Availability.AVAILABLE


async def test_an_override_that_ran_out_is_not_restored(db: str) -> None:
    first = await Workspace().start()
    await first.run("/busy 30m", "/hours 08:00-18:00 UTC")
    assert first.engine.monitor.availability(ALICE) is Availability.BUSY

    again = await restarted(T0 + 3600)
    assert again.engine.monitor.verdict(ALICE).source != "manual"
    assert again.engine.monitor.availability(ALICE) is Availability.AVAILABLE


async def test_clearing_is_remembered_too(db: str) -> None:
    first = await Workspace().start()
    await first.run("/away lunch", "/hours 09:00-17:00 UTC")
    await first.run("/available", "/hours off")

    again = await restarted()
    verdict = again.engine.monitor.verdict(ALICE)
    assert verdict.source != "manual"
    assert verdict.availability is Availability.AVAILABLE


async def test_a_contact_met_after_start_up_is_read_back_on_demand(db: str) -> None:
    first = await Workspace().start()
    await first.run("/away 2h lunch", as_user="bob")

    again = Workspace()  # started without the start-up read: only the roster's read-through
    monitor = again.engine.monitor
    assert monitor.availability(BOB) is Availability.UNKNOWN
    await monitor.load([BOB])
    assert monitor.verdict(BOB).source == "manual"
    assert monitor.availability(BOB) is Availability.OFFLINE
