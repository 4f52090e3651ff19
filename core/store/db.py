"""Opening the database and applying tortoise's built-in migrations."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tortoise import Tortoise, connections
from tortoise.exceptions import DBConnectionError
from tortoise.migrations.api import migrate as migrate_api

from core.config import ConfigError, sqlite_file

MODELS = "core.store.models"
MIGRATIONS = "core.store.migrations"


def tortoise_config(url: str) -> dict[str, Any]:
    """The one config both the app and `tortoise makemigrations` use.

    The connection is named after the backend because tortoise caches SQL per name:
    a test run that uses SQLite and then PostgreSQL in one process needs two names.
    """
    name = url.split(":", 1)[0]
    return {
        "connections": {name: url},
        "apps": {
            "models": {
                "models": [MODELS],
                "migrations": MIGRATIONS,
                "default_connection": name,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


@contextmanager
def reachable() -> Iterator[None]:
    """An unreachable database stops start-up with one line (via ConfigError), not a traceback."""
    try:
        yield
    except (OSError, TimeoutError, DBConnectionError) as exc:
        raise ConfigError(f"DATABASE_URL: cannot reach the database ({exc})") from None


def sqlite_opens(url: str) -> None:
    """Open a SQLite file with the standard library first: aiosqlite waits forever on one it cannot open."""
    path = sqlite_file(url)
    if path is None:
        return
    try:
        sqlite3.connect(path, timeout=5).close()
    except sqlite3.Error as exc:
        raise ConfigError(f"DATABASE_URL: cannot open {path} ({exc})") from None


NO_SCHEMA = "the database has no groupcast tables: run groupcast migrate"


def has_no_schema(url: str) -> bool:
    """A SQLite file not there yet: doctor says so rather than create an empty one."""
    path = sqlite_file(url)
    return path is not None and not path.exists()


async def migrate(url: str) -> None:
    """Bring the schema up to date (idempotent)."""
    sqlite_opens(url)
    with reachable():
        await migrate_api(config=tortoise_config(url))
    await Tortoise.close_connections()


async def open_db(url: str, *, migrate_first: bool = True) -> None:
    """Connect for the app's lifetime; the embedded default migrates itself."""
    if migrate_first:
        await migrate(url)
    else:
        sqlite_opens(url)
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)


async def ping(url: str) -> None:
    """One round trip to the open database (for /readyz); raises when it does not answer."""
    await connections.get(url.split(":", 1)[0]).execute_query("SELECT 1")


async def close_db() -> None:
    await Tortoise.close_connections()


# `tortoise -c core.store.db.TORTOISE_ORM makemigrations` reads this.
TORTOISE_ORM = tortoise_config("sqlite://groupcast.sqlite3")
