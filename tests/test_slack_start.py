"""`groupcast slack` starts quietly: bolt is built so that none of its start-up warnings fire.

Bolt warns "As you gave `client` as well, `token` will be unused." when it is handed a token and
a client, and that `token` "will be ignored" when a token meets an installation store; either
line at every start would teach operators to skip warnings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bots.slack.main import run_slack
from core.config import load_settings
from tests.faults.deployment import free_port
from tests.standins.slack_api import SlackStandin

LISTENING = "Slack bot listening"
START_TIMEOUT = 30.0


async def start_and_stop(caplog: pytest.LogCaptureFixture, **settings: object) -> None:
    """Run the real start-up until the bot serves, then stop it."""
    chosen = load_settings(port=free_port(), redis_url=None, slack_app_token=None, **settings)
    task = asyncio.create_task(run_slack(chosen))
    try:
        async with asyncio.timeout(START_TIMEOUT):
            while not any(LISTENING in r.getMessage() for r in caplog.records):
                assert not task.done(), f"run_slack ended early: {task.result()}"
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def bolt_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith(("slack_bolt", "slack_sdk")) and r.levelno >= logging.WARNING
    ]


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandin]:
    async with SlackStandin() as standin:
        yield standin


async def test_one_token_start_logs_no_bolt_warning(
    slack: SlackStandin, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await start_and_stop(
        caplog,
        database_url=f"sqlite://{tmp_path / 'one.sqlite3'}",
        slack_api_url=slack.url,
        slack_bot_token="xoxb-standin",
        slack_signing_secret="secret",
    )
    assert bolt_warnings(caplog) == []
    assert "will be unused" not in caplog.text and "will be ignored" not in caplog.text


async def test_oauth_start_logs_no_bolt_warning(
    slack: SlackStandin, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await start_and_stop(
        caplog,
        database_url=f"sqlite://{tmp_path / 'oauth.sqlite3'}",
        slack_api_url=slack.url,
        slack_signing_secret="secret",
        slack_client_id="1.2",
        slack_client_secret="client-secret",
        slack_token_key=Fernet.generate_key().decode(),
    )
    assert bolt_warnings(caplog) == []
    assert "will be unused" not in caplog.text and "will be ignored" not in caplog.text
