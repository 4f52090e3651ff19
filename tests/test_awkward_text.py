"""Text no platform would send but a user can type: a NUL byte."""

from __future__ import annotations

import pytest

from bots.shell.testing import Workspace
from core.store.models import Community


@pytest.mark.parametrize(
    "line",
    [
        "/community create nul-title A\x00B",
        "/ask-available frontend review \x00 please",
        "/away back \x00 soon",
    ],
)
async def test_a_nul_byte_is_refused_in_words_and_changes_nothing(
    workspace: Workspace, line: str
) -> None:
    """PostgreSQL stores no NUL in text: refused before the database is asked."""
    before = await Community.all().count()
    t = await workspace.run(line, as_user="bob")
    assert "NUL" in t.reply() and "Try:" in t.reply(), t.reply()
    assert await Community.all().count() == before
