"""`/community …`: creating, changing and reading communities, with their permissions."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from core import escalation, insights, richtext, tokens, views
from core.commands import STATS_WINDOWS, USAGE, CommandError, CommunityCommand, UserRef
from core.directory import Who, presence_key
from core.freshness import PresenceCheck
from core.live_views import LiveViews
from core.ports import Mention, Message, Part, Place, Platform
from core.presence.availability import Availability
from core.store.models import (
    Community,
    Contact,
    Membership,
    Mode,
    Request,
    RequestState,
    Role,
    Strategy,
    Subscription,
)
from core.store.queries import column_ints, column_strs
from core.tasks import Tasks
from core.tracking import Tracking


class CommunityAdmin:
    """Each action checks permission first and changes everything or nothing."""

    def __init__(
        self,
        platform: Platform,
        reads: views.Reads,
        tracking: Tracking,
        live_views: LiveViews,
        tasks: Tasks,
    ) -> None:
        self.platform = platform
        self.reads = reads
        self.directory = reads.directory
        self.monitor = reads.monitor
        self.clock = reads.clock
        self.tracking = tracking
        self.live_views = live_views
        self.tasks = tasks

    async def run(self, who: Who, cmd: CommunityCommand, place: Place) -> Message:
        if cmd.action == "list":
            return await self.list_all(who)
        usage = USAGE[f"community {cmd.action}"]
        if cmd.action == "create":
            return await self.create(who, cmd)
        community = await self.directory.community(who.tenant_id, cmd.handle)
        if community is None:
            raise CommandError(f"there is no community @{cmd.handle} here", usage)
        role = await self.directory.role(community.id, who.contact_id)
        handler = {
            "delete": self.delete,
            "join": self.join,
            "leave": self.leave,
            "add": self.add,
            "remove": self.remove,
            "show": self.show,
            "subscribe": self.subscribe,
            "unsubscribe": self.unsubscribe,
            "set": self.set,
            "link": self.link,
            "pin": self.pin,
            "stats": self.stats,
            "token": self.token,
        }[cmd.action]
        return await handler(who, community, role, cmd, place)

    # -- reading ----------------------------------------------------------------------

    async def list_all(self, who: Who) -> Message:
        communities = await Community.filter(tenant_id=who.tenant_id).order_by("handle")
        if not communities:
            return Message.of("No communities yet. Start one: /community create <handle> [title]")
        rows = await Membership.filter(community__tenant_id=who.tenant_id).values_list(
            "community_id", "contact_id", "contact__user_id"
        )
        members: dict[int, list[tuple[int, str]]] = {}
        for cid, contact_id, uid in rows:
            members.setdefault(cid, []).append((contact_id, uid))
        lines = ["Communities:"]
        for c in communities:
            people = members.get(c.id, [])
            keys = [presence_key(who.actor.platform, who.actor.tenant, uid) for _, uid in people]
            await self.monitor.load(keys)
            free = sum(1 for k in keys if self.monitor.availability(k) is Availability.AVAILABLE)
            mine = " (you're in it)" if any(cid == who.contact_id for cid, _ in people) else ""
            title = f" — {c.title}" if c.title else ""
            lines.append(f"• @{c.handle}{title}: {free} of {len(people)} available{mine}")
        return Message.of("\n".join(lines))

    async def show(
        self, who: Who, community: Community, role: Role | None, cmd: CommunityCommand, place: Place
    ) -> Message:
        c = await views.card(self.reads, community, who.actor, limit=50)
        subs = await Subscription.filter(community_id=community.id).count()
        title = f" — {c.title}" if c.title else ""
        parts: list[Part] = [
            f"@{c.handle}{title}: {c.available} of {c.total} available",
            f" · strategy {community.strategy.value} · @-mention asks {community.mention_mode.value}"
            f" · capacity {community.capacity} · {subs} subscriber{'s' if subs != 1 else ''}",
        ]
        if community.escalation:
            parts.append(f"\nEscalation: {escalation.describe_steps(community)}")
        for m in c.members:
            parts.append(f"\n{m.name}{' (owner)' if m.owner else ''}: {m.detail}")
        if c.total > len(c.members):
            parts.append(f"\n…and {c.total - len(c.members)} more")
        return Message(tuple(parts))

    # -- changing ---------------------------------------------------------------------

    async def create(self, who: Who, cmd: CommunityCommand) -> Message:
        if await self.directory.community(who.tenant_id, cmd.handle) is not None:
            raise CommandError(
                f"@{cmd.handle} already exists; join it with /community join {cmd.handle}",
                USAGE["community create"],
            )
        async with in_transaction(Community._meta.default_connection):
            community = await Community.create(
                tenant_id=who.tenant_id, handle=cmd.handle, title=cmd.title
            )
            await Membership.create(
                community_id=community.id, contact_id=who.contact_id, role=Role.OWNER
            )
        self.tracking.add(who.key)
        self._check_presence(who, [who.actor.user_id])
        return Message.of(
            f"Created @{cmd.handle}; you're its owner. Add people with /community add {cmd.handle} @someone."
        )

    async def delete(
        self, who: Who, c: Community, role: Role | None, cmd: CommunityCommand, place: Place
    ) -> Message:
        self._owner(role, c, "delete it")
        open_requests = await Request.filter(community_id=c.id, state=RequestState.OPEN).count()
        if open_requests:
            raise CommandError(
                f"@{c.handle} has {open_requests} open request(s); delete it once they close",
                USAGE["community delete"],
            )
        members = await column_ints(Membership.filter(community_id=c.id), "contact_id")
        await c.delete()
        await self._untrack(who, members)
        return Message.of(f"Deleted @{c.handle}.")

    async def join(
        self, who: Who, c: Community, role: Role | None, cmd: CommunityCommand, place: Place
    ) -> Message:
        if role is not None:
            return Message.of(f"You're already in @{c.handle}.")
        await Membership.create(community_id=c.id, contact_id=who.contact_id)
        self.tracking.add(who.key)
        self._check_presence(who, [who.actor.user_id])
        return Message.of(f"You joined @{c.handle}.")

    async def leave(
        self, who: Who, c: Community, role: Role | None, cmd: CommunityCommand, place: Place
    ) -> Message:
        if role is None:
            raise CommandError(f"you're not in @{c.handle}", USAGE["community leave"])
        if role is Role.OWNER and await self._last_owner(c, who.contact_id):
            if await Membership.filter(community_id=c.id).count() == 1:
                raise CommandError(
                    f"you're the only member of @{c.handle}: leaving would strand it without "
                    f"an owner; /community delete {c.handle} removes it instead",
                    f"/community delete {c.handle}",
                )
            raise CommandError(
                f"you're the last owner of @{c.handle}: hand it over first "
                f"(/community set {c.handle} owner @someone), then leave; "
                f"or /community delete {c.handle}",
                f"/community set {c.handle} owner @someone",
            )
        await Membership.filter(community_id=c.id, contact_id=who.contact_id).delete()
        await self._untrack(who, [who.contact_id])
        return Message.of(f"You left @{c.handle}.")

    async def add(
        self, who: Who, c: Community, role: Role | None, cmd: CommunityCommand, place: Place
    ) -> Message:
        if role is None:
            raise CommandError(
                f"only members of @{c.handle} can add people; /community join {c.handle} first",
                USAGE["community add"],
            )
        contacts = await self._contacts(who, cmd.users, create=True)
        existing = set(
            await column_ints(
                Membership.filter(community_id=c.id, contact_id__in=[x.id for x in contacts]),
                "contact_id",
            )
        )
        added = [x for x in contacts if x.id not in existing]
        async with in_transaction(Community._meta.default_connection):
            for x in added:
                await Membership.create(community_id=c.id, contact_id=x.id)
        for x in added:
            self.tracking.add(presence_key(who.actor.platform, who.actor.tenant, x.user_id))
        self._check_presence(who, [x.user_id for x in added])
        parts: list[Part] = []
        if added:
            parts += [f"Added to @{c.handle}: ", *self._names(added), "."]
        already = [x for x in contacts if x.id in existing]
        if already:
            parts += [
                " Already in it: " if parts else "Already in it: ",
                *self._names(already),
                ".",
            ]
        return Message(tuple(parts))

    async def remove(
        self, who: Who, c: Community, role: Role | None, cmd: CommunityCommand, place: Place
    ) -> Message:
        self._owner(role, c, "remove people")
        contacts = await self._contacts(who, cmd.users, create=False)
        owners = set(
            await column_ints(Membership.filter(community_id=c.id, role=Role.OWNER), "contact_id")
        )
        if owners and owners <= {x.id for x in contacts}:
            raise CommandError(
                f"that would leave @{c.handle} without an owner", USAGE["community remove"]
            )
        gone = await Membership.filter(
            community_id=c.id, contact_id__in=[x.id for x in contacts]
        ).delete()
        await self._untrack(who, [x.id for x in contacts])
        return Message.of(
            f"Removed {gone} from @{c.handle}." if gone else f"None of them were in @{c.handle}."
        )

    async def subscribe(
        self, who: Who, c: Community, role: Role | None, cmd: CommunityCommand, place: Place
    ) -> Message:
        sub, created = await Subscription.get_or_create(
            subscriber_id=who.contact_id,
            community_id=c.id,
            defaults={"tenant_id": who.tenant_id, "once": cmd.once},
        )
        if not created and sub.once != cmd.once:
            sub.once = cmd.once
            await sub.save(update_fields=["once"])
        if cmd.once:
            return Message.of(f"I'll tell you once when someone in @{c.handle} becomes available.")
        return Message.of(
            f"Subscribed: I'll tell you when availability in @{c.handle} changes. /community unsubscribe {c.handle} to stop."
        )

    async def unsubscribe(
        self, who: Who, c: Community, role: Role | None, cmd: CommunityCommand, place: Place
    ) -> Message:
        gone = await Subscription.filter(subscriber_id=who.contact_id, community_id=c.id).delete()
        return Message.of(
            f"Unsubscribed from @{c.handle}." if gone else f"You weren't subscribed to @{c.handle}."
        )

    async def set(
        self, who: Who, c: Community, role: Role | None, cmd: CommunityCommand, place: Place
    ) -> Message:
        self._owner(role, c, "change its settings")
        if cmd.key == "owner":
            (target,) = await self._contacts(who, cmd.users, create=False)
            updated = await Membership.filter(community_id=c.id, contact_id=target.id).update(
                role=Role.OWNER
            )
            if not updated:
                raise CommandError(
                    f"{target.display_name} is not in @{c.handle}; add them first",
                    USAGE["community set"],
                )
            return Message.of(f"{target.display_name} is now an owner of @{c.handle}.")
        if cmd.key == "escalate":
            return Message.of(await escalation.set_steps(c, cmd.value))
        if cmd.key == "strategy":
            c.strategy = Strategy(cmd.value)
        elif cmd.key == "mention":
            c.mention_mode = Mode(cmd.value)
        else:
            c.capacity = int(cmd.value)
        await c.save(update_fields=["strategy", "mention_mode", "capacity"])
        return Message.of(f"@{c.handle}: {cmd.key} is now {cmd.value}.")

    async def link(
        self, who: Who, c: Community, role: Role | None, cmd: CommunityCommand, place: Place
    ) -> Message:
        self._owner(role, c, "link it")
        taken = (
            await Community.filter(tenant_id=who.tenant_id, linked_group=cmd.value)
            .exclude(id=c.id)
            .first()
        )
        if taken is not None:
            raise CommandError(
                f"that group is already linked to @{taken.handle}", USAGE["community link"]
            )
        c.linked_group = cmd.value
        await c.save(update_fields=["linked_group"])
        return Message.of(
            f"Linked: mentioning that group now asks @{c.handle} ({c.mention_mode.value})."
        )

    async def pin(
        self, who: Who, c: Community, role: Role | None, cmd: CommunityCommand, place: Place
    ) -> Message:
        self._owner(role, c, "pin it")
        if not place.channel:
            raise CommandError(
                "run /community pin in the channel where it should live", USAGE["community pin"]
            )
        if await self.live_views.pin(c, place.channel):
            return Message.of(
                f"Moved @{c.handle}'s availability down here (the earlier one in this channel is gone)."
            )
        return Message.of(f"Pinned @{c.handle}'s availability here; I'll keep it current.")

    async def stats(
        self, who: Who, c: Community, role: Role | None, cmd: CommunityCommand, place: Place
    ) -> Message:
        if role is None:
            raise CommandError(
                f"only members of @{c.handle} can see its stats", USAGE["community stats"]
            )
        report = await insights.stats(c, STATS_WINDOWS[cmd.value], self.clock.now())
        return Message.of(insights.render_stats(report))

    async def token(
        self, who: Who, c: Community, role: Role | None, cmd: CommunityCommand, place: Place
    ) -> Message:
        self._owner(role, c, "manage its API token")
        return Message.of(await tokens.issue(c, who.contact_id, revoke=cmd.value == "revoke"))

    # -- helpers ----------------------------------------------------------------------

    async def _untrack(self, who: Who, contact_ids: list[int]) -> None:
        """People in no community any more stop costing presence memory in this process."""
        still = set(await column_ints(Membership.filter(contact_id__in=contact_ids), "contact_id"))
        gone = [cid for cid in contact_ids if cid not in still]
        for uid in await column_strs(Contact.filter(id__in=gone), "user_id"):
            self.tracking.discard(presence_key(who.actor.platform, who.actor.tenant, uid))

    def _check_presence(self, who: Who, user_ids: list[str]) -> None:
        """New members are asked about behind the reply, so an ask a moment later finds them."""
        if user_ids and who.actor.platform == self.platform.name:
            keys = [presence_key(who.actor.platform, who.actor.tenant, u) for u in user_ids]
            check = PresenceCheck(self.platform, self.monitor)
            self.tasks.spawn(check.joined(who.actor.tenant, keys))

    def _owner(self, role: Role | None, c: Community, what: str) -> None:
        if role is not Role.OWNER:
            raise CommandError(
                f"only owners of @{c.handle} can {what}", "/community show " + c.handle
            )

    async def _last_owner(self, c: Community, contact_id: int) -> bool:
        owners = await column_ints(
            Membership.filter(community_id=c.id, role=Role.OWNER), "contact_id"
        )
        return list(owners) == [contact_id]

    async def _contacts(
        self, who: Who, refs: tuple[UserRef, ...], *, create: bool
    ) -> list[Contact]:
        """People named in a command, all found or an error naming the first missing.

        With `create`, people named by platform id who are not contacts yet are made here,
        but only once every name is known: a rejected command leaves nothing behind.
        """
        slots: list[Contact | str] = []  # a contact, or the user id of one to make
        new: dict[str, str] = {}  # user id → display name (the mention's label, if it had one)
        for ref in refs:
            contact: Contact | None
            if ref.user_id is not None:
                contact = await self.directory.contact(who.tenant_id, ref.user_id)
                if contact is None and create:
                    new.setdefault(ref.user_id, ref.name or ref.user_id)
                    slots.append(ref.user_id)
                    continue
            else:
                named = await self.directory.contacts_named(who.tenant_id, ref.name or "")
                if len(named) > 1:
                    raise CommandError(ambiguous(ref.name or "", named), USAGE["community add"])
                contact = named[0] if named else None
            if contact is None:
                raise CommandError(
                    f"I don't know @{ref.name or ref.user_id} here", USAGE["community add"]
                )
            slots.append(contact)
        made: dict[str, Contact] = {}
        if new:
            async with in_transaction(Contact._meta.default_connection):
                for uid, name in new.items():
                    made[uid] = await Contact.create(
                        tenant_id=who.tenant_id, user_id=uid, display_name=name
                    )
        found: dict[int, Contact] = {}
        for slot in slots:
            contact = made[slot] if isinstance(slot, str) else slot
            found.setdefault(contact.id, contact)
        return list(found.values())

    @staticmethod
    def _names(contacts: list[Contact]) -> list[Part]:
        out: list[Part] = []
        for i, x in enumerate(contacts):
            out += [", " if i else "", Mention(x.user_id, x.display_name)]
        return out


def ambiguous(name: str, contacts: list[Contact]) -> str:
    """The question asked when a name fits several people: each is mentioned, so the
    platform shows who they are (neutral `<@id>` tokens, rendered per platform)."""
    count = {2: "two", 3: "three"}.get(len(contacts), f"{len(contacts)}")
    more = "at least " if len(contacts) >= 10 else ""
    who = ", ".join(richtext.token(richtext.User(c.user_id)) for c in contacts)
    return f"{more}{count} people are called {name}: {who} — which? Mention the one you mean"
