"""Telling subscribers and views about a tick's presence changes costs the same handful of queries
whether the changes touch three tenants or thirty (at thousands of guilds a query per changed
tenant was most of the database's work), and each tenant's subscribers still hear only of their
own people. On SQLite and PostgreSQL, through the shell adapter."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from bots.shell.testing import Workspace
from core import keys
from core.presence.signals import DND, ONLINE, Native
from core.store.models import (
    Community,
    Contact,
    Membership,
    Notice,
    Role,
    Subscription,
    Tenant,
)


class Statements(logging.Handler):
    """Counts the statements tortoise's database client logs."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.n = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.n += 1


@contextmanager
def counting() -> Iterator[Statements]:
    logger = logging.getLogger("tortoise.db_client")
    handler, level = Statements(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def tenants(ws: Workspace, prefix: str, n: int) -> list[str]:
    """n tenants with a community of three people each, tracked; the owner subscribes."""
    made = []
    for i in range(n):
        name = f"{prefix}{i}"
        t = await Tenant.create(platform="shell", external_id=name, name=name)
        community = await Community.create(tenant_id=t.id, handle="ops", title="Ops")
        ids = []
        for uid in ("owner", "ann", "ben"):
            contact = await Contact.create(tenant_id=t.id, user_id=uid, display_name=uid)
            role = Role.OWNER if uid == "owner" else Role.MEMBER
            await Membership.create(community_id=community.id, contact_id=contact.id, role=role)
            ws.engine.tracked.add(keys.encode("shell", name, uid))
            ids.append(contact.id)
        await Subscription.create(tenant_id=t.id, subscriber_id=ids[0], community_id=community.id)
        made.append(name)
    return made


async def statements_to_tell(ws: Workspace, names: list[str]) -> int:
    """A change for ann in every one of these tenants, told in one tick."""
    for name in names:
        ws.engine.observe(keys.encode("shell", name, "ann"), Native(DND))
    with counting() as sql:
        await ws.tick()
    return sql.n


async def test_a_tick_tells_many_tenants_in_as_many_queries_as_few(workspace: Workspace) -> None:
    few = await tenants(workspace, "few-", 3)
    many = await tenants(workspace, "many-", 30)
    for name in few + many:  # everyone known first, so the next change is one change each
        for uid in ("owner", "ann", "ben"):
            workspace.engine.observe(keys.encode("shell", name, uid), Native(ONLINE))
    await workspace.tick()
    workspace.transcript.out.clear()

    # Each owner subscribed: their DM is a notice, written then sent (three writes each); the
    # reads that find who is told are the same few for 3 tenants as for 30.
    per_subscriber = 3
    assert await statements_to_tell(workspace, many) - per_subscriber * len(many) == (
        await statements_to_tell(workspace, few) - per_subscriber * len(few)
    )


async def test_each_tenant_hears_only_of_its_own_people(workspace: Workspace) -> None:
    names = await tenants(workspace, "team-", 4)
    await workspace.run("/community subscribe frontend", as_user="erin")
    for name in names:
        workspace.engine.observe(keys.encode("shell", name, "ann"), Native(ONLINE))
    workspace.engine.observe(keys.encode("shell", "local", "bob"), Native(DND))
    await workspace.tick()
    (dm,) = workspace.transcript.dms("erin")
    assert dm.text == "@frontend: @bob is now busy: do-not-disturb"
    told_where = await Notice.filter(recipient="owner").values_list("tenant__external_id", "body")
    assert sorted(t for t, _ in told_where) == sorted(names), "each owner told once, at home"
    for _, body in told_where:
        assert ["ann", "ann"] in body["parts"] and " is now available" in body["parts"][-1]
