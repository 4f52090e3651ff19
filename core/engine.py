"""The communication engine: decides what needs group processing and carries it out.

Adapters hand it commands, channel messages, button presses and presence; it answers
with neutral messages and reaches people through the platform port.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from core import freshness, texts
from core.admin import CommunityAdmin
from core.clock import Clock, to_datetime
from core.commands import Ask, CommandError, CommunityCommand, SetAvailability, SetHours, parse
from core.deliveries import Outbox
from core.directory import Directory, Roster, Who, presence_key
from core.grouping import Member, Resolution, Skip
from core.ports import Actor, Button, DeliveryFailed, Mention, Message, Part, Place, Platform
from core.presence.availability import Availability
from core.presence.monitor import Change, PresenceMonitor
from core.presence.signals import Activity, ClearHours, Override, Signal, WorkingHours
from core.store.models import (
    Community,
    Delivery,
    DeliveryState,
    Membership,
    Mode,
    Request,
    RequestState,
)
from core.store.models import Resolution as ResolutionAudit
from core.store.queries import column_ints, column_strs
from core.subscriptions import Notifier

log = logging.getLogger(__name__)

MENTION_RE = re.compile(r"(?<![\w@<])@([a-z0-9_-]{2,32})(?![\w-])", re.IGNORECASE)
GROUP_MENTION_RE = re.compile(r"<group:([A-Za-z0-9]+)(?:\|[^>]*)?>")
SHOWN_SKIPS = 8
EXPLAINED_REST = 50


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
        settings: EngineSettings | None = None,
    ) -> None:
        self.platform = platform
        self.monitor = monitor
        self.clock = clock
        self.settings = settings or EngineSettings()
        self.directory = Directory()
        self.outbox = Outbox(platform, clock, self.settings.ask_timeout)
        self.rng = random.Random(self.settings.seed)
        self.tracked: set[str] = set()
        self.notifier = Notifier(self)
        self.admin = CommunityAdmin(self)
        self._changes: list[Change] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        monitor.on_change(self._changes.append)

    async def start(self) -> None:
        """Load who to track, then finish whatever a previous process left pending."""
        rows = await Membership.all().values_list(
            "contact__tenant__platform", "contact__tenant__external_id", "contact__user_id"
        )
        self.tracked = {presence_key(p, t, u) for p, t, u in rows if p == self.platform.name}
        await self.tick()

    # -- inbound ----------------------------------------------------------------------

    async def command(
        self, actor: Actor, name: str, text: str, place: Place | None = None
    ) -> Message:
        """A slash command; the answer is for the caller alone."""
        try:
            cmd = parse(name, text)
        except CommandError as exc:
            return Message.of(f"{exc.message}\nUsage: {exc.usage}")
        who = await self.directory.who(actor)
        self.activity(actor, "command")
        try:
            if isinstance(cmd, Ask):
                community = await self._community(who, cmd.handle)
                return await self.group_request(
                    who, community, cmd.mode, cmd.count, cmd.text, place or Place()
                )
            if isinstance(cmd, CommunityCommand):
                return await self.admin.run(who, cmd, place or Place())
            if isinstance(cmd, SetAvailability):
                return self._set_availability(who, cmd)
            return await self._set_hours(who, cmd)
        except CommandError as exc:
            return Message.of(f"{exc.message}\nUsage: {exc.usage}")

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
        group_ids = set(groups) | set(GROUP_MENTION_RE.findall(text))
        handles = {h.lower() for h in MENTION_RE.findall(text)}
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
        who = await self.directory.who(actor)
        seen: set[int] = set()
        replies: list[Part] = []
        for community in communities:
            if community.id in seen:
                continue
            seen.add(community.id)
            mode = community.mention_mode
            reply = await self.group_request(who, community, mode, 1, text.strip(), place)
            if replies:
                replies.append("\n")
            replies.extend(reply.parts)
        return Message(tuple(replies))

    async def answer(self, actor: Actor, delivery_id: str, accept: bool) -> Message:
        """Accept or decline pressed on a DM; only its target may press it."""
        who = await self.directory.who(actor)
        self.activity(actor, "answer")
        did = int(delivery_id) if delivery_id.isdigit() else -1
        delivery = await Delivery.get_or_none(id=did, target_id=who.contact_id)
        if delivery is None:
            return Message.of("That ask isn't addressed to you.")
        request = await Request.get(id=delivery.request_id).select_related("community", "requester")
        if delivery.state not in (DeliveryState.PENDING, DeliveryState.SENT):
            return Message.of(f"That ask is already {delivery.state.value}.")
        if accept:
            return await self._accepted(who, delivery, request)
        if not await self.outbox.settle(delivery.id, DeliveryState.DECLINED):
            return Message.of("That ask was closed a moment ago.")
        await self.outbox.retitle(delivery.id, "You declined.")
        await self._move_on(
            request, [Mention(actor.user_id, actor.name or actor.user_id)], "declined"
        )
        return Message.of(f"Declined. I'll tell {request.requester.display_name}.")

    @staticmethod
    def addresses_group(text: str, groups: Iterable[str] = ()) -> bool:
        """Whether a message could need group processing (an `@handle` or a group mention);
        cheap, so adapters may ask before doing work of their own, such as a permalink."""
        return bool(groups) or bool(MENTION_RE.search(text) or GROUP_MENTION_RE.search(text))

    def activity(self, actor: Actor, kind: str) -> None:
        """Someone did something: it counts as presence for community members only."""
        key = presence_key(actor.platform, actor.tenant, actor.user_id)
        if key in self.tracked:
            self.monitor.observe(key, Activity(kind))

    def observe(self, key: str, signal: Signal) -> Change | None:
        """A presence signal for a contact key (see `directory.presence_key`)."""
        return self.monitor.observe(key, signal)

    async def tick(self) -> None:
        """Everything time drives: expiries, timeouts, retries, subscriptions, flushing."""
        self.monitor.expire()
        for did in await self.outbox.expired():
            await self._timed_out(did)
        due = await self.outbox.due()
        if due:  # in the background: a resumed fan-out must not hold up timeouts and pushes
            self.spawn(self._send(due))
        await self.pump()
        await self.monitor.flush()

    async def pump(self) -> None:
        """Tell subscribers and views about presence changes gathered since the last pump."""
        changes = self._changes[:]
        self._changes.clear()  # the monitor holds this list's append: keep the list, empty it
        if changes:
            await self.notifier.changed(changes)

    async def drain(self) -> None:
        """Wait for background sends (tests and the shell want output in order)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))
        await self.pump()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background work failed", exc_info=task.exception())

    # -- group requests ---------------------------------------------------------------

    async def _community(self, who: Who, handle: str) -> Community:
        community = await self.directory.community(who.tenant_id, handle)
        if community is None:
            raise CommandError(f"there is no community @{handle} here", "/community list")
        return community

    def explainer(self, tz: str) -> Callable[[Member], str]:
        """Skip reasons as the requester reads them, times in their own zone."""

        def explain(member: Member) -> str:
            return texts.describe(self.monitor.verdict(member.key), tz, self.clock.now())

        return explain

    async def _resolve(
        self,
        who_id: int,
        community: Community,
        roster: Roster,
        mode: Mode,
        wanted: int,
        exclude: set[int],
        explain: Callable[[Member], str],
    ) -> Resolution:
        """Walk the roster (already in strategy order) only as far as the request needs,
        asking the platform about members it knows nothing fresh about (core.freshness)."""
        tenant = roster[0].key.split(":")[1] if roster else ""
        await self.monitor.load(roster.keys())
        return await freshness.PresenceCheck(self.platform, self.monitor).resolve(
            tenant,
            roster,
            mode,
            wanted=wanted,
            requester_id=who_id,
            explain=explain,
            capacity=community.capacity,
            exclude=exclude,
        )

    async def group_request(
        self, who: Who, community: Community, mode: Mode, wanted: int, text: str, place: Place
    ) -> Message:
        """Resolve, record and start delivering; the reply says who was asked and why not others."""
        roster = await self.directory.roster(
            community, who.actor.platform, who.actor.tenant, rng=self.rng
        )
        explain = self.explainer(who.actor.tz or "UTC")
        res = await self._resolve(who.contact_id, community, roster, mode, wanted, set(), explain)
        now = self.clock.now()
        async with in_transaction(community._meta.default_connection):
            request = await Request.create(
                tenant_id=who.tenant_id,
                community_id=community.id,
                requester_id=who.contact_id,
                mode=mode,
                wanted=wanted,
                text=text,
                origin_channel=place.channel,
                origin_thread=place.thread,
                origin_link=place.link,
                state=RequestState.OPEN if res.targets else RequestState.EXHAUSTED,
            )
            await self._audit(request, community, res, now)
            ids = await self._record(request, community, res.targets, now)
        if res.targets:
            self.spawn(self._send(ids))
            reply = self._asked(community, mode, res, explain)
        else:
            reply = self._nobody(community, res)
        if res.unchecked:
            reply = Message((*reply.parts, freshness.note(res.unchecked)), reply.buttons)
        return reply

    async def _record(
        self, request: Request, community: Community, targets: list[Member], now: float
    ) -> list[int]:
        ids = await self.outbox.record(request, targets)
        if request.mode in (Mode.ONE, Mode.SOME):
            contact_ids = [m.contact_id for m in targets]
            memberships = Membership.filter(community_id=community.id, contact_id__in=contact_ids)
            for m in await memberships:
                m.last_asked_at = to_datetime(now)
                m.asks += 1
                await m.save(update_fields=["last_asked_at", "asks"])
            if targets:
                await Community.filter(id=community.id).update(rr_cursor=targets[-1].contact_id)
        return ids

    async def _audit(
        self, request: Request, community: Community, res: Resolution, now: float
    ) -> None:
        await ResolutionAudit.create(
            request_id=request.id,
            created_at=to_datetime(now),
            strategy=community.strategy.value,
            chosen=[m.contact_id for m in res.targets],
            skipped=[[s.member.contact_id, s.reason] for s in res.skipped[:200]],
        )

    async def _send(self, ids: list[int]) -> None:
        """Deliver, then act on what failed for good (the next member, or telling the requester)."""
        failed = await self.outbox.dispatch(ids)
        await self._failed(failed)

    def _asked(
        self, community: Community, mode: Mode, res: Resolution, explain: Callable[[Member], str]
    ) -> Message:
        names: list[Part] = []
        for i, m in enumerate(res.targets[:20]):
            names += [", " if i else "", Mention(m.user_id, m.name)]
        if len(res.targets) > 20:
            names.append(f" and {len(res.targets) - 20} more")
        verb = {
            Mode.ONE: "Asked",
            Mode.SOME: "Asked",
            Mode.AVAILABLE: "Sent to everyone available:",
            Mode.EVERYONE: "Sent to everyone in the community:",
        }[mode]
        parts: list[Part] = [f"@{community.handle}: {verb} ", *names, "."]
        parts += self._skips(res, explain)
        return Message(tuple(parts))

    def _skips(self, res: Resolution, explain: Callable[[Member], str]) -> list[Part]:
        """Why each other member was not asked; members the resolver never needed to look
        at are described too while there are few of them (a large community gets a count)."""
        skipped = [s for s in res.skipped if s.reason != "that's you"]
        spare: list[str] = []
        rest = res.rest if len(res.rest) <= EXPLAINED_REST else ()
        for m in rest:
            if self.monitor.availability(m.key) is Availability.AVAILABLE:
                spare.append(m.name)
            else:
                skipped.append(Skip(m, explain(m)))
        parts: list[Part] = []
        if spare:
            parts.append(f"\nAlso available, not needed this time: {', '.join(spare)}")
        if skipped:
            parts.append("\nSkipped: ")
            for i, s in enumerate(skipped[:SHOWN_SKIPS]):
                parts.append(f"{', ' if i else ''}{s.member.name} ({s.reason})")
            if len(skipped) > SHOWN_SKIPS:
                parts.append(f" and {len(skipped) - SHOWN_SKIPS} more")
        if len(res.rest) > EXPLAINED_REST:
            parts.append(f"\n{len(res.rest)} other members were not needed this time")
        return parts

    def _nobody(self, community: Community, res: Resolution) -> Message:
        parts: list[Part] = [f"Nobody in @{community.handle} is available right now."]
        others = [s for s in res.skipped if s.reason != "that's you"]
        if others:
            parts.append(
                " " + "; ".join(f"{s.member.name}: {s.reason}" for s in others[:SHOWN_SKIPS])
            )
            if len(others) > SHOWN_SKIPS:
                parts.append(f"; and {len(others) - SHOWN_SKIPS} more")
        else:
            parts.append(" It has no other members yet.")
        parts.append(f"\nTo hear when someone is: /community subscribe {community.handle} --once")
        return Message(
            tuple(parts),
            (Button("subscribe-once", community.handle, "Tell me when someone is available"),),
        )

    # -- outcomes ---------------------------------------------------------------------

    async def _accepted(self, who: Who, delivery: Delivery, request: Request) -> Message:
        if request.state is not RequestState.OPEN:
            await self.outbox.settle(delivery.id, DeliveryState.WITHDRAWN)
            await self.outbox.retitle(delivery.id, "Someone else took this one.")
            return Message.of("Thanks, but someone else already took this one.")
        if not await self.outbox.settle(delivery.id, DeliveryState.ACCEPTED):
            return Message.of("That ask was closed a moment ago.")
        now = to_datetime(self.clock.now())
        membership = await Membership.get_or_none(
            community_id=request.community_id, contact_id=who.contact_id
        )
        if membership is not None:
            membership.accepts += 1
            membership.last_accepted_at = now
            await membership.save(update_fields=["accepts", "last_accepted_at"])
        me = Mention(who.actor.user_id, who.actor.name or who.actor.user_id)
        await self.outbox.retitle(delivery.id, "You accepted.")
        accepted = await Delivery.filter(
            request_id=request.id, state=DeliveryState.ACCEPTED
        ).count()
        enough = request.mode in (Mode.ONE, Mode.SOME) and accepted >= request.wanted
        if enough and await Request.filter(id=request.id, state=RequestState.OPEN).update(
            state=RequestState.FULFILLED, closed_at=now
        ):
            await self._withdraw(request, me)
        await self._tell(
            request,
            Message.of(me, f" accepted your ask in @{request.community.handle}: ", request.text),
        )
        return Message.of(f"Accepted. {request.requester.display_name} has been told.")

    async def _withdraw(self, request: Request, taker: Mention) -> None:
        open_ids = await column_ints(
            Delivery.filter(
                request_id=request.id, state__in=(DeliveryState.PENDING, DeliveryState.SENT)
            ),
            "id",
        )
        for did in open_ids:
            if await self.outbox.settle(int(did), DeliveryState.WITHDRAWN):
                await self.outbox.retitle(int(did), f"Taken by @{taker.name}.")

    async def _timed_out(self, did: int) -> None:
        row = await Delivery.get(id=did).select_related("target")
        request = await Request.get(id=row.request_id).select_related("community", "requester")
        await self.outbox.retitle(did, "This ask expired.")
        target = Mention(row.target.user_id, row.target.display_name)
        await self._move_on(
            request, [target], f"did not answer within {texts.span(self.settings.ask_timeout)}"
        )

    async def _failed(self, failed: list[int]) -> None:
        by_request: dict[int, list[Mention]] = {}
        for row in await Delivery.filter(id__in=failed).select_related("target"):
            by_request.setdefault(row.request_id, []).append(
                Mention(row.target.user_id, row.target.display_name)
            )
        for rid, people in by_request.items():
            request = await Request.get(id=rid).select_related("community", "requester")
            await self._move_on(request, people, "could not be reached")

    async def _move_on(self, request: Request, people: list[Mention], why: str) -> None:
        """After a decline, timeout or failed send: ask the next person, or close and say so."""
        who_parts: list[Part] = []
        for i, p in enumerate(people):
            who_parts += [", " if i else "", p]
        what: list[Part] = [*who_parts, f" {why}"]
        open_left = await Delivery.filter(
            request_id=request.id, state__in=(DeliveryState.PENDING, DeliveryState.SENT)
        ).count()
        if request.state is not RequestState.OPEN:
            return
        if request.mode not in (Mode.ONE, Mode.SOME):
            if open_left == 0:
                await self._close(request, RequestState.EXPIRED)
                await self._tell(
                    request,
                    Message.of(
                        f"Your ask in @{request.community.handle} has run its course: ", *what, "."
                    ),
                )
            return
        accepted = await Delivery.filter(
            request_id=request.id, state=DeliveryState.ACCEPTED
        ).count()
        need = request.wanted - accepted - open_left
        tried = await column_ints(Delivery.filter(request_id=request.id), "target_id")
        if need > 0 and len(tried) < self.settings.max_attempts:
            community = request.community
            tenant = await self._tenant_ext(request)
            roster = await self.directory.roster(
                community, self.platform.name, tenant, rng=self.rng
            )
            res = await self._resolve(
                request.requester_id,
                community,
                roster,
                request.mode,
                min(need, self.settings.max_attempts - len(tried)),
                {int(t) for t in tried},
                self.explainer(request.requester.tz),
            )
            if res.targets:
                now = self.clock.now()
                async with in_transaction(community._meta.default_connection):
                    await self._audit(request, community, res, now)
                    ids = await self._record(request, community, res.targets, now)
                names: list[Part] = []
                for i, m in enumerate(res.targets):
                    names += [", " if i else "", Mention(m.user_id, m.name)]
                await self._tell(
                    request, Message.of(*what, "; asking ", *names, f" in @{community.handle}.")
                )
                await self._send(ids)
                return
        if open_left == 0 and need > 0:
            await self._close(request, RequestState.EXHAUSTED)
            await self._tell(
                request,
                Message(
                    (
                        *what,
                        f". Nobody else in @{request.community.handle} is available to ask.",
                        f"\nTo hear when someone is: /community subscribe {request.community.handle} --once",
                    ),
                    (
                        Button(
                            "subscribe-once",
                            request.community.handle,
                            "Tell me when someone is available",
                        ),
                    ),
                ),
            )
        else:
            await self._tell(request, Message.of(*what, "."))

    async def _close(self, request: Request, state: RequestState) -> None:
        await Request.filter(id=request.id, state=RequestState.OPEN).update(
            state=state, closed_at=to_datetime(self.clock.now())
        )
        request.state = state

    async def _tenant_ext(self, request: Request) -> str:
        got = await column_strs(Request.filter(id=request.id), "tenant__external_id")
        return str(got[0])

    async def _tell(self, request: Request, message: Message) -> None:
        """Follow-ups go back to the thread of a channel mention, else to the requester's DMs.

        A slash command's channel is only where it was typed: telling the outcome there would
        make a private ask public. If the thread refuses the post, the DM still carries it.
        """
        tenant = await self._tenant_ext(request)
        if request.origin_channel and request.origin_thread:
            try:
                await self.platform.post(
                    tenant, request.origin_channel, message, request.origin_thread
                )
                return
            except DeliveryFailed as exc:
                log.info(
                    "thread follow-up refused (%s); telling the requester directly", exc.reason
                )
        try:
            await self.platform.send_direct(tenant, request.requester.user_id, message)
        except DeliveryFailed as exc:
            log.warning("could not tell requester of request %s: %s", request.id, exc.reason)

    # -- availability -----------------------------------------------------------------

    def _set_availability(self, who: Who, cmd: SetAvailability) -> Message:
        now = self.clock.now()
        until = now + cmd.duration if cmd.duration else None
        self.observe(who.key, Override(cmd.availability, until, cmd.note))
        if cmd.availability is None:
            verdict = self.monitor.verdict(who.key)
            return Message.of(
                f"Back to automatic: you're {texts.describe(verdict, who.actor.tz or 'UTC', now)}."
            )
        when = (
            f" until {texts.clock_time(until, who.actor.tz or 'UTC', now)}"
            if until
            else " until you say /available"
        )
        note = f" ({cmd.note})" if cmd.note else ""
        return Message.of(f"You're {cmd.availability.value}{when}{note}.")

    async def _set_hours(self, who: Who, cmd: SetHours) -> Message:
        if cmd.start_minute is None:
            self.observe(who.key, ClearHours())
            return Message.of("Working hours cleared.")
        contact = await self.directory.contact(who.tenant_id, who.actor.user_id)
        tz = cmd.tz or (contact.tz if contact else None) or "UTC"
        self.observe(who.key, WorkingHours(cmd.start_minute, cmd.end_minute, cmd.days, tz))
        days = ",".join(
            ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[d] for d in sorted(cmd.days)
        )
        s, e = cmd.start_minute, cmd.end_minute
        return Message.of(
            f"Working hours set: {s // 60:02d}:{s % 60:02d}–{e // 60:02d}:{e % 60:02d} {days} ({tz})."
        )
