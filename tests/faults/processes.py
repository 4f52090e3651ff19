"""Real groupcast processes for fault tests: started with a given environment, read with deadlines."""

from __future__ import annotations

import fcntl
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PIPE_BYTES = 4096  # the smallest pipe Linux allows: the process blocks after a few dozen DMs


def environment(**values: str) -> dict[str, str]:
    """A clean environment: only what the test sets, plus what Python needs to run."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    # Health endpoints on a free port: processes of one test (or of two test runs) never clash.
    env.update(PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", HEALTH_PORT="0")
    env.update(values)
    return env


class Process:
    """One `groupcast ...` process whose standard output is a slow sink the test drains."""

    def __init__(
        self,
        args: list[str],
        env: Mapping[str, str],
        cwd: Path,
        stdin_text: str = "",
        module: str = "bots.cli",
    ) -> None:
        read_fd, write_fd = os.pipe()
        self._err = tempfile.TemporaryFile(dir=cwd)  # noqa: SIM115 - lives as long as the process
        fcntl.fcntl(read_fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            stdin=subprocess.PIPE,
            stdout=write_fd,
            stderr=self._err,
            env=dict(env),
            cwd=cwd,
        )
        os.close(write_fd)
        self._fd = read_fd
        self._buffer = b""
        self._eof = False
        self.lines: list[str] = []
        assert self.proc.stdin is not None
        self.proc.stdin.write(stdin_text.encode())
        self.proc.stdin.close()

    @classmethod
    def module(cls, name: str, env: Mapping[str, str], cwd: Path) -> Process:
        """A helper module of tests/faults run as its own process."""
        return cls([], env, cwd, module=name)

    def read_until(self, done: Any, deadline: float) -> bool:
        """Read lines until `done(lines)` holds, EOF, or the deadline (monotonic) passes."""
        while not done(self.lines):
            if self._eof:
                return False
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            ready, _, _ = select.select([self._fd], [], [], left)
            if ready:
                self._read_once()
        return True

    def read_to_end(self, deadline: float) -> None:
        """Everything the process wrote before it exited (or was killed)."""
        self.read_until(lambda _: False, deadline)

    def _read_once(self) -> None:
        chunk = os.read(self._fd, 65536)
        if not chunk:
            self._eof = True
            return
        self._buffer += chunk
        *complete, self._buffer = self._buffer.split(b"\n")
        self.lines += [c.decode() for c in complete if c.strip()]

    def wait(self, timeout: float) -> int:
        """Exit status, draining output so the process cannot block on a full pipe."""
        self.read_to_end(time.monotonic() + timeout)
        return self.proc.wait(timeout=max(0.1, timeout))

    def stderr(self) -> str:
        self._err.seek(0)
        return self._err.read().decode(errors="replace")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self._fd)
        self._err.close()


def asks(lines: list[str]) -> list[str]:
    """Who received an ask DM (a JSON line with an accept button), in output order."""
    out = []
    for line in lines:
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        if msg.get("kind") == "dm" and "accept" in msg.get("buttons", []):
            out.append(str(msg["to"]))
    return out
