"""A tenant that removes the app keeps its communities and history for DATA_RETENTION_DAYS, then
they are purged by the sweep; coming back within the window keeps everything. Core behaviour,
driven through the shell adapter on SQLite and PostgreSQL with the manual clock."""

from __future__ import annotations

from bots.shell.platform import TENANT
from bots.shell.testing import Workspace
from core import keys
from core.config import Settings
from core.presence.availability import Availability
from core.retention import DAY, SWEEP_EVERY
from core.store.models import (
    Community,
    Contact,
    Delivery,
    Membership,
    Notice,
    Request,
    Role,
    Tenant,
)

RETENTION_DAYS = 30
BOB = keys.encode("shell", TENANT, "bob")


async def workspace(*, seed: bool = True) -> Workspace:
    settings = Settings(random_seed=7, data_retention_days=RETENTION_DAYS)
    return await Workspace(settings=settings).start(seed=seed)


async def another_tenant() -> int:
    """A tenant that never leaves, beside the shell's."""
    t = await Tenant.create(platform="shell", external_id="elsewhere", name="Elsewhere")
    community = await Community.create(tenant_id=t.id, handle="frontend", title="Theirs")
    contact = await Contact.create(tenant_id=t.id, user_id="zoe", display_name="zoe")
    await Membership.create(community_id=community.id, contact_id=contact.id, role=Role.OWNER)
    return t.id


async def held(tenant: str) -> dict[str, int]:
    """How many rows of each kind a tenant still has."""
    q = {"tenant__external_id": tenant}
    return {
        "communities": await Community.filter(**q).count(),
        "contacts": await Contact.filter(**q).count(),
        "memberships": await Membership.filter(community__tenant__external_id=tenant).count(),
        "requests": await Request.filter(**q).count(),
        "deliveries": await Delivery.filter(request__tenant__external_id=tenant).count(),
        "notices": await Notice.filter(**q).count(),
    }


async def test_a_tenant_that_left_is_kept_for_the_window_then_purged(db: str) -> None:
    ws = await workspace()
    other = await another_tenant()
    asked = await ws.run("/ask-available frontend can someone review #12?")
    (target,) = asked.asked()
    await ws.run(":accept", as_user=target)  # the requester is told: a notice
    before = await held(TENANT)
    assert all(before.values()), before

    await ws.engine.retention.left(TENANT)
    await ws.tick(20 * DAY)
    await ws.engine.retention.left(TENANT)  # tokens_revoked after app_uninstalled: first counts
    await ws.tick(RETENTION_DAYS * DAY - 20 * DAY - 1)
    assert await held(TENANT) == before, "kept until the window has passed"
    assert BOB in ws.engine.tracked

    await ws.tick(SWEEP_EVERY)  # the first sweep after the window
    assert not await Tenant.filter(external_id=TENANT).exists()
    assert set((await held(TENANT)).values()) == {0}
    assert BOB not in ws.engine.tracked
    assert ws.engine.monitor.availability(BOB) is Availability.UNKNOWN
    assert await Community.filter(tenant_id=other).count() == 1, "other tenants are untouched"
    assert await Membership.filter(community__tenant_id=other).count() == 1


async def test_coming_back_within_the_window_keeps_everything(db: str) -> None:
    ws = await workspace()
    await ws.engine.retention.left(TENANT)
    await ws.tick(RETENTION_DAYS * DAY - DAY)
    await ws.engine.retention.returned(TENANT)
    await ws.tick(2 * RETENTION_DAYS * DAY)
    tenant = await Tenant.get(external_id=TENANT)
    assert tenant.uninstalled_at is None
    shown = await ws.run("/community show frontend")
    assert "bob" in shown.reply()


async def test_a_tenant_that_never_left_is_never_purged(db: str) -> None:
    ws = await workspace()
    await ws.tick(10 * RETENTION_DAYS * DAY)
    assert (await held(TENANT))["communities"] == 2


async def test_another_process_forgets_a_tenant_purged_elsewhere_and_serves_it_anew(
    db: str,
) -> None:
    purger = await workspace()
    other = await workspace(seed=False)  # a second process on the same database
    made = await other.run("/community create late-night", as_user="bob")
    assert "Created @late-night" in made.reply()
    assert BOB in other.engine.tracked

    await purger.engine.retention.left(TENANT)
    await purger.tick(RETENTION_DAYS * DAY)
    assert not await Tenant.filter(external_id=TENANT).exists()

    await other.tick(SWEEP_EVERY)  # its own sweep finds the tenant gone and forgets it
    assert BOB not in other.engine.tracked
    again = await other.run("/community create late-night", as_user="bob")
    assert "Created @late-night" in again.reply(), "served anew, not with a purged tenant's ids"
    assert BOB in other.engine.tracked
