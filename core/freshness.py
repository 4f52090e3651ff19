"""Unknown is a question, not an answer: members never seen, or seen too long ago, are
checked with the platform before a resolution stands, and when they join a community.

The platform checks within its own budget (Slack: ~50 users.getPresence a minute per
workspace) and says how many it managed; members are offered in the order the community's
strategy would reach them, so a short budget is spent where the request looks first.
"""

from __future__ import annotations

from collections.abc import Callable

from core.domain import Mode
from core.grouping import Resolution
from core.keys import ContactKey
from core.ports import Platform
from core.presence.availability import Availability
from core.presence.monitor import PresenceMonitor

PICKY_BATCH = 5  # `--one`/`--count`: check a few unknowns at a time, not the whole community
MAX_ROUNDS = 12  # every round checks someone new or stops; the budget ends it sooner


class PresenceCheck:
    """Asks the platform about unknown members at ask time and at join time."""

    def __init__(self, platform: Platform, monitor: PresenceMonitor) -> None:
        self.platform = platform
        self.monitor = monitor

    async def resolve(
        self,
        tenant: str,
        run: Callable[[], Resolution],
        mode: Mode,
        *,
        wanted: int,
        requester_id: int,
        exclude: set[int],
    ) -> Resolution:
        """Resolve (`run`: the resolver's own call over the members read so far), check whom it
        passed over as unknown (and, for `--one`/`--count`, the chosen targets), and resolve
        again until nothing new needs checking.

        `unchecked` on the result counts members left unknown because the budget ran out.
        """
        res = run()
        if mode is Mode.EVERYONE:
            return res
        checked: set[str] = set()
        short = False
        for _ in range(MAX_ROUNDS):
            ask = self._to_check(res, mode, wanted, requester_id, exclude, checked)
            if not ask:
                break
            n = await self.platform.check_presence(tenant, ask)
            checked.update(ask[:n])
            if n < len(ask):
                short = True
            if n == 0:
                break
            res = run()
        res.unchecked = self._unknown_left(res, requester_id, exclude, checked) if short else 0
        return res

    def _to_check(
        self,
        res: Resolution,
        mode: Mode,
        wanted: int,
        requester_id: int,
        exclude: set[int],
        checked: set[str],
    ) -> list[str]:
        """User ids to ask about next, in the order the resolver met them."""
        unknown = [
            s.member.user_id
            for s in res.skipped
            if s.member.contact_id != requester_id
            and s.member.contact_id not in exclude
            and s.member.user_id not in checked
            and self.monitor.availability(s.member.key) is Availability.UNKNOWN
        ]
        if mode is Mode.AVAILABLE:
            return unknown
        # --one / --count: those the strategy meets before its picks, a few at a time, then
        # the picks themselves, confirmed just before they are asked.
        picks = [m.user_id for m in res.targets if m.user_id not in checked]
        if res.targets:
            return unknown + picks
        return unknown[: max(PICKY_BATCH, 2 * wanted)]

    def _unknown_left(
        self, res: Resolution, requester_id: int, exclude: set[int], checked: set[str]
    ) -> int:
        return sum(
            1
            for s in res.skipped
            if s.member.contact_id != requester_id
            and s.member.contact_id not in exclude
            and s.member.user_id not in checked
            and self.monitor.availability(s.member.key) is Availability.UNKNOWN
        )

    async def joined(self, tenant: str, keys: list[str]) -> int:
        """People just added to a community: check those the monitor knows nothing fresh about."""
        await self.monitor.load(keys)
        ask = [
            ContactKey.decode(k).user
            for k in keys
            if self.monitor.availability(k) is Availability.UNKNOWN
        ]
        return await self.platform.check_presence(tenant, ask) if ask else 0
