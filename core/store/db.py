"""Opening the database and applying tortoise's built-in migrations."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise
from tortoise.migrations.api import migrate as migrate_api

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


async def migrate(url: str) -> None:
    """Bring the schema up to date (idempotent)."""
    await migrate_api(config=tortoise_config(url))
    await Tortoise.close_connections()


async def open_db(url: str, *, migrate_first: bool = True) -> None:
    """Connect for the app's lifetime; the embedded default migrates itself."""
    if migrate_first:
        await migrate(url)
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)


async def close_db() -> None:
    await Tortoise.close_connections()


# `tortoise -c core.store.db.TORTOISE_ORM makemigrations` reads this.
TORTOISE_ORM = tortoise_config("sqlite://groupcast.sqlite3")
