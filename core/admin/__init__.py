"""`/community …`: each typed action routed to membership (`members`) or settings
(`settings`) once its community and the caller's role are known; reading is here."""

from __future__ import annotations

from core import escalation, insights, keys, views
from core.admin.access import members_only
from core.admin.members import Members
from core.admin.settings import CommunitySettings
from core.commands import (
    AddMembers,
    CommandError,
    CommunityCommand,
    CommunityStats,
    CommunityToken,
    CreateCommunity,
    DeleteCommunity,
    JoinCommunity,
    LeaveCommunity,
    LinkGroup,
    ListCommunities,
    OnCommunity,
    PinCommunity,
    RemoveMembers,
    Setting,
    ShowCommunity,
    Subscribe,
    Unsubscribe,
)
from core.directory import Who, near_miss
from core.ports import Message, Part, Place
from core.presence.availability import Availability
from core.store.models import Community, Membership, Role, Subscription
from core.texts import community as texts


class CommunityAdmin:
    """Each action checks permission first and changes everything or nothing."""

    def __init__(self, reads: views.Reads, members: Members, settings: CommunitySettings) -> None:
        self.reads = reads
        self.directory = reads.directory
        self.monitor = reads.monitor
        self.clock = reads.clock
        self.members = members
        self.settings = settings

    async def run(self, who: Who, cmd: CommunityCommand, place: Place) -> Message:
        if isinstance(cmd, ListCommunities):
            return await self.list_all(who)
        if isinstance(cmd, CreateCommunity):
            return await self.members.create(who, cmd)
        if not isinstance(cmd, OnCommunity):
            raise TypeError(f"not a community action: {cmd!r}")
        community = await self.directory.community(who.tenant_id, cmd.handle)
        if community is None:
            hint = await near_miss(who.tenant_id, cmd.handle)
            raise CommandError(texts.no_such(cmd.handle, hint), cmd.usage)
        role = await self.directory.role(community.id, who.contact_id)
        return await self._on(who, community, role, cmd, place)

    async def _on(
        self, who: Who, c: Community, role: Role | None, cmd: OnCommunity, place: Place
    ) -> Message:
        members, settings = self.members, self.settings
        match cmd:
            case ShowCommunity():
                return await self.show(who, c)
            case CommunityStats():
                members_only(role, c, "see its stats", cmd.usage)
                report = await insights.stats(c, cmd.days, self.clock.now())
                return Message.of(insights.render_stats(report))
            case DeleteCommunity():
                return await members.delete(who, c, role, cmd.usage)
            case JoinCommunity():
                return await members.join(who, c, role)
            case LeaveCommunity():
                return await members.leave(who, c, role, cmd.usage)
            case AddMembers():
                return await members.add(who, c, role, cmd)
            case RemoveMembers():
                return await members.remove(who, c, role, cmd)
            case Subscribe():
                return await members.subscribe(who, c, cmd)
            case Unsubscribe():
                return await members.unsubscribe(who, c)
            case Setting():
                return await settings.set(who, c, role, cmd)
            case LinkGroup():
                return await settings.link(who, c, role, cmd)
            case PinCommunity():
                return await settings.pin(c, role, place, cmd.usage)
            case CommunityToken():
                return await settings.token(who, c, role, cmd)
        raise TypeError(f"no handler for {cmd!r}")

    # -- reading ----------------------------------------------------------------------

    async def list_all(self, who: Who) -> Message:
        communities = await Community.filter(tenant_id=who.tenant_id).order_by("handle")
        if not communities:
            return Message.of(texts.NONE_YET)
        rows = await Membership.filter(community__tenant_id=who.tenant_id).values_list(
            "community_id", "contact_id", "contact__user_id"
        )
        members: dict[int, list[tuple[int, str]]] = {}
        for cid, contact_id, uid in rows:
            members.setdefault(cid, []).append((contact_id, uid))
        lines = ["Communities:"]
        for c in communities:
            people = members.get(c.id, [])
            wanted = [keys.encode(who.actor.platform, who.actor.tenant, uid) for _, uid in people]
            await self.monitor.load(wanted)
            free = sum(1 for k in wanted if self.monitor.availability(k) is Availability.AVAILABLE)
            mine = any(cid == who.contact_id for cid, _ in people)
            lines.append(texts.list_line(c.handle, c.title, free, len(people), mine))
        return Message.of("\n".join(lines))

    async def show(self, who: Who, community: Community) -> Message:
        c = await views.card(self.reads, community, who.actor, limit=50)
        subs = await Subscription.filter(community_id=community.id).count()
        parts: list[Part] = texts.card_head(
            c.handle,
            c.title,
            c.available,
            c.total,
            strategy=community.strategy.value,
            mention=community.mention_mode.value,
            capacity=community.capacity,
            subscribers=subs,
        )
        if community.escalation:
            parts.append(texts.escalation_line(escalation.describe_steps(community)))
        parts += [texts.member_line(m.name, m.owner, m.detail) for m in c.members]
        if c.total > len(c.members):
            parts.append(texts.and_more(c.total - len(c.members)))
        return Message(tuple(parts))
