"""The post-store storm end to end: bolt, the engine's outbox and SlackPlatform against a stand-in
that loses the answer to a quarter of the DMs it stored (500, dropped connection, timeout).

It holds only once the core passes each delivery's `key` (and `retry=True` after an ambiguous
failure) to the platform; until then the outbox re-sends blindly and targets get two DMs.
"""

from __future__ import annotations

from collections import Counter

from core.store.models import Delivery
from tests.slack_fixtures import ALICE, World, world
from tests.standins.after_store import KINDS
from tests.test_faults_storm_standins import drive, slack_crowd, slack_dm_counts, slack_tick, tally
from tests.test_sends_idempotent import CLIENT_TIMEOUT, STORM, TARGETS, figures

__all__ = ["world"]


async def test_slack_fan_out_through_a_post_store_storm_sends_each_dm_once(world: World) -> None:
    w = world
    w.platform.client.timeout = CLIENT_TIMEOUT  # type: ignore[assignment]
    ids = await slack_crowd(w, "storm", TARGETS)
    w.slack.storm_after_store("chat.postMessage", STORM, KINDS, seed=11)
    await w.command(ALICE, "/ask-available", "storm --everyone after-store drill")
    await drive(lambda: slack_tick(w))
    w.slack.calm()
    got = slack_dm_counts(w, ids)
    posts = [c for c in w.slack.calls_to("chat.postMessage") if c.args.get("channel") in set(ids)]
    states = Counter(await Delivery.all().values_list("state", flat=True))
    print(f"  states: {tally(states)}")
    out = figures("slack via the engine", ids, Counter(got), len(posts))
    assert out["duplicated"] == 0 and out["lost"] == 0
