"""A tenant that removes the app keeps its data for DATA_RETENTION_DAYS, then it is purged.

Platform-neutral: an adapter says a tenant left (a Slack uninstall) or came back (a reinstall
within the window, which keeps everything); a sweep on the engine's tick deletes the tenants
gone longer than the window. Deleting the tenant row deletes the rest with it (contacts,
communities, memberships, requests, deliveries, notices, subscriptions: the schema cascades),
and every process forgets what it held of them in memory: cached ids, tracked members and
presence records.
"""

from __future__ import annotations

import logging

from core import keys
from core.clock import Clock, to_datetime
from core.directory import Directory
from core.presence.monitor import PresenceMonitor
from core.store.models import Contact, Tenant
from core.store.queries import column_ints, column_strs
from core.tenancy import Ownership
from core.tracking import Tracking

log = logging.getLogger(__name__)

DAY = 86_400.0
SWEEP_EVERY = 600.0
"""Seconds between sweeps: a purge is days late at worst by this much, and another process's
cache of a purged tenant is forgotten within it."""
CHECK_BATCH = 500  # cached tenant ids checked per query (SQLite's parameter limit)


class Retention:
    """Marks tenants that left or came back, and purges those gone past the window."""

    def __init__(
        self,
        platform: str,
        clock: Clock,
        days: float,
        *,
        directory: Directory,
        tracking: Tracking,
        monitor: PresenceMonitor,
        ownership: Ownership,
        every: float = SWEEP_EVERY,
    ) -> None:
        self.platform = platform
        self.clock = clock
        self.window = days * DAY
        self.directory = directory
        self.tracking = tracking
        self.monitor = monitor
        self.ownership = ownership
        self.every = every
        self._next = 0.0  # the first tick sweeps

    async def left(self, tenant: str) -> None:
        """The tenant removed the app: its data is kept until the window has passed.

        Only the first removal counts; a tenant we never stored anything for has nothing to keep.
        """
        await Tenant.filter(
            platform=self.platform, external_id=tenant, uninstalled_at__isnull=True
        ).update(uninstalled_at=to_datetime(self.clock.now()))
        log.info("tenant %s removed the app; its data is kept for the retention window", tenant)

    async def returned(self, tenant: str) -> None:
        """The tenant installed the app again within the window: nothing is purged."""
        await Tenant.filter(platform=self.platform, external_id=tenant).update(uninstalled_at=None)

    async def sweep(self) -> list[str]:
        """On the tick: purge at most every `every` seconds; the tenants purged."""
        now = self.clock.now()
        if now < self._next:
            return []
        self._next = now + self.every
        return await self.purge()

    async def purge(self) -> list[str]:
        """Delete every tenant of this platform (and this process's shards) gone past the window,
        then forget, in this process, every cached tenant whose row is gone."""
        cutoff = to_datetime(self.clock.now() - self.window)
        due = Tenant.filter(platform=self.platform, uninstalled_at__lte=cutoff)
        ids = await self.ownership.ids(due, "external_id")
        purged: list[str] = []
        if ids:
            rows = await Tenant.filter(id__in=ids).values_list("id", "external_id")
            contacts = await Contact.filter(tenant_id__in=ids).values_list(
                "tenant__external_id", "user_id"
            )
            await Tenant.filter(id__in=ids).delete()
            purged = sorted(str(external) for _, external in rows)
            gone_keys = [keys.encode(self.platform, str(t), str(u)) for t, u in contacts]
            await self.monitor.forget(gone_keys)
            log.info("purged %d tenants past the retention window: %s", len(purged), purged)
        await self._forget_gone()
        return purged

    async def _forget_gone(self) -> None:
        """Drop what this process holds of tenants whose rows are gone (purged here or elsewhere):
        cached ids by id (a tenant purged and made again has a new one), tracked members and
        presence records by external id."""
        cached = sorted(self.directory.cached_tenants(self.platform))
        alive_ids: set[int] = set()
        for i in range(0, len(cached), CHECK_BATCH):
            batch = Tenant.filter(id__in=cached[i : i + CHECK_BATCH])
            alive_ids.update(await column_ints(batch, "id"))
        self.directory.drop(set(cached) - alive_ids)
        tracked = sorted(self.tracking.tenants())
        alive: set[str] = set()
        for i in range(0, len(tracked), CHECK_BATCH):
            batch = Tenant.filter(
                platform=self.platform, external_id__in=tracked[i : i + CHECK_BATCH]
            )
            alive.update(await column_strs(batch, "external_id"))
        gone = set(tracked) - alive
        if gone:
            self.tracking.drop_tenants(gone)
            await self.monitor.forget((), tuple(keys.tenant_prefix(self.platform, t) for t in gone))
