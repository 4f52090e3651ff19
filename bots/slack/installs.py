"""Where OAuth installs live: bolt's installation and state stores on our database.

A workspace that installs the app by OAuth leaves its bot token here, sealed with Fernet
(SLACK_TOKEN_KEY) so a database dump holds no usable token; tokens are opened only in memory,
and never logged. Only bot tokens are kept (we ask for no user scopes), so bolt runs with
`installation_store_bot_only`.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from core.retention import Retention
from core.store.models import Installation as InstallRow
from core.store.models import OAuthState

log = logging.getLogger(__name__)

PLATFORM = "slack"
TOKEN_RE = re.compile(r"xox[a-z]-[A-Za-z0-9-]+")
# slack_sdk logs whole request and response bodies at DEBUG, tokens included (oauth.v2.access).
SDK_LOGGERS = ("slack_sdk.web.async_base_client", "slack_sdk.web.base_client")


class Redact(logging.Filter):
    """Replaces Slack tokens in a log record's text, so not even DEBUG logs carry one."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if TOKEN_RE.search(text):
            record.msg, record.args = TOKEN_RE.sub("xox?-[redacted]", text), None
        return True


def redact_sdk_logs() -> None:
    """Install the filter on the SDK loggers that log bodies (once; idempotent)."""
    for name in SDK_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, Redact) for f in logger.filters):
            logger.addFilter(Redact())


class Sealer:
    """Seals tokens for the database and opens them again; the key comes from settings."""

    def __init__(self, key: str) -> None:
        try:
            self._fernet = Fernet(key.encode())
        except (ValueError, TypeError):
            raise ValueError(
                "SLACK_TOKEN_KEY is not a Fernet key (32 url-safe base64 bytes; "
                'make one with: python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())")'
            ) from None

    def seal(self, token: str) -> str:
        return self._fernet.encrypt(token.encode()).decode()

    def open(self, sealed: str) -> str | None:
        """The token, or None when it was sealed under another key (then it is unusable)."""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None


class DbInstallationStore(AsyncInstallationStore):
    """bolt's installation store over the `installation` table: one bot per workspace."""

    def __init__(self, sealer: Sealer, *, on_delete: Callable[[str], None] | None = None) -> None:
        self.sealer = sealer
        self.on_delete = on_delete  # told the team whose tokens went, so its work stops
        self.on_save: Callable[[str], None] | None = None  # told a team (re)installed: look again
        # Told when a workspace leaves or comes back, so its data is kept, then purged.
        self.retention: Retention | None = None
        self._logger = log

    @property
    def logger(self) -> logging.Logger:
        return self._logger

    async def async_save(self, installation: Installation) -> None:
        if installation.bot_token is None:
            return  # a user-only install gives us nothing to serve the workspace with
        await self.async_save_bot(installation.to_bot())
        if installation.user_id:
            await InstallRow.filter(
                platform=PLATFORM,
                enterprise=installation.enterprise_id or "",
                tenant=installation.team_id or "",
            ).update(installer_id=installation.user_id)

    async def async_save_bot(self, bot: Bot) -> None:
        scopes = bot.bot_scopes if isinstance(bot.bot_scopes, list) else [str(bot.bot_scopes)]
        await InstallRow.update_or_create(
            defaults={
                "app_id": bot.app_id or "",
                "bot_id": bot.bot_id or "",
                "bot_user_id": bot.bot_user_id or "",
                "bot_scopes": ",".join(scopes),
                "bot_token_sealed": self.sealer.seal(bot.bot_token),
                "installed_at": float(bot.installed_at or time.time()),
            },
            platform=PLATFORM,
            enterprise=bot.enterprise_id or "",
            tenant=bot.team_id or "",
        )
        if self.on_save is not None and bot.team_id:
            self.on_save(bot.team_id)
        if self.retention is not None and bot.team_id:
            await self.retention.returned(bot.team_id)  # back within the window: nothing purged
        log.info("workspace %s installed the app", bot.team_id or bot.enterprise_id)

    async def _row(self, enterprise_id: str | None, team_id: str | None) -> InstallRow | None:
        rows = InstallRow.filter(platform=PLATFORM, tenant=team_id or "")
        if enterprise_id:
            rows = rows.filter(enterprise=enterprise_id)
        return await rows.first()

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        row = await self._row(enterprise_id, None if is_enterprise_install else team_id)
        if row is None:
            return None
        token = self.sealer.open(row.bot_token_sealed)
        if token is None:
            log.warning("the bot token of %s was sealed under another key", row.tenant)
            return None
        return Bot(
            app_id=row.app_id or None,
            enterprise_id=row.enterprise or None,
            team_id=row.tenant or None,
            bot_token=token,
            bot_id=row.bot_id,
            bot_user_id=row.bot_user_id,
            bot_scopes=row.bot_scopes,
            installed_at=row.installed_at,
            is_enterprise_install=is_enterprise_install,
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        bot = await self.async_find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        if bot is None:
            return None
        return Installation(
            app_id=bot.app_id,
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            bot_token=bot.bot_token,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            bot_scopes=bot.bot_scopes,
            user_id=user_id or "",
            installed_at=bot.installed_at,
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        rows = InstallRow.filter(platform=PLATFORM, tenant=team_id or "")
        if enterprise_id:
            rows = rows.filter(enterprise=enterprise_id)
        if await rows.delete():
            log.info("workspace %s: bot token deleted", team_id or enterprise_id)
        if self.on_delete is not None:
            self.on_delete(team_id or "")
        if self.retention is not None and team_id:
            await self.retention.left(team_id)  # its data is kept until the window has passed

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        if user_id is None:  # we hold no user tokens: only the whole install goes
            await self.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    async def teams(self) -> list[str]:
        """Every installed workspace, for a process starting up."""
        rows = await InstallRow.filter(platform=PLATFORM).values_list("tenant", flat=True)
        return [str(t) for t in rows]


class DbOAuthStateStore(AsyncOAuthStateStore):
    """OAuth `state` values on the database, so any process can finish an install it did not start."""

    def __init__(self, *, expiration_seconds: float = 600.0, now: Callable[[], float] = time.time):
        self.expiration_seconds = expiration_seconds
        self.now = now
        self._logger = log

    @property
    def logger(self) -> logging.Logger:
        return self._logger

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(24)
        now = self.now()
        await OAuthState.filter(expires_at__lt=now).delete()
        await OAuthState.create(state=state, expires_at=now + self.expiration_seconds)
        return state

    async def async_consume(self, state: str) -> bool:
        """True once for a state we issued that has not expired; it is gone afterwards."""
        taken = await OAuthState.filter(state=state, expires_at__gte=self.now()).delete()
        return bool(taken)
