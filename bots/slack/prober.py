"""Slack pushes no presence to modern apps, so we ask: within budget, stalest members first.

users.getPresence answers one person a call (Tier 3, about 50 a minute per workspace);
dnd.teamInfo answers up to 50 people a call (Tier 2). The prober spends a per-workspace
budget that refills with the clock; `check` (the core asking about unknown members at ask
time and when they join) spends from the same budget, so the two never add up to more than
Slack allows. The background rounds leave a reserve, so an ask always finds some budget.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from bots.slack.platform import SlackPlatform
from bots.slack.workspaces import team_scope
from core import keys
from core.clock import Clock
from core.ports import DeliveryFailed
from core.presence.signals import IDLE, ONLINE, DoNotDisturb, Native, Signal
from core.ratelimit import Bucket

log = logging.getLogger(__name__)

DND_BATCH = 50  # dnd.teamInfo takes "up to 50 users"
NATIVE = {"active": ONLINE, "away": IDLE}

Observe = Callable[[str, Signal], object]


class Prober:
    """Keeps tracked Slack members' presence fresh; `step()` does one round's worth of calls."""

    def __init__(
        self,
        platform: SlackPlatform,
        clock: Clock,
        tracked: Callable[[], Iterable[str]],
        observe: Observe,
        *,
        ttl: float,
        per_minute: float = 50.0,
        reserve: float = 0.2,
    ) -> None:
        self.platform = platform
        self.clock = clock
        self.tracked = tracked
        self.observe = observe
        self.ttl = ttl
        self.per_minute = per_minute
        self.reserve = per_minute * reserve  # calls the background rounds leave for asks
        self._budgets: dict[str, Bucket] = {}  # calls left per workspace, a minute's worth
        # With OAuth installs: whether a workspace is still installed (None: always, one token).
        self.serves: Callable[[str], Awaitable[bool]] | None = None
        self._probed: dict[str, float] = {}

    def _budget(self, tenant: str) -> Bucket:
        budget = self._budgets.get(tenant)
        if budget is None:
            rate = self.per_minute / 60
            budget = self._budgets[tenant] = Bucket(rate, self.per_minute, full_at=self.clock.now())
        return budget

    def stalest(self) -> dict[str, list[str]]:
        """Tracked Slack members per workspace, never-probed first, then oldest probe first."""
        by_tenant: dict[str, list[tuple[float, str]]] = {}
        for key in self.tracked():
            who = keys.ContactKey.decode(key)
            if who.platform == self.platform.name:
                by_tenant.setdefault(who.tenant, []).append((self._probed.get(key, 0.0), who.user))
        live = set(self.tracked())
        for key in [k for k in self._probed if k not in live]:
            del self._probed[key]  # forget people who left every community
        return {t: [u for _, u in sorted(rows)] for t, rows in by_tenant.items()}

    async def step(self) -> int:
        """Probe as many of the stalest members as each workspace's budget allows now."""
        done = 0
        now = self.clock.now()
        for tenant, users in self.stalest().items():
            if self.serves is not None and not await self.serves(tenant):
                self._budgets.pop(tenant, None)  # uninstalled: its work stops here
                continue
            budget = self._budget(tenant)
            due = [
                u
                for u in users
                if now - self._probed.get(self._key(tenant, u), 0.0) >= self.ttl / 2
            ]
            take = due[: max(0, int(budget.available(now) - self.reserve))]
            if take:
                done += await self.probe(tenant, take)
        return done

    async def check(self, tenant: str, user_ids: list[str]) -> int:
        """The core asks about these people (an ask, a join), most wanted first: probe as many
        as the budget allows and the pacing lets go at once, and say how many that was.

        Someone is waiting on the answer, so a check never queues behind the rate limit (a
        burst of asks would otherwise wait minutes on Tier 2's dnd.teamInfo); who is left
        unchecked is said in the reply, and the background rounds catch up."""
        take = user_ids[: max(0, int(self._budget(tenant).available(self.clock.now())))]
        if not take:
            return 0
        with team_scope(tenant):
            return await self._probe(tenant, take, at_once=True)

    async def probe(self, tenant: str, user_ids: list[str]) -> int:
        """users.getPresence for each person and dnd.teamInfo in batches; feeds the monitor."""
        with team_scope(tenant):
            return await self._probe(tenant, user_ids)

    async def _call(self, at_once: bool, method: str, **args: Any) -> Any:
        """A paced call; with `at_once`, None instead of waiting for its turn."""
        if at_once:
            return await self.platform.call_now(method, **args)
        return await self.platform.call(method, **args)

    async def _probe(self, tenant: str, user_ids: list[str], *, at_once: bool = False) -> int:
        """Returns how many people were probed: with `at_once`, those the pacing let go now
        (the first n), else those whose presence came back."""
        budget = self._budget(tenant)
        done = asked = 0
        for uid in user_ids:
            try:
                resp = await self._call(at_once, "users.getPresence", user=uid)
            except DeliveryFailed as exc:
                budget.spend(1, self.clock.now())
                asked += 1
                log.info("presence of %s unknown: %s", uid, exc.reason)
                continue
            if resp is None:
                break  # its turn is not now: the rest stay unchecked
            budget.spend(1, self.clock.now())  # into debt for a confirm: the prober waits it out
            asked += 1
            state = NATIVE.get(str(resp.get("presence", "")))
            key = self._key(tenant, uid)
            if state is not None:
                self.observe(key, Native(state, ttl=self.ttl, source="users.getPresence"))
                self._probed[key] = self.clock.now()
                done += 1
        probed = user_ids[:asked]
        for i in range(0, len(probed), DND_BATCH):
            await self._dnd(tenant, probed[i : i + DND_BATCH], at_once)
        return asked if at_once else done

    async def _dnd(self, tenant: str, user_ids: list[str], at_once: bool) -> None:
        """Do-not-disturb in one call; at once only if its turn is now (Slack also pushes
        dnd_updated_user, so a skipped check costs little)."""
        try:
            resp = await self._call(at_once, "dnd.teamInfo", users=",".join(user_ids))
        except DeliveryFailed as exc:
            log.info("do-not-disturb unknown: %s", exc.reason)
            return
        if resp is None:
            return
        users = resp.get("users") or {}
        for uid, info in users.items():
            if isinstance(info, dict):
                self.observe(self._key(tenant, str(uid)), dnd_signal(info))

    def _key(self, tenant: str, user_id: str) -> str:
        return keys.encode(self.platform.name, tenant, user_id)


def dnd_signal(info: dict[str, object]) -> DoNotDisturb:
    """dnd.teamInfo / dnd_updated_user fields to the core's window (snooze counts when present)."""
    if info.get("snooze_enabled") and isinstance(info.get("snooze_endtime"), int | float):
        end = info["snooze_endtime"]
        assert isinstance(end, int | float)
        return DoNotDisturb(None, float(end))
    start, end = info.get("next_dnd_start_ts"), info.get("next_dnd_end_ts")
    if not (info.get("dnd_enabled") and isinstance(start, int | float)):
        return DoNotDisturb(None, None)
    if isinstance(end, int | float) and end > start > 1:
        return DoNotDisturb(float(start), float(end))
    return DoNotDisturb(None, None)
