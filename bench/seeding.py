"""Many tenants, each with its people in one community, written in bulk for the scale bench.

Made through the ORM's bulk inserts rather than thousands of `/community` commands: setting up
1,000 workspaces by command would take minutes and measure nothing the run does not measure.
"""

from __future__ import annotations

from core.store.models import Community, Contact, Membership, Role, Strategy, Tenant

BATCH = 1000


async def reset_database(url: str) -> None:
    """A fresh, empty PostgreSQL database at `url` (dropped and made again)."""
    import asyncpg

    base, _, name = url.rpartition("/")
    conn = await asyncpg.connect(f"{base}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def seed_communities(
    platform: str,
    people: dict[str, list[str]],
    *,
    handle: str = "ops",
    strategy: Strategy = Strategy.ROUND_ROBIN,
) -> None:
    """Every tenant (external id → user ids) with one community of all its people; the first
    person owns it."""
    await Tenant.bulk_create(
        [Tenant(platform=platform, external_id=t, name=t) for t in people], batch_size=BATCH
    )
    tenant_ids = dict(
        await Tenant.filter(platform=platform).values_list("external_id", "id")  # type: ignore[arg-type]
    )
    await Contact.bulk_create(
        [
            Contact(tenant_id=tenant_ids[t], user_id=u, display_name=f"m{i}", tz="UTC")
            for t, users in people.items()
            for i, u in enumerate(users)
        ],
        batch_size=BATCH,
    )
    await Community.bulk_create(
        [
            Community(tenant_id=tid, handle=handle, title=handle.title(), strategy=strategy)
            for tid in tenant_ids.values()
        ],
        batch_size=BATCH,
    )
    community_of = dict(
        await Community.filter(tenant__platform=platform).values_list("tenant_id", "id")  # type: ignore[arg-type]
    )
    contacts = await Contact.filter(tenant__platform=platform).values_list(
        "id", "tenant_id", "user_id"
    )
    owners = {tenant_ids[t]: users[0] for t, users in people.items() if users}
    await Membership.bulk_create(
        [
            Membership(
                community_id=community_of[tid],
                contact_id=cid,
                role=Role.OWNER if owners.get(tid) == uid else Role.MEMBER,
            )
            for cid, tid, uid in contacts
        ],
        batch_size=BATCH,
    )
