"""Settings: a bad value stops start-up with one line naming it; secrets never print."""

from __future__ import annotations

import subprocess
import sys

import pytest

from core.config import ConfigError, load_settings, require


def test_a_malformed_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "eighty")
    with pytest.raises(ConfigError, match=r"^PORT: "):
        load_settings()


def test_secrets_do_not_print(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    settings = load_settings()
    assert "xoxb-very-secret" not in repr(settings) and "xoxb-very-secret" not in str(settings)
    assert require(settings.slack_bot_token, "SLACK_BOT_TOKEN") == "xoxb-very-secret"


def test_a_missing_token_stops_the_bot_with_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": "sqlite://:memory:"}
    done = subprocess.run(
        [sys.executable, "-m", "bots.cli", "slack"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "groupcast: SLACK_BOT_TOKEN is not set: it is required to start this bot"
    ]
