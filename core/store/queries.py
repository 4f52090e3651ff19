"""Typed single-column reads: tortoise types `values_list(flat=True)` as tuples."""

from __future__ import annotations

from typing import Any


async def column_ints(queryset: Any, field: str) -> list[int]:
    """One integer column of a queryset (ids, counts)."""
    return [int(v) for v in await queryset.values_list(field, flat=True)]


async def column_strs(queryset: Any, field: str) -> list[str]:
    """One text column of a queryset (user ids, handles)."""
    return [str(v) for v in await queryset.values_list(field, flat=True)]
