"""Which tenants this process serves: all of them, or (Discord shards) those its shards own.

Sweeps read rows of the whole platform; with several processes each owning some tenants, a
row whose tenant belongs elsewhere is left to the process that owns it (its gateway sees the
tenant's events), so pinned views and DMs are not worked on twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.store.queries import column_ints

Owns = Callable[[str], bool]


class Ownership:
    """A tenant filter shared by the engine's sweeps; `owns` None means every tenant."""

    def __init__(self, owns: Owns | None = None) -> None:
        self.owns = owns

    def __call__(self, tenant: str) -> bool:
        return self.owns is None or self.owns(tenant)

    async def ids(self, queryset: Any, tenant_field: str) -> list[int]:
        """The `id` column of rows whose tenant (`tenant_field`, an external id) is ours."""
        if self.owns is None:
            return await column_ints(queryset, "id")
        rows = await queryset.values_list("id", tenant_field)
        return [int(i) for i, tenant in rows if self.owns(str(tenant))]
