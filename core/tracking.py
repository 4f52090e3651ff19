"""Who this process tracks presence for: members of some community on its platform.

The one way in and out of that set, so memory stays proportional to community members and
no module keeps a copy of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from core import keys
from core.store.models import Membership


class Tracking:
    """The presence keys of community members on one platform.

    Each key is held once, as the string this class hands out: the adapter's hot path asks
    `canonical(key)` (one dict lookup) and passes that string on to the monitor, so the
    monitor's record dict keys the very same object (no second copy of a million keys, and
    its lookup matches by identity).
    """

    def __init__(self, platform: str) -> None:
        self.platform = platform
        self._keys: dict[str, str] = {}
        self.canonical: Callable[[str], str | None] = self._keys.get
        """The tracked key equal to this one (the shared string), or None when untracked."""

    async def load(self) -> None:
        """Everyone who is in a community now (at start-up)."""
        rows = await Membership.filter(contact__tenant__platform=self.platform).values_list(
            "contact__tenant__external_id", "contact__user_id"
        )
        self._keys.clear()  # in place: `canonical` is bound to this dict
        self.update(keys.encode(self.platform, str(t), str(u)) for t, u in rows)

    def add(self, key: str) -> None:
        self._keys.setdefault(key, key)

    def update(self, more: Iterable[str]) -> None:
        for key in more:
            self._keys.setdefault(key, key)

    def discard(self, key: str) -> None:
        self._keys.pop(key, None)

    def users(self, tenant: str) -> list[str]:
        """The tracked user ids of one tenant (a scan: for start-up priming, not per event)."""
        prefix = keys.tenant_prefix(self.platform, tenant)
        return [keys.ContactKey.decode(k).user for k in self._keys if k.startswith(prefix)]

    def by_tenant(self) -> dict[str, list[str]]:
        """Tracked user ids grouped by tenant, in one pass (priming many guilds at start-up)."""
        out: dict[str, list[str]] = {}
        for k in self._keys:
            key = keys.ContactKey.decode(k)
            out.setdefault(key.tenant, []).append(key.user)
        return out

    def tenants(self) -> set[str]:
        """The tenants someone is tracked in."""
        return {keys.ContactKey.decode(k).tenant for k in self._keys}

    def drop_tenants(self, tenants: Iterable[str]) -> None:
        """Stop tracking everyone in these tenants (their data was purged)."""
        prefixes = tuple(keys.tenant_prefix(self.platform, t) for t in tenants)
        if prefixes:  # in place: `canonical` is bound to this dict
            for k in [k for k in self._keys if k.startswith(prefixes)]:
                del self._keys[k]

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)
