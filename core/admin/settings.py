"""A community's settings, for its owners: strategy, mention mode, capacity, owners,
escalation steps, a linked group, a pinned view and the API token."""

from __future__ import annotations

from core import escalation, tokens
from core.admin.access import owners_only
from core.admin.members import Members
from core.commands import (
    AddEscalationStep,
    ClearEscalation,
    CommandError,
    CommunityToken,
    LinkGroup,
    MakeOwner,
    SetCapacity,
    SetMentionMode,
    SetStrategy,
    Setting,
)
from core.commands.rules import MAX_STEPS
from core.directory import Who, near_miss
from core.live_views import LiveViews
from core.ports import Message, Place
from core.store.models import Community, Membership, Role
from core.texts import community as texts


class CommunitySettings:
    """Each change checks that the caller owns the community, then saves it whole."""

    def __init__(self, members: Members, live_views: LiveViews) -> None:
        self.members = members
        self.live_views = live_views

    async def set(self, who: Who, c: Community, role: Role | None, cmd: Setting) -> Message:
        owners_only(role, c, "change its settings")
        if isinstance(cmd, MakeOwner):
            (target,) = await self.members.contacts(who, (cmd.user,), create=False)
            updated = await Membership.filter(community_id=c.id, contact_id=target.id).update(
                role=Role.OWNER
            )
            if not updated:
                raise CommandError(texts.not_a_member(target.display_name, c.handle), cmd.usage)
            return Message.of(texts.now_owner(target.display_name, c.handle))
        if isinstance(cmd, AddEscalationStep | ClearEscalation):
            return Message.of(await self._escalate(c, cmd))
        if isinstance(cmd, SetStrategy):
            c.strategy, key, value = cmd.strategy, "strategy", cmd.strategy.value
        elif isinstance(cmd, SetMentionMode):
            c.mention_mode, key, value = cmd.mode, "mention", cmd.mode.value
        elif isinstance(cmd, SetCapacity):
            c.capacity, key, value = cmd.capacity, "capacity", str(cmd.capacity)
        else:
            raise TypeError(f"no such setting: {cmd!r}")
        await c.save(update_fields=["strategy", "mention_mode", "capacity"])
        return Message.of(texts.setting_changed(c.handle, key, value))

    async def _escalate(self, c: Community, cmd: AddEscalationStep | ClearEscalation) -> str:
        """Add a step after the ones there are, or clear them all."""
        if isinstance(cmd, ClearEscalation):
            c.escalation = []
            await c.save(update_fields=["escalation"])
            return texts.escalation_off(c.handle)
        if cmd.target.startswith("@") and not await Community.exists(
            tenant_id=c.tenant_id, handle=cmd.target[1:]
        ):
            hint = await near_miss(c.tenant_id, cmd.target)
            raise CommandError(texts.no_such(cmd.target, hint), cmd.usage)
        steps = list(c.escalation or [])
        if len(steps) >= MAX_STEPS:
            raise CommandError(texts.too_many_steps(c.handle, MAX_STEPS), cmd.usage)
        c.escalation = [*steps, [cmd.after, cmd.target]]
        await c.save(update_fields=["escalation"])
        return texts.escalates(c.handle, escalation.describe_steps(c))

    async def link(self, who: Who, c: Community, role: Role | None, cmd: LinkGroup) -> Message:
        owners_only(role, c, "link it")
        taken = (
            await Community.filter(tenant_id=who.tenant_id, linked_group=cmd.group_id)
            .exclude(id=c.id)
            .first()
        )
        if taken is not None:
            raise CommandError(texts.group_taken(taken.handle), cmd.usage)
        c.linked_group = cmd.group_id
        await c.save(update_fields=["linked_group"])
        return Message.of(texts.linked(c.handle, c.mention_mode.value))

    async def pin(self, c: Community, role: Role | None, place: Place, usage: str) -> Message:
        owners_only(role, c, "pin it")
        if not place.channel:
            raise CommandError(texts.PIN_WHERE, usage)
        moved = await self.live_views.pin(c, place.channel)
        return Message.of(texts.pinned(c.handle, moved=moved))

    async def token(
        self, who: Who, c: Community, role: Role | None, cmd: CommunityToken
    ) -> Message:
        owners_only(role, c, "manage its API token")
        return Message.of(await tokens.issue(c, who.contact_id, revoke=cmd.revoke))
