"""The interactive shell in a real terminal (pexpect): Tab completes, Up recalls, Ctrl-C clears, Ctrl-D leaves."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect

ROOT = Path(__file__).resolve().parents[1]
UP = "\x1b[A"


def spawn(tmp_path: Path) -> pexpect.spawn:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "TERM": "xterm",
        "PROMPT_TOOLKIT_NO_CPR": "1",
        "GROUPCAST_HISTORY": str(tmp_path / "history"),
    }
    child = pexpect.spawn(
        sys.executable,
        ["-m", "bots.cli", "shell", "--now", "2026-01-05T09:00:00+00:00"],
        cwd=str(tmp_path),
        env=env,
        encoding="utf-8",
        timeout=30,
        dimensions=(40, 200),
    )
    child.expect_exact("alice>")
    return child


def test_tab_completes_commands_handles_and_people(tmp_path: Path) -> None:
    child = spawn(tmp_path)
    child.send("/ask-av\t")
    child.expect_exact("ailable")  # only what the completion added (/asks shares the menu)
    child.send(" fro\t")
    child.expect_exact("frontend")
    child.send(" --ev\t")
    child.expect_exact("--everyone")
    child.send(" tab works\r")
    child.expect_exact("Sent to everyone in the community:")
    child.expect_exact("alice>")
    child.send(":as ca\t")
    child.expect_exact("rol")  # the terminal is sent only what the completion added
    child.send("\r")
    child.expect_exact("You are now carol.")
    child.send("\x04")  # Ctrl-D
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_history_survives_a_restart_and_ctrl_c_clears_the_line(tmp_path: Path) -> None:
    child = spawn(tmp_path)
    child.send("/community show frontend\r")
    child.expect_exact("Frontend reviewers")
    child.expect_exact("alice>")
    child.send("this line is abandoned")
    child.sendintr()  # Ctrl-C: the line goes, the shell stays
    child.expect_exact("alice>")
    child.send(":quit\r")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "/community show frontend" in (tmp_path / "history").read_text()
    assert "abandoned" not in (tmp_path / "history").read_text()

    child = spawn(tmp_path)
    child.send(UP)
    child.expect_exact(":quit")
    child.send(UP)  # the line before it, from the last session
    child.expect_exact("/community show frontend")
    child.send("\r")
    child.expect_exact("Frontend reviewers")
    child.send("\x04")  # Ctrl-D
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
