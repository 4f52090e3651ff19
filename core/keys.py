"""Contact keys: which person on which platform and tenant a presence record is about.

One codec. `ContactKey` is the typed value; `encode` is the compact string the hot paths
key their dicts and sets by (a frozen object per gateway event would cost more than the
event), and `ContactKey.decode` is the only way back. Nothing else builds or splits keys.
"""

from __future__ import annotations

from dataclasses import dataclass

SEP = ":"
"""Platform and tenant never contain it; a user id may (decoding splits at most twice)."""


def encode(platform: str, tenant: str, user: str) -> str:
    """The key string of (platform, tenant, user): tenant-scoped, so nothing crosses tenants."""
    return f"{platform}{SEP}{tenant}{SEP}{user}"


def tenant_prefix(platform: str, tenant: str) -> str:
    """What every key of one tenant starts with: `tenant_prefix(p, t) + user` is
    `encode(p, t, user)`, so a roster may build its members' keys from it."""
    return f"{platform}{SEP}{tenant}{SEP}"


@dataclass(frozen=True, slots=True)
class ContactKey:
    """One contact's address: platform, tenant (workspace or guild) and user id."""

    platform: str
    tenant: str
    user: str

    def __post_init__(self) -> None:
        if SEP in self.platform or SEP in self.tenant or not self.platform:
            raise ValueError(
                f"a contact key's platform and tenant must be non-empty and free of {SEP!r}: "
                f"{self.platform!r}, {self.tenant!r}"
            )

    def encode(self) -> str:
        return encode(self.platform, self.tenant, self.user)

    @classmethod
    def decode(cls, key: str) -> ContactKey:
        """The parts of an encoded key; ValueError when it is not one."""
        parts = key.split(SEP, 2)
        if len(parts) != 3:
            raise ValueError(f"not a contact key: {key!r}")
        return cls(parts[0], parts[1], parts[2])

    def __str__(self) -> str:
        return self.encode()
