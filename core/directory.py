"""Tenant-scoped access to contacts, communities and rosters: every query names its tenant."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise import connections

from core.grouping import Member
from core.ports import Actor
from core.store.models import OPEN_DELIVERY, Community, Contact, Membership, Role, Tenant
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
        """Every member with fairness counters and open asks, in one query whatever the size.

        Plain SQL because this is the cold path of every resolution: the database turns
        timestamps into epoch seconds, which is ~30x cheaper than the ORM building datetimes.
        """
        conn = connections.get(community._meta.default_connection or "")
        postgres = conn.capabilities.dialect == "postgres"
        sql = ROSTER_SQL.format(
            joined=_epoch("m.joined_at", postgres),
            asked=_epoch("m.last_asked_at", postgres),
            accepted=_epoch("m.last_accepted_at", postgres),
            tenant="$1" if postgres else "?",  # placeholders in the order they appear
            community="$2" if postgres else "?",
            open=", ".join(f"'{s.value}'" for s in OPEN_DELIVERY),
        )
        _, rows = await conn.execute_query(sql, [community.tenant_id, community.id])
        prefix = f"{platform}:{tenant}:"
        roles = {r.value: r for r in Role}
        return [
            Member(
                cid,
                uid,
                name,
                prefix + uid,
                roles[role],
                joined or 0.0,
                asked or 0.0,
                accepted or 0.0,
                n,
            )
            for cid, uid, name, role, joined, asked, accepted, n in rows
        ]


ROSTER_SQL = """
SELECT m.contact_id, c.user_id, c.display_name, m.role, {joined}, {asked}, {accepted},
       COALESCE(o.n, 0)
FROM membership m
JOIN contact c ON c.id = m.contact_id AND c.tenant_id = {tenant}
LEFT JOIN (
    SELECT d.target_id, COUNT(*) AS n FROM delivery d
    WHERE d.state IN ({open})
    GROUP BY d.target_id
) o ON o.target_id = m.contact_id
WHERE m.community_id = {community}
"""


def _epoch(column: str, postgres: bool) -> str:
    """A timestamp column as epoch seconds (NULL stays NULL), in either dialect."""
    if postgres:
        return f"EXTRACT(EPOCH FROM {column})"
    return f"(julianday({column}) - 2440587.5) * 86400.0"
