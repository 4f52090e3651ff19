"""Tenant-scoped access to contacts, communities and rosters: every query names its tenant."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.functions import Count

from core.clock import to_epoch
from core.grouping import Member
from core.ports import Actor
from core.store.models import OPEN_DELIVERY, Community, Contact, Delivery, Membership, Role, Tenant
from core.store.queries import column_strs


def presence_key(platform: str, tenant: str, user_id: str) -> str:
    """The monitor's key for a contact; tenant-scoped so nothing crosses tenants."""
    return f"{platform}:{tenant}:{user_id}"


@dataclass(frozen=True, slots=True)
class Who:
    """A resolved actor: database ids plus the presence key."""

    tenant_id: int
    contact_id: int
    key: str
    actor: Actor


class Directory:
    """Upserts the people we hear from and loads rosters in one query each."""

    def __init__(self) -> None:
        self._tenants: dict[tuple[str, str], int] = {}
        self._contacts: dict[tuple[int, str], int] = {}

    async def tenant_id(self, platform: str, external_id: str) -> int:
        cached = self._tenants.get((platform, external_id))
        if cached is not None:
            return cached
        tenant, _ = await Tenant.get_or_create(platform=platform, external_id=external_id)
        self._tenants[(platform, external_id)] = tenant.id
        return tenant.id

    async def who(self, actor: Actor) -> Who:
        """The contact behind an inbound event, created on first sight."""
        tid = await self.tenant_id(actor.platform, actor.tenant)
        cid = self._contacts.get((tid, actor.user_id))
        if cid is None:
            defaults = {"display_name": actor.name or actor.user_id, "tz": actor.tz or "UTC"}
            contact, created = await Contact.get_or_create(
                tenant_id=tid, user_id=actor.user_id, defaults=defaults
            )
            if not created and (
                (actor.name and contact.display_name != actor.name)
                or (actor.tz and contact.tz != actor.tz)
            ):
                contact.display_name = actor.name or contact.display_name
                contact.tz = actor.tz or contact.tz
                await contact.save(update_fields=["display_name", "tz"])
            cid = contact.id
            self._contacts[(tid, actor.user_id)] = cid
        return Who(tid, cid, presence_key(actor.platform, actor.tenant, actor.user_id), actor)

    async def contact(self, tenant_id: int, user_id: str) -> Contact | None:
        return await Contact.get_or_none(tenant_id=tenant_id, user_id=user_id)

    async def contact_named(self, tenant_id: int, name: str) -> Contact | None:
        """`@alice` in the shell: by display name, case-insensitively."""
        return await Contact.get_or_none(tenant_id=tenant_id, display_name__iexact=name)

    async def community(self, tenant_id: int, handle: str) -> Community | None:
        return await Community.get_or_none(tenant_id=tenant_id, handle=handle)

    async def role(self, community_id: int, contact_id: int) -> Role | None:
        got = await column_strs(
            Membership.filter(community_id=community_id, contact_id=contact_id), "role"
        )
        return Role(got[0]) if got else None

    async def roster(self, community: Community, platform: str, tenant: str) -> list[Member]:
        """Every member with fairness counters and open asks: two queries, whatever the size."""
        rows = await Membership.filter(community_id=community.id).values_list(
            "contact_id",
            "contact__user_id",
            "contact__display_name",
            "role",
            "joined_at",
            "last_asked_at",
            "last_accepted_at",
        )
        open_rows = (
            await Delivery.filter(
                state__in=OPEN_DELIVERY, target__memberships__community_id=community.id
            )
            .annotate(n=Count("id"))
            .group_by("target_id")
            .values_list("target_id", "n")
        )
        open_asks = {int(t): int(n) for t, n in open_rows}
        return [
            Member(
                contact_id=cid,
                user_id=uid,
                name=name,
                key=presence_key(platform, tenant, uid),
                role=Role(role),
                joined=to_epoch(joined),
                last_asked=to_epoch(asked) if asked else 0.0,
                last_accepted=to_epoch(accepted) if accepted else 0.0,
                open_asks=open_asks.get(cid, 0),
            )
            for cid, uid, name, role, joined, asked, accepted in rows
        ]
