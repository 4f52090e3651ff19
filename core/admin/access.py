"""Who may do what to a community: checked before anything changes."""

from __future__ import annotations

from core.commands import CommandError
from core.store.models import Community, Role
from core.texts import community as texts


def owners_only(role: Role | None, c: Community, what: str) -> None:
    if role is not Role.OWNER:
        raise CommandError(texts.owners_only(c.handle, what), f"/community show {c.handle}")


def members_only(role: Role | None, c: Community, what: str, usage: str) -> None:
    if role is None:
        raise CommandError(texts.members_only(c.handle, what), usage)
