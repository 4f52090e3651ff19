"""Who this process tracks presence for: members of some community on its platform.

The one way in and out of that set, so memory stays proportional to community members and
no module keeps a copy of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from core.directory import presence_key
from core.store.models import Membership


class Tracking:
    """The presence keys of community members on one platform."""

    def __init__(self, platform: str) -> None:
        self.platform = platform
        self._keys: set[str] = set()

    async def load(self) -> None:
        """Everyone who is in a community now (at start-up)."""
        rows = await Membership.filter(contact__tenant__platform=self.platform).values_list(
            "contact__tenant__external_id", "contact__user_id"
        )
        self._keys = {presence_key(self.platform, t, u) for t, u in rows}

    def add(self, key: str) -> None:
        self._keys.add(key)

    def update(self, keys: Iterable[str]) -> None:
        self._keys.update(keys)

    def discard(self, key: str) -> None:
        self._keys.discard(key)

    def tenants(self) -> set[str]:
        """The tenants someone is tracked in."""
        return {k.split(":", 2)[1] for k in self._keys}

    def drop_tenants(self, tenants: Iterable[str]) -> None:
        """Stop tracking everyone in these tenants (their data was purged)."""
        prefixes = tuple(presence_key(self.platform, t, "") for t in tenants)
        if prefixes:
            self._keys = {k for k in self._keys if not k.startswith(prefixes)}

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)
