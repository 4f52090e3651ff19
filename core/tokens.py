"""Per-community API tokens for asks from outside chat: shown once, stored only as a hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from core.store.models import Community
from core.texts import community as texts

PREFIX = "gct_"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue(community: Community, owner_id: int, *, revoke: bool = False) -> str:
    """A new token (replacing any earlier one), or revoke it; the reply is the only copy."""
    if revoke:
        gone = await Community.filter(id=community.id, api_token_hash__isnull=False).update(
            api_token_hash=None, api_token_owner_id=None
        )
        return texts.token_revoked(community.handle, had=bool(gone))
    token = PREFIX + secrets.token_urlsafe(30)
    await Community.filter(id=community.id).update(
        api_token_hash=digest(token), api_token_owner_id=owner_id
    )
    return texts.token_issued(community.handle, token)


async def community_for(token: str) -> Community | None:
    """The community a presented token belongs to, or None (unknown, revoked or malformed)."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    want = digest(token)
    found = await Community.get_or_none(api_token_hash=want)
    if found is None or not hmac.compare_digest(found.api_token_hash or "", want):
        return None
    return found
