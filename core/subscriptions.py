"""Pushing availability to the people who follow it: subscribers, home tabs, pinned views."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from core import keys
from core.clock import Clock
from core.domain import NoticeKind
from core.live_views import LiveViews
from core.notices import notice, owe_once
from core.ports import Mention, Platform
from core.presence.availability import Availability
from core.presence.monitor import Change, PresenceMonitor
from core.store.models import Community, Contact, Membership, Subscription, Tenant
from core.store.queries import column_strs
from core.tenancy import Ownership
from core.texts import community as texts
from core.texts.availability import describe

log = logging.getLogger(__name__)
T = TypeVar("T")

NOTIFY_CLAIM_SECONDS = 10.0  # the same transition seen by two processes arrives well within this
CHUNK = 500  # ids an IN list carries at most (SQLite's parameter limit, with room to spare)


@dataclass(frozen=True, slots=True)
class _Moved:
    """A contact whose availability changed: where, who, and the change."""

    tenant: str
    user: str
    name: str
    change: Change


def _chunks(items: list[T], size: int = CHUNK) -> Iterator[list[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class Notifier:
    """Turns a batch of presence changes into one message per subscriber and view refreshes."""

    def __init__(
        self,
        platform: Platform,
        monitor: PresenceMonitor,
        clock: Clock,
        live_views: LiveViews,
        ownership: Ownership,
    ) -> None:
        self.platform = platform
        self.ownership = ownership
        self.monitor = monitor
        self.clock = clock
        self.live_views = live_views

    async def changed(self, changes: Sequence[Change]) -> None:
        """One batch of changes (a tick's): a fixed handful of queries whatever the number of
        tenants it touches, so telling costs grow with subscriptions and views, not guilds."""
        latest: dict[str, Change] = {}
        for ch in changes:
            first = latest.get(ch.key)
            latest[ch.key] = Change(ch.key, first.old if first else ch.old, ch.new)
        by_tenant: dict[str, dict[str, Change]] = defaultdict(dict)
        for key, ch in latest.items():
            who = keys.ContactKey.decode(key)
            if (
                who.platform == self.platform.name
                and ch.old != ch.new.availability
                and self.ownership(who.tenant)  # another process's shard tells its own
            ):
                by_tenant[who.tenant][who.user] = ch
        if by_tenant:
            await self._tell(by_tenant)

    async def _tell(self, by_tenant: dict[str, dict[str, Change]]) -> None:
        platform = self.platform.name
        people = await self._contacts(platform, by_tenant)
        if not people:
            return
        moved: dict[int, list[int]] = defaultdict(list)  # community → its contacts that moved
        for chunk in _chunks(sorted(people)):
            rows = await Membership.filter(contact_id__in=chunk).values_list(
                "community_id", "contact_id"
            )
            for community_id, contact_id in rows:
                moved[community_id].append(contact_id)
        if not moved:
            return
        subs: list[tuple[int, int, str, int, bool, str, int]] = []
        for chunk in _chunks(sorted(moved)):
            subs += await Subscription.filter(community_id__in=chunk).values_list(
                "id",
                "subscriber_id",
                "subscriber__user_id",
                "community_id",
                "once",
                "subscriber__tz",
                "tenant_id",
            )
        handles: dict[int, str] = {}
        if subs:
            handles = dict(
                await Community.filter(id__in=sorted({s[3] for s in subs})).values_list(
                    "id", "handle"
                )
            )
        for sub_id, subscriber_id, subscriber_uid, community_id, once, tz, tenant_id in subs:
            changed = [
                c
                for c in moved[community_id]
                if c != subscriber_id and await self._first(sub_id, people[c].change)
            ]
            if not changed:
                continue
            handle = handles[community_id]
            if once:
                now_free = [
                    c
                    for c in changed
                    if people[c].change.new.availability is Availability.AVAILABLE
                ]
                if not now_free:
                    continue
                message = texts.someone_available(
                    handle, [Mention(people[c].user, people[c].name) for c in now_free]
                )
            else:
                now = self.clock.now()
                message = texts.changed(
                    handle,
                    [
                        (
                            Mention(people[c].user, people[c].name),
                            describe(people[c].change.new, tz or "UTC", now),
                        )
                        for c in changed
                    ],
                )
            # Owed as a notice, sent on its own: a subscriber who cannot be reached holds up
            # nobody, and a one-off subscription ends only once its message is delivered.
            await owe_once(
                notice(
                    f"once:{sub_id}" if once else f"push:{sub_id}:{uuid.uuid4().hex}",
                    platform,
                    tenant_id,
                    NoticeKind.DM,
                    subscriber_uid,
                    message,
                    self.clock.now(),
                    subscription_id=sub_id if once else None,
                )
            )
        communities: dict[str, set[int]] = defaultdict(set)
        for community_id, contact_ids in moved.items():
            communities[people[contact_ids[0]].tenant].add(community_id)
        for tenant, seen in communities.items():
            try:
                await self.platform.views_changed(tenant, set(by_tenant[tenant]), seen)
            except Exception:
                log.exception("home tabs of %s not refreshed", tenant)
        await self.live_views.changed(set(moved))  # debounced, in the background: never blocks this

    async def _contacts(
        self, platform: str, by_tenant: dict[str, dict[str, Change]]
    ) -> dict[int, _Moved]:
        """The contacts behind the changes, by contact id: a query per CHUNK people."""
        tenant_ids: dict[int, str] = {}
        for externals in _chunks(sorted(by_tenant)):
            found = await Tenant.filter(platform=platform, external_id__in=externals).values_list(
                "id", "external_id"
            )
            tenant_ids.update((int(tid), str(ext)) for tid, ext in found)
        pairs = sorted((tid, u) for tid, ext in tenant_ids.items() for u in by_tenant[ext])
        out: dict[int, _Moved] = {}
        for some in _chunks(pairs):
            tids, users = sorted({t for t, _ in some}), sorted({u for _, u in some})
            rows = await Contact.filter(tenant_id__in=tids, user_id__in=users).values_list(
                "id", "tenant_id", "user_id", "display_name"
            )
            for cid, tid, uid, name in rows:
                change = by_tenant[tenant_ids[tid]].get(uid)
                if change is not None:  # the same user id may be someone else elsewhere
                    out[cid] = _Moved(tenant_ids[tid], uid, name, change)
        return out

    async def _first(self, sub_id: int, change: Change) -> bool:
        """Several processes may see the same platform event (shards, a prober and an event);
        a shared claim per subscription and transition lets exactly one of them tell."""
        token = f"notify:{sub_id}:{change.key}:{change.old.value}>{change.new.availability.value}"
        try:
            return await self.monitor.store.claim(token, NOTIFY_CLAIM_SECONDS)
        except Exception:  # store unreachable: a repeat is better than silence
            return True

    async def viewers(self, tenant: str, community_ids: set[int]) -> set[str]:
        """Everyone who sees these communities' availability (members), for home tabs."""
        uids = await column_strs(
            Membership.filter(
                community_id__in=list(community_ids), contact__tenant__external_id=tenant
            ),
            "contact__user_id",
        )
        return {str(u) for u in uids}

    def key(self, tenant: str, user_id: str) -> str:
        return keys.encode(self.platform.name, tenant, user_id)
