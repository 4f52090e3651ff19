"""`/asks`: the caller's open asks, newest first, each with where it stands, read from the
database so every process (and a restart) gives the same answer."""

from __future__ import annotations

from collections import defaultdict

from core.directory import Who
from core.domain import OPEN_DELIVERY, DeliveryState, RequestState
from core.ports import Message
from core.store.models import Contact, Delivery, Request
from core.texts import time as texts
from core.texts.cancel import ASKS_FOOTER
from core.texts.lists import names as listed

SHOWN = 20  # asks listed; the rest are counted
GIST = 60  # characters of an ask's text shown

_CLOSED_WORDS = {
    DeliveryState.DECLINED: "declined",
    DeliveryState.EXPIRED: "timed out",
    DeliveryState.FAILED: "unreachable",
    DeliveryState.WITHDRAWN: "withdrawn",
}


async def open_asks(who: Who, now: float) -> Message:
    """Every open ask of the caller in this workspace: what, where, when, and who is on it."""
    rows = (
        await Request.filter(
            tenant_id=who.tenant_id, requester_id=who.contact_id, state=RequestState.OPEN
        )
        .order_by("-id")
        .limit(SHOWN + 1)
        .select_related("community")
    )
    if not rows:
        return Message.of("You have no open asks. /ask-available why tells how your last one went.")
    shown = rows[:SHOWN]
    deliveries = await Delivery.filter(request_id__in=[r.id for r in shown]).order_by("id")
    names = dict(
        await Contact.filter(id__in=sorted({d.target_id for d in deliveries}) or [0]).values_list(
            "id", "display_name"
        )
    )
    by_request: dict[int, list[Delivery]] = defaultdict(list)
    for d in deliveries:
        by_request[d.request_id].append(d)
    tz = who.actor.tz or "UTC"
    lines = ["Your open asks, newest first:"]
    for request in shown:
        lines.append(_line(request, by_request[request.id], names, tz, now))
    if len(rows) > SHOWN:
        total = await Request.filter(
            tenant_id=who.tenant_id, requester_id=who.contact_id, state=RequestState.OPEN
        ).count()
        lines.append(f"…and {total - SHOWN} older.")
    lines.append(ASKS_FOOTER)
    return Message.of("\n".join(lines))


def _line(
    request: Request, deliveries: list[Delivery], names: dict[int, str], tz: str, now: float
) -> str:
    """`#12 @frontend (one), 14:03 UTC: “review #12?” — waiting on bob; 1 declined.`"""
    gist = " ".join(request.text.split())
    gist = gist if len(gist) <= GIST else gist[: GIST - 1] + "…"
    mode = request.mode.value + (f" {request.wanted}" if request.wanted > 1 else "")
    when = texts.clock_time(request.created_at.timestamp(), tz, now)
    head = f"#{request.id} @{request.community.handle} ({mode}), {when}: “{gist}”"
    return f"{head} — {_standing(request, deliveries, names, tz, now)}"


def _standing(
    request: Request, deliveries: list[Delivery], names: dict[int, str], tz: str, now: float
) -> str:
    """Who has accepted, who is still being waited on, how many said no or could not answer."""

    def who(ds: list[Delivery]) -> str:
        people = [names.get(d.target_id, f"#{d.target_id}") for d in ds]
        return listed(people, 5)

    parts = []
    accepted = [d for d in deliveries if d.state is DeliveryState.ACCEPTED]
    waiting = [d for d in deliveries if d.state in OPEN_DELIVERY]
    if accepted:
        parts.append(f"accepted by {who(accepted)}")
    if waiting:
        parts.append(f"waiting on {who(waiting)}")
    closed: dict[str, int] = defaultdict(int)
    for d in deliveries:
        if d.state in _CLOSED_WORDS:
            closed[_CLOSED_WORDS[d.state]] += 1
    parts += [f"{n} {word}" for word, n in closed.items()]
    if not deliveries:
        parts.append("nobody asked yet")
    if request.next_step_at is not None:
        step = texts.clock_time(request.next_step_at.timestamp(), tz, now)
        parts.append(f"next escalation step at {step}")
    return "; ".join(parts) + "."


async def choices(
    platform: str, tenant: str, user_id: str, typed: str, *, limit: int = 25
) -> list[tuple[int, str]]:
    """A person's open asks as (number, `#12 @frontend: review…`), newest first, for a picker
    (Discord's autocomplete of `/asks cancel`); it only reads, so a stranger costs no row."""
    digits = typed.strip().lstrip("#")
    query = Request.filter(
        tenant__platform=platform,
        tenant__external_id=tenant,
        requester__user_id=user_id,
        state=RequestState.OPEN,
    )
    rows = await query.order_by("-id").limit(200 if digits else limit).select_related("community")
    out: list[tuple[int, str]] = []
    for r in rows:
        if digits and not str(r.id).startswith(digits):
            continue
        gist = " ".join(r.text.split())
        label = f"#{r.id} @{r.community.handle}: {gist}"
        out.append((r.id, label if len(label) <= 100 else label[:99] + "…"))
    return out[:limit]
