"""Asks from outside chat (`POST /api/v1/asks`): the body read into one ask, or an alert that
fires (opens an ask) or resolves (closes it), each going through the same transitions as a
chat ask. The HTTP adapter (`bots/api`) only maps these results and errors to statuses.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from core import keys, owed
from core.clock import to_datetime
from core.commands import MAX_MESSAGE, Ask
from core.directory import Who
from core.domain import OPEN_DELIVERY, Mode, RequestState
from core.ports import Actor, Place
from core.store.models import Community, Contact, Delivery, Request, Tenant
from core.texts.asks import alert_resolved

if TYPE_CHECKING:
    from core.engine import Engine

MODES = {"one": Mode.ONE, "count": Mode.SOME, "all": Mode.AVAILABLE, "everyone": Mode.EVERYONE}


class Refused(Exception):
    """The request cannot be taken: `status` says how (400, 403, 404, 422), nothing changed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Wanted:
    """The body as the same `Ask` a chat command makes, plus what only the API has: a link,
    and `key`, which de-duplicates an alert's repeats (`resolved` closes its ask)."""

    ask: Ask
    link: str | None
    key: str | None = None
    resolved: bool = False


def read(body: Any, community: Community) -> Wanted:
    """The body as an ask: our own shape, Alertmanager's, or Grafana's (legacy and unified)."""
    if not isinstance(body, dict):
        raise Refused(400, "the body must be a JSON object")
    if isinstance(body.get("alerts"), list) and "status" in body:
        return _alertmanager(body, community)
    if "ruleName" in body and "state" in body:
        return _grafana_legacy(body, community)
    return _native(body, community)


def _native(body: dict[str, Any], community: Community) -> Wanted:
    unknown = sorted(set(body) - {"community", "mode", "count", "text", "link"})
    if unknown:
        raise Refused(422, f"unknown field(s): {', '.join(unknown)}")
    handle = body.get("community")
    if not isinstance(handle, str) or not handle:
        raise Refused(422, "community is required: the handle the token belongs to")
    if handle.removeprefix("@").lower() != community.handle:
        raise Refused(403, f"this token is not for community {handle[:40]}")
    mode_name = body.get("mode", "one")
    if mode_name not in MODES:
        raise Refused(422, "mode is one of one, count, all, everyone")
    count = body.get("count", 1)
    if isinstance(count, float) and count.is_integer():
        count = int(count)  # JSON (and its schema) call 8.0 an integer
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 100:
        raise Refused(422, "count is a whole number from 1 to 100")
    if mode_name != "count" and count != 1:
        raise Refused(422, "count goes with mode count")
    ask = Ask(community.handle, MODES[mode_name], count, _text(body.get("text")))
    return Wanted(ask, _link(body.get("link")))


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Refused(422, "text is required: say what you need")
    if len(value.strip()) > MAX_MESSAGE:
        raise Refused(422, f"text is too long: at most {MAX_MESSAGE:,} characters")
    return value.strip()


def _link(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise Refused(422, "link is an http(s) URL")
    if len(value) > 512:
        raise Refused(422, "link is too long: at most 512 characters")
    return value


def _key(kind: str, raw: str) -> str:
    return f"{kind}:{hashlib.sha256(raw.encode()).hexdigest()[:40]}"


def _object(value: Any, what: str) -> dict[str, Any]:
    """A sender's labels or annotations: an object when given, a clear 422 (never a 500) if not."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Refused(422, f"{what} must be an object")
    return value


def _alertmanager(body: dict[str, Any], community: Community) -> Wanted:
    """Alertmanager's webhook (and Grafana's unified alerting, which shares its shape)."""
    status, group = body.get("status"), body.get("groupKey")
    if status not in ("firing", "resolved") or not isinstance(group, str) or not group:
        raise Refused(422, "an alert needs status firing or resolved and a groupKey")
    labels = _object(body.get("commonLabels"), "commonLabels")
    notes = _object(body.get("commonAnnotations"), "commonAnnotations")
    alerts = [_object(a, "each alert") for a in body["alerts"]]
    first = alerts[0] if alerts else {}
    name = labels.get("alertname") or _object(first.get("labels"), "labels").get("alertname")
    name = name or "alert"
    summary = (
        notes.get("summary")
        or _object(first.get("annotations"), "annotations").get("summary")
        or body.get("title")
        or ""
    )
    text = f"🔥 {name}: {summary}" if summary else f"🔥 {name}"
    if len(alerts) > 1:
        text += f" ({len(alerts)} alerts)"
    link = first.get("generatorURL") or body.get("externalURL")
    link = link if isinstance(link, str) and link.startswith("http") else None
    return Wanted(
        Ask(community.handle, Mode.ONE, 1, _text(text[:MAX_MESSAGE])),
        link[:512] if link else None,
        _key("am", group),
        status == "resolved",
    )


def _grafana_legacy(body: dict[str, Any], community: Community) -> Wanted:
    state = body.get("state")
    if state not in ("alerting", "ok", "no_data", "pending", "paused"):
        raise Refused(422, "a Grafana alert's state is alerting, ok, no_data, pending or paused")
    if not isinstance(body.get("ruleName"), str) or not body["ruleName"]:
        raise Refused(422, "a Grafana alert needs a ruleName")
    if state in ("pending", "paused"):
        raise Refused(422, f"nothing to do for a Grafana alert in state {state}")
    rule = str(body.get("ruleId") or body.get("ruleName"))
    text = f"🔥 {body.get('ruleName')}" + (f": {body['message']}" if body.get("message") else "")
    link = body.get("ruleUrl")
    return Wanted(
        Ask(community.handle, Mode.ONE, 1, _text(text[:MAX_MESSAGE])),
        link if isinstance(link, str) and link.startswith("http") else None,
        _key("grafana", rule),
        state == "ok",
    )


async def requester(community: Community) -> Who:
    """Asks made with a token are made on behalf of the owner who created it."""
    contact = await Contact.get(id=community.api_token_owner_id or 0)
    tenant = await Tenant.get(id=community.tenant_id)
    actor = Actor(
        tenant.platform, tenant.external_id, contact.user_id, contact.display_name, contact.tz
    )
    key = keys.encode(tenant.platform, tenant.external_id, contact.user_id)
    return Who(tenant.id, contact.id, key, actor)


async def take(engine: Engine, community: Community, want: Wanted) -> tuple[int, dict[str, Any]]:
    """Open (or find, or close) the ask; the HTTP status and the JSON answer."""
    if want.key:
        existing = await Request.filter(
            community_id=community.id, external_key=want.key, state=RequestState.OPEN
        ).first()
        if want.resolved:
            if existing is None:
                return 200, {"closed": None, "note": "no open ask for this alert"}
            await close(engine, existing.id)
            return 200, await describe(existing.id)
        if existing is not None:
            return 200, await describe(existing.id) | {"duplicate": True}
    elif want.resolved:
        raise Refused(422, "nothing to resolve")
    who = await requester(community)
    opened = await engine.transitions.open(
        who, community, want.ask.mode, want.ask.count, want.ask.text, Place(link=want.link)
    )
    if want.key:
        await Request.filter(id=opened.request.id).update(external_key=want.key)
    mine = who.actor.platform == engine.platform.name  # else that platform's sweeper sends
    if not opened.deliveries and opened.request.next_step_at is not None and mine:
        await engine.escalations.widen(opened.request.id)
    if mine:
        engine.spawn(engine.sweep())
    answer = await describe(opened.request.id)
    answer["skipped"] = [
        {"name": s.member.name, "reason": s.reason}
        for s in opened.resolution.skipped
        if s.member.contact_id != who.contact_id
    ][:50]
    return 201, answer


async def close(engine: Engine, rid: int) -> bool:
    """An alert resolved: the ask closes, open DMs lose their buttons, the requester is told."""
    t, now = engine.transitions, engine.clock.now()
    request = await Request.get(id=rid).select_related("community", "requester", "tenant")
    async with in_transaction(Request._meta.default_connection):
        if not await Request.filter(
            id=rid, version=request.version, state=RequestState.OPEN
        ).update(
            state=RequestState.RESOLVED,
            closed_at=to_datetime(now),
            next_step_at=None,
            version=F("version") + 1,
        ):
            return False
        for row in await t.withdraw(request, None, now):
            await row.save()
        told = alert_resolved(request.community.handle, request.text)
        await owed.tell(request, f"outcome:{rid}", told, now, outcome=True).save()
    engine.kick()
    return True


async def describe(rid: int) -> dict[str, Any]:
    """An ask's state as JSON: what `GET /api/v1/asks/{id}` answers."""
    request = await Request.get(id=rid).select_related("community")
    rows = (
        await Delivery.filter(request_id=rid)
        .order_by("id")
        .values_list("target__display_name", "state", "answered_at")
    )
    return {
        "id": request.id,
        "community": request.community.handle,
        "mode": next(k for k, v in MODES.items() if v is request.mode),
        "count": request.wanted,
        "text": request.text,
        "link": request.origin_link,
        "state": request.state.value,
        "step": request.step,
        "next_step_at": request.next_step_at.isoformat() if request.next_step_at else None,
        "created_at": request.created_at.isoformat(),
        "closed_at": request.closed_at.isoformat() if request.closed_at else None,
        "asked": [
            {
                "name": str(n),
                "state": str(getattr(s, "value", s)),
                "open": s in OPEN_DELIVERY,
                "answered_at": a.isoformat() if a else None,
            }
            for n, s, a in rows
        ],
    }
