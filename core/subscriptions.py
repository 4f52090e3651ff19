"""Pushing availability to the people who follow it: subscribers, home tabs, pinned views."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence

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

NOTIFY_CLAIM_SECONDS = 10.0  # the same transition seen by two processes arrives well within this


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
        latest: dict[str, Change] = {}
        for ch in changes:
            first = latest.get(ch.key)
            latest[ch.key] = Change(ch.key, first.old if first else ch.old, ch.new)
        by_tenant: dict[tuple[str, str], dict[str, Change]] = defaultdict(dict)
        for key, ch in latest.items():
            who = keys.ContactKey.decode(key)
            if (
                who.platform == self.platform.name
                and ch.old != ch.new.availability
                and self.ownership(who.tenant)  # another process's shard tells its own
            ):
                by_tenant[(who.platform, who.tenant)][who.user] = ch
        for (platform, tenant), people in by_tenant.items():
            await self._tenant(platform, tenant, people)

    async def _tenant(self, platform: str, tenant: str, people: dict[str, Change]) -> None:
        t = await Tenant.get_or_none(platform=platform, external_id=tenant)
        if t is None:
            return
        contacts = await Contact.filter(tenant_id=t.id, user_id__in=list(people)).values_list(
            "id", "user_id", "display_name"
        )
        if not contacts:
            return
        names = {cid: (uid, name) for cid, uid, name in contacts}
        rows = await Membership.filter(contact_id__in=list(names)).values_list(
            "community_id", "contact_id"
        )
        moved: dict[int, list[int]] = defaultdict(list)
        for community_id, contact_id in rows:
            moved[community_id].append(contact_id)
        if not moved:
            return
        handles = dict(await Community.filter(id__in=list(moved)).values_list("id", "handle"))
        subs = await Subscription.filter(community_id__in=list(moved)).values_list(
            "id", "subscriber_id", "subscriber__user_id", "community_id", "once", "subscriber__tz"
        )
        for sub_id, subscriber_id, subscriber_uid, community_id, once, tz in subs:
            changed = [
                c
                for c in moved[community_id]
                if c != subscriber_id and await self._first(sub_id, people[names[c][0]])
            ]
            if not changed:
                continue
            handle = handles[community_id]
            if once:
                now_free = [
                    c
                    for c in changed
                    if people[names[c][0]].new.availability is Availability.AVAILABLE
                ]
                if not now_free:
                    continue
                message = texts.someone_available(handle, [Mention(*names[c]) for c in now_free])
            else:
                now = self.clock.now()
                message = texts.changed(
                    handle,
                    [
                        (Mention(*names[c]), describe(people[names[c][0]].new, tz or "UTC", now))
                        for c in changed
                    ],
                )
            # Owed as a notice, sent on its own: a subscriber who cannot be reached holds up
            # nobody, and a one-off subscription ends only once its message is delivered.
            await owe_once(
                notice(
                    f"once:{sub_id}" if once else f"push:{sub_id}:{uuid.uuid4().hex}",
                    platform,
                    t.id,
                    NoticeKind.DM,
                    subscriber_uid,
                    message,
                    self.clock.now(),
                    subscription_id=sub_id if once else None,
                )
            )
        try:
            await self.platform.views_changed(tenant, set(people), set(moved))
        except Exception:
            log.exception("home tabs of %s not refreshed", tenant)
        await self.live_views.changed(set(moved))  # debounced, in the background: never blocks this

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
