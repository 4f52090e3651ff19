"""Read models: what a person sees of communities and availability, for every surface.

`/community show`, the Slack home tab and Discord's pinned view all render these, so the
ordering, counts and wording of availability are decided once, here.
"""

from __future__ import annotations

from dataclasses import dataclass

from core import escalation
from core.clock import Clock
from core.directory import Directory
from core.ports import Actor
from core.presence.availability import Availability, Verdict
from core.presence.monitor import PresenceMonitor
from core.store.models import Community, Membership, Role, Subscription
from core.store.queries import column_ints
from core.texts import availability as texts


@dataclass(frozen=True, slots=True)
class Reads:
    """What a read model needs: where people and communities are, and their availability."""

    directory: Directory
    monitor: PresenceMonitor
    clock: Clock


@dataclass(frozen=True, slots=True)
class MemberLine:
    """One member as a view shows them."""

    name: str
    user_id: str
    owner: bool
    verdict: Verdict
    detail: str  # icon, availability, reason, source and age, in the reader's time zone


@dataclass(frozen=True, slots=True)
class CommunityCard:
    """A community with its members' availability, available people first."""

    id: int
    handle: str
    title: str
    total: int
    available: int
    members: tuple[MemberLine, ...]  # at most the view's limit; `total` counts them all
    escalation: str = ""  # the community's escalation steps, described ('' when none)


@dataclass(frozen=True, slots=True)
class Home:
    """A person's own page: their availability, their communities, others, subscriptions."""

    me: Verdict
    me_detail: str
    mine: tuple[CommunityCard, ...]
    more_mine: int
    joinable: tuple[tuple[str, str], ...]  # (handle, title)
    subscriptions: tuple[tuple[str, bool], ...]  # (handle, once)


async def card(
    reads: Reads, community: Community, reader: Actor, *, limit: int = 50
) -> CommunityCard:
    """One community's availability as `reader` sees it (their time zone)."""
    roster = await reads.directory.roster(community, reader.platform, reader.tenant)
    await reads.monitor.load(roster.keys())
    now, tz = reads.clock.now(), reader.tz or "UTC"
    rows = [(m, reads.monitor.verdict(m.key)) for m in roster]
    rows.sort(key=lambda mv: (mv[1].availability is not Availability.AVAILABLE, mv[0].name.lower()))
    free = sum(1 for _, v in rows if v.availability is Availability.AVAILABLE)
    members = tuple(
        MemberLine(m.name, m.user_id, m.role is Role.OWNER, v, texts.detail(v, tz, now))
        for m, v in rows[:limit]
    )
    return CommunityCard(
        community.id,
        community.handle,
        community.title,
        len(rows),
        free,
        members,
        escalation.describe_steps(community),
    )


async def home(
    reads: Reads, actor: Actor, *, communities: int = 30, members: int = 15, joinable: int = 20
) -> Home:
    """Everything the Slack home tab shows, bounded so a view stays within Block Kit's limits."""
    who = await reads.directory.who(actor)
    mine_ids = await column_ints(Membership.filter(contact_id=who.contact_id), "community_id")
    mine = await Community.filter(id__in=mine_ids, tenant_id=who.tenant_id).order_by("handle")
    cards = tuple([await card(reads, c, actor, limit=members) for c in mine[:communities]])
    others = (
        await Community.filter(tenant_id=who.tenant_id)
        .exclude(id__in=[c.id for c in mine] or [0])
        .order_by("handle")
        .limit(joinable)
        .values_list("handle", "title")
    )
    subs = (
        await Subscription.filter(subscriber_id=who.contact_id)
        .order_by("id")
        .values_list("community__handle", "once")
    )
    me = reads.monitor.verdict(who.key)
    return Home(
        me=me,
        me_detail=texts.detail(me, actor.tz or "UTC", reads.clock.now()),
        mine=cards,
        more_mine=max(0, len(mine) - communities),
        joinable=tuple((str(h), str(t)) for h, t in others),
        subscriptions=tuple((str(h), bool(o)) for h, o in subs),
    )


async def handles(
    reads: Reads, platform: str, tenant: str, prefix: str, *, limit: int = 25
) -> list[tuple[str, str]]:
    """Communities of a tenant whose handle starts with `prefix` (autocomplete): (handle, title)."""
    tid = await reads.directory.tenant_id(platform, tenant)
    rows = (
        await Community.filter(tenant_id=tid, handle__startswith=prefix.strip().lstrip("@").lower())
        .order_by("handle")
        .limit(limit)
        .values_list("handle", "title")
    )
    return [(str(h), str(t)) for h, t in rows]
