"""Pacing Web API calls so a big fan-out stays under Slack's limits instead of bouncing off them.

One bot token is one workspace, so each `Pacer` is that workspace's budget: a bucket per
method (Slack rate-limits per method per workspace) plus one per channel for posting
(about one message a second per channel), all in the shared `core.ratelimit` limiter. A 429
holds the method's bucket for `Retry-After` so every concurrent sender waits, not just the one
that was refused; rate-limit headers, when a limiter sends them, replace the guessed rate.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from core.metrics import RATE_LIMITED
from core.ratelimit import Bucket, Limiter, Monotonic, Sleep, punctual, retry_after

# Slack's tiers are "N+ per minute" with bursts allowed; these stay just inside them.
DEFAULT_RATES: dict[str, tuple[float, float]] = {
    "chat.postMessage": (5.0, 10.0),  # workspace-wide budget for posts; configurable
    "chat.update": (50 / 60, 10.0),  # Tier 3
    "chat.delete": (50 / 60, 10.0),  # Tier 3
    "conversations.open": (50 / 60, 20.0),  # Tier 3; results are cached per user
    "conversations.history": (50 / 60, 20.0),  # Tier 3; only after an ambiguous post
    "conversations.replies": (50 / 60, 20.0),  # Tier 3; likewise, for thread replies
    "chat.postEphemeral": (100 / 60, 20.0),  # Tier 4
    "views.publish": (100 / 60, 20.0),  # Tier 4
    "users.info": (100 / 60, 20.0),  # Tier 4
    "users.list": (20 / 60, 3.0),  # Tier 2; paged, 200 people a page
    # Tier 3. A minute's worth at once, like the prober's budget (SLACK_PRESENCE_CALLS_PER_MINUTE),
    # which is what keeps us under Slack's limit; a smaller burst here would queue an ask's
    # presence check behind the limit instead of spending the budget it has.
    "users.getPresence": (50 / 60, 50.0),
    "dnd.teamInfo": (20 / 60, 2.0),  # Tier 2
    "chat.getPermalink": (100 / 60, 20.0),
}
PER_CHANNEL = (1.0, 2.0)  # chat.postMessage: about one a second per channel
# Pace this much under each rate: a call's trip to Slack varies by a few ms, and a limit
# with no burst refuses a call that lands even 1 ms early.
MARGIN = 0.02
CHANNEL_METHODS = frozenset({"chat.postMessage", "chat.update"})
# Calls that may have taken effect when Slack answers 5xx or the connection breaks: repeating
# them blindly can post twice. Only a 429 (Slack refused before acting) is retried in the client;
# SlackPlatform settles the ambiguous rest by looking for the message first.
NOT_REPEATABLE = frozenset({"chat.postMessage", "chat.postEphemeral"})


class Pacer:
    """The workspace's budget over the shared limiter: a bucket per method, one per channel."""

    def __init__(
        self,
        *,
        rates: dict[str, tuple[float, float]] | None = None,
        per_channel: tuple[float, float] = PER_CHANNEL,
        monotonic: Monotonic = time.monotonic,
        sleep: Sleep = punctual,
        margin: float = MARGIN,
    ) -> None:
        self.limiter = Limiter(
            {**DEFAULT_RATES, **(rates or {})}, monotonic=monotonic, sleep=sleep, margin=margin
        )
        self.per_channel = per_channel
        self.monotonic = monotonic
        self.sleep = sleep

    @property
    def rates(self) -> dict[str, tuple[float, float]]:
        return self.limiter.rates

    def _buckets(self, method: str, channel: str | None) -> list[Bucket]:
        buckets = [b for b in (self.limiter.bucket(method),) if b is not None]
        if channel and method in CHANNEL_METHODS:
            per = self.limiter.bucket(f"channel:{channel}", self.per_channel)
            assert per is not None
            buckets.append(per)
        return buckets

    async def acquire(
        self, method: str, channel: str | None = None, *, again: bool = False
    ) -> None:
        """Wait for this call's turn in the method's and (for posts) the channel's bucket;
        `again`: a refused call's retry, which goes at the platform's reset, ahead of the line."""
        await self.limiter.acquire(self._buckets(method, channel), again=again)

    def take_now(self, method: str, channel: str | None = None) -> bool:
        """This call's turn if it is now; False (nothing taken) if it would have to wait."""
        return self.limiter.take_now(self._buckets(method, channel))

    def hold(self, method: str, seconds: float, *, refund: bool = False) -> None:
        """Slack said 429: nobody calls this method again before Retry-After has passed."""
        self.limiter.hold(method, seconds, refund=refund)

    def learn(self, method: str, headers: Mapping[str, Any]) -> None:
        """Pace the method to the shape its rate-limit headers describe, when they are sent."""
        self.limiter.learn(method, headers)


def _method_of(request: HttpRequest) -> str:
    return request.url.rstrip("/").rsplit("/", 1)[-1]


def _channel_of(request: HttpRequest) -> str | None:
    for params in (request.body_params, request.data):
        if isinstance(params, dict):
            channel: Any = params.get("channel")
            if isinstance(channel, str):
                return channel
    return None


class PacedRetry(AsyncRetryHandler):
    """slack_sdk retry handler for 429 and 5xx that waits through the pacer, not around it."""

    def __init__(self, pacer: Pacer, max_retry_count: int = 4) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.pacer = pacer

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None:
            return False
        if response.status_code == 429:
            return True
        return response.status_code in (500, 502, 503, 504) and (
            _method_of(request) not in NOT_REPEATABLE
        )

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        method = _method_of(request)
        again = response is not None and response.status_code == 429
        if response is not None and response.status_code == 429:
            RATE_LIMITED.labels(method).inc()
            self.pacer.hold(method, retry_after(response.headers), refund=True)
            self.pacer.learn(method, response.headers)
        else:
            await self.pacer.sleep(min(30.0, 0.5 * 2**state.current_attempt))
        state.next_attempt_requested = True
        await self.pacer.acquire(method, _channel_of(request), again=again)
        state.increment_current_attempt()


class ConnectionRetry(AsyncConnectionErrorRetryHandler):
    """slack_sdk's retry on a dropped connection, except for calls that may have posted."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if _method_of(request) in NOT_REPEATABLE:
            return False
        return await super()._can_retry_async(
            state=state, request=request, response=response, error=error
        )
