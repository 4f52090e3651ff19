"""The communication engine: decides what needs group processing and hands it on.

Adapters hand it commands, channel messages, button presses and presence; it answers with
neutral messages. What a request goes through lives in `core.transitions`; sending lives in
`core.deliveries` and `core.notices`; this module routes and keeps the background work.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

from core import cancel, escalation, insights, keys, mentions, my_asks
from core.admin import CommunityAdmin
from core.choices import Choices
from core.clock import Clock
from core.commands import (
    Ask,
    Cancel,
    Command,
    CommandError,
    CommunityCommand,
    Help,
    MyAsks,
    SetAvailability,
    SetHours,
    Why,
    parse,
    too_long,
)
from core.deliveries import DeliverySender
from core.directory import Directory, Who, near_miss
from core.domain import DeliveryState, RequestState
from core.lifecycle import Event
from core.notices import NoticeSender
from core.ports import Actor, Message, Part, Place, Platform
from core.presence.monitor import Change, PresenceMonitor
from core.presence.signals import Activity, ClearHours, Override, Signal, WorkingHours
from core.resolver import Resolver
from core.retention import Retention
from core.store.models import Community, Delivery
from core.subscriptions import Notifier
from core.tasks import Tasks
from core.tenancy import Ownership
from core.texts import asks, availability, replies
from core.texts import cancel as cancel_texts
from core.texts.help import help_text
from core.tracking import Tracking
from core.transitions import Transitions
from core.views import Reads
from core.widen import Escalations

log = logging.getLogger(__name__)

DELIVERY_ID_RE = re.compile(r"[1-9][0-9]{0,9}")
MAX_ID = 2**31 - 1
SWEEP_ROUNDS = 20  # a sweep sends what is due until nothing is, at most this many rounds


@dataclass(frozen=True, slots=True)
class EngineSettings:
    ask_timeout: float = 300.0
    max_attempts: int = 5
    seed: int | None = None


class Engine:
    """One per process; adapters call it, it calls the platform."""

    def __init__(
        self,
        platform: Platform,
        monitor: PresenceMonitor,
        clock: Clock,
        settings: EngineSettings,
        *,
        directory: Directory,
        resolver: Resolver,
        transitions: Transitions,
        deliveries: DeliverySender,
        notices: NoticeSender,
        escalations: Escalations,
        tracking: Tracking,
        tasks: Tasks,
        reads: Reads,
        notifier: Notifier,
        admin: CommunityAdmin,
        ownership: Ownership,
        retention: Retention,
        choices: Choices,
    ) -> None:
        self.platform = platform
        self.monitor = monitor
        self.clock = clock
        self.settings = settings
        self.directory = directory
        self.resolver = resolver
        self.transitions = transitions
        self.deliveries = deliveries
        self.notices = notices
        self.escalations = escalations
        self.tracking = tracking
        self.tasks = tasks
        self.reads = reads
        self.notifier = notifier
        self.admin = admin
        self._changes: list[Change] = []
        monitor.on_change(self._changes.append)
        # Which tenants this process serves (all, unless Discord shards split them up).
        # Which tenants this process serves (all, or a Discord shard range's): one filter,
        # handed to every sweep.
        self.ownership = ownership
        deliveries.leases.ownership = notices.leases.ownership = ownership
        escalations.ownership = ownership
        self.retention = retention  # tenants that removed the app: kept, then purged
        self.choices = choices  # /away, /busy, /available, /hours: kept across restarts

    @property
    def tracked(self) -> Tracking:
        """Who this process tracks presence for (see `core.tracking`)."""
        return self.tracking

    def take_changes(self) -> list[Change]:
        """Presence changes since the last pump, handed over once (the shell's seeding drops them)."""
        changes, self._changes[:] = self._changes[:], []
        return changes

    @property
    def stopping(self) -> bool:
        return self.deliveries.stopping

    def stop_sending(self) -> None:
        """SIGTERM: finish the sends in flight, start no other."""
        self.deliveries.stopping = self.notices.stopping = True

    async def hand_back(self) -> None:
        await self.deliveries.leases.hand_back()
        await self.notices.leases.hand_back()

    async def start(self) -> None:
        """Load who to track, then finish whatever a previous process left pending."""
        await self.tracking.load()
        await self.restore_choices()
        await self.tick()

    async def restore_choices(self) -> None:
        """Tracked people's `/away`, `/busy`, `/available` and `/hours`, back from the database:
        from the shared store where it holds their record, else from their contact row."""
        chosen = [k for k in await self.choices.keys() if k in self.tracking]
        await self.monitor.load(chosen)  # records not held here: the store's, else the rows'
        for key, (made, choices) in (await self.choices.load(chosen)).items():
            self.monitor.restore(key, made, choices)  # records held already (pushed early)

    # -- inbound ----------------------------------------------------------------------

    async def command(
        self, actor: Actor, name: str, text: str, place: Place | None = None
    ) -> Message:
        """A slash command as text (Slack, the shell): parsed once, then run like any other."""
        try:
            cmd = parse(name, text)
        except CommandError as exc:
            return exc.reply()
        return await self.run(actor, cmd, place)

    async def run(self, actor: Actor, cmd: Command, place: Place | None = None) -> Message:
        """A typed command (from the text grammar, or straight from a platform's options);
        the answer is for the caller alone."""
        if isinstance(cmd, Help):
            return Message.of(help_text(cmd.topic))
        who = await self.directory.who(actor)
        self.activity(actor, "command")
        try:
            if isinstance(cmd, Ask):
                community = await self._community(who, cmd.handle)
                return await self.group_request(who, community, cmd, place or Place())
            if isinstance(cmd, Why):
                return await insights.why(who, cmd.request_id)
            if isinstance(cmd, Cancel):
                return await self._cancel(who, cmd.request_id)
            if isinstance(cmd, MyAsks):
                return await my_asks.open_asks(who, self.clock.now())
            if isinstance(cmd, CommunityCommand):
                return await self.admin.run(who, cmd, place or Place())
            if isinstance(cmd, SetAvailability):
                return await self._set_availability(who, cmd)
            return await self._set_hours(who, cmd)
        except CommandError as exc:
            return exc.reply()

    async def message(
        self, actor: Actor, text: str, place: Place, groups: Iterable[str] = ()
    ) -> Message | None:
        """A channel message: a group request if it names a community, else passed through (None).

        Passing through stores nothing: only community members' activity is recorded, so
        memory and the contact table grow with communities, not with the workspace.
        """
        self.activity(actor, "message")
        if not self.addresses_group(text, groups):
            return None
        group_ids = set(groups) | set(mentions.groups(text))
        handles = set(mentions.handles(text))
        tenant_id = await self.directory.tenant_id(actor.platform, actor.tenant)
        communities: list[Community] = []
        if handles:
            communities += await Community.filter(tenant_id=tenant_id, handle__in=sorted(handles))
        if group_ids:
            communities += await Community.filter(
                tenant_id=tenant_id, linked_group__in=sorted(group_ids)
            )
        if not communities:
            return None
        if refused := too_long(text):  # refused before anything is stored, like the command
            return Message.of(asks.not_sent(refused))
        who = await self.directory.who(actor)
        seen: set[int] = set()
        answer: list[Part] = []
        for community in communities:
            if community.id in seen:
                continue
            seen.add(community.id)
            ask = Ask(community.handle, community.mention_mode, 1, text)
            reply = await self.group_request(who, community, ask, place)
            if answer:
                answer.append("\n")
            answer.extend(reply.parts)
        return Message(tuple(answer))

    async def answer(self, actor: Actor, delivery_id: str, accept: bool) -> Message:
        """Accept or decline pressed on a DM; only its target may press it."""
        who = await self.directory.who(actor)
        self.activity(actor, "answer")
        did = int(delivery_id) if DELIVERY_ID_RE.fullmatch(delivery_id) else -1
        if not 0 < did <= MAX_ID or not await Delivery.exists(id=did, target_id=who.contact_id):
            return Message.of(asks.NOT_YOURS)
        got = await self.transitions.apply(did, Event.ACCEPT if accept else Event.DECLINE)
        await self.escalations.run_due()  # a decline may have left nobody here: widen now
        self.kick()
        if not got.moved:
            if got.request_state is RequestState.CANCELLED:
                return cancel_texts.cancel_answered(got.requester)
            if got.state is DeliveryState.WITHDRAWN:
                return Message.of(asks.TAKEN)
            return Message.of(asks.already(got.state.value if got.state else None))
        return Message.of(asks.answered(accept, got.requester))

    async def _cancel(self, who: Who, request_id: int | None) -> Message:
        """`/ask-available cancel`: one transition; the edits it owes go out behind the reply."""
        reply = await cancel.cancel(self.transitions, who, request_id)
        self.kick()
        return reply

    @staticmethod
    def addresses_group(text: str, groups: Iterable[str] = ()) -> bool:
        """Whether a message could need group processing (an `@handle` or a group mention);
        cheap, so adapters may ask before doing work of their own, such as a permalink."""
        return mentions.addresses_group(text, groups)

    def activity(self, actor: Actor, kind: str) -> None:
        """Someone did something: it counts as presence for community members only."""
        key = self.tracked.canonical(keys.encode(actor.platform, actor.tenant, actor.user_id))
        if key is not None:
            self.monitor.observe(key, Activity(kind))

    def observe(self, key: str, signal: Signal) -> Change | None:
        """A presence signal for a contact key (see `core.keys`)."""
        return self.monitor.observe(key, signal)

    # -- background work --------------------------------------------------------------

    async def tick(self) -> None:
        """Everything time drives: expiries, timeouts, retries, subscriptions, flushing."""
        self.monitor.expire()
        for did in await self.deliveries.expired():
            await self.transitions.apply(did, Event.TIMEOUT)
        await self.escalations.run_due()
        self.kick()  # in the background: a resumed fan-out must not hold up timeouts and pushes
        await self.pump()
        await self.monitor.flush()
        await self.retention.sweep()  # at most every few minutes: tenants past the window

    async def sweep(self) -> None:
        """Send this platform's due deliveries and notices until nothing is due."""
        for _ in range(SWEEP_ROUNDS):
            if self.stopping:
                return
            deliveries, notices = await self.deliveries.due(), await self.notices.due()
            if not deliveries and not notices:
                return
            await asyncio.gather(
                self.deliveries.dispatch(deliveries), self.notices.dispatch(notices)
            )

    async def _deliver(self, ids: list[int]) -> None:
        """A new request's deliveries at once, then whatever their outcomes owe (a re-ask)."""
        await self.deliveries.dispatch(ids)
        await self.sweep()

    def kick(self) -> None:
        """Start a sweep in the background (after a transition owed something)."""
        self.spawn(self.sweep())

    async def pump(self) -> None:
        """Tell subscribers and views about presence changes gathered since the last pump."""
        changes = self.take_changes()
        if changes:
            await self.notifier.changed(changes)
            self.kick()

    async def drain(self) -> None:
        """Wait for background sends (tests and the shell want output in order)."""
        await self.tasks.wait()
        await self.pump()
        await self.tasks.wait()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        self.tasks.spawn(coro)

    # -- group requests ---------------------------------------------------------------

    async def _community(self, who: Who, handle: str) -> Community:
        community = await self.directory.community(who.tenant_id, handle)
        if community is None:
            hint = await near_miss(who.tenant_id, handle)
            raise CommandError(asks.no_community(handle, hint), "/community list")
        return community

    async def group_request(
        self, who: Who, community: Community, ask: Ask, place: Place
    ) -> Message:
        """Resolve, record and start delivering; the reply says who was asked and why not others."""
        mode = ask.mode
        opened = await self.transitions.open(who, community, mode, ask.count, ask.text, place)
        res = opened.resolution
        if not opened.deliveries and opened.request.next_step_at is not None:
            await self.escalations.widen(opened.request.id)  # nobody here: the first step now
            self.kick()
            reply = replies.nobody_here(community.handle, res, escalation.describe_steps(community))
        elif opened.deliveries:
            self.spawn(self._deliver(opened.deliveries))
            explain = self.resolver.explainer(who.actor.tz or "UTC")
            reply = replies.asked(community.handle, mode, res, explain, self.monitor.availability)
        else:
            reply = replies.nobody(community.handle, res)
        if res.unchecked:
            reply = Message((*reply.parts, replies.unchecked(res.unchecked)), reply.buttons)
        return reply

    # -- availability -----------------------------------------------------------------

    async def _set_availability(self, who: Who, cmd: SetAvailability) -> Message:
        now, tz = self.clock.now(), who.actor.tz or "UTC"
        until = now + cmd.duration if cmd.duration else None
        override = Override(cmd.availability, until, cmd.note)
        await self.choices.save(who.contact_id, override)
        self.observe(who.key, override)
        if cmd.availability is None:
            verdict = self.monitor.verdict(who.key)
            return Message.of(availability.back_to_automatic(verdict, tz, now))
        return Message.of(availability.chosen(cmd.availability, until, cmd.note, tz, now))

    async def _set_hours(self, who: Who, cmd: SetHours) -> Message:
        if cmd.start_minute is None:
            await self.choices.save(who.contact_id, ClearHours())
            self.observe(who.key, ClearHours())
            return Message.of(availability.HOURS_CLEARED)
        contact = await self.directory.contact(who.tenant_id, who.actor.user_id)
        tz = cmd.tz or (contact.tz if contact else None) or "UTC"
        hours = WorkingHours(cmd.start_minute, cmd.end_minute, cmd.days, tz)
        await self.choices.save(who.contact_id, hours)
        self.observe(who.key, hours)
        return Message.of(availability.hours_set(cmd.start_minute, cmd.end_minute, cmd.label, tz))
