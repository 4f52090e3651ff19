"""Storms: 1,000 deliveries through a platform answering 30 % 429 and 5 % 5xx, each delivered once.

bots/slack/platform.py is not committed yet, so the platform here is a double built from
the shell adapter that raises DeliveryFailed(permanent=False) as the chaos dictates.
"""

from __future__ import annotations

import random
from collections import Counter

from bots.shell.platform import ShellPlatform
from bots.shell.testing import Workspace
from core.ports import DeliveryFailed, Message
from core.store.models import Delivery, DeliveryState
from tests.faults.seed import crowd

REQUESTS = 1000
RETRY_AFTER = 1.0  # seconds a 429 asks the bucket (here: one DM channel) to wait


class Storm(ShellPlatform):
    """The shell platform behind 429s (with Retry-After per bucket) and 5xx, seeded."""

    def __init__(self, ws: Workspace, rate_429: float, rate_5xx: float) -> None:
        super().__init__(ws.platform.emit)
        self.clock = ws.clock
        self.rng = random.Random(5)
        self.rates = (rate_429, rate_5xx)
        self.limited_until: dict[str, float] = {}
        self.hit_twice = 0
        self.calls = Counter[str]()

    async def send_direct(
        self,
        tenant: str,
        user_id: str,
        message: Message,
        *,
        key: str | None = None,
        retry: bool = False,
    ) -> str:
        now = self.clock.now()
        self.calls["send"] += 1
        if now < self.limited_until.get(user_id, 0.0):
            self.hit_twice += 1  # came back before Retry-After ran out
        roll = self.rng.random()
        if roll < self.rates[0]:
            self.calls["429"] += 1
            self.limited_until[user_id] = now + RETRY_AFTER
            raise DeliveryFailed("ratelimited", permanent=False, retry_after=RETRY_AFTER)
        if roll < self.rates[0] + self.rates[1]:
            self.calls["5xx"] += 1
            raise DeliveryFailed("internal_error", permanent=False)
        return await super().send_direct(tenant, user_id, message, key=key, retry=retry)


async def test_a_thousand_deliveries_through_a_storm_arrive_exactly_once(
    workspace: Workspace,
) -> None:
    targets = await crowd(REQUESTS, handle="storm", requester="stormer")
    storm = Storm(workspace, rate_429=0.3, rate_5xx=0.05)
    workspace.engine.platform = workspace.engine.outbox.platform = storm
    await workspace.run("/ask-available storm --everyone weather report", as_user="stormer")
    for _ in range(400):
        if not await Delivery.filter(state=DeliveryState.PENDING).exists():
            break
        workspace.clock.advance(4)
        await workspace.engine.tick()
        await workspace.engine.drain()  # the sweeper sends in the background
    got = Counter(
        o.to for o in workspace.transcript.out if o.kind == "dm" and "accept" in o.buttons
    )
    states = Counter(await Delivery.all().values_list("state", flat=True))
    lost = [t for t in targets if t not in got]
    print(
        f"\nFAULT storm: requests={REQUESTS}, sends={storm.calls['send']}, 429={storm.calls['429']},"
        f" 5xx={storm.calls['5xx']}, delivered={len(got)},"
        f" duplicated={sum(n - 1 for n in got.values())}, lost={len(lost)},"
        f" bucket hit twice in a row={storm.hit_twice}, states={dict(states)}"
    )
    assert not lost
    assert all(n == 1 for n in got.values())
    assert storm.hit_twice == 0
    assert states == Counter({DeliveryState.SENT.value: REQUESTS})
