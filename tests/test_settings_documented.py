"""Every setting is documented twice, in the README's table and in `.env.example`, and neither
may drift from Settings: a field added, renamed or given a new default fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.config import Settings

ROOT = Path(__file__).resolve().parents[1]
FIELDS = {name.upper() for name in Settings.model_fields}
ASSIGNMENT = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


def readme_table() -> set[str]:
    """The variables named in the first column of the README's variable table."""
    text = (ROOT / "README.md").read_text()
    start = text.index("| variable | default | meaning |")
    rows = text[start:].split("\n\n", 1)[0].splitlines()[2:]
    return {name for row in rows for name in re.findall(r"`([A-Z0-9_]+)`", row.split("|")[1])}


def example_lines() -> list[tuple[bool, str, str, str]]:
    """(set, name, value, the comment line above) for each variable in `.env.example`."""
    lines = (ROOT / ".env.example").read_text().splitlines()
    out = []
    for above, line in zip(["", *lines], lines, strict=False):
        if m := ASSIGNMENT.match(line):
            out.append((m.group(1) is None, m.group(2), m.group(3), above))
    return out


def test_the_readme_table_names_exactly_the_settings() -> None:
    named = readme_table()
    assert named - FIELDS == set(), "the README names variables Settings does not read"
    assert FIELDS - named == set(), "Settings reads variables the README does not name"


def test_env_example_names_every_setting_once() -> None:
    names = [name for _, name, _, _ in example_lines()]
    assert sorted(names) == sorted(FIELDS)


def test_env_example_comments_every_setting() -> None:
    """Each variable sits under a comment line, or shares it with the variable just above."""
    for _, name, _, above in example_lines():
        a_comment = above.startswith("# ") and not ASSIGNMENT.match(above.removeprefix("# "))
        assert a_comment or ASSIGNMENT.match(above), f"{name} has no comment"


def test_env_example_leaves_unset_exactly_what_is_unset_by_default() -> None:
    defaults = Settings.model_fields
    for is_set, name, _, _ in example_lines():
        assert is_set == (defaults[name.lower()].default is not None), name


def test_env_example_shows_the_real_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in FIELDS:
        monkeypatch.delenv(name, raising=False)
    from_example = Settings(_env_file=ROOT / ".env.example")  # type: ignore[call-arg]
    assert from_example == Settings(_env_file=None)  # type: ignore[call-arg]
    for is_set, name, value, _ in example_lines():
        if is_set:
            assert str(getattr(from_example, name.lower())) == value, name
