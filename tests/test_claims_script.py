"""The claims walk-through runs in a real `groupcast shell` process and prints exactly what we expect.

Regenerate the expected transcript after a deliberate change with UPDATE_GOLDEN=1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).parent / "scripts"
NOW = "2026-01-05T09:00:00+00:00"


def run_shell(tmp_path: Path, *extra: str) -> str:
    env = {**os.environ, "RANDOM_SEED": "7", "PYTHONPATH": str(SCRIPTS.parents[1])}
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bots.cli",
            "shell",
            "--script",
            str(SCRIPTS / "claims.shell"),
            "--now",
            NOW,
            "--database",
            f"sqlite://{tmp_path}/shell.sqlite3",
            *extra,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    # the script shows four refusals on purpose: a script with refused lines exits 1 and says so
    assert done.returncode == 1, done.stderr
    assert done.stderr == "groupcast: 4 lines of the script failed (lines 53, 54, 55, 56)\n", (
        done.stderr
    )
    return done.stdout


def test_the_claims_script_prints_the_expected_transcript(tmp_path: Path) -> None:
    out = run_shell(tmp_path)
    golden = SCRIPTS / "claims.expected"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(out, encoding="utf-8")
    assert out == golden.read_text(encoding="utf-8")


def test_json_mode_prints_one_object_a_line_with_to_kind_text(tmp_path: Path) -> None:
    lines = run_shell(tmp_path, "--json").splitlines()
    objects = [json.loads(line) for line in lines]
    assert objects and all({"to", "kind", "text"} <= o.keys() for o in objects)
    assert {o["kind"] for o in objects} >= {"dm", "channel", "ephemeral"}
    assert not any(
        w in o["text"] for o in objects for w in ("<!channel>", "<!here>", "<!everyone>")
    )
