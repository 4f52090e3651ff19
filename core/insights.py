"""What the stored history says: `/community stats` (aggregated by the database) and
`/ask-available why` (the stored audit of one ask, with every later move)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from tortoise import connections

from core.directory import Who
from core.domain import OPEN_DELIVERY, DeliveryState, Role
from core.ports import Message
from core.store.models import Community, Contact, Delivery, Membership, Request, Resolution
from core.texts import time as texts
from core.texts.cancel import not_yours_to_read
from core.texts.lists import names as listed
from core.texts.reasons import ITS_YOU

DAY = 86400.0


@dataclass(frozen=True, slots=True)
class MemberStats:
    name: str
    user_id: str
    received: int
    accepted: int
    declined: int
    timed_out: int
    open_now: int
    median_accept: float | None  # seconds from being asked to accepting
    days: float  # days in the window as a member
    share: float | None  # received relative to an even share per member-day (1.0 = even)


@dataclass(frozen=True, slots=True)
class Stats:
    handle: str
    days: int
    asks: int
    answered: int
    median_first_accept: float | None
    fairness: float | None  # Jain's index over asks per member-day: 1.0 = perfectly even
    members: tuple[MemberStats, ...]


def _epoch(postgres: bool, column: str) -> str:
    if postgres:
        return f"EXTRACT(EPOCH FROM {column})::float8"
    return f"ROUND((julianday({column}) - 2440587.5) * 86400.0, 3)"  # to the millisecond


# Medians are portable window functions (SQLite 3.25+ and PostgreSQL alike): the middle row,
# or the mean of the two middle rows.
MEMBERS_SQL = """
WITH d AS (
    SELECT d.target_id, d.state, {created} AS created, {answered} AS answered
    FROM delivery d JOIN request r ON r.id = d.request_id
    WHERE r.community_id = {community} AND ({created} >= {since} OR d.state IN ({open}))
), acc AS (
    SELECT target_id, answered - created AS secs,
           ROW_NUMBER() OVER (PARTITION BY target_id ORDER BY answered - created) AS rn,
           COUNT(*) OVER (PARTITION BY target_id) AS n
    FROM d WHERE state = 'accepted' AND created >= {since}
), med AS (
    SELECT target_id, AVG(secs) AS median FROM acc
    WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY target_id
)
SELECT c.display_name, c.user_id, {joined} AS joined,
       SUM(CASE WHEN d.created >= {since} THEN 1 ELSE 0 END),
       SUM(CASE WHEN d.created >= {since} AND d.state = 'accepted' THEN 1 ELSE 0 END),
       SUM(CASE WHEN d.created >= {since} AND d.state = 'declined' THEN 1 ELSE 0 END),
       SUM(CASE WHEN d.created >= {since} AND d.state = 'expired' THEN 1 ELSE 0 END),
       SUM(CASE WHEN d.state IN ({open}) THEN 1 ELSE 0 END),
       MAX(med.median)
FROM membership m
JOIN contact c ON c.id = m.contact_id
LEFT JOIN d ON d.target_id = m.contact_id
LEFT JOIN med ON med.target_id = m.contact_id
WHERE m.community_id = {community}
GROUP BY m.contact_id, c.display_name, c.user_id, m.joined_at
ORDER BY c.display_name, c.user_id
"""

COMMUNITY_SQL = """
WITH r AS (
    SELECT id, {created} AS created FROM request
    WHERE community_id = {community} AND {created} >= {since}
), fa AS (
    SELECT r.id, MIN({answered}) - r.created AS secs
    FROM r JOIN delivery d ON d.request_id = r.id AND d.state = 'accepted'
    GROUP BY r.id, r.created
), ranked AS (
    SELECT secs, ROW_NUMBER() OVER (ORDER BY secs) AS rn, COUNT(*) OVER () AS n FROM fa
)
SELECT (SELECT COUNT(*) FROM r), (SELECT COUNT(*) FROM fa),
       (SELECT AVG(secs) FROM ranked WHERE rn IN ((n + 1) / 2, (n + 2) / 2))
"""


async def stats(community: Community, days: int, now: float) -> Stats:
    """Per member and for the community, over the last `days`, in two queries."""
    conn = connections.get(community._meta.default_connection or "")
    pg = conn.capabilities.dialect == "postgres"
    since = float(now - days * DAY)
    common = {
        "community": int(community.id),  # numbers we computed, never text from a user
        "since": repr(since),
        "open": ", ".join(f"'{s.value}'" for s in OPEN_DELIVERY),
    }
    _, rows = await conn.execute_query(
        MEMBERS_SQL.format(
            created=_epoch(pg, "d.created_at"),
            answered=_epoch(pg, "d.answered_at"),
            joined=_epoch(pg, "m.joined_at"),
            **common,
        )
    )
    _, (head,) = await conn.execute_query(
        COMMUNITY_SQL.format(
            created=_epoch(pg, "created_at"), answered=_epoch(pg, "d.answered_at"), **common
        )
    )
    raw = [tuple(r) for r in rows]
    spans = [max(0.0, now - max(since, float(r[2] or since))) / DAY for r in raw]
    total, member_days = sum(int(r[3] or 0) for r in raw), sum(spans)
    members = []
    for r, span in zip(raw, spans, strict=True):
        expected = total * span / member_days if member_days and total else 0.0
        members.append(
            MemberStats(
                name=str(r[0]),
                user_id=str(r[1]),
                received=int(r[3] or 0),
                accepted=int(r[4] or 0),
                declined=int(r[5] or 0),
                timed_out=int(r[6] or 0),
                open_now=int(r[7] or 0),
                median_accept=None if r[8] is None else float(r[8]),
                days=span,
                share=(int(r[3] or 0) / expected) if expected else None,
            )
        )
    rates = [m.received / m.days for m in members if m.days > 0]
    squares = sum(x * x for x in rates)
    fairness = (sum(rates) ** 2) / (len(rates) * squares) if squares else None
    return Stats(
        handle=community.handle,
        days=days,
        asks=int(head[0] or 0),
        answered=int(head[1] or 0),
        median_first_accept=None if head[2] is None else float(head[2]),
        fairness=fairness,
        members=tuple(members),
    )


def _dur(seconds: float | None) -> str:
    return "–" if seconds is None else texts.span(math.floor(seconds + 0.5))


def render_stats(s: Stats) -> str:
    share = f"{s.answered / s.asks:.0%}" if s.asks else "–"
    fair = "–" if s.fairness is None else f"{s.fairness:.2f}"
    lines = [
        f"@{s.handle}, last {s.days} days: {s.asks} ask{'s' if s.asks != 1 else ''}, "
        f"{share} answered, median time to first accept {_dur(s.median_first_accept)}, "
        f"fairness {fair} (1.00 = asks spread evenly per member-day)",
        "member: asked · accepted · declined · timed out · median to accept · open now · share",
    ]
    for m in s.members:
        fair_share = "–" if m.share is None else f"×{m.share:.2f}"
        lines.append(
            f"{m.name}: {m.received} · {m.accepted} · {m.declined} · {m.timed_out} · "
            f"{_dur(m.median_accept)} · {m.open_now} · {fair_share}"
        )
    return "\n".join(lines)


async def summary(community_id: int, now: float, days: int = 30) -> str:
    """One line for a community's card (the Slack home tab): asks, answered, fairness."""
    community = await Community.get(id=community_id)
    return render_stats(await stats(community, days, now)).splitlines()[0]


# -- why -------------------------------------------------------------------------------

_MOVE = {
    DeliveryState.ACCEPTED: "accepted",
    DeliveryState.DECLINED: "declined",
    DeliveryState.EXPIRED: "did not answer in time",
    DeliveryState.FAILED: "could not be reached",
    DeliveryState.WITHDRAWN: "was withdrawn (no longer needed)",
}


async def why(who: Who, request_id: int | None) -> Message:
    """The audit of an ask, for its requester and the community's owners only."""
    if request_id is None:
        request = (
            await Request.filter(tenant_id=who.tenant_id, requester_id=who.contact_id)
            .order_by("-id")
            .first()
            .select_related("community")
        )
        if request is None:
            return Message.of("You have made no ask yet.")
    else:
        request = await Request.get_or_none(id=request_id, tenant_id=who.tenant_id).select_related(
            "community"
        )
        owner = request is not None and await Membership.exists(
            community_id=request.community_id, contact_id=who.contact_id, role=Role.OWNER
        )
        if request is None or (request.requester_id != who.contact_id and not owner):
            return not_yours_to_read(request_id)
    return Message.of(await _story(request, who.actor.tz or "UTC"))


async def _story(request: Request, tz: str) -> str:
    audits = await Resolution.filter(request_id=request.id).order_by("id")
    deliveries = await Delivery.filter(request_id=request.id).order_by("id")
    ids = {d.target_id for d in deliveries}
    for a in audits:
        ids |= {int(x) for x in a.chosen} | {int(str(s[0])) for s in a.skipped}
    names = dict(await Contact.filter(id__in=sorted(ids) or [0]).values_list("id", "display_name"))
    now = request.created_at.timestamp()

    def name(cid: object) -> str:
        return str(names.get(int(str(cid)), f"#{cid}"))

    def at(ts: float) -> str:
        return texts.clock_time(ts, tz, now)

    mode = request.mode.value + (f" {request.wanted}" if request.wanted > 1 else "")
    lines = [
        f"Ask #{request.id} in @{request.community.handle} ({mode}), {at(now)}: {request.state.value}."
    ]
    # Same-minute moves read in causal order: a pick comes just before the asks it made, a
    # move at its delivery's place, and a withdrawal after the accept that caused it.
    delivery_of = {d.target_id: d.id for d in deliveries}
    events: list[tuple[float, float, str]] = []
    for i, a in enumerate(audits):
        chosen = listed([name(c) for c in a.chosen], len(a.chosen)) or "nobody"
        what = "First pick" if i == 0 else f"Then ({a.note or 'more'})"
        text = f"{what}, {a.strategy} order: asked {chosen}."
        skipped = [f"{name(s[0])} ({s[1]})" for s in a.skipped if s[1] != ITS_YOU]
        if skipped:
            text += f" Skipped: {listed(skipped, 20, '; ')}."
        first = min((delivery_of.get(int(str(c)), 0) for c in a.chosen), default=0)
        events.append((a.created_at.timestamp(), -1.0 if i == 0 else first - 0.5, text))
    for d in deliveries:
        if d.state in _MOVE and d.answered_at is not None:
            order = float("inf") if d.state is DeliveryState.WITHDRAWN else float(d.id)
            events.append(
                (d.answered_at.timestamp(), order, f"{name(d.target_id)} {_MOVE[d.state]}.")
            )
        elif d.state in OPEN_DELIVERY:
            events.append((float("inf"), float(d.id), f"{name(d.target_id)} has not answered yet."))
    for ts, _, text in sorted(events):
        lines.append(text if ts == float("inf") else f"{at(ts)} {text}")
    if request.state.value == "open" and request.next_step_at is not None:
        lines.append(f"Next escalation step at {at(request.next_step_at.timestamp())}.")
    return "\n".join(lines)
