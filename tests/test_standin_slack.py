"""Checks that the Slack stand-in and payload builders satisfy Slack's own Python libraries."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator, Sequence
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_async_handlers
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import Clock, SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.standins import slack_payloads as sp
from tests.standins.slack_api import SlackStandin

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-test"


class _FrozenClock(Clock):
    """Pins SignatureVerifier's notion of 'now' so signatures never age out mid-test."""

    def __init__(self, now: float) -> None:
        """Remember the instant to report."""
        self._now = now

    def now(self) -> float:
        """Report the pinned instant."""
        return self._now


class _ManualClock:
    """Hand-advanced monotonic clock so pacing tests need no real waiting."""

    def __init__(self) -> None:
        """Start at an arbitrary instant."""
        self.t = 1000.0

    def __call__(self) -> float:
        """Return the current manual time."""
        return self.t


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandin]:
    """A running stand-in with two members and a channel, closed after the test."""
    async with SlackStandin() as standin:
        standin.add_user("U0000ALICE", "alice", tz="Europe/Berlin")
        standin.add_user("U00000BOB", "bob", tz="America/New_York", presence="away")
        standin.add_channel("C0000GENRL", "general")
        yield standin


def _client(slack: SlackStandin) -> AsyncWebClient:
    """A real slack_sdk client aimed at the stand-in."""
    return AsyncWebClient(token=TOKEN, base_url=slack.url)


async def test_post_message_returns_increasing_ts_and_records_call(slack: SlackStandin) -> None:
    """chat.postMessage answers like Slack and every call lands in ``slack.calls``."""
    client = _client(slack)
    first = await client.chat_postMessage(channel="C0000GENRL", text="hello")
    second = await client.chat_postMessage(channel="C0000GENRL", text="again")

    assert first["ok"] is True
    assert first["channel"] == "C0000GENRL"
    assert first["message"]["text"] == "hello"
    assert first["message"]["bot_id"] == slack.bot_id
    assert float(second["ts"]) > float(first["ts"])
    calls = slack.calls_to("chat.postMessage")
    assert [c.args["text"] for c in calls] == ["hello", "again"]
    assert all(c.token == TOKEN for c in calls)

    with pytest.raises(SlackApiError) as excinfo:
        await client.chat_postMessage(channel="C0NOSUCH00", text="x")
    assert excinfo.value.response.status_code == 200
    assert excinfo.value.response["error"] == "channel_not_found"


async def test_conversations_open_gives_stable_dm_per_user(slack: SlackStandin) -> None:
    """The same user always maps to the same D-channel; unknown users fail like Slack."""
    client = _client(slack)
    first = await client.conversations_open(users="U0000ALICE")
    again = await client.conversations_open(users=["U0000ALICE"])
    other = await client.conversations_open(users="U00000BOB")

    assert first["channel"]["id"].startswith("D")
    assert again["channel"]["id"] == first["channel"]["id"]
    assert again["already_open"] is True
    assert other["channel"]["id"] != first["channel"]["id"]
    posted = await client.chat_postMessage(channel=first["channel"]["id"], text="psst")
    assert posted["channel"] == first["channel"]["id"]

    with pytest.raises(SlackApiError) as excinfo:
        await client.conversations_open(users="U0NOBODY00")
    assert excinfo.value.response["error"] == "user_not_found"


async def test_rate_limit_then_success_with_sdk_retry_handler(
    slack: SlackStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 429 with Retry-After is retried by slack_sdk's own handler and then succeeds."""
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    # Only the retry handler's module sees the fake sleep; the event loop keeps the real one.
    monkeypatch.setattr(builtin_async_handlers, "asyncio", SimpleNamespace(sleep=fake_sleep))
    client = _client(slack)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    slack.fail_next("chat.postMessage", 1, status=429, retry_after=3)

    response = await client.chat_postMessage(channel="C0000GENRL", text="eventually")

    assert response["ok"] is True
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [429, 200]
    assert slack.rate_limited["chat.postMessage"] == 1
    assert len(waits) == 1
    assert waits[0] >= 3


async def test_rate_limit_without_handler_surfaces_retry_after(slack: SlackStandin) -> None:
    """Without a retry handler the client sees Slack's 429 shape: header plus error body."""
    slack.fail_next("users.info", 1, status=429, retry_after=7)
    with pytest.raises(SlackApiError) as excinfo:
        await _client(slack).users_info(user="U0000ALICE")
    response = excinfo.value.response
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response["error"] == "ratelimited"


async def test_dnd_team_info_batch(slack: SlackStandin) -> None:
    """dnd.teamInfo answers a ``users`` map for a comma-separated batch and caps it at 50."""
    slack.set_dnd(
        "U0000ALICE", dnd_enabled=True, next_dnd_start_ts=1450387800, next_dnd_end_ts=1450423800
    )
    client = _client(slack)
    response = await client.dnd_teamInfo(users=["U0000ALICE", "U00000BOB"])

    assert response["users"]["U0000ALICE"] == {
        "dnd_enabled": True,
        "next_dnd_start_ts": 1450387800,
        "next_dnd_end_ts": 1450423800,
    }
    assert response["users"]["U00000BOB"]["dnd_enabled"] is False
    assert slack.calls_to("dnd.teamInfo")[0].args["users"] == "U0000ALICE,U00000BOB"

    many = [f"U{i:09d}" for i in range(51)]
    for uid in many:
        slack.add_user(uid, uid.lower())
    with pytest.raises(SlackApiError):
        await client.dnd_teamInfo(users=many)
    fifty = await client.dnd_teamInfo(users=many[:50])
    assert len(fifty["users"]) == 50


async def test_users_info_presence_and_usergroups(slack: SlackStandin) -> None:
    """Profile, tz, presence and user-group state set by tests is what the client reads."""
    slack.set_status("U0000ALICE", "On holiday", ":palm_tree:", expiration=2_000_000_000)
    slack.set_presence("U00000BOB", "active")
    slack.set_usergroup("S0000TEAM1", ["U0000ALICE", "U00000BOB"])
    client = _client(slack)

    info = await client.users_info(user="U0000ALICE")
    profile = info["user"]["profile"]
    assert info["user"]["tz"] == "Europe/Berlin"
    assert info["user"]["tz_offset"] in (3600, 7200)
    assert (profile["status_text"], profile["status_emoji"]) == ("On holiday", ":palm_tree:")
    assert profile["status_expiration"] == 2_000_000_000
    assert profile["display_name"] == "alice"
    assert (await client.users_getPresence(user="U00000BOB"))["presence"] == "active"
    members = await client.usergroups_users_list(usergroup="S0000TEAM1")
    assert members["users"] == ["U0000ALICE", "U00000BOB"]
    team = await client.team_info()
    assert team["team"]["id"] == slack.team_id
    auth = await client.auth_test()
    assert (auth["user_id"], auth["bot_id"]) == (slack.bot_user_id, slack.bot_id)


async def test_views_publish_validates_home_views(slack: SlackStandin) -> None:
    """A home view with at most 100 blocks publishes; more blocks or a wrong type fail."""
    client = _client(slack)
    block = {"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}
    ok = await client.views_publish(user_id="U0000ALICE", view={"type": "home", "blocks": [block]})
    assert ok["view"]["type"] == "home"
    assert slack.home_views["U0000ALICE"]["blocks"] == [block]

    with pytest.raises(SlackApiError) as too_many:
        await client.views_publish(
            user_id="U0000ALICE", view={"type": "home", "blocks": [block] * 101}
        )
    assert too_many.value.response["error"] == "invalid_arguments"
    with pytest.raises(SlackApiError):
        await client.views_publish(user_id="U0000ALICE", view={"type": "modal", "blocks": []})


async def test_pacing_limit_counts_rate_limited_calls() -> None:
    """``limit()`` answers 429 when a method outruns its token bucket, using a manual clock."""
    clock = _ManualClock()
    async with SlackStandin(clock=clock) as slack:
        slack.add_user("U0000ALICE", "alice")
        slack.limit("users.info", per_second=1)
        client = _client(slack)
        await client.users_info(user="U0000ALICE")
        with pytest.raises(SlackApiError):
            await client.users_info(user="U0000ALICE")
        clock.t += 1.0
        await client.users_info(user="U0000ALICE")

        assert slack.rate_limited["users.info"] == 1
        assert slack.max_rate_limited_streak["users.info"] == 1


async def test_chaos_mode_is_reproducible_by_seed() -> None:
    """The same seed yields the same fault sequence, so chaos tests are deterministic."""
    outcomes: list[list[int]] = []
    for _ in range(2):
        async with SlackStandin() as slack:
            slack.add_channel("C0000GENRL", "general")
            slack.chaos(rate_429=0.4, rate_5xx=0.2, seed=7)
            client = _client(slack)
            for _ in range(20):
                with contextlib.suppress(SlackApiError):
                    await client.chat_postMessage(channel="C0000GENRL", text="x")
            outcomes.append([c.status for c in slack.calls])
    assert outcomes[0] == outcomes[1]
    assert {429, 200} <= set(outcomes[0])
    assert any(status >= 500 for status in outcomes[0])


def test_sign_matches_slack_sdk_signature_verifier() -> None:
    """``sign`` produces headers slack_sdk's verifier accepts, and tampering is caught."""
    timestamp = int(time.time())
    body = sp.slash_command(text="who is around?")
    headers = sp.sign(body, SECRET, timestamp)
    verifier = SignatureVerifier(SECRET, clock=_FrozenClock(timestamp))

    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid_request(body + b"x", headers)
    assert not SignatureVerifier("other-secret", clock=_FrozenClock(timestamp)).is_valid_request(
        body, headers
    )
    retried = sp.with_retry(headers, 1)
    assert retried["X-Slack-Retry-Num"] == "1"
    assert retried["X-Slack-Retry-Reason"] == "http_timeout"


def test_slash_command_body_has_every_documented_field() -> None:
    """The form body carries the fields Slack documents for slash command requests."""
    fields = parse_qs(sp.slash_command(text="hi there").decode(), keep_blank_values=True)
    expected = {
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
    }
    assert expected <= set(fields)
    assert fields["command"] == ["/ask-available"]
    assert fields["text"] == ["hi there"]


def _bolt_app(slack: SlackStandin) -> AsyncApp:
    """A real Bolt app whose Web API client talks to the stand-in."""
    return AsyncApp(
        token=TOKEN,
        signing_secret=SECRET,
        client=AsyncWebClient(token=TOKEN, base_url=slack.url),
        process_before_response=True,
    )


async def _dispatch(app: AsyncApp, body: bytes, content_type: str) -> tuple[int, str]:
    """Feed a signed body to Bolt exactly as an HTTP adapter would."""
    headers: dict[str, str | Sequence[str]] = {
        k.lower(): v for k, v in sp.signed_headers(body, SECRET, content_type=content_type).items()
    }
    response = await app.async_dispatch(AsyncBoltRequest(body=body.decode(), headers=headers))
    return response.status, response.body


async def test_bolt_accepts_signed_slash_command(slack: SlackStandin) -> None:
    """Bolt verifies the signature, authorizes via auth.test and acks the command with 200."""
    app = _bolt_app(slack)
    seen: list[dict[str, Any]] = []

    @app.command("/ask-available")
    async def on_command(ack: AsyncAck, command: dict[str, Any]) -> None:
        seen.append(command)
        await ack("asking around…")

    status, body = await _dispatch(
        app, sp.slash_command(text="pairing?", user_id="U0000ALICE"), sp.CONTENT_TYPE_FORM
    )

    assert status == 200
    assert "asking around" in body
    assert seen[0]["text"] == "pairing?"
    assert slack.calls_to("auth.test")


async def test_bolt_rejects_bad_signature(slack: SlackStandin) -> None:
    """A body signed with the wrong secret is refused, proving verification is live."""
    app = _bolt_app(slack)
    body = sp.slash_command()
    headers: dict[str, str | Sequence[str]] = {
        k.lower(): v for k, v in sp.signed_headers(body, "wrong").items()
    }
    response = await app.async_dispatch(AsyncBoltRequest(body=body.decode(), headers=headers))
    assert response.status == 401


async def test_bolt_parses_events_and_block_actions(slack: SlackStandin) -> None:
    """Event envelopes and interactivity payloads reach the matching Bolt listeners."""
    app = _bolt_app(slack)
    got: dict[str, Any] = {}

    @app.event("user_status_changed")
    async def on_status(event: dict[str, Any]) -> None:
        got["status"] = event["user"]["profile"]["status_text"]

    @app.event("dnd_updated_user")
    async def on_dnd(event: dict[str, Any]) -> None:
        got["dnd"] = event["dnd_status"]["dnd_enabled"]

    @app.action("volunteer")
    async def on_action(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        got["action"] = body["actions"][0]["value"]

    status_event = sp.user_status_changed("U0000ALICE", "Focusing", ":headphones:")
    dnd_event = sp.dnd_updated_user("U0000ALICE", dnd_enabled=True)
    for event in (status_event, dnd_event):
        code, _ = await _dispatch(app, sp.event_callback(event), sp.CONTENT_TYPE_JSON)
        assert code == 200
    action = sp.block_actions(
        "volunteer", "req-42", user_id="U0000ALICE", channel_id="C0000GENRL", message_ts="1.000001"
    )
    code, _ = await _dispatch(app, action, sp.CONTENT_TYPE_FORM)
    assert code == 200
    assert got == {"status": "Focusing", "dnd": True, "action": "req-42"}

    payload = json.loads(parse_qs(action.decode())["payload"][0])
    assert payload["container"]["type"] == "message"
    assert payload["type"] == "block_actions"
