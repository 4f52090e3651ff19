"""`/api/v1`: POST asks (our body, Alertmanager's, Grafana's), GET one ask, the OpenAPI document.

Translation only: the token, the body and what happens to the ask are `core.tokens` and
`core.outside`'s; a refusal changes nothing and says why with the status that fits.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bots.api.openapi import DOCUMENT
from core import outside, tokens
from core.engine import Engine
from core.store.models import Community, Request

ENGINE = web.AppKey("engine", Engine)
MAX_BODY = 256 * 1024


def _error(status: int, message: str) -> web.Response:
    headers = {"WWW-Authenticate": 'Bearer realm="groupcast"'} if status == 401 else None
    return web.json_response({"error": message}, status=status, headers=headers)


async def _community(request: web.Request) -> Community | web.Response:
    """The community the bearer token belongs to, or the 401 that says what was wrong."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        return _error(401, "missing Authorization: Bearer <token> (/community token <handle>)")
    if scheme.lower() != "bearer" or not token.strip():
        return _error(401, "Authorization must be: Bearer <token>")
    community = await tokens.community_for(token.strip())
    if community is None:
        return _error(401, "unknown or revoked token")
    return community


async def post_ask(request: web.Request) -> web.Response:
    community = await _community(request)
    if isinstance(community, web.Response):
        return community
    if request.content_length is not None and request.content_length > MAX_BODY:
        return _error(413, f"the body is too large (at most {MAX_BODY // 1024} KiB)")
    try:
        body: Any = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        return _error(400, "the body is not JSON")
    except web.HTTPRequestEntityTooLarge:
        return _error(413, f"the body is too large (at most {MAX_BODY // 1024} KiB)")
    try:
        want = outside.read(body, community)
        status, answer = await outside.take(request.app[ENGINE], community, want)
    except outside.Refused as exc:
        return _error(exc.status, exc.message)
    return web.json_response(answer, status=status)


async def get_ask(request: web.Request) -> web.Response:
    community = await _community(request)
    if isinstance(community, web.Response):
        return community
    raw = request.match_info["id"]
    if not raw.isdigit() or not 0 < int(raw) < 2**31:
        return _error(404, "no such ask")
    if not await Request.exists(id=int(raw), community_id=community.id):
        return _error(404, "no such ask for this token's community")
    return web.json_response(await outside.describe(int(raw)))


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(DOCUMENT)


def add_routes(server: web.Application, engine: Engine) -> None:
    """Mount `/api/v1` on an existing server (Slack's HTTP mode serves it beside its events)."""
    server[ENGINE] = engine
    server.router.add_post("/api/v1/asks", post_ask)
    server.router.add_get(r"/api/v1/asks/{id}", get_ask)
    server.router.add_get("/api/v1/openapi.json", openapi)


def api_app(engine: Engine) -> web.Application:
    """The API on its own (tests, or a process that serves only asks from outside chat)."""
    server = web.Application(client_max_size=MAX_BODY)
    add_routes(server, engine)
    return server
