"""Asks from outside chat: POST /api/v1/asks with a community's token, through aiohttp, against
the shell workspace; refusals change nothing; Alertmanager's sample opens and closes an ask."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bots.api.app import api_app
from bots.shell.testing import Workspace
from core import tokens
from core.commands import MAX_MESSAGE
from core.doctor import check
from core.domain import DeliveryState, RequestState
from core.store.models import Community, Contact, Delivery, Notice, Request, Tenant

# Alertmanager's webhook payload, as its documentation gives it (prometheus.io, webhook_config).
ALERTMANAGER = {
    "version": "4",
    "groupKey": '{}:{alertname="DiskFull"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "groupcast",
    "groupLabels": {"alertname": "DiskFull"},
    "commonLabels": {"alertname": "DiskFull", "severity": "page", "instance": "db-1"},
    "commonAnnotations": {"summary": "db-1 has less than 5% disk left"},
    "externalURL": "http://alertmanager.example:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "DiskFull", "instance": "db-1"},
            "annotations": {"summary": "db-1 has less than 5% disk left"},
            "startsAt": "2026-01-05T08:59:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example:9090/graph?g0.expr=disk",
            "fingerprint": "c6f2b1d6e2f1a0b3",
        }
    ],
}


@pytest.fixture
async def api(workspace: Workspace) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(api_app(workspace.engine))) as client:
        yield client
    await workspace.engine.drain()  # the sends an ask started finish before the database closes


async def token_for(ws: Workspace, handle: str, owner: str) -> str:
    reply = (await ws.run(f"/community token {handle}", as_user=owner)).reply()
    (token,) = [w for w in reply.split() if w.startswith(tokens.PREFIX)]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_owners_make_a_token_shown_once_and_stored_hashed(workspace: Workspace) -> None:
    ws = workspace
    refused = await ws.run("/community token frontend", as_user="bob")
    assert "only owners of @frontend" in refused.reply()
    token = await token_for(ws, "frontend", "alice")
    stored = (await Community.get(handle="frontend")).api_token_hash
    assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in str(stored)
    again = await ws.run("/community token frontend revoke", "/community token frontend revoke")
    assert "Revoked @frontend's API token" in again.reply()
    assert "@frontend has no API token to revoke." in again.reply()


async def test_an_api_ask_resolves_delivers_and_follows_up_like_a_chat_ask(
    workspace: Workspace, api: TestClient[Any, Any]
) -> None:
    ws = workspace
    token = await token_for(ws, "frontend", "alice")
    body = {
        "community": "frontend",
        "mode": "one",
        "text": "review #12?",
        "link": "https://x.test/12",
    }
    r = await api.post("/api/v1/asks", json=body, headers=bearer(token))
    assert r.status == 201, await r.text()
    got = await r.json()
    assert got["state"] == "open" and [a["name"] for a in got["asked"]] == ["bob"]
    assert all(s["name"] != "alice" for s in got["skipped"]), "the requester is no skip"
    await ws.engine.drain()
    assert ws.transcript.asked() == ["bob"]
    assert "https://x.test/12" in ws.transcript.dms("bob")[0].text
    await ws.run(":accept", as_user="bob")
    assert "bob accepted your ask in @frontend" in ws.transcript.dms("alice")[0].text
    r = await api.get(f"/api/v1/asks/{got['id']}", headers=bearer(token))
    assert (await r.json())["state"] == "fulfilled"
    assert await check() == []


async def refusal(api: TestClient[Any, Any], status: int, **kw: Any) -> str:
    r = await api.post("/api/v1/asks", **kw)
    assert r.status == status, await r.text()
    return str((await r.json())["error"])


async def test_bad_tokens_and_bodies_are_refused_and_change_nothing(
    workspace: Workspace, api: TestClient[Any, Any]
) -> None:
    ws = workspace
    good = {"community": "frontend", "text": "review #12?"}
    assert "missing Authorization" in await refusal(api, 401, json=good)
    assert "Bearer" in await refusal(api, 401, json=good, headers={"Authorization": "Basic x"})
    assert "unknown or revoked" in await refusal(api, 401, json=good, headers=bearer("gct_nope"))
    token = await token_for(ws, "frontend", "alice")
    await ws.run("/community token frontend revoke")
    assert "unknown or revoked" in await refusal(api, 401, json=good, headers=bearer(token))
    token = await token_for(ws, "frontend", "alice")
    # another tenant's community, with its own token
    other = await Tenant.create(platform="shell", external_id="T0OTHER")
    owner = await Contact.create(tenant_id=other.id, user_id="zed", display_name="zed")
    ops = await Community.create(tenant_id=other.id, handle="ops")
    stranger = (await tokens.issue(ops, owner.id)).split()
    (theirs,) = [w for w in stranger if w.startswith(tokens.PREFIX)]
    assert "not for community frontend" in await refusal(
        api, 403, json=good, headers=bearer(theirs)
    )
    h = bearer(token)
    assert "not JSON" in await refusal(api, 400, data=b"{nope", headers=h)
    assert "JSON object" in await refusal(api, 400, json=[1], headers=h)
    for bad, why in (
        ({"text": "x"}, "community is required"),
        ({**good, "mode": "all-hands"}, "mode is one of"),
        ({**good, "mode": "count", "count": 0}, "count is a whole number"),
        ({**good, "count": 2}, "count goes with mode count"),
        ({**good, "text": " "}, "text is required"),
        ({**good, "text": "x" * (MAX_MESSAGE + 1)}, "text is too long"),
        ({**good, "link": "javascript:alert(1)"}, "link is an http(s) URL"),
        ({**good, "extra": 1}, "unknown field(s): extra"),
    ):
        assert why in await refusal(api, 422, json=bad, headers=h)
    assert await Request.all().count() == 0 and ws.transcript.asked() == []
    mine = await api.post("/api/v1/asks", json=good, headers=h)
    rid = (await mine.json())["id"]
    elsewhere = await api.get(f"/api/v1/asks/{rid}", headers=bearer(theirs))
    assert elsewhere.status == 404, "another tenant's token sees nothing of this ask"


async def test_alertmanager_firing_pages_on_call_and_resolved_closes_the_ask(
    workspace: Workspace, api: TestClient[Any, Any]
) -> None:
    ws = workspace
    token = await token_for(ws, "on-call-db", "erin")
    r = await api.post("/api/v1/asks", json=ALERTMANAGER, headers=bearer(token))
    assert r.status == 201, await r.text()
    first = await r.json()
    assert first["text"] == "🔥 DiskFull: db-1 has less than 5% disk left"
    assert first["link"] == "http://prometheus.example:9090/graph?g0.expr=disk"
    await ws.engine.drain()
    assert ws.transcript.asked() == ["bob"]
    again = await api.post("/api/v1/asks", json=ALERTMANAGER, headers=bearer(token))
    assert again.status == 200 and (await again.json())["duplicate"] is True
    resolved = copy.deepcopy(ALERTMANAGER) | {"status": "resolved"}
    r = await api.post("/api/v1/asks", json=resolved, headers=bearer(token))
    assert r.status == 200 and (await r.json())["state"] == "resolved"
    await ws.engine.drain()
    assert (await Request.get()).state is RequestState.RESOLVED
    assert (await Delivery.get()).state is DeliveryState.WITHDRAWN
    edits = [o.text for o in ws.transcript.out if o.kind == "edit" and o.to == "bob"]
    assert edits and "Closed: no longer needed." in edits[-1]
    told = ws.transcript.dms("erin")
    assert len(told) == 1 and "resolved; I've closed the ask" in told[0].text
    assert await Notice.filter(outcome=True).count() == 1
    assert ws.transcript.asked() == ["bob"], "nobody paged twice"
    assert await check() == []


async def test_grafana_legacy_alerting_and_ok(
    workspace: Workspace, api: TestClient[Any, Any]
) -> None:
    token = await token_for(workspace, "on-call-db", "erin")
    body = {"ruleId": 7, "ruleName": "API latency", "state": "alerting", "message": "p99 > 2s"}
    r = await api.post("/api/v1/asks", json=body, headers=bearer(token))
    assert r.status == 201 and (await r.json())["text"] == "🔥 API latency: p99 > 2s"
    ok = await api.post("/api/v1/asks", json=body | {"state": "ok"}, headers=bearer(token))
    assert (await ok.json())["state"] == "resolved"


async def test_openapi_document_is_served(api: TestClient[Any, Any]) -> None:
    r = await api.get("/api/v1/openapi.json")
    doc = await r.json()
    assert doc["openapi"].startswith("3.") and {"/api/v1/asks", "/api/v1/asks/{id}"} <= set(
        doc["paths"]
    )
