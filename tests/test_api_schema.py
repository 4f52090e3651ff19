"""Schemathesis against the served OpenAPI document: generated asks, good and bad, with the right,
a wrong and no token: no 5xx, every answer documented and shaped as documented, and a refused
request creates nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, TypeVar

import hypothesis.strategies as st
import pytest
import requests
import schemathesis
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode

from bots.api.app import api_app
from bots.shell.testing import Workspace
from core import tokens
from core.store.models import Delivery, Notice, Request

T = TypeVar("T")
OnLoop = Callable[[Coroutine[Any, Any, T]], T]
EXAMPLES = 30  # per operation and generation mode


@pytest.fixture
async def served(workspace: Workspace) -> AsyncIterator[str]:
    server = TestServer(api_app(workspace.engine))
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()
    await workspace.engine.drain()


async def rows() -> tuple[int, int, int]:
    return (await Request.all().count(), await Delivery.all().count(), await Notice.all().count())


async def token_for(ws: Workspace) -> str:
    reply = (await ws.run("/community token frontend", as_user="alice")).reply()
    (token,) = [w for w in reply.split() if w.startswith(tokens.PREFIX)]
    return token


def fuzz(
    base: str, credentials: list[dict[str, str]], community: str, on_loop: OnLoop[Any]
) -> list[int]:
    """Every operation's generated cases, each sent for real with each set of credentials;
    the statuses seen (synchronous: it runs in a thread while the loop serves the app)."""
    schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json")
    seen: list[int] = []
    session = requests.Session()
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES,
                derandomize=True,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(mode), ours=st.booleans())
            def check(case: Case, ours: bool) -> None:
                if ours and isinstance(case.body, dict) and "community" in case.body:
                    case.body["community"] = community  # half the new asks name the token's own
                before, statuses = on_loop(rows()), []
                for headers in credentials:
                    response = case.call(base_url=base, headers=headers, session=session)
                    case.validate_response(response, headers=headers)
                    assert response.status_code < 500, response.text
                    statuses.append(response.status_code)
                if all(status >= 400 for status in statuses):
                    assert on_loop(rows()) == before, f"refused with {statuses}, rows changed"
                seen.extend(statuses)

            check()
    return seen


async def run(base: str, *credentials: dict[str, str], community: str = "frontend") -> list[int]:
    loop = asyncio.get_running_loop()

    def on_loop(coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    return await asyncio.to_thread(fuzz, base, list(credentials), community, on_loop)


async def test_generated_asks_with_the_right_token_get_documented_answers(
    workspace: Workspace, served: str
) -> None:
    seen = await run(served, {"Authorization": f"Bearer {await token_for(workspace)}"})
    assert 201 in seen and 422 in seen, sorted(set(seen))


async def test_generated_asks_without_a_valid_token_are_refused_and_create_nothing(
    workspace: Workspace, served: str
) -> None:
    revoked = await token_for(workspace)
    await workspace.run("/community token frontend revoke", as_user="alice")
    await token_for(workspace)  # the community has a live token; these requests don't carry it
    seen = await run(
        served,
        {},
        {"Authorization": "Bearer gct_not-a-token"},
        {"Authorization": f"Bearer {revoked}"},
        {"Authorization": "Basic YTpi"},
    )
    assert set(seen) - {200} == {401}, sorted(set(seen))  # 200: only the document itself
    assert await rows() == (0, 0, 0)


async def test_what_schemathesis_found_stays_fixed(workspace: Workspace, served: str) -> None:
    headers = {"Authorization": f"Bearer {await token_for(workspace)}"}
    alert = {"status": "firing", "groupKey": "k", "alerts": [{"labels": {"alertname": "Disk"}}]}
    found = [
        # labels/annotations that are not objects were a 500 (AttributeError)
        ({**alert, "commonLabels": "x"}, 422, "commonLabels must be an object"),
        ({**alert, "alerts": [{"labels": ["x"]}]}, 422, "labels must be an object"),
        ({**alert, "alerts": [{"annotations": 1}]}, 422, "annotations must be an object"),
        ({**alert, "alerts": ["x"]}, 422, "each alert must be an object"),
        ({"ruleName": 5, "state": "alerting"}, 422, "needs a ruleName"),
        # JSON Schema's integer includes 8.0
        ({"community": "frontend", "text": "hi", "mode": "count", "count": 2.0}, 201, ""),
    ]
    async with ClientSession() as http:
        for body, status, why in found:
            async with http.post(f"{served}/api/v1/asks", json=body, headers=headers) as r:
                assert r.status == status, (body, await r.text())
                assert why in (await r.json()).get("error", ""), body
    assert await Request.all().count() == 1
