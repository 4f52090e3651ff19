"""Naming several people, one way everywhere: `@a, @b, @c and 4 more`."""

from __future__ import annotations

from collections.abc import Sequence

from core.ports import Part


def listing(people: Sequence[Part], limit: int = 20, sep: str = ", ") -> list[Part]:
    """Mentions (or names) separated by `sep`, the first `limit` of them, then how many more."""
    out: list[Part] = []
    for i, p in enumerate(people[:limit]):
        out += [sep if i else "", p]
    if len(people) > limit:
        out.append(f" and {len(people) - limit} more")
    return out


def names(people: Sequence[str], limit: int = 20, sep: str = ", ") -> str:
    """The same list as plain text, for lines that mention nobody."""
    return "".join(str(p) for p in listing(people, limit, sep))
