"""Logging set up once per process: plain lines for people, JSON lines (LOG_FORMAT=json) for collectors."""

from __future__ import annotations

import logging
import sys

from core.config import Settings

QUIET = ("tortoise", "aiosqlite", "asyncpg", "discord.gateway", "discord.client")


def setup_logging(settings: Settings, *, quiet: bool = False) -> None:
    """One handler on the root logger; the shell shows only warnings."""
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if quiet else settings.log_level)
    logging.getLogger("discord.client").addFilter(_no_voice)
    for name in QUIET:  # "Tortoise-ORM shutdown" and connection chatter on every start
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


def _no_voice(record: logging.LogRecord) -> bool:
    """discord.py warns on every start that voice is unsupported; this bot never speaks."""
    return "voice will NOT be supported" not in record.getMessage()
