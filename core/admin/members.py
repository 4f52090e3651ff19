"""Who is in a community and who follows it: create and delete, join, leave, add, remove,
subscribe. Tracking follows membership: only members' presence is kept."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from core import keys, richtext
from core.admin.access import members_only, owners_only
from core.commands import (
    AddMembers,
    CommandError,
    CreateCommunity,
    RemoveMembers,
    Subscribe,
    UserRef,
)
from core.directory import Directory, Who
from core.freshness import PresenceCheck
from core.ports import Mention, Message, Platform
from core.presence.monitor import PresenceMonitor
from core.store.models import (
    Community,
    Contact,
    Membership,
    Request,
    RequestState,
    Role,
    Subscription,
)
from core.store.queries import column_ints, column_strs
from core.tasks import Tasks
from core.texts import community as texts
from core.texts.help import USAGE
from core.tracking import Tracking


class Members:
    """Membership and subscriptions; each action changes everything or nothing."""

    def __init__(
        self,
        platform: Platform,
        directory: Directory,
        monitor: PresenceMonitor,
        tracking: Tracking,
        tasks: Tasks,
    ) -> None:
        self.platform = platform
        self.directory = directory
        self.monitor = monitor
        self.tracking = tracking
        self.tasks = tasks

    async def create(self, who: Who, cmd: CreateCommunity) -> Message:
        if await self.directory.community(who.tenant_id, cmd.handle) is not None:
            raise CommandError(texts.exists(cmd.handle), cmd.usage)
        async with in_transaction(Community._meta.default_connection):
            community = await Community.create(
                tenant_id=who.tenant_id, handle=cmd.handle, title=cmd.title
            )
            await Membership.create(
                community_id=community.id, contact_id=who.contact_id, role=Role.OWNER
            )
        self.tracking.add(who.key)
        self._check_presence(who, [who.actor.user_id])
        return Message.of(texts.created(cmd.handle))

    async def delete(self, who: Who, c: Community, role: Role | None, usage: str) -> Message:
        owners_only(role, c, "delete it")
        open_requests = await Request.filter(community_id=c.id, state=RequestState.OPEN).count()
        if open_requests:
            raise CommandError(texts.still_open(c.handle, open_requests), usage)
        members = await column_ints(Membership.filter(community_id=c.id), "contact_id")
        await c.delete()
        await self._untrack(who, members)
        return Message.of(texts.deleted(c.handle))

    async def join(self, who: Who, c: Community, role: Role | None) -> Message:
        if role is not None:
            return Message.of(texts.joined(c.handle, already=True))
        await Membership.create(community_id=c.id, contact_id=who.contact_id)
        self.tracking.add(who.key)
        self._check_presence(who, [who.actor.user_id])
        return Message.of(texts.joined(c.handle, already=False))

    async def leave(self, who: Who, c: Community, role: Role | None, usage: str) -> Message:
        if role is None:
            raise CommandError(texts.not_in(c.handle), usage)
        if role is Role.OWNER and await self._last_owner(c, who.contact_id):
            if await Membership.filter(community_id=c.id).count() == 1:
                raise CommandError(texts.only_member(c.handle), f"/community delete {c.handle}")
            raise CommandError(
                texts.last_owner(c.handle), f"/community set {c.handle} owner @someone"
            )
        await Membership.filter(community_id=c.id, contact_id=who.contact_id).delete()
        await self._untrack(who, [who.contact_id])
        return Message.of(texts.left(c.handle))

    async def add(self, who: Who, c: Community, role: Role | None, cmd: AddMembers) -> Message:
        members_only(role, c, f"add people; /community join {c.handle} first", cmd.usage)
        contacts = await self.contacts(who, cmd.users, create=True)
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
            self.tracking.add(keys.encode(who.actor.platform, who.actor.tenant, x.user_id))
        self._check_presence(who, [x.user_id for x in added])
        already = [x for x in contacts if x.id in existing]
        return texts.added(c.handle, _mentions(added), _mentions(already))

    async def remove(
        self, who: Who, c: Community, role: Role | None, cmd: RemoveMembers
    ) -> Message:
        owners_only(role, c, "remove people")
        contacts = await self.contacts(who, cmd.users, create=False)
        owners = set(
            await column_ints(Membership.filter(community_id=c.id, role=Role.OWNER), "contact_id")
        )
        if owners and owners <= {x.id for x in contacts}:
            raise CommandError(texts.ownerless(c.handle), cmd.usage)
        gone = await Membership.filter(
            community_id=c.id, contact_id__in=[x.id for x in contacts]
        ).delete()
        await self._untrack(who, [x.id for x in contacts])
        return Message.of(texts.removed(c.handle, gone))

    async def subscribe(self, who: Who, c: Community, cmd: Subscribe) -> Message:
        sub, created = await Subscription.get_or_create(
            subscriber_id=who.contact_id,
            community_id=c.id,
            defaults={"tenant_id": who.tenant_id, "once": cmd.once},
        )
        if not created and sub.once != cmd.once:
            sub.once = cmd.once
            await sub.save(update_fields=["once"])
        return Message.of(texts.subscribed(c.handle, once=cmd.once))

    async def unsubscribe(self, who: Who, c: Community) -> Message:
        gone = await Subscription.filter(subscriber_id=who.contact_id, community_id=c.id).delete()
        return Message.of(texts.unsubscribed(c.handle, was=bool(gone)))

    async def contacts(self, who: Who, refs: tuple[UserRef, ...], *, create: bool) -> list[Contact]:
        """People named in a command, all found or an error naming the first missing.

        With `create`, people named by platform id who are not contacts yet are made here,
        but only once every name is known: a rejected command leaves nothing behind.
        """
        usage = USAGE["community add"]
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
                    tokens = [richtext.token(richtext.User(x.user_id)) for x in named]
                    raise CommandError(texts.ambiguous(ref.name or "", tokens), usage)
                contact = named[0] if named else None
            if contact is None:
                raise CommandError(texts.unknown_person(ref.name or ref.user_id or ""), usage)
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

    async def _untrack(self, who: Who, contact_ids: list[int]) -> None:
        """People in no community any more stop costing presence memory in this process."""
        still = set(await column_ints(Membership.filter(contact_id__in=contact_ids), "contact_id"))
        gone = [cid for cid in contact_ids if cid not in still]
        for uid in await column_strs(Contact.filter(id__in=gone), "user_id"):
            self.tracking.discard(keys.encode(who.actor.platform, who.actor.tenant, uid))

    def _check_presence(self, who: Who, user_ids: list[str]) -> None:
        """New members are asked about behind the reply, so an ask a moment later finds them."""
        if user_ids and who.actor.platform == self.platform.name:
            wanted = [keys.encode(who.actor.platform, who.actor.tenant, u) for u in user_ids]
            check = PresenceCheck(self.platform, self.monitor)
            self.tasks.spawn(check.joined(who.actor.tenant, wanted))

    @staticmethod
    async def _last_owner(c: Community, contact_id: int) -> bool:
        owners = await column_ints(
            Membership.filter(community_id=c.id, role=Role.OWNER), "contact_id"
        )
        return list(owners) == [contact_id]


def _mentions(contacts: list[Contact]) -> list[Mention]:
    return [Mention(x.user_id, x.display_name) for x in contacts]
