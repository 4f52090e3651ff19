"""`groupcast doctor`: the lifecycle's invariants, checked against the database.

No open request without a way forward (a delivery in flight, or a scheduled escalation step); no target asked twice for one request; no open
delivery on a closed request; every closed request told to its requester exactly once.
The fault tests run the same check after every scenario.
"""

from __future__ import annotations

from collections import Counter

from core.domain import OPEN_DELIVERY, TERMINAL_REQUEST, NoticeState, RequestState
from core.store.models import Delivery, Notice, Request
from core.store.queries import column_ints


async def check() -> list[str]:
    """Every violation found, one line each; empty when the lifecycle holds."""
    problems: list[str] = []
    requests = dict(await Request.all().values_list("id", "state"))
    open_deliveries = await Delivery.filter(state__in=OPEN_DELIVERY).values_list("id", "request_id")
    in_flight = {rid for _, rid in open_deliveries}
    in_flight |= set(
        await column_ints(Request.filter(state=RequestState.OPEN, next_step_at__isnull=False), "id")
    )
    for rid, state in sorted(requests.items()):
        if state is RequestState.OPEN and rid not in in_flight:
            problems.append(
                f"request {rid} is open with no delivery in flight and no step scheduled: nobody will move it"
            )
    for did, rid in open_deliveries:
        if requests.get(rid) in TERMINAL_REQUEST:
            problems.append(f"delivery {did} is still open on request {rid}, which is closed")
    pairs = Counter(await Delivery.all().values_list("request_id", "target_id"))
    for (rid, target), n in sorted(pairs.items()):
        if n > 1:
            problems.append(f"request {rid} asked contact {target} {n} times")
    told = Counter[int]()
    for rid, state, error in await Notice.filter(outcome=True).values_list(
        "request_id", "state", "error"
    ):
        told[rid] += 1
        if state is NoticeState.FAILED:
            problems.append(f"request {rid}: telling its requester failed ({error})")
    for rid, state in sorted(requests.items()):
        if state in TERMINAL_REQUEST and told[rid] != 1:
            problems.append(
                f"request {rid} ended {state.value} but its requester was told {told[rid]} times"
            )
        if state is RequestState.OPEN and told[rid]:
            problems.append(f"request {rid} is open but its requester was told it ended")
    return problems
