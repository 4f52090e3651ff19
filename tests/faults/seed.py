"""Seeding large communities straight into the database the processes under test will open."""

from __future__ import annotations

from core.store.models import Community, Contact, Membership, Role, Tenant

SHELL_TENANT = ("shell", "local")


async def crowd(members: int, handle: str = "crowd", requester: str = "alice") -> list[str]:
    """A shell-tenant community of `members` people plus its owner; returns the member ids."""
    tenant, _ = await Tenant.get_or_create(platform=SHELL_TENANT[0], external_id=SHELL_TENANT[1])
    ids = [f"u{i:04d}" for i in range(members)]
    await Contact.bulk_create(
        [Contact(tenant_id=tenant.id, user_id=u, display_name=u) for u in [requester, *ids]]
    )
    contacts = dict(
        await Contact.filter(tenant_id=tenant.id).values_list("user_id", "id")  # type: ignore[arg-type]
    )
    community = await Community.create(tenant_id=tenant.id, handle=handle, title=handle)
    await Membership.bulk_create(
        [
            Membership(
                community_id=community.id,
                contact_id=contacts[u],
                role=Role.OWNER if u == requester else Role.MEMBER,
            )
            for u in [requester, *ids]
        ]
    )
    return ids
