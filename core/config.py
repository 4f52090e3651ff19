"""Settings from the environment or `.env`; one clear line when one is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigError(Exception):
    """A missing or malformed setting; the message names the variable."""


DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql", "asyncpg", "psycopg")


def database_url_problem(url: str) -> str | None:
    """Why this URL cannot be a database, checked before tortoise opens it (which may hang)."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in DATABASE_SCHEMES:
        return (
            f"{url.split('://', 1)[0]!r} is not a database this app speaks: use "
            "sqlite://FILE or postgres://USER:PASSWORD@HOST:5432/NAME"
        )
    path = sqlite_file(url)
    if path is not None:
        if path.is_dir():
            return f"{path} is a directory, not a database file"
        if not path.parent.is_dir():
            return f"the directory {path.parent} does not exist"
    return None


def sqlite_file(url: str) -> Path | None:
    """The file a sqlite:// URL names (None for other schemes and in-memory databases)."""
    scheme, _, rest = url.partition("://")
    path = rest.split("?", 1)[0]
    if scheme.lower() != "sqlite" or path in ("", ":memory:"):
        return None
    return Path(path).absolute()


class Settings(BaseSettings):
    """Everything an operator may set. Secrets are SecretStr so they never print."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    database_url: str = "sqlite://groupcast.sqlite3"
    redis_url: str | None = None
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    # Distribution by OAuth (several workspaces): all three set turns it on; see README.
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_token_key: SecretStr | None = None  # Fernet key: bot tokens are sealed with it at rest
    slack_oauth_redirect_url: str | None = None  # https://<host>/slack/oauth_redirect
    slack_authorize_url: str = "https://slack.com/oauth/v2/authorize"
    discord_token: SecretStr | None = None
    discord_api_url: str = "https://discord.com/api/v10"
    discord_gateway_url: str | None = None
    discord_dev_guild: int | None = None
    discord_shard_count: int | None = Field(default=None, ge=1)  # None: one process, all guilds
    discord_shard_ids: str | None = None  # "0,1" or "0-3": the shards this process runs
    slack_post_rate: float = Field(default=5.0, gt=0)  # chat.postMessage a second, workspace-wide
    slack_post_burst: float = Field(default=10.0, ge=1)
    slack_presence_calls_per_minute: float = Field(default=50.0, gt=0)  # users.getPresence budget
    slack_probe_every: float = Field(default=5.0, gt=0)  # seconds between prober steps
    port: int = Field(default=3000, ge=1, le=65535)
    data_retention_days: int = Field(default=30, ge=0)  # a removed tenant's data, then purged
    ask_timeout_seconds: float = Field(default=300, gt=0)
    max_attempts: int = Field(default=5, ge=1, le=100)
    presence_stale_seconds: float = Field(default=900, gt=0)
    activity_window_seconds: float = Field(default=600, gt=0)
    away_words: str = "vacation,holiday,ooo,out of office,sick,parental leave,pto,away"
    busy_words: str = "meeting,in a call,focus,presenting,commuting"
    random_seed: int | None = None
    health_port: int = Field(
        default=8080, ge=0, le=65535
    )  # /healthz, /readyz, /metrics; 0: any free
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, url: str) -> str:
        if problem := database_url_problem(url):
            raise ValueError(problem)
        return url

    @field_validator("log_format", "log_level", mode="before")
    @classmethod
    def _fold_case(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        return value.lower() if value.lower() in ("text", "json") else value.upper()

    def words(self, which: str) -> tuple[str, ...]:
        """A comma-separated word list as lower-case phrases."""
        raw = self.away_words if which == "away" else self.busy_words
        return tuple(w.strip().lower() for w in raw.split(",") if w.strip())


def load_settings(**overrides: object) -> Settings:
    """Read settings; turn pydantic's report into one line naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]).upper() if err["loc"] else "settings"
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{name}: {msg}") from None


def require(value: SecretStr | None, name: str) -> str:
    """A secret the chosen mode cannot start without."""
    if value is None or not value.get_secret_value():
        raise ConfigError(f"{name} is not set: it is required to start this bot")
    return value.get_secret_value()
