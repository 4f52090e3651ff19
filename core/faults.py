"""A test-only fault hook: `GROUPCAST_CRASH_AT=<point>` kills the process with SIGKILL there.

The crash-point tests name each moment a transition can be interrupted (before or after its
commit, after a send before it is recorded) and check that a restart finishes the work.
Unset in production, where a point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

VARIABLE = "GROUPCAST_CRASH_AT"


def crash_point(name: str) -> None:
    """Die here, at once and without cleanup, if the environment names this point."""
    if os.environ.get(VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)
